#include "inspect/pdf_text.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "core/utf8.h"
#include "inspect/pdf_lex.h"

namespace bulwark::inspect::pdf {

namespace {

std::uint32_t code_of(std::string_view s) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < s.size() && i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

std::u16string utf16_units(std::string_view be) {
  std::u16string u;
  for (std::size_t i = 0; i + 1 < be.size(); i += 2)
    u += static_cast<char16_t>((static_cast<unsigned char>(be[i]) << 8) | static_cast<unsigned char>(be[i + 1]));
  return u;
}

void append_utf16(std::string& out, std::u16string_view u) {
  for (std::size_t i = 0; i < u.size(); ++i) {
    char32_t cp = u[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < u.size() && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00);
      ++i;
    }
    if (cp == 0) continue;
    append_utf8(out, cp);
  }
}

// WinAnsiEncoding is Windows-1252.
bool win_ansi(unsigned char b, std::string& out) { return append_cp1252(out, b); }

struct NamedGlyph {
  std::string_view name;
  char32_t cp;
};

constexpr NamedGlyph kGlyphs[] = {
    {"space", ' '},         {"exclam", '!'},        {"quotedbl", '"'},      {"numbersign", '#'},
    {"dollar", '$'},        {"percent", '%'},       {"ampersand", '&'},     {"quotesingle", '\''},
    {"quoteright", 0x2019}, {"quoteleft", 0x2018},  {"parenleft", '('},     {"parenright", ')'},
    {"asterisk", '*'},      {"plus", '+'},          {"comma", ','},         {"hyphen", '-'},
    {"period", '.'},        {"slash", '/'},         {"zero", '0'},          {"one", '1'},
    {"two", '2'},           {"three", '3'},         {"four", '4'},          {"five", '5'},
    {"six", '6'},           {"seven", '7'},         {"eight", '8'},         {"nine", '9'},
    {"colon", ':'},         {"semicolon", ';'},     {"less", '<'},          {"equal", '='},
    {"greater", '>'},       {"question", '?'},      {"at", '@'},            {"bracketleft", '['},
    {"backslash", '\\'},    {"bracketright", ']'},  {"underscore", '_'},    {"braceleft", '{'},
    {"bar", '|'},           {"braceright", '}'},    {"asciitilde", '~'},    {"endash", 0x2013},
    {"emdash", 0x2014},     {"bullet", 0x2022},     {"ellipsis", 0x2026},   {"quotedblleft", 0x201C},
    {"quotedblright", 0x201D}, {"Euro", 0x20AC},    {"trademark", 0x2122},  {"copyright", 0xA9},
    {"registered", 0xAE},   {"sterling", 0xA3},     {"yen", 0xA5},          {"nbspace", 0xA0},
    {"fi", 0xFB01},         {"fl", 0xFB02},         {"ff", 0xFB00},         {"ffi", 0xFB03},
    {"ffl", 0xFB04},        {"eacute", 0xE9},       {"egrave", 0xE8},       {"agrave", 0xE0},
    {"aacute", 0xE1},       {"oacute", 0xF3},       {"iacute", 0xED},       {"uacute", 0xFA},
    {"udieresis", 0xFC},    {"odieresis", 0xF6},    {"adieresis", 0xE4},    {"germandbls", 0xDF},
    {"ccedilla", 0xE7},     {"ntilde", 0xF1},
};

bool hex_cp(std::string_view h, char32_t& cp) {
  if (h.empty() || h.size() > 6) return false;
  cp = 0;
  for (char c : h) {
    const int v = hex_value(c);
    if (v < 0) return false;
    cp = cp * 16 + static_cast<char32_t>(v);
  }
  return cp > 0 && cp <= 0x10FFFF;
}

// A PDF text string: UTF-16BE after a byte-order mark, else PDFDocEncoding (read as
// WinAnsi, which agrees on the letters).
std::string text_string_utf8(std::string_view s) {
  std::string out;
  if (s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0xFE && static_cast<unsigned char>(s[1]) == 0xFF) {
    append_utf16(out, utf16_units(s.substr(2)));
    return out;
  }
  for (char c : s) win_ansi(static_cast<unsigned char>(c), out);
  return out;
}

// Latin ligatures (U+FB00-FB06) as the letters a reader reads.
std::string expand_ligatures(std::string_view s) {
  static constexpr std::string_view kLigatures[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xAC &&
        static_cast<unsigned char>(s[i + 2]) >= 0x80 && static_cast<unsigned char>(s[i + 2]) <= 0x86) {
      out += kLigatures[static_cast<unsigned char>(s[i + 2]) - 0x80];
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A character code written as a number: out-of-range and NaN values clamp, never convert
// with undefined behaviour.
std::uint32_t code_number(double v) {
  if (!(v >= 0)) return 0;
  if (v >= 4294967295.0) return UINT32_MAX;
  return static_cast<std::uint32_t>(v);
}

}  // namespace

std::string glyph_text(std::string_view g) {
  const std::size_t cut = g.find_first_of("._");
  if (cut != std::string_view::npos && cut > 0) g = g.substr(0, cut);
  std::string out;
  if (g.size() == 1 && is_alnum(g[0]) && !(g[0] >= '0' && g[0] <= '9')) {
    out += g[0];
    return out;
  }
  for (const NamedGlyph& n : kGlyphs)
    if (n.name == g) {
      append_utf8(out, n.cp);
      return out;
    }
  char32_t cp = 0;
  if (g.size() >= 7 && g.starts_with("uni") && (g.size() - 3) % 4 == 0) {
    for (std::size_t i = 3; i < g.size(); i += 4) {
      if (!hex_cp(g.substr(i, 4), cp)) return {};
      append_utf8(out, cp);
    }
    return out;
  }
  if (g.size() >= 5 && g.size() <= 7 && g[0] == 'u' && hex_cp(g.substr(1), cp)) append_utf8(out, cp);
  return out;
}

void TextExtractor::add_font(long long obj, FontDict d) {
  if (obj < 0 || (fonts_.size() >= kMaxFonts && !fonts_.count(obj))) return;
  // Inline width arrays count against the same budget as those stored apart.
  if (array_bytes_ + d.widths.size() + d.w.size() > kMaxArrays) {
    d.widths.clear();
    d.w.clear();
  }
  array_bytes_ += d.widths.size() + d.w.size();
  Font& f = fonts_[obj];
  f.composite = d.subtype == "Type0";
  f.dict = std::move(d);
}

void TextExtractor::add_array(long long obj, std::string_view written) {
  if (obj < 0 || array_bytes_ + written.size() > kMaxArrays || arrays_.count(obj)) return;
  array_bytes_ += written.size();
  arrays_.emplace(obj, written);
}

const TextExtractor::Widths& TextExtractor::widths(long long font_obj) const {
  const auto cached = widths_.find(font_obj);
  if (cached != widths_.end()) return cached->second;
  Widths& w = widths_[font_obj];
  const auto it = fonts_.find(font_obj);
  if (it == fonts_.end()) return w;
  const Font* f = &it->second;
  const auto stored = [&](const std::string& inline_text, long long ref) -> std::string_view {
    if (!inline_text.empty()) return inline_text;
    const auto a = arrays_.find(ref);
    return a == arrays_.end() ? std::string_view() : std::string_view(a->second);
  };
  if (f->composite) {
    // The CIDFont's /W: "c [w1 w2 ...]" (from c on) or "c_first c_last w".
    w.fallback = 1000;
    const auto d = fonts_.find(f->dict.descendant);
    if (d == fonts_.end()) return w;
    if (d->second.dict.dw >= 0) w.fallback = d->second.dict.dw;
    Lexer lx(stored(d->second.dict.w, d->second.dict.w_ref));
    std::vector<double> nums;
    bool in_list = false;
    std::uint32_t next = 0;
    for (Token t = lx.next(); t.kind != Tok::kEnd && w.by_code.size() < 65536 && width_work_ < kMaxWidthWork;
         t = lx.next(), ++width_work_) {
      if (t.kind == Tok::kArrayOpen) {
        if (!nums.empty() && !in_list) {
          next = code_number(nums.back());
          in_list = true;
        }
        nums.clear();
      } else if (t.kind == Tok::kArrayClose) {
        in_list = false;
        nums.clear();
      } else if (t.kind == Tok::kNumber) {
        const double v = std::atof(t.text.c_str());
        if (in_list) {
          w.by_code[next++] = v;
          ++width_work_;
          continue;
        }
        nums.push_back(v);
        if (nums.size() == 3) {
          const std::uint32_t lo = code_number(nums[0]), hi = code_number(nums[1]);
          for (std::uint32_t c = lo; c <= hi && c - lo < 65536 && w.by_code.size() < 65536 && width_work_ < kMaxWidthWork;
               ++c, ++width_work_) {
            w.by_code[c] = v;
            if (c == UINT32_MAX) break;
          }
          nums.clear();
        }
      }
    }
    return w;
  }
  Lexer lx(stored(f->dict.widths, f->dict.widths_ref));
  std::uint32_t code = static_cast<std::uint32_t>(std::clamp<long long>(f->dict.first_char, 0, 255));
  for (Token t = lx.next(); t.kind != Tok::kEnd && code < 256 && width_work_ < kMaxWidthWork; t = lx.next(), ++width_work_)
    if (t.kind == Tok::kNumber) w.by_code[code++] = std::atof(t.text.c_str());
  return w;
}

void TextExtractor::add_difference(long long obj, long long code, std::string_view glyph) {
  if (obj < 0 || code < 0 || code > 255 || difference_count_ >= kMaxMapEntries) return;
  ++difference_count_;
  differences_[obj][static_cast<std::uint32_t>(code)] = std::string(glyph.substr(0, 64));
}

void TextExtractor::add_reference(std::string_view key, long long obj) {
  if (obj < 0 || key.empty() || ref_count_ >= kMaxRefs) return;
  std::vector<long long>& objs = refs_[std::string(key.substr(0, 64))];
  if (objs.size() >= kMaxRefsPerName || std::find(objs.begin(), objs.end(), obj) != objs.end()) return;
  objs.push_back(obj);
  ++ref_count_;
}

bool TextExtractor::add_stream(long long obj, std::string_view s) {
  if (s.find("begincmap") != std::string_view::npos &&
      (s.find("beginbfchar") != std::string_view::npos || s.find("beginbfrange") != std::string_view::npos)) {
    if (obj >= 0 && !cmaps_.count(obj)) parse_cmap(obj, s);
    return true;
  }
  if (s.find("BT") == std::string_view::npos ||
      (s.find("Tj") == std::string_view::npos && s.find("TJ") == std::string_view::npos))
    return false;
  if (content_bytes_ + s.size() > kMaxContent) return false;
  content_bytes_ += s.size();
  contents_.emplace_back(s);
  return true;
}

void TextExtractor::parse_cmap(long long obj, std::string_view s) {
  CMap cm;
  enum class Mode { kNone, kSpace, kChar, kRange } mode = Mode::kNone;
  std::vector<std::string> args;  // strings of the current entry
  bool in_array = false;
  std::vector<std::string> list;
  Lexer lx(s);
  const auto room = [&] { return map_entries_ < kMaxMapEntries; };
  for (Token t = lx.next(); t.kind != Tok::kEnd; t = lx.next()) {
    if (t.kind == Tok::kKeyword) {
      in_array = false;
      args.clear();
      if (t.text == "begincodespacerange") mode = Mode::kSpace;
      else if (t.text == "beginbfchar") mode = Mode::kChar;
      else if (t.text == "beginbfrange") mode = Mode::kRange;
      else mode = Mode::kNone;
      continue;
    }
    if (mode == Mode::kNone) continue;
    if (t.kind == Tok::kArrayOpen && mode == Mode::kRange && args.size() == 2) {
      in_array = true;
      list.clear();
      continue;
    }
    if (t.kind == Tok::kArrayClose && in_array) {
      in_array = false;
      const std::uint32_t lo = code_of(args[0]), hi = code_of(args[1]);
      if (lo <= hi && room()) {
        ++map_entries_;
        cm.ranges.push_back(CMap::Range{lo, hi, {}, std::move(list)});
      }
      args.clear();
      list.clear();
      continue;
    }
    if (t.kind != Tok::kString && t.kind != Tok::kName) continue;
    if (in_array) {
      std::string u;
      append_utf16(u, utf16_units(t.text));
      if (list.size() < 65536) list.push_back(std::move(u));
      continue;
    }
    args.push_back(t.kind == Tok::kName ? glyph_text(t.text) : t.text);
    if (mode == Mode::kSpace && args.size() == 2) {
      const std::size_t len = args[0].size();
      if (len >= 1 && len <= 4 && cm.spaces.size() < 64)
        cm.spaces.push_back(CMap::Space{len, code_of(args[0]), code_of(args[1])});
      args.clear();
    } else if (mode == Mode::kChar && args.size() == 2) {
      if (!args[0].empty() && args[0].size() <= 4 && room()) {
        ++map_entries_;
        if (!cm.default_len) cm.default_len = args[0].size();
        std::string u;
        if (t.kind == Tok::kName) u = args[1];
        else append_utf16(u, utf16_units(args[1]));
        cm.chars[code_of(args[0])] = std::move(u);
      }
      args.clear();
    } else if (mode == Mode::kRange && args.size() == 3) {
      const std::uint32_t lo = code_of(args[0]), hi = code_of(args[1]);
      if (!args[0].empty() && args[0].size() <= 4 && lo <= hi && room()) {
        ++map_entries_;
        if (!cm.default_len) cm.default_len = args[0].size();
        cm.ranges.push_back(CMap::Range{lo, hi, utf16_units(args[2]), {}});
      }
      args.clear();
    }
  }
  // Ranges sorted by their first code, for a binary search per code shown.
  std::stable_sort(cm.ranges.begin(), cm.ranges.end(), [](const CMap::Range& a, const CMap::Range& b) { return a.lo < b.lo; });
  cmaps_.emplace(obj, std::move(cm));
}

const std::string* TextExtractor::lookup(const CMap& cm, std::uint32_t code, std::string& scratch) const {
  const auto it = cm.chars.find(code);
  if (it != cm.chars.end()) return &it->second;
  // The ranges starting at or before `code`, nearest first (overlaps are rare: a few tried).
  auto first_after = std::upper_bound(cm.ranges.begin(), cm.ranges.end(), code,
                                      [](std::uint32_t c, const CMap::Range& r) { return c < r.lo; });
  for (int tried = 0; first_after != cm.ranges.begin() && tried < 8; ++tried) {
    const CMap::Range& r = *--first_after;
    if (code > r.hi) continue;
    const std::uint32_t k = code - r.lo;
    if (!r.list.empty()) return k < r.list.size() ? &r.list[k] : nullptr;
    if (r.base.empty()) return nullptr;
    std::u16string u = r.base;
    u.back() = static_cast<char16_t>(u.back() + k);
    scratch.clear();
    append_utf16(scratch, u);
    return &scratch;
  }
  return nullptr;
}

std::size_t TextExtractor::decode(std::string_view s, const Font* font, long long font_obj,
                                  std::string& out, Advance* advance) const {
  std::size_t unmapped = 0;
  const Widths* w = advance && font ? &widths(font_obj) : nullptr;
  const auto width = [&](std::uint32_t code) {
    if (!advance) return;
    ++advance->codes;
    if (!w) {
      advance->width += 500;
      return;
    }
    const auto it = w->by_code.find(code);
    advance->width += it != w->by_code.end() ? it->second : w->fallback;
  };
  const CMap* cm = nullptr;
  if (font && font->dict.to_unicode >= 0) {
    const auto it = cmaps_.find(font->dict.to_unicode);
    if (it != cmaps_.end()) cm = &it->second;
  }
  if (cm) {
    std::string scratch;
    for (std::size_t i = 0; i < s.size();) {
      std::size_t len = 0;
      for (const CMap::Space& sp : cm->spaces) {
        if (i + sp.len > s.size()) continue;
        const std::uint32_t c = code_of(s.substr(i, sp.len));
        if (c >= sp.lo && c <= sp.hi) {
          len = sp.len;
          break;
        }
      }
      if (!len) len = cm->default_len ? cm->default_len : (font->composite ? 2 : 1);
      len = std::min(len, s.size() - i);
      width(code_of(s.substr(i, len)));
      const std::string* u = lookup(*cm, code_of(s.substr(i, len)), scratch);
      if (u && !u->empty()) out += *u;
      else if (font->composite || len != 1 || !win_ansi(static_cast<unsigned char>(s[i]), out)) ++unmapped;
      i += len;
    }
    return unmapped;
  }
  // An unknown font whose codes are mostly zero bytes is a composite one (two-byte glyph
  // ids): read as bytes it would be noise, not text.
  if (!font && !s.empty() &&
      static_cast<std::size_t>(std::count(s.begin(), s.end(), '\0')) * 3 >= s.size())
    return s.size();
  if (font && font->composite) {
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) width(code_of(s.substr(i, 2)));
    return s.size() / 2 + s.size() % 2;
  }
  const std::map<std::uint32_t, std::string>* diffs = nullptr;
  if (font) {
    auto it = differences_.find(font->dict.encoding_ref >= 0 ? font->dict.encoding_ref : font_obj);
    if (it != differences_.end()) diffs = &it->second;
  }
  for (char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    width(b);
    if (advance && b == ' ') ++advance->spaces;
    if (diffs) {
      const auto it = diffs->find(b);
      if (it != diffs->end()) {
        const std::string g = glyph_text(it->second);
        if (g.empty()) ++unmapped;
        out += g;
        continue;
      }
    }
    if (!win_ansi(b, out)) ++unmapped;
  }
  return unmapped;
}

void TextExtractor::interpret(std::string_view content, std::string& out, std::size_t max) const {
  std::vector<std::pair<long long, const Font*>> font;  // the candidates of the font in use
  double size = 12;             // font size (Tf)
  std::string name;             // the last name operand
  std::vector<double> nums;     // number operands, last few
  std::vector<std::string> strs;
  struct Item {
    bool is_str;
    double num;
    std::string str;
  };
  std::vector<Item> arr;
  bool in_array = false;
  // Where the current line starts (user space, rotation ignored), the text matrix scale,
  // how far the text shown since then advanced (text space), and the leading (TL).
  double line_x = 0, line_y = 0, scale_x = 1, scale_y = 1, advance = 0, leading = 0;
  double char_spacing = 0, word_spacing = 0;  // Tc, Tw
  // Marked content: where each open BMC/BDC's text starts in `out`, with its /ActualText.
  struct Marked {
    std::size_t start;
    bool actual;
    std::string text;
  };
  std::vector<Marked> marked;
  int dict_depth = 0;
  std::string key, actual;  // in an operand dictionary: the last key, an /ActualText value
  bool placed = false;  // some text has been positioned in this stream
  // BT resets the matrix; where the text before it ended is kept to compare the next move.
  bool after_bt = false;
  double bt_x = 0, bt_y = 0;
  const auto sep = [&](char c) {
    if (out.empty()) return;
    if (c == '\n' && out.back() == ' ') out.back() = '\n';
    else if (out.back() != ' ' && out.back() != '\n') out += c;
  };
  // The next text starts at (x, y): the same line further on, the next line, or elsewhere.
  const auto move_to = [&](double x, double y) {
    if (placed) {
      const double em_x = size * std::abs(scale_x), em_y = size * std::abs(scale_y);
      const double dy = std::abs(y - (after_bt ? bt_y : line_y));
      const double pen = after_bt ? bt_x : line_x + advance * scale_x;
      if (dy < 0.3 * em_y) {
        const double gap = (x - pen) * (scale_x < 0 ? -1 : 1);
        if (gap > 0.2 * em_x || gap < -em_x) sep(' ');
      } else if (dy > 1.6 * em_y) {
        sep('\n');
      } else if (out.empty() || out.back() != '-') {
        sep(' ');  // a wrapped line; after a hyphen it goes on without a space (URLs, numbers)
      }
    }
    placed = true;
    after_bt = false;
    line_x = x;
    line_y = y;
    advance = 0;
  };
  const auto show = [&](const std::string& s) {
    if (after_bt) {
      sep(' ');  // shown at the origin of a new text object: somewhere else
      after_bt = false;
    }
    placed = true;
    Advance adv;
    if (font.size() <= 1) {
      decode(s, font.empty() ? nullptr : font[0].second, font.empty() ? -1 : font[0].first, out, &adv);
    } else {
      std::string best;
      std::size_t best_unmapped = SIZE_MAX;
      for (const auto& [obj, f] : font) {
        std::string t;
        Advance a;
        const std::size_t u = decode(s, f, obj, t, &a);
        if (u < best_unmapped) {
          best_unmapped = u;
          best = std::move(t);
          adv = a;
        }
      }
      out += best;
    }
    advance += adv.width / 1000 * size + adv.codes * char_spacing + adv.spaces * word_spacing;
  };
  Lexer lx(content);
  for (Token t = lx.next(); t.kind != Tok::kEnd && out.size() < max; t = lx.next()) {
    switch (t.kind) {
      case Tok::kArrayOpen:
        in_array = true;
        arr.clear();
        continue;
      case Tok::kArrayClose:
        in_array = false;
        continue;
      case Tok::kNumber:
        if (in_array) arr.push_back(Item{false, std::atof(t.text.c_str()), {}});
        else if (nums.size() < 8) nums.push_back(std::atof(t.text.c_str()));
        continue;
      case Tok::kDictOpen:
        ++dict_depth;
        continue;
      case Tok::kDictClose:
        if (dict_depth > 0) --dict_depth;
        continue;
      case Tok::kString:
        if (dict_depth > 0) {
          if (key == "ActualText") actual = std::move(t.text);
        } else if (in_array) {
          if (arr.size() < 4096) arr.push_back(Item{true, 0, std::move(t.text)});
        } else if (strs.size() < 4) {
          strs.push_back(std::move(t.text));
        }
        continue;
      case Tok::kName:
        if (dict_depth > 0) key = std::move(t.text);
        else name = std::move(t.text);
        continue;
      case Tok::kKeyword:
        break;
      default:
        continue;
    }
    const std::string& op = t.text;
    const std::size_t n = nums.size();
    if (op == "Tf") {
      font.clear();
      if (n >= 1 && nums[n - 1] != 0) size = std::abs(nums[n - 1]);
      const auto named = refs_.find(name);
      if (named != refs_.end()) {
        for (long long obj : named->second) {
          const auto it = fonts_.find(obj);
          if (it != fonts_.end() && font.size() < kMaxCandidates) font.emplace_back(obj, &it->second);
        }
      }
    } else if (op == "Tj" && !strs.empty()) {
      show(strs.back());
    } else if ((op == "'" || op == "\"") && !strs.empty()) {
      if (leading != 0) move_to(line_x, line_y - leading * scale_y);
      else sep(' ');
      show(strs.back());
    } else if (op == "TJ") {
      for (const Item& it : arr) {
        if (it.is_str) {
          show(it.str);
        } else {
          if (it.num < -200) sep(' ');
          advance -= it.num / 1000 * size;
        }
      }
      arr.clear();
    } else if ((op == "Td" || op == "TD") && n >= 2) {
      if (op == "TD") leading = -nums[n - 1];
      move_to(line_x + nums[n - 2] * scale_x, line_y + nums[n - 1] * scale_y);
    } else if (op == "T*") {
      if (leading != 0) move_to(line_x, line_y - leading * scale_y);
      else sep(' ');
    } else if (op == "Tc" && n >= 1) {
      char_spacing = nums[n - 1];
    } else if (op == "Tw" && n >= 1) {
      word_spacing = nums[n - 1];
    } else if ((op == "BMC" || op == "BDC") && marked.size() < 64) {
      marked.push_back(Marked{out.size(), op == "BDC" && !actual.empty(), text_string_utf8(actual)});
    } else if (op == "EMC" && !marked.empty()) {
      // /ActualText is what the span says; the glyphs shown in it are kept as well when
      // they read differently, so a span cannot hide what is drawn.
      Marked m = std::move(marked.back());
      marked.pop_back();
      if (m.actual && m.start <= out.size()) {
        std::string shown = out.substr(m.start);
        out.resize(m.start);
        out += m.text;
        const auto letters = [](std::string_view v) {
          std::string l;
          for (char c : expand_ligatures(v))
            if (c != ' ') l += c;
          return l;
        };
        if (!letters(shown).empty() && letters(shown) != letters(m.text)) {
          out += ' ';
          out += shown;
        }
      }
    } else if (op == "TL" && n >= 1) {
      leading = nums[n - 1];
    } else if (op == "Tm" && n >= 6) {
      scale_x = nums[n - 6] != 0 ? nums[n - 6] : 1;
      scale_y = nums[n - 3] != 0 ? nums[n - 3] : 1;
      move_to(nums[n - 2], nums[n - 1]);
    } else if (op == "BT") {
      // The text matrix starts again at the identity; the position met before is kept
      // for comparison with the next move.
      if (placed && !after_bt) {
        bt_x = line_x + advance * scale_x;
        bt_y = line_y;
        after_bt = true;
      }
      line_x = line_y = 0;
      scale_x = scale_y = 1;
      advance = 0;
    } else if (op == "ID") {
      // Inline image data: binary up to "EI" between white space.
      std::size_t p = lx.pos();
      for (;;) {
        p = content.find("EI", p);
        if (p == std::string_view::npos) return;
        if (p > 0 && is_space(content[p - 1]) &&
            (p + 2 == content.size() || is_space(content[p + 2]) || is_delim(content[p + 2])))
          break;
        p += 2;
      }
      lx.seek(p + 2);
    }
    nums.clear();
    strs.clear();
    name.clear();
    key.clear();
    actual.clear();
    dict_depth = 0;
  }
}

std::string TextExtractor::text(std::size_t max) const {
  std::string out;
  for (const std::string& c : contents_) {
    if (out.size() >= max) break;
    if (!out.empty() && out.back() != '\n') out += '\n';
    interpret(c, out, max);
  }
  // Collapse what positioning left: runs of blanks, control characters, blank lines.
  std::string clean;
  clean.reserve(std::min(out.size(), max));
  for (char c : expand_ligatures(out)) {
    if (clean.size() >= max) break;
    const auto b = static_cast<unsigned char>(c);
    if (c == '\n') {
      while (!clean.empty() && clean.back() == ' ') clean.pop_back();
      if (!clean.empty() && clean.back() != '\n') clean += '\n';
    } else if (b < 0x20 || c == ' ') {
      if (!clean.empty() && clean.back() != ' ' && clean.back() != '\n') clean += ' ';
    } else {
      clean += c;
    }
  }
  while (!clean.empty() && (clean.back() == ' ' || clean.back() == '\n')) clean.pop_back();
  // A cut in the middle of a character leaves no broken UTF-8 behind.
  std::size_t i = clean.size(), tail = 0;
  while (i > 0 && tail < 4 && (static_cast<unsigned char>(clean[i - 1]) & 0xC0) == 0x80) --i, ++tail;
  if (i > 0) {
    const auto lead = static_cast<unsigned char>(clean[i - 1]);
    const std::size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
    if (need != tail) clean.resize(need ? i - 1 : i);
  }
  return clean;
}

}  // namespace bulwark::inspect::pdf
