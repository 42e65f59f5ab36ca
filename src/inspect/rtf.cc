// RTF: embedded OLE objects (\object ... {\*\objdata hex}), the OLE1 ObjectHeader in front
// of their native data ([MS-OLEDS] 2.2.4), auto-updating objects, Equation Editor objects,
// DDE field instructions, and the structural tricks used to confuse other parsers.
//
// One linear pass: groups are tracked on an explicit stack capped at kMaxDepth (deeper
// nesting is counted, not stored, and raises DOC_RTF_OBFUSCATED); \binN skips are bounded
// by the input; object data is at most half the input (hex) plus \bin bytes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/escape.h"
#include "core/utf8.h"
#include "inspect/documents.h"

namespace bulwark::inspect {

namespace {

// Document bytes quoted in a detail: escaped, and cut so one detail stays short.
std::string shown(std::string_view s, std::size_t max = 200) {
  std::string out = escape_for_display(s.substr(0, max));
  if (s.size() > max) out += "...";
  return out;
}

constexpr std::size_t kMaxDepth = 1000;
constexpr std::size_t kMaxObjects = 256;
constexpr std::size_t kMaxClass = 256;
constexpr std::size_t kMaxField = 16u << 10;
constexpr std::size_t kMaxText = 64u << 10;  // text read for the rules

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool word_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '_';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::uint32_t le32(std::string_view b, std::size_t off) {
  if (off + 4 > b.size()) return 0;
  std::uint32_t v = 0;
  for (std::size_t i = 4; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[off + i]);
  return v;
}

bool is_ole2(std::string_view b) {
  return b.size() >= 8 && b.substr(0, 8) == std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
}

std::string trim_class(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\0') break;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (out.size() < kMaxClass) out += c;
  }
  return out;
}

bool is_equation_class(std::string_view cls) {
  const std::string l = to_lower(cls);
  return l.starts_with("equation.3") || l == "equation" || l.starts_with("equation.equation");
}

struct RtfObject {
  std::string cls;   // from \objclass
  std::string data;  // decoded \objdata
  bool has_data = false;
  bool from_object = false;  // opened by \object (else a bare \objdata)
};

struct Group {
  bool object_owner = false;   // \object appeared in this group
  bool objdata_owner = false;  // \objdata appeared in this group
  bool objdata = false;        // inside object data (this group or an ancestor)
  bool objclass_owner = false;
  bool objclass = false;
  bool fldinst_owner = false;
  bool fldinst = false;
  bool hidden = false;  // a destination whose text is not shown (font table, \*\..., pictures)
};

// Destinations that hold no text a reader sees.
bool hidden_destination(std::string_view w) {
  static constexpr std::string_view kHidden[] = {
      "fonttbl", "colortbl", "stylesheet", "info", "pict", "listtable", "listoverridetable", "rsidtbl",
      "generator", "themedata", "colorschememapping", "datastore", "latentstyles", "xmlnstbl", "fldinst",
      "objclass", "objdata", "filetbl", "revtbl", "userprops", "xmlopen", "mmathPr", "bkmkstart", "bkmkend"};
  for (std::string_view h : kHidden)
    if (w == h) return true;
  return false;
}

class RtfScanner {
 public:
  RtfScanner(const Blob& blob, Inspector& insp) : blob_(blob), insp_(insp), in_(blob.bytes) {}

  void run() {
    check_header();
    stack_.push_back(Group{});
    std::size_t depth = 0;  // real depth, including groups beyond the stored stack
    std::size_t i = 0;
    while (i < in_.size()) {
      if ((i & 0xFFFFu) == 0 && insp_.out_of_time(blob_)) return;
      const char c = in_[i];
      if (c == '{') {
        ++depth;
        if (depth < kMaxDepth) {
          Group g = stack_.back();
          g.object_owner = g.objdata_owner = g.objclass_owner = g.fldinst_owner = false;
          stack_.push_back(g);
        } else if (!deep_reported_) {
          deep_reported_ = true;
          insp_.symbol(blob_, "DOC_RTF_OBFUSCATED",
                       "groups nested deeper than " + std::to_string(kMaxDepth));
        }
        ++i;
        continue;
      }
      if (c == '}') {
        if (depth > 0) {
          if (depth < kMaxDepth) close_group();
          --depth;
        }
        ++i;
        continue;
      }
      if (c == '\\') {
        i = control(i);
        continue;
      }
      text(c);
      ++i;
    }
    // An unterminated document: what was open is still read (Word does).
    while (stack_.size() > 1) close_group();
    finish_object();
    finish_field();
    report();
    insp_.add_text(blob_, text_);
  }

 private:
  void check_header() {
    // Word opens anything starting "{\rt"; only "{\rtf" is RTF to other readers.
    if (in_.size() >= 5 && in_.substr(0, 5) != "{\\rtf")
      insp_.symbol(blob_, "DOC_RTF_OBFUSCATED",
                   "header '" + shown(in_.substr(0, std::min<std::size_t>(in_.size(), 8))) +
                       "' is not {\\rtf");
  }

  Group& top() { return stack_.back(); }

  void close_group() {
    if (stack_.size() <= 1) return;
    const Group g = stack_.back();
    stack_.pop_back();
    if (g.objdata_owner && !stack_.back().objdata && cur_ && !cur_->from_object) finish_object();
    if (g.object_owner) finish_object();
    if (g.fldinst_owner && !stack_.back().fldinst) finish_field();
  }

  // A control word or symbol at in_[i] == '\\'; returns the index after it.
  std::size_t control(std::size_t i) {
    std::size_t p = i + 1;
    if (p >= in_.size()) return p;
    if (!is_alpha(in_[p])) {
      const char sym = in_[p];
      ++p;
      if (top().objdata) note_objdata_control(std::string(1, sym));
      if (sym == '\'') {
        // \'hh: one byte of text.
        if (p + 2 <= in_.size() && hex_value(in_[p]) >= 0 && hex_value(in_[p + 1]) >= 0) {
          if (!top().objdata)
            text(static_cast<char>(hex_value(in_[p]) * 16 + hex_value(in_[p + 1])));
          p += 2;
        }
      } else if (sym == '{' || sym == '}' || sym == '\\') {
        if (!top().objdata) text(sym);
      } else if (sym == '*') {
        top().hidden = true;  // an ignorable destination: readers that do not know it skip it
      } else if (sym == '~') {
        shown_char(' ');
      }
      return p;
    }
    const std::size_t ws = p;
    while (p < in_.size() && is_alpha(in_[p])) ++p;
    const std::string_view word = in_.substr(ws, std::min<std::size_t>(p - ws, 32));
    bool has_param = false;
    bool neg = false;
    std::uint64_t param = 0;
    if (p < in_.size() && in_[p] == '-' && p + 1 < in_.size() && is_digit(in_[p + 1])) {
      neg = true;
      ++p;
    }
    while (p < in_.size() && is_digit(in_[p])) {
      has_param = true;
      if (param < (1ull << 40)) param = param * 10 + static_cast<unsigned>(in_[p] - '0');
      ++p;
    }
    if (p < in_.size() && in_[p] == ' ') ++p;
    if (word == "bin") {
      // \binN: N raw bytes follow.
      const std::size_t n =
          (has_param && !neg)
              ? static_cast<std::size_t>(std::min<std::uint64_t>(param, in_.size() - p))
              : 0;
      if (top().objdata) {
        note_objdata_control("bin");
        if (cur_ && cur_->data.size() < in_.size()) cur_->data.append(in_.substr(p, n));
      }
      return p + n;
    }
    if (top().objdata && word != "objdata") note_objdata_control(std::string(word));
    if (hidden_destination(word)) top().hidden = true;
    if (word == "par" || word == "line" || word == "sect" || word == "page" || word == "row") shown_char('\n');
    if (word == "tab" || word == "cell") shown_char(' ');
    if (word == "uc" && has_param) uc_ = static_cast<int>(std::min<std::uint64_t>(param, 8));
    if (word == "u" && has_param && !top().hidden && !top().objdata) {
      // \uN: a UTF-16 unit as a signed 16-bit number, then uc fallback characters.
      auto unit = static_cast<std::uint32_t>(neg ? 65536 - std::min<std::uint64_t>(param, 65536) : param) & 0xFFFF;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        high_surrogate_ = unit;
      } else {
        char32_t cp = unit;
        if (unit >= 0xDC00 && unit <= 0xDFFF && high_surrogate_)
          cp = 0x10000 + ((high_surrogate_ - 0xD800) << 10) + (unit - 0xDC00);
        high_surrogate_ = 0;
        if (cp >= 0x20 && text_.size() < kMaxText) append_utf8(text_, cp);
      }
      skip_ = uc_;
    }
    if (word == "object") {
      new_object();
      if (cur_) cur_->from_object = true;
      top().object_owner = true;
    } else if (word == "objdata") {
      if (!top().objdata) {
        if (!cur_ || cur_->has_data) new_object();
        if (cur_) cur_->has_data = true;
        top().objdata_owner = true;
        top().objdata = true;
        nibble_ = -1;
      }
    } else if (word == "objclass") {
      top().objclass_owner = true;
      top().objclass = true;
    } else if (word == "objupdate") {
      objupdate_ = true;
    } else if (word == "fldinst") {
      if (!top().fldinst) {
        finish_field();
        top().fldinst_owner = true;
        top().fldinst = true;
      }
    }
    return p;
  }

  void note_objdata_control(const std::string& what) {
    if (obfuscation_reported_ >= 4) return;
    ++obfuscation_reported_;
    insp_.symbol(blob_, "DOC_RTF_OBFUSCATED",
                 "control word \\" + shown(what) + " inside \\objdata");
  }

  // A character of the document's visible text (code page 1252; \uN handled apart).
  void shown_char(char c) {
    if (top().hidden || top().objdata || text_.size() >= kMaxText) return;
    if (c == '\n' || c == ' ') {
      if (!text_.empty() && text_.back() != c && text_.back() != '\n') text_ += c;
      return;
    }
    append_cp1252(text_, static_cast<unsigned char>(c));
  }

  void text(char c) {
    Group& g = top();
    if (skip_ > 0 && !g.objdata && c != '\r' && c != '\n') {
      --skip_;  // the fallback of a \uN
      return;
    }
    if (!g.objdata && c != '\r' && c != '\n') shown_char(c);
    if (g.objdata) {
      const int v = hex_value(c);
      if (v < 0 || !cur_) return;  // whitespace and junk: Word skips them
      if (nibble_ < 0) {
        nibble_ = v;
      } else {
        cur_->data += static_cast<char>(nibble_ * 16 + v);
        nibble_ = -1;
      }
      return;
    }
    if (c == '\r' || c == '\n') return;  // line breaks in RTF source are not text
    if (g.objclass && cur_ && cur_->cls.size() < kMaxClass) cur_->cls += c;
    if (g.fldinst && field_.size() < kMaxField) field_ += c;
  }

  void new_object() {
    finish_object();
    if (objects_ >= kMaxObjects) {
      cur_ = nullptr;
      return;
    }
    ++objects_;
    current_ = RtfObject{};
    cur_ = &current_;
  }

  void finish_field() {
    if (field_.empty()) return;
    // The field type is the first word of the instruction.
    const std::string l = to_lower(field_);
    std::size_t at = 0;
    while (at < l.size() &&
           (l[at] == ' ' || l[at] == '\t' || l[at] == '\r' || l[at] == '\n' || l[at] == '"'))
      ++at;
    if (l.compare(at, 3, "dde") == 0) {
      std::size_t end = at + 3;
      if (l.compare(end, 4, "auto") == 0) end += 4;
      if (end >= l.size() || !word_char(l[end]))
        insp_.symbol(blob_, "DOC_DDE", "fldinst " + shown(field_, 300));
    }
    field_.clear();
  }

  // Parses the OLE1 ObjectHeader and hands the native data to the chain.
  void finish_object() {
    if (!cur_) return;
    RtfObject obj = std::move(*cur_);
    cur_ = nullptr;
    std::string cls = trim_class(obj.cls);
    const std::string_view d = obj.data;
    std::string_view native;
    std::string topic;
    std::uint32_t format = 0;
    bool header_ok = false;
    if (is_ole2(d)) {
      native = d;  // no OLE1 wrapper: the compound file itself
    } else if (d.size() >= 12) {
      format = le32(d, 4);
      std::size_t p = 8;
      auto lp_string = [&](std::string& out) {
        const std::uint32_t n = le32(d, p);
        p += 4;
        if (p > d.size() || n > d.size() - p) return false;
        out = std::string(d.substr(p, std::min<std::size_t>(n, 1024)));
        const std::size_t nul = out.find('\0');
        if (nul != std::string::npos) out.resize(nul);
        p += n;
        return true;
      };
      std::string header_class, item;
      if ((format == 1 || format == 2) && lp_string(header_class)) {
        header_ok = true;
        if (!header_class.empty()) cls = trim_class(header_class);
        lp_string(topic);
        lp_string(item);
        if (format == 2 && p + 4 <= d.size()) {
          const std::uint32_t n = le32(d, p);
          p += 4;
          native = d.substr(p, std::min<std::size_t>(n, d.size() - p));
        }
      }
    }
    if (!header_ok && native.empty()) {
      // A damaged header: a compound file further in is still what Word would load.
      const std::size_t at = d.find(std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8));
      if (at != std::string_view::npos) native = d.substr(at);
    }
    if (obj.data.empty() && cls.empty()) return;
    std::string detail = "class '" + shown(cls) + "'";
    if (format == 1) detail += ", linked to '" + shown(topic) + "'";
    detail += ", " + std::to_string(obj.data.size()) + " bytes";
    insp_.symbol(blob_, "DOC_RTF_OBJECT", detail);
    if (is_equation_class(cls))
      insp_.symbol(blob_, "DOC_EQUATION_EDITOR", "RTF object class '" + shown(cls) + "'");
    if (native.size() < 8) return;
    ++children_;
    if (to_lower(cls) == "package" && !is_ole2(native)) {
      inspect_ole_package(native, blob_, insp_);
      return;
    }
    if (!insp_.count_member(blob_) || !insp_.charge(blob_, native.size())) return;
    const std::string& kept = insp_.keep(std::string(native));
    insp_.inspect_blob(Blob{kept,
                            child_location(blob_.location, "object" + std::to_string(children_)),
                            {},
                            "",
                            blob_.depth + 1});
  }

  void report() {
    if (objupdate_)
      insp_.symbol(blob_, "DOC_RTF_OBJUPDATE", "\\objupdate: the object refreshes on open");
  }

  const Blob& blob_;
  Inspector& insp_;
  std::string_view in_;
  std::vector<Group> stack_;
  RtfObject current_;
  RtfObject* cur_ = nullptr;
  std::size_t objects_ = 0;
  std::size_t children_ = 0;
  int nibble_ = -1;
  std::string text_;          // the visible text, UTF-8, for the rules
  int uc_ = 1, skip_ = 0;     // \ucN: fallback characters after each \uN, still to skip
  std::uint32_t high_surrogate_ = 0;
  bool deep_reported_ = false;
  std::size_t obfuscation_reported_ = 0;
  bool objupdate_ = false;
  std::string field_;
};

}  // namespace

bool looks_like_rtf(std::string_view bytes) {
  return bytes.starts_with("{\\rt");
}

void inspect_rtf(const Blob& blob, Inspector& insp) {
  try {
    RtfScanner(blob, insp).run();
  } catch (const std::exception&) {
  }
}

}  // namespace bulwark::inspect
