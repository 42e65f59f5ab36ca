// Unfolding, and Content-Type / Content-Disposition values with RFC 2045 parameters and
// RFC 2231 continuations, read as lenient clients read them and reported where broken.
#include "mime/header_value.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/escape.h"
#include "core/symbol.h"
#include "mime/charset.h"

namespace bulwark::mime {

namespace {

constexpr std::size_t kMaxParams = 1024;
constexpr long kMaxSection = 999;  // Thunderbird ignores continuations beyond this
constexpr std::size_t kNpos = std::string_view::npos;

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != kNpos;
}

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && !is_tspecial(c);
}

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower_ascii(c);
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 64;
  std::string r = "'" + escape_for_display(s.substr(0, kMax));
  if (s.size() > kMax) r += "...";
  return r + "'";
}

// Skips whitespace and (nested) comments from `pos`; returns the new position. An
// unterminated comment runs to the end and sets `unterminated`. Nesting is a counter, so
// no depth can exhaust the stack.
std::size_t skip_cfws(std::string_view s, std::size_t pos, bool& unterminated) {
  while (pos < s.size()) {
    if (is_wsp(s[pos])) {
      ++pos;
      continue;
    }
    if (s[pos] != '(') break;
    std::size_t depth = 0;
    for (; pos < s.size(); ++pos) {
      const char c = s[pos];
      if (c == '\\') {
        ++pos;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        ++pos;
        break;
      }
    }
    if (depth != 0) {
      unterminated = true;
      return s.size();
    }
  }
  return std::min(pos, s.size());
}

// True when s[pos..] starts "token *WSP =": the next parameter, even with no ';' before it.
bool looks_like_param(std::string_view s, std::size_t pos) {
  std::size_t j = pos;
  while (j < s.size() && is_token_char(s[j])) ++j;
  if (j == pos) return false;
  while (j < s.size() && is_wsp(s[j])) ++j;
  return j < s.size() && s[j] == '=';
}

struct RawParam {
  std::string name;  // lower-case, as written (with any '*' suffixes)
  std::string value;
};

class FieldParser {
 public:
  FieldParser(std::string_view s, const Report& report, std::string_view field)
      : s_(s), report_(report), field_(field) {}

  FieldValue parse(bool content_type) {
    FieldValue fv;
    pos_ = cfws(0);
    const std::size_t t0 = pos_;
    const std::string_view type = token();
    pos_ = cfws(pos_);
    if (type.empty() || (pos_ < s_.size() && s_[pos_] == '=')) {
      // No type at all ("filename=x", "", "; name=x"): what follows is parameters.
      fv.valid = false;
      if (content_type)
        report_.add("MIME_BAD_CONTENT_TYPE", quote(s_));
      else
        bad("missing disposition type in", s_);
      pos_ = t0;
      if (type.empty()) skip_to_separator();
      parse_params(false);
      finish(fv);
      return fv;
    }
    std::string full = lower(type);
    bool ok = true;
    if (content_type) {
      ok = pos_ < s_.size() && s_[pos_] == '/';
      if (ok) {
        pos_ = cfws(pos_ + 1);
        const std::string_view sub = token();
        pos_ = cfws(pos_);
        ok = !sub.empty();
        full.append("/").append(lower(sub));
      }
    }
    bool need_separator = false;
    if (ok && pos_ < s_.size() && s_[pos_] != ';') {
      // "text/plain charset=x": a parameter without its ';' keeps the type. Other junk
      // after a media type makes it unparseable (RFC 2045: use the default); after a
      // disposition type clients still take the first token.
      if (looks_like_param(s_, pos_)) {
        need_separator = true;
      } else if (content_type) {
        ok = false;
      } else {
        bad("junk after disposition type in", s_);
        skip_to_separator();
      }
    }
    if (ok) {
      fv.type = std::move(full);
    } else {
      fv.valid = false;
      report_.add("MIME_BAD_CONTENT_TYPE", quote(s_));
      skip_to_separator();
    }
    parse_params(need_separator);
    finish(fv);
    return fv;
  }

 private:
  void finish(FieldValue& fv) {
    if (unterminated_comment_) bad("unterminated comment");
    fv.params = assemble();
  }

  std::size_t cfws(std::size_t pos) { return skip_cfws(s_, pos, unterminated_comment_); }

  std::string_view token() {
    const std::size_t b = pos_;
    while (pos_ < s_.size() && is_token_char(s_[pos_])) ++pos_;
    return s_.substr(b, pos_ - b);
  }

  // MIME_BAD_PARAMS with a detail for the first few problems only: a value repeating one
  // flaw a million times must not cost a string each time.
  void bad(std::string_view why) { bad_detail(why, nullptr); }
  void bad(std::string_view why, std::string_view subject) { bad_detail(why, &subject); }
  void bad_detail(std::string_view why, const std::string_view* subject) {
    constexpr int kMaxDetails = 8;
    if (bad_count_ >= kMaxDetails) return;
    ++bad_count_;
    std::string d(field_);
    d.append(": ").append(why);
    if (subject) d.append(" ").append(quote(*subject));
    report_.add("MIME_BAD_PARAMS", d);
  }

  // Moves past the next ';' outside quotes and comments (or to the end).
  void skip_to_separator() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == ';') {
        ++pos_;
        return;
      }
      if (c == '(') {
        pos_ = cfws(pos_);
        continue;
      }
      if (c == '"') {
        std::string ignored;
        read_quoted(ignored);
        continue;
      }
      ++pos_;
    }
  }

  // Reads a quoted-string at pos_ (on the opening quote); false when unterminated.
  bool read_quoted(std::string& out) {
    ++pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\\' && pos_ + 1 < s_.size()) {
        out += s_[pos_ + 1];
        pos_ += 2;
      } else if (c == '"') {
        ++pos_;
        return true;
      } else {
        out += c;
        ++pos_;
      }
    }
    return false;
  }

  // An unquoted value: clients take everything up to the next ';' (spaces and specials
  // included), except a trailing RFC 822 comment, and stop early where the next
  // "name=" begins after whitespace (a missing ';').
  std::string read_unquoted(const std::string& name) {
    const std::size_t start = pos_;
    std::size_t end = pos_;
    while (pos_ < s_.size() && s_[pos_] != ';') {
      if (s_[pos_] == '(' && pos_ > start && is_wsp(s_[pos_ - 1])) {
        // A comment after whitespace: skip it whole, a ';' inside does not end the value.
        pos_ = cfws(pos_);
        end = pos_;
        continue;
      }
      if (is_wsp(s_[pos_])) {
        std::size_t j = pos_;
        while (j < s_.size() && is_wsp(s_[j])) ++j;
        if (j >= s_.size() || s_[j] == ';') {
          pos_ = j;
          break;
        }
        if (looks_like_param(s_, j)) {
          pos_ = j;
          break;
        }
        pos_ = j;
        continue;
      }
      ++pos_;
      end = pos_;
    }
    std::string_view raw = s_.substr(start, end - start);
    // "us-ascii (Plain text)": the comment is not part of the value.
    const std::size_t k = raw.find_first_of(" \t\r\n(");
    if (k != kNpos && k > 0) {
      bool unterminated = false;
      if (skip_cfws(raw, k, unterminated) == raw.size() && !unterminated) raw = raw.substr(0, k);
    }
    if (raw.empty()) {
      bad("empty value for", name);
    } else if (!std::all_of(raw.begin(), raw.end(), is_token_char)) {
      const bool spaces = std::any_of(raw.begin(), raw.end(), is_wsp);
      bad(spaces ? "whitespace in unquoted value of" : "specials in unquoted value of", name);
    }
    return std::string(raw);
  }

  void parse_params(bool need_separator) {
    while (true) {
      pos_ = cfws(pos_);
      if (pos_ >= s_.size()) break;
      if (s_[pos_] == ';') {
        ++pos_;
        need_separator = false;
        continue;
      }
      if (need_separator) bad("missing ';' before", s_.substr(pos_, 32));
      need_separator = true;
      // Name: up to '=', ';', whitespace, a comment or a quote.
      const std::size_t nb = pos_;
      while (pos_ < s_.size()) {
        const char c = s_[pos_];
        if (c == '=' || c == ';' || c == '(' || c == '"' || is_wsp(c)) break;
        ++pos_;
      }
      const std::string_view raw_name = s_.substr(nb, pos_ - nb);
      pos_ = cfws(pos_);
      if (raw_name.empty() || pos_ >= s_.size() || s_[pos_] != '=') {
        bad("parameter without value near", s_.substr(nb, 32));
        if (raw_name.empty() && pos_ < s_.size() && s_[pos_] == '"') {
          std::string ignored;
          read_quoted(ignored);
        }
        if (pos_ < s_.size() && s_[pos_] != ';' && pos_ == nb) ++pos_;  // always progress
        continue;
      }
      if (!std::all_of(raw_name.begin(), raw_name.end(), is_token_char))
        bad("bad parameter name", raw_name);
      pos_ = cfws(pos_ + 1);
      RawParam p;
      p.name = lower(raw_name);
      if (pos_ < s_.size() && s_[pos_] == '"') {
        if (!read_quoted(p.value)) bad("unterminated quoted value of", p.name);
      } else {
        p.value = read_unquoted(p.name);
      }
      if (raw_.size() >= kMaxParams) {
        bad("too many parameters");
        pos_ = s_.size();
        break;
      }
      raw_.push_back(std::move(p));
    }
  }

  // --- RFC 2231 -----------------------------------------------------------------------

  struct Item {
    std::string base;   // name without '*' suffixes
    bool ext = false;   // ended in '*': charset'lang'%XX form
    long section = -1;  // *N, or -1
    std::string value;
  };

  // Percent-decodes an extended value; a '%' without two hex digits stays literal.
  std::string percent_decode(std::string_view v, const std::string& name) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    std::string out;
    out.reserve(v.size());
    bool broken = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
        out += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
        i += 2;
      } else {
        if (v[i] == '%') broken = true;
        out += v[i];
      }
    }
    if (broken) bad("bad %-escape in", name);
    return out;
  }

  // Splits "charset'lang'value"; returns the raw value part.
  std::string_view split_ext(std::string_view v, std::string& charset, const std::string& name) {
    const std::size_t q1 = v.find('\'');
    if (q1 == kNpos) {
      bad("RFC 2231 value without charset'language' in", name);
      return v;
    }
    charset = lower(v.substr(0, q1));
    const std::size_t q2 = v.find('\'', q1 + 1);
    if (q2 == kNpos) {
      bad("RFC 2231 value without language quote in", name);
      return v.substr(q1 + 1);
    }
    return v.substr(q2 + 1);
  }

  // Bytes in `charset` (possibly empty) to UTF-8.
  std::string to_text(std::string_view bytes, const std::string& charset, const std::string& name) {
    std::string out;
    if (charset.empty()) {
      if (!is_valid_utf8(bytes)) report_.add("MIME_HEADER_8BIT", field_ + ": " + quote(name));
      charset_to_utf8(bytes, "", out);
      return out;
    }
    if (!charset_to_utf8(bytes, charset, out))
      report_.add("MIME_CHARSET_UNKNOWN", quote(charset) + " in parameter " + quote(name));
    return out;
  }

  // A plain value: encoded-words decoded where clients decode them, 8-bit made UTF-8
  // (except a boundary, which must keep the exact bytes the body lines use).
  std::string plain_value(const std::string& name, const std::string& value) {
    if (name == "boundary") return value;
    std::string text = value;
    if (!is_valid_utf8(value)) {
      report_.add("MIME_HEADER_8BIT", field_ + ": parameter " + quote(name));
      charset_to_utf8(value, "windows-1252", text);
    }
    if ((name == "name" || name == "filename") && value.find("=?") != kNpos) {
      SymbolSet scratch;
      std::string decoded = decode_encoded_words(value, Report{scratch, {}});
      for (const Symbol& sym : scratch.all())
        if (sym.name != "MIME_HEADER_8BIT") report_.add(sym.name, sym.detail);  // said above
      if (decoded != text) {
        report_.add("MIME_ENCODED_WORD_IN_PARAM", field_ + ": " + quote(name));
        return decoded;
      }
    }
    return text;
  }

  Item split_name(const RawParam& p) {
    Item it;
    std::string_view n = p.name;
    if (!n.empty() && n.back() == '*') {
      it.ext = true;
      n.remove_suffix(1);
    }
    const std::size_t star = n.rfind('*');
    if (star != kNpos && star + 1 < n.size() &&
        std::all_of(n.begin() + static_cast<std::ptrdiff_t>(star) + 1, n.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      const std::string_view digits = n.substr(star + 1);
      long section = 0;
      for (const char c : digits) {
        section = section * 10 + (c - '0');
        if (section > kMaxSection) break;
      }
      if (digits.size() > 1 && digits[0] == '0')
        bad("RFC 2231 section with leading zero in", p.name);
      it.section = section;
      n = n.substr(0, star);
    }
    it.base = std::string(n);
    it.value = p.value;
    return it;
  }

  // Joins the segments of one continued parameter into one or more readings.
  void assemble_sections(const std::string& base, const std::vector<const Item*>& segs,
                         std::vector<Param>& out) {
    for (std::size_t i = 1; i < segs.size(); ++i) {
      if (segs[i]->section < segs[i - 1]->section) {
        report_.add("MIME_RFC2231_OUT_OF_ORDER", field_ + ": " + quote(base));
        break;
      }
    }
    std::vector<const Item*> sorted(segs);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Item* a, const Item* b) { return a->section < b->section; });
    // first[i] / last[i]: the first and the last occurrence of each distinct index.
    std::vector<const Item*> first, last;
    for (const Item* it : sorted) {
      if (!first.empty() && first.back()->section == it->section) {
        last.back() = it;
        continue;
      }
      first.push_back(it);
      last.push_back(it);
    }
    if (first.size() != sorted.size())
      report_.add("MIME_RFC2231_DUP_SEGMENT", field_ + ": " + quote(base));
    bool gap = first.front()->section != 0;
    for (std::size_t i = 1; i < first.size() && !gap; ++i)
      gap = first[i]->section != first[i - 1]->section + 1;
    if (gap) report_.add("MIME_RFC2231_GAP", field_ + ": " + quote(base));

    // One reading: the segments in index order; stop_at_gap as Thunderbird does.
    auto reading = [&](const std::vector<const Item*>& list, bool stop_at_gap, Param& p) {
      std::string bytes;
      long expected = 0;
      for (const Item* it : list) {
        if (stop_at_gap && it->section != expected) break;
        expected = it->section + 1;
        if (it->section == 0 && it->ext) {
          bytes += percent_decode(split_ext(it->value, p.charset, base), base);
        } else if (it->ext) {
          bytes += percent_decode(it->value, base);
        } else {
          bytes += it->value;
        }
      }
      p.name = base;
      p.rfc2231 = true;
      p.value = to_text(bytes, p.charset, base);
    };
    Param primary;
    reading(first, true, primary);
    const bool have_primary = first.front()->section == 0;
    if (have_primary) out.push_back(primary);
    // Other clients join every segment present, or let a repeated index win: keep those
    // readings too, so a name hidden behind a gap or a duplicate is still seen.
    if (gap) {
      Param all;
      reading(first, false, all);
      if (!have_primary || all.value != primary.value) out.push_back(std::move(all));
    }
    if (first.size() != sorted.size()) {
      Param later;
      reading(last, true, later);
      if (later.value != primary.value) out.push_back(std::move(later));
    }
  }

  std::vector<Param> assemble() {
    std::vector<Item> items;
    items.reserve(raw_.size());
    for (const RawParam& p : raw_) {
      Item it = split_name(p);
      if (it.section > kMaxSection) {
        bad("RFC 2231 section number too large in", p.name);
        continue;
      }
      if (it.base.empty()) {
        bad("empty parameter name");
        continue;
      }
      items.push_back(std::move(it));
    }
    std::map<std::string, std::vector<const Item*>> sections;
    for (const Item& it : items)
      if (it.section >= 0) sections[it.base].push_back(&it);

    std::vector<Param> params;
    struct Count {
      int plain = 0;
      int extended = 0;  // name* and name*N groups
    };
    std::map<std::string, Count> counts;
    for (const Item& it : items) {
      if (it.section >= 0) {
        auto s = sections.find(it.base);
        if (s == sections.end() || s->second.front() != &it) continue;  // joined already
        assemble_sections(it.base, s->second, params);
        ++counts[it.base].extended;
        continue;
      }
      Param p;
      p.name = it.base;
      if (it.ext) {
        p.rfc2231 = true;
        const std::string bytes = percent_decode(split_ext(it.value, p.charset, it.base), it.base);
        p.value = to_text(bytes, p.charset, it.base);
        ++counts[it.base].extended;
      } else {
        p.value = plain_value(it.base, it.value);
        ++counts[it.base].plain;
      }
      params.push_back(std::move(p));
    }

    for (const auto& [name, c] : counts) {
      if (c.plain > 1 || c.extended > 1) report_.add("MIME_DUP_PARAM", field_ + ": " + quote(name));
      if (c.plain == 0 || c.extended == 0) continue;
      // Given plainly and in RFC 2231 form: clients pick different ones when they differ.
      bool differ = false;
      const std::string* first_value = nullptr;
      for (const Param& p : params) {
        if (p.name != name) continue;
        if (!first_value)
          first_value = &p.value;
        else if (p.value != *first_value)
          differ = true;
      }
      if (differ) report_.add("MIME_PARAM_2231_CONFLICT", field_ + ": " + quote(name));
    }
    return params;
  }

  std::string_view s_;
  const Report& report_;
  std::string field_;
  std::size_t pos_ = 0;
  bool unterminated_comment_ = false;
  int bad_count_ = 0;
  std::vector<RawParam> raw_;
};

}  // namespace

std::string unfold(std::string_view raw) {
  auto trim_char = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!raw.empty() && trim_char(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && trim_char(raw.back())) raw.remove_suffix(1);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] != '\r' && raw[i] != '\n') {
      out += raw[i++];
      continue;
    }
    // A run of line breaks (CRLF, LF, bare CR, or a mix a hostile header may use) is
    // folding when whitespace follows: dropped, the whitespace stays. This also makes
    // unfold idempotent.
    std::size_t j = i;
    while (j < raw.size() && (raw[j] == '\r' || raw[j] == '\n')) ++j;
    if (j < raw.size() && (raw[j] == ' ' || raw[j] == '\t')) {
      i = j;
      continue;
    }
    out.append(raw.substr(i, j - i));
    i = j;
  }
  return out;
}

const Param* FieldValue::param(std::string_view name) const {
  for (const Param& p : params)
    if (iequals(p.name, name)) return &p;
  return nullptr;
}

std::vector<const Param*> FieldValue::all(std::string_view name) const {
  std::vector<const Param*> out;
  for (const Param& p : params)
    if (iequals(p.name, name)) out.push_back(&p);
  return out;
}

FieldValue parse_content_type(std::string_view unfolded, const Report& report) {
  return FieldParser(unfolded, report, "Content-Type").parse(true);
}

FieldValue parse_disposition(std::string_view unfolded, const Report& report) {
  return FieldParser(unfolded, report, "Content-Disposition").parse(false);
}

}  // namespace bulwark::mime
