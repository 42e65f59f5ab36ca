// RFC 2047 encoded-words in unstructured header text, decoded the way Thunderbird does:
// words are found wherever "=?" starts one (glued to text or not), the encoded text runs to
// the first "?=" (spaces inside tolerated), adjacent words of one charset are joined as
// bytes before conversion, and raw 8-bit text that is not UTF-8 is read as windows-1252.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/escape.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/header_value.h"

namespace bulwark::mime {

namespace {

constexpr std::size_t kMaxOutput = 1u << 20;
constexpr std::size_t kMaxCharsetBytes = 64;
constexpr std::size_t kNpos = std::string_view::npos;

bool is_lwsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool all_lwsp(std::string_view s) {
  for (const char c : s)
    if (!is_lwsp(c)) return false;
  return true;
}

// RFC 2047 especials, and what can never be part of a charset name.
bool bad_charset_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= ' ' || u >= 0x7f) return true;
  return std::string_view("()<>@,;:\"/[]?.=").find(c) != kNpos;
}

// Finds the next position >= from matching a predicate. Repeated queries with growing
// `from` reuse the last answer, so all searches over one input cost O(n) together (a
// hostile value with thousands of unterminated words cannot make us quadratic).
template <typename Match>
class ForwardFinder {
 public:
  ForwardFinder(std::string_view s, Match m) : s_(s), match_(m) {}
  std::size_t find(std::size_t from) {
    if (valid_ && from >= query_ && (result_ == kNpos || from <= result_)) return result_;
    query_ = from;
    valid_ = true;
    result_ = kNpos;
    for (std::size_t i = from; i < s_.size(); ++i) {
      if (match_(s_, i)) {
        result_ = i;
        break;
      }
    }
    return result_;
  }

 private:
  std::string_view s_;
  Match match_;
  bool valid_ = false;
  std::size_t query_ = 0;
  std::size_t result_ = kNpos;
};

bool stateful(std::string_view cs) {
  return cs.rfind("iso-2022", 0) == 0 || cs.rfind("hz-gb", 0) == 0 || cs.rfind("utf-7", 0) == 0 ||
         cs == "csiso2022jp";
}

struct Word {
  std::string_view charset;  // without the RFC 2231 "*lang" suffix
  char encoding = 'Q';       // upper-case
  std::string_view text;
  std::size_t end = 0;  // just past "?="
  bool space_inside = false;
};

class Decoder {
 public:
  Decoder(std::string_view in, const Report& report)
      : in_(in),
        report_(report),
        close_(in,
               [](std::string_view s, std::size_t i) {
                 return s[i] == '?' && i + 1 < s.size() && s[i + 1] == '=';
               }),
        ctl_(in, [](std::string_view s, std::size_t i) {
          const auto u = static_cast<unsigned char>(s[i]);
          return u < 0x20 || u >= 0x80;
        }) {}

  std::string run() {
    std::size_t literal_from = 0;  // start of text not yet emitted
    std::size_t scan = 0;
    bool after_word = false;  // literal_from is just past an encoded-word
    while (!full_) {
      const std::size_t p = in_.find("=?", scan);
      if (p == kNpos) break;
      Word w;
      if (!parse_word(p, w)) {
        scan = p + 2;
        continue;
      }
      const std::string_view gap = in_.substr(literal_from, p - literal_from);
      // Whitespace between two encoded-words is not displayed (RFC 2047 section 6.2).
      if (!(after_word && all_lwsp(gap))) {
        flush();
        emit_literal(gap);
      }
      if ((p > 0 && !is_lwsp(in_[p - 1])) || (w.end < in_.size() && !is_lwsp(in_[w.end])))
        note("MIME_ENCODED_WORD_UNSEPARATED", [&] { return snippet(p, w.end); });
      if (w.space_inside)
        note("MIME_ENCODED_WORD_BAD", [&] { return "whitespace inside " + snippet(p, w.end); });
      add_word(w, p);
      literal_from = scan = w.end;
      after_word = true;
    }
    flush();
    if (!full_) emit_literal(in_.substr(literal_from));
    if (full_)
      note("MIME_LIMIT_HEADER_BYTES",
           [&] { return "decoded header value cut at " + std::to_string(kMaxOutput) + " bytes"; });
    return std::move(out_);
  }

 private:
  // Reports a symbol, with a detail for its first few occurrences only: a value repeating
  // one flaw a million times must not cost a string each time. The detail is built lazily.
  template <typename Detail>
  void note(std::string_view symbol, Detail&& detail) {
    constexpr int kMaxDetails = 4;
    for (auto& [name, count] : noted_) {
      if (name != symbol) continue;
      if (count >= kMaxDetails) return;
      ++count;
      report_.add(symbol, detail());
      return;
    }
    noted_.emplace_back(symbol, 1);
    report_.add(symbol, detail());
  }

  std::string snippet(std::size_t from, std::size_t to) const {
    constexpr std::size_t kMax = 80;
    std::string_view s = in_.substr(from, to > from ? to - from : 0);
    std::string r = "'" + escape_for_display(s.substr(0, kMax));
    if (s.size() > kMax) r += "...";
    return r + "'";
  }

  // Parses "=?charset?X?text?=" at p. False when it is not an encoded-word (then the bytes
  // stay literal); a string that clearly tried to be one is reported.
  bool parse_word(std::size_t p, Word& w) {
    std::size_t i = p + 2;
    const std::size_t cs_begin = i;
    std::size_t cs_end = kNpos;  // where "*lang" starts
    while (i < in_.size() && in_[i] != '?') {
      if (bad_charset_char(in_[i]) || i - cs_begin >= kMaxCharsetBytes) return false;
      if (in_[i] == '*' && cs_end == kNpos) cs_end = i;
      ++i;
    }
    if (i + 2 >= in_.size() || in_[i + 2] != '?') return false;
    if (cs_end == kNpos) cs_end = i;
    const char enc = in_[i + 1];
    if (cs_end == cs_begin) return false;  // "=??" is more often text than a broken word
    if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') {
      note("MIME_ENCODED_WORD_BAD", [&] { return "unknown encoding in " + snippet(p, i + 3); });
      return false;
    }
    const std::size_t text_begin = i + 3;
    const std::size_t close = close_.find(text_begin);
    if (close == kNpos) {
      note("MIME_ENCODED_WORD_BAD", [&] { return "unterminated " + snippet(p, in_.size()); });
      return false;
    }
    const std::size_t ctl = ctl_.find(text_begin);
    if (ctl != kNpos && ctl < close) {
      note("MIME_ENCODED_WORD_BAD",
           [&] { return "control or 8-bit byte inside " + snippet(p, close + 2); });
      return false;
    }
    w.charset = in_.substr(cs_begin, cs_end - cs_begin);
    w.encoding = (enc == 'b' || enc == 'B') ? 'B' : 'Q';
    w.text = in_.substr(text_begin, close - text_begin);
    w.end = close + 2;
    w.space_inside = w.text.find(' ') != kNpos;
    if (w.text.empty()) note("MIME_ENCODED_WORD_BAD", [&] { return "empty " + snippet(p, w.end); });
    return true;
  }

  void add_word(const Word& w, std::size_t p) {
    std::string cs(w.charset);
    for (char& c : cs)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    // Stateful 7-bit charsets (ISO-2022-*, HZ, UTF-7) end every word in ASCII state;
    // joined, the escape sequences would collide, so each word converts alone.
    if (cs != charset_ || stateful(cs)) flush();
    charset_ = std::move(cs);
    if (w.encoding == 'Q') {
      decode_pending_base64();
      DecodeStats st;
      decode_q(w.text, bytes_, st);
      if (st.broken_escapes)
        note("MIME_ENCODED_WORD_BAD", [&] { return "bad escape in " + snippet(p, w.end); });
      return;
    }
    // B: a word whose base64 stops mid-quantum continues in the next word of the same
    // charset (Thunderbird joins the encoded text until one ends with padding).
    std::size_t alphabet = 0;
    for (const char c : w.text)
      if (c != ' ' && c != '=') ++alphabet;
    const bool padded = !w.text.empty() && w.text.back() == '=';
    if (!padded && alphabet % 4 != 0)
      note("MIME_ENCODED_WORD_BAD",
           [&] { return "base64 length not a multiple of 4 in " + snippet(p, w.end); });
    b64_.append(w.text);
    b64_from_ = p;
    b64_to_ = w.end;
    if (padded) decode_pending_base64();
  }

  void decode_pending_base64() {
    if (b64_.empty()) return;
    DecodeStats st;
    decode_base64(b64_, Base64Mode::kContinue, b64_.size(), bytes_, st);
    if (st.junk_bytes > 0 || st.padding_in_middle)
      note("MIME_ENCODED_WORD_BAD", [&] { return "bad base64 in " + snippet(b64_from_, b64_to_); });
    b64_.clear();
  }

  // Converts the bytes of the pending run of same-charset words.
  void flush() {
    decode_pending_base64();
    if (charset_.empty()) return;
    std::string utf8;
    if (!charset_to_utf8(bytes_, charset_, utf8))
      note("MIME_CHARSET_UNKNOWN",
           [&] { return "'" + escape_for_display(charset_) + "' in encoded-word"; });
    append(utf8);
    bytes_.clear();
    charset_.clear();
  }

  void emit_literal(std::string_view s) {
    if (s.empty()) return;
    if (is_valid_utf8(s)) {
      append(s);
      return;
    }
    note("MIME_HEADER_8BIT", [&] {
      return snippet(static_cast<std::size_t>(s.data() - in_.data()),
                     static_cast<std::size_t>(s.data() - in_.data()) + s.size());
    });
    std::string utf8;
    charset_to_utf8(s, "windows-1252", utf8);
    append(utf8);
  }

  // Appends valid UTF-8, cutting at a character boundary at the output bound.
  void append(std::string_view s) {
    if (full_) return;
    if (out_.size() + s.size() <= kMaxOutput) {
      out_.append(s);
      return;
    }
    std::size_t n = kMaxOutput - out_.size();
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    out_.append(s.substr(0, n));
    full_ = true;
  }

  using Match = bool (*)(std::string_view, std::size_t);
  std::string_view in_;
  const Report& report_;
  ForwardFinder<Match> close_;
  ForwardFinder<Match> ctl_;
  std::string out_;
  std::string charset_;       // lower-case charset of the pending words; empty: none pending
  std::string bytes_;         // their decoded bytes
  std::string b64_;           // base64 text not yet decoded (word split mid-quantum)
  std::size_t b64_from_ = 0;  // the last base64 word, for the report
  std::size_t b64_to_ = 0;
  bool full_ = false;
  std::vector<std::pair<std::string_view, int>> noted_;
};

}  // namespace

std::string decode_encoded_words(std::string_view value, const Report& report) {
  // Fast path: nothing to decode.
  if (value.size() <= kMaxOutput && value.find("=?") == kNpos && is_valid_utf8(value))
    return std::string(value);
  return Decoder(value, report).run();
}

}  // namespace bulwark::mime
