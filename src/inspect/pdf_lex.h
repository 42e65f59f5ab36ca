// The PDF tokenizer shared by the PDF analyser (pdf.cc) and its text extraction
// (pdf_text.cc): names with #xx escapes decoded, literal and hex strings decoded (at most
// kMaxString bytes kept per token), numbers, keywords, dictionary and array brackets.
// Never fails: any byte sequence lexes to some tokens, each byte is read once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bulwark::inspect::pdf {

constexpr std::size_t kMaxString = 4096;  // decoded string bytes kept per token

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

inline bool is_delim(char c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
         c == '}' || c == '/' || c == '%';
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

enum class Tok {
  kName,
  kNumber,
  kString,
  kKeyword,
  kDictOpen,
  kDictClose,
  kArrayOpen,
  kArrayClose,
  kEnd
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;            // decoded name / string, keyword or number text
  std::string_view raw;        // as written (names)
  bool escaped_alnum = false;  // a name with #xx hiding a letter or digit
  std::size_t start = 0;       // offset of the token's first byte
  std::size_t end = 0;         // offset after the token
};

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  std::size_t pos() const { return pos_; }
  void seek(std::size_t p) { pos_ = p < in_.size() ? p : in_.size(); }

  Token next() {
    Token t;
    skip_space();
    t.start = pos_;
    if (pos_ >= in_.size()) {
      t.end = pos_;
      return t;
    }
    const char c = in_[pos_];
    if (c == '/') {
      name(t);
    } else if (c == '(') {
      literal(t);
    } else if (c == '<') {
      if (pos_ + 1 < in_.size() && in_[pos_ + 1] == '<') {
        t.kind = Tok::kDictOpen;
        pos_ += 2;
      } else {
        hexstring(t);
      }
    } else if (c == '>') {
      if (pos_ + 1 < in_.size() && in_[pos_ + 1] == '>') {
        t.kind = Tok::kDictClose;
        pos_ += 2;
      } else {
        t.kind = Tok::kKeyword;
        ++pos_;
      }
    } else if (c == '[') {
      t.kind = Tok::kArrayOpen;
      ++pos_;
    } else if (c == ']') {
      t.kind = Tok::kArrayClose;
      ++pos_;
    } else if (c == '{' || c == '}' || c == ')') {
      t.kind = Tok::kKeyword;
      ++pos_;
    } else {
      const std::size_t s = pos_;
      while (pos_ < in_.size() && !is_space(in_[pos_]) && !is_delim(in_[pos_])) ++pos_;
      t.text = std::string(in_.substr(s, std::min<std::size_t>(pos_ - s, 64)));
      bool numeric = !t.text.empty();
      for (char ch : t.text)
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+')) numeric = false;
      t.kind = numeric ? Tok::kNumber : Tok::kKeyword;
    }
    t.end = pos_;
    return t;
  }

 private:
  void skip_space() {
    while (pos_ < in_.size()) {
      if (is_space(in_[pos_])) {
        ++pos_;
      } else if (in_[pos_] == '%') {
        while (pos_ < in_.size() && in_[pos_] != '\n' && in_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  void name(Token& t) {
    t.kind = Tok::kName;
    const std::size_t s = pos_++;
    while (pos_ < in_.size() && !is_space(in_[pos_]) && !is_delim(in_[pos_])) {
      const char c = in_[pos_];
      if (c == '#' && pos_ + 2 < in_.size() && hex_value(in_[pos_ + 1]) >= 0 &&
          hex_value(in_[pos_ + 2]) >= 0) {
        const char d = static_cast<char>(hex_value(in_[pos_ + 1]) * 16 + hex_value(in_[pos_ + 2]));
        if (is_alnum(d)) t.escaped_alnum = true;
        if (t.text.size() < 256) t.text += d;
        pos_ += 3;
        continue;
      }
      if (t.text.size() < 256) t.text += c;
      ++pos_;
    }
    t.raw = in_.substr(s, std::min<std::size_t>(pos_ - s, 256));
  }

  void literal(Token& t) {
    t.kind = Tok::kString;
    ++pos_;
    std::size_t depth = 1;
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '\\') {
        if (pos_ >= in_.size()) break;
        const char e = in_[pos_++];
        char out = e;
        switch (e) {
          case 'n':
            out = '\n';
            break;
          case 'r':
            out = '\r';
            break;
          case 't':
            out = '\t';
            break;
          case 'b':
            out = '\b';
            break;
          case 'f':
            out = '\f';
            break;
          case '\r':
            if (pos_ < in_.size() && in_[pos_] == '\n') ++pos_;
            continue;
          case '\n':
            continue;
          default:
            if (e >= '0' && e <= '7') {
              unsigned v = static_cast<unsigned>(e - '0');
              for (int k = 0; k < 2 && pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '7';
                   ++k)
                v = v * 8 + static_cast<unsigned>(in_[pos_++] - '0');
              out = static_cast<char>(v & 0xFF);
            }
            break;
        }
        if (t.text.size() < kMaxString) t.text += out;
        continue;
      }
      if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) break;
      }
      if (t.text.size() < kMaxString) t.text += c;
    }
  }

  void hexstring(Token& t) {
    t.kind = Tok::kString;
    ++pos_;
    int hi = -1;
    while (pos_ < in_.size() && in_[pos_] != '>') {
      const int v = hex_value(in_[pos_++]);
      if (v < 0) continue;
      if (hi < 0) {
        hi = v;
      } else {
        if (t.text.size() < kMaxString) t.text += static_cast<char>(hi * 16 + v);
        hi = -1;
      }
    }
    if (hi >= 0 && t.text.size() < kMaxString) t.text += static_cast<char>(hi * 16);
    if (pos_ < in_.size()) ++pos_;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};


}  // namespace bulwark::inspect::pdf
