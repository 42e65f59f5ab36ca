// RFC 5322 address lists, obsolete syntax included, read leniently: every input gives the
// addresses a mail client would show, and anything irregular raises MIME_ADDRESS_BAD.
//
// One pass splits the value into tokens (atoms, quoted strings, comments, domain literals,
// specials); tokens are grouped into one element per mailbox, and each element is read
// on its own. Every loop moves forward, so hostile input stays linear.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/escape.h"
#include "mime/charset.h"
#include "mime/header_value.h"

namespace bulwark::mime {

namespace {

constexpr std::size_t kMaxAddresses = 10000;
constexpr std::size_t kMaxElementTokens = 1u << 20;
constexpr std::size_t kMaxInput = 16u << 20;  // token offsets are 32-bit
constexpr std::size_t kMaxCommentDepth = 64;

enum class Kind : std::uint8_t { kAtom, kQuoted, kComment, kLiteral, kSpecial };

struct Token {
  Kind kind;
  char ch;              // the special character, for kSpecial
  bool space_before;    // whitespace (or a comment) separates it from the previous token
  std::uint32_t begin;  // raw span; for quoted strings and comments without the delimiters
  std::uint32_t end;
};

std::uint32_t off(std::size_t v) {
  return static_cast<std::uint32_t>(v);
}

bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_special(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case ':':
    case ';':
    case '@':
    case ',':
    case '.':
    case '"':
      return true;
    default:
      return false;
  }
}

bool is_word(const Token& t) {
  return t.kind == Kind::kAtom || t.kind == Kind::kQuoted;
}
bool is_special(const Token& t, char c) {
  return t.kind == Kind::kSpecial && t.ch == c;
}

class AddressParser {
 public:
  AddressParser(std::string_view s, const Report& report)
      : s_(s.substr(0, kMaxInput)), report_(report) {
    if (s.size() > kMaxInput) bad("address list too long");
  }

  std::vector<Address> run() {
    bool angle_done = false;  // this element already had a complete <...>
    while (true) {
      Token t;
      if (!next(t)) break;
      if (t.kind != Kind::kSpecial) {
        push(t);
        continue;
      }
      switch (t.ch) {
        case ',':
          // Inside "<@a,@b:x@y>" the comma belongs to the route.
          if (in_angle_ && route_) {
            push(t);
            break;
          }
          if (in_angle_) bad("unterminated '<'");
          in_angle_ = angle_done = false;
          finish_element();
          break;
        case ';':
          if (in_angle_) bad("unterminated '<'");
          in_angle_ = angle_done = false;
          finish_element();
          if (in_group_) {
            in_group_ = false;
            group_.clear();
          } else {
            bad("';' outside a group");
          }
          break;
        case ':':
          if (in_angle_) {
            push(t);  // end of a route
          } else if (!in_group_ && !elem_has_at_ && !angle_done) {
            group_ = display_text(0, elem_.size());
            in_group_ = true;
            clear_element();
          } else {
            bad("unexpected ':'");
          }
          break;
        case '<':
          if (in_angle_) {
            bad("'<' inside <...>");
            break;
          }
          if (angle_done) {
            bad("missing ',' between addresses");
            finish_element();
            angle_done = false;
          }
          push(t);
          in_angle_ = angle_fresh_ = true;
          route_ = false;
          break;
        case '>':
          if (!in_angle_) {
            bad("stray '>'");
            break;
          }
          in_angle_ = false;
          angle_done = true;
          push(t);
          break;
        default:
          push(t);
          break;
      }
    }
    if (in_angle_) bad("unterminated '<'");
    finish_element();
    if (in_group_) bad("group without ';'");
    return std::move(out_);
  }

 private:
  // A detail for the first few problems only: a million stray ')' are one finding.
  void bad(std::string_view why) {
    constexpr int kMaxDetails = 8;
    if (bad_count_ >= kMaxDetails) return;
    ++bad_count_;
    report_.add("MIME_ADDRESS_BAD", why);
  }

  void push(const Token& t) {
    if (is_special(t, '@')) elem_has_at_ = true;
    if (in_angle_ && t.kind != Kind::kComment) {
      // "<@a,@b:x@y>": an '@' first opens the obsolete route, ':' ends it.
      if (angle_fresh_) route_ = is_special(t, '@');
      if (is_special(t, ':')) route_ = false;
      angle_fresh_ = false;
    }
    if (elem_.size() < kMaxElementTokens) {
      elem_.push_back(t);
    } else if (!too_long_) {
      bad("address too long");
      too_long_ = true;
    }
  }

  // --- lexer ---------------------------------------------------------------------------

  bool next(Token& t) {
    bool space = false;
    for (;;) {
      while (pos_ < s_.size() && is_wsp(s_[pos_])) {
        ++pos_;
        space = true;
      }
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] != ')' && s_[pos_] != ']') break;
      bad(s_[pos_] == ')' ? "stray ')'" : "stray ']'");
      ++pos_;
      space = true;
    }
    t.space_before = space;
    const char c = s_[pos_];
    if (c == '(') return comment(t);
    if ((c == '"' || c == '[') && !opener_is_text(c)) {
      if (delimited(t, c == '"' ? Kind::kQuoted : Kind::kLiteral, c == '"' ? '"' : ']'))
        return true;
      // Unterminated: the opener is read as text (then "\"Name <a@b>" still yields a@b).
      bad(c == '"' ? "unterminated quoted string" : "unterminated domain literal");
      (c == '"' ? quote_is_text_ : bracket_is_text_) = true;
    } else if (is_special(c) && !opener_is_text(c)) {
      t.kind = Kind::kSpecial;
      t.ch = c;
      t.begin = off(pos_);
      t.end = off(++pos_);
      return true;
    }
    t.kind = Kind::kAtom;
    t.ch = 0;
    t.begin = off(pos_++);
    while (pos_ < s_.size() && !is_wsp(s_[pos_]) &&
           (!is_special(s_[pos_]) || opener_is_text(s_[pos_])))
      ++pos_;
    t.end = off(pos_);
    return true;
  }

  // After one unterminated quote (or '['), later ones are text: no closer can follow,
  // and scanning to the end again for each would be quadratic.
  bool opener_is_text(char c) const {
    return (c == '"' && quote_is_text_) || (c == '[' && bracket_is_text_);
  }

  // A comment, nested comments counted; unterminated runs to the end.
  bool comment(Token& t) {
    t.kind = Kind::kComment;
    t.ch = 0;
    t.begin = off(pos_ + 1);
    std::size_t depth = 0;
    for (; pos_ < s_.size(); ++pos_) {
      const char c = s_[pos_];
      if (c == '\\') {
        ++pos_;
      } else if (c == '(') {
        if (++depth == kMaxCommentDepth + 1) bad("comments nested too deep");
      } else if (c == ')' && --depth == 0) {
        break;
      }
    }
    if (pos_ >= s_.size()) {
      bad("unterminated comment");
      pos_ = s_.size();
      t.end = off(pos_);
      return true;
    }
    t.end = off(pos_++);
    return true;
  }

  // A quoted string or domain literal at pos_; false (pos_ unchanged) when unterminated.
  bool delimited(Token& t, Kind kind, char close) {
    std::size_t i = pos_ + 1;
    for (; i < s_.size(); ++i) {
      if (s_[i] == '\\') {
        ++i;
      } else if (s_[i] == close) {
        break;
      }
    }
    if (i >= s_.size()) return false;
    t.kind = kind;
    t.ch = 0;
    t.begin = off(pos_ + 1);
    t.end = off(i);
    pos_ = i + 1;
    return true;
  }

  // The text of a token: escapes removed from quoted strings and comments.
  std::string text(const Token& t) const {
    const std::string_view raw = s_.substr(t.begin, t.end - t.begin);
    switch (t.kind) {
      case Kind::kAtom:
        return std::string(raw);
      case Kind::kSpecial:
        return std::string(1, t.ch);
      case Kind::kLiteral:
        return "[" + std::string(raw) + "]";
      case Kind::kQuoted:
      case Kind::kComment:
        break;
    }
    std::string r;
    r.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
      r += raw[i];
    }
    return r;
  }

  // --- elements --------------------------------------------------------------------------

  // A phrase (display name or group name): words joined by single spaces where the input
  // had whitespace, comments dropped, encoded-words decoded.
  std::string display_text(std::size_t from, std::size_t to) {
    std::string r;
    bool sep = false;
    for (std::size_t i = from; i < to; ++i) {
      const Token& t = elem_[i];
      if (t.kind == Kind::kComment) {
        sep = true;
        continue;
      }
      if (t.kind == Kind::kSpecial && t.ch != '.') bad("unquoted special in display name");
      if (t.kind == Kind::kLiteral) bad("'[' in display name");
      if ((t.space_before || sep) && !r.empty()) r += ' ';
      sep = false;
      r += text(t);
    }
    return decode_encoded_words(r, report_);
  }

  std::string first_comment(std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i)
      if (elem_[i].kind == Kind::kComment) return decode_encoded_words(text(elem_[i]), report_);
    return {};
  }

  bool only_comments(std::size_t from, std::size_t to) const {
    for (std::size_t i = from; i < to; ++i)
      if (elem_[i].kind != Kind::kComment) return false;
    return true;
  }

  // Header text that is not UTF-8 is read as windows-1252 (and reported).
  std::string utf8(std::string s) {
    if (is_valid_utf8(s)) return s;
    report_.add("MIME_HEADER_8BIT", "address " + escape_for_display(s.substr(0, 64)));
    std::string out;
    charset_to_utf8(s, "windows-1252", out);
    return out;
  }

  // Index of the first token of the local part that ends just before the '@' at `at`:
  // words linked by '.', '@' or no whitespace (obs-local-part allows CFWS around dots).
  std::size_t local_start(std::size_t from, std::size_t at) const {
    std::size_t k = at;
    std::size_t last = at;  // last non-comment token taken
    while (k > from) {
      const Token& t = elem_[k - 1];
      if (t.kind == Kind::kComment) {
        --k;
        continue;
      }
      if (last == at) {  // the token right before '@'
        if (!is_word(t) && !is_special(t, '.')) break;
      } else {
        const Token& after = elem_[last];
        const bool linked = is_special(t, '.') || is_special(t, '@') || is_special(after, '.') ||
                            is_special(after, '@') || !after.space_before;
        if (!linked || !(is_word(t) || is_special(t, '.') || is_special(t, '@'))) break;
      }
      last = k - 1;
      --k;
    }
    return last;
  }

  // Reads "local@domain" from elem_[from, to): the last '@' separates them. Returns the
  // index just past what it used.
  std::size_t addr_spec(std::size_t from, std::size_t to, bool in_angle, Address& a) {
    std::size_t at = to;
    std::size_t ats = 0;
    for (std::size_t i = from; i < to; ++i) {
      if (is_special(elem_[i], '@')) {
        at = i;
        ++ats;
      }
    }
    if (at == to) {
      // No '@': a bare local part ("root", "undisclosed-recipients").
      std::string local;
      for (std::size_t i = from; i < to; ++i) {
        const Token& t = elem_[i];
        if (t.kind == Kind::kComment) continue;
        if (t.space_before && !local.empty()) local += ' ';
        local += text(t);
      }
      a.local_part = utf8(local);
      bad("address without '@'");
      return to;
    }
    if (ats > 1) bad("more than one '@' in an address");
    const std::size_t ls = in_angle ? from : local_start(from, at);
    std::string local;
    bool prev_word = false;
    for (std::size_t i = ls; i < at; ++i) {
      const Token& t = elem_[i];
      if (t.kind == Kind::kComment) continue;
      if (is_word(t) && prev_word && t.space_before) {
        bad("whitespace inside a local part");
        local += ' ';
      }
      prev_word = is_word(t);
      local += text(t);
    }
    if (local.empty()) bad("empty local part");
    a.local_part = utf8(local);

    // Domain: word *("." word), or a literal; CFWS allowed around the dots.
    std::string domain;
    std::size_t i = at + 1;
    bool want_word = true;
    for (; i < to; ++i) {
      const Token& t = elem_[i];
      if (t.kind == Kind::kComment) continue;
      if (want_word &&
          (t.kind == Kind::kAtom || t.kind == Kind::kLiteral || t.kind == Kind::kQuoted)) {
        if (t.kind == Kind::kQuoted) bad("quoted domain");
        domain += text(t);
        want_word = false;
        if (t.kind == Kind::kLiteral) {
          ++i;
          break;
        }
      } else if (!want_word && is_special(t, '.')) {
        domain += '.';
        want_word = true;
      } else {
        break;
      }
    }
    if (domain.empty()) bad("empty domain");
    for (char& c : domain)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    a.domain = utf8(domain);
    return i;
  }

  void clear_element() {
    elem_.clear();
    elem_has_at_ = too_long_ = false;
  }

  void finish_element() {
    if (elem_.empty()) return;
    const std::size_t n = elem_.size();
    Address a;
    a.group = group_;
    std::size_t open = n;
    for (std::size_t i = 0; i < n; ++i) {
      if (is_special(elem_[i], '<')) {
        open = i;
        break;
      }
    }
    if (open < n) {
      std::size_t close = n;
      for (std::size_t i = open + 1; i < n; ++i) {
        if (is_special(elem_[i], '>')) {
          close = i;
          break;
        }
      }
      a.display_name = display_text(0, open);
      // Obsolete route "@a,@b:" before the address: dropped.
      std::size_t from = open + 1;
      while (from < close && elem_[from].kind == Kind::kComment) ++from;
      if (from < close && is_special(elem_[from], '@')) {
        std::size_t colon = from;
        while (colon < close && !is_special(elem_[colon], ':')) ++colon;
        if (colon < close)
          from = colon + 1;
        else
          bad("route without ':'");
      }
      if (only_comments(from, close)) {
        bad("empty <>");
      } else {
        const std::size_t used = addr_spec(from, close, true, a);
        if (!only_comments(used, close)) bad("junk inside <...>");
      }
      if (close + 1 < n && !only_comments(close + 1, n)) bad("text after '>'");
      if (a.display_name.empty()) a.display_name = first_comment(close + 1 < n ? close + 1 : n, n);
      if (a.display_name.empty()) a.display_name = first_comment(0, open);
    } else if (only_comments(0, n)) {
      bad("comment without an address");
      clear_element();
      return;
    } else {
      std::size_t at = n;
      for (std::size_t i = 0; i < n; ++i)
        if (is_special(elem_[i], '@')) at = i;
      std::size_t from = 0;
      if (at < n) {
        from = local_start(0, at);
        // Words before the address: a display name without the angle brackets.
        if (!only_comments(0, from)) {
          bad("display name without <...>");
          a.display_name = display_text(0, from);
        }
      } else {
        // No '@': the last word is the mailbox, earlier words a display name.
        std::size_t last = n;
        while (last > 0 && !is_word(elem_[last - 1])) --last;
        from = last > 0 ? last - 1 : 0;
        if (!only_comments(0, from)) a.display_name = display_text(0, from);
      }
      const std::size_t used = addr_spec(from, n, false, a);
      if (!only_comments(used, n)) bad("text after the address");
      if (a.display_name.empty()) a.display_name = first_comment(0, n);
    }
    clear_element();
    if (a.local_part.empty() && a.domain.empty() && a.display_name.empty()) return;
    if (out_.size() >= kMaxAddresses) {
      if (!too_many_) bad("too many addresses");
      too_many_ = true;
      return;
    }
    out_.push_back(std::move(a));
  }

  std::string_view s_;
  const Report& report_;
  std::size_t pos_ = 0;
  std::vector<Token> elem_;
  std::vector<Address> out_;
  std::string group_;
  bool in_group_ = false;
  bool too_many_ = false;
  bool in_angle_ = false;     // between '<' and '>'
  bool angle_fresh_ = false;  // nothing but comments since '<'
  bool route_ = false;        // inside an obsolete route "@a,@b:"
  bool elem_has_at_ = false;
  bool too_long_ = false;
  bool quote_is_text_ = false;
  bool bracket_is_text_ = false;
  int bad_count_ = 0;
};

}  // namespace

std::vector<Address> parse_address_list(std::string_view unfolded, const Report& report) {
  return AddressParser(unfolded, report).run();
}

}  // namespace bulwark::mime
