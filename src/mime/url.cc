// URLs in plain text, found the way mail clients auto-link them: a hand-written scanner,
// one pass, each byte looked at a bounded number of times.
#include "mime/url.h"

#include <cstdint>

namespace bulwark::mime {
namespace {

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool istarts_with(std::string_view s, std::size_t at, std::string_view prefix) {
  if (s.size() - at < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(s[at + i]) != prefix[i]) return false;
  return true;
}

// Length of the UTF-8 space character at `i` (0 when there is none): U+00A0, U+2000..U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000. Clients end a link there as at an ASCII space.
std::size_t unicode_space(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const std::size_t left = s.size() - i;
  if (left >= 2 && b(0) == 0xC2 && b(1) == 0xA0) return 2;
  if (left >= 3 && b(0) == 0xE2 && b(1) == 0x80 &&
      (b(2) <= 0x8A || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF))
    return 3;
  if (left >= 3 && b(0) == 0xE2 && b(1) == 0x81 && b(2) == 0x9F) return 3;
  if (left >= 3 && b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}

// Bytes that end a URL: whitespace, controls, and the characters that delimit URLs in text.
bool ends_url(std::string_view s, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c <= 0x20 || c == 0x7F) return true;
  if (c == '<' || c == '>' || c == '"') return true;
  return c >= 0x80 && unicode_space(s, i) > 0;
}

// A character that may start a host name: ASCII letter or digit, or any non-ASCII byte
// (IDN hosts are kept as UTF-8).
bool host_start(std::string_view s, std::size_t i) {
  if (i >= s.size()) return false;
  const unsigned char c = static_cast<unsigned char>(s[i]);
  return is_alnum(s[i]) || (c >= 0x80 && unicode_space(s, i) == 0);
}

// Length of a trailing full-width sentence mark (U+3001 、 U+3002 。 U+FF0C ，) or 0.
std::size_t trailing_cjk_punct(std::string_view u) {
  if (u.size() < 3) return 0;
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(u[u.size() - 3 + k]); };
  if (b(0) == 0xE3 && b(1) == 0x80 && (b(2) == 0x81 || b(2) == 0x82)) return 3;
  if (b(0) == 0xEF && b(1) == 0xBC && b(2) == 0x8C) return 3;
  return 0;
}

// Removes sentence punctuation after a URL; a ')' or ']' stays when it closes one inside.
std::string_view trim_trailing(std::string_view u) {
  std::int64_t parens = 0;
  std::int64_t brackets = 0;
  for (char c : u) {
    parens += c == '(' ? 1 : c == ')' ? -1 : 0;
    brackets += c == '[' ? 1 : c == ']' ? -1 : 0;
  }
  while (!u.empty()) {
    const char c = u.back();
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' ||
        c == '*') {
      u.remove_suffix(1);
    } else if (c == ')' && parens < 0) {
      u.remove_suffix(1);
      ++parens;
    } else if (c == ']' && brackets < 0) {
      u.remove_suffix(1);
      ++brackets;
    } else if (const std::size_t n = trailing_cjk_punct(u); n > 0) {
      u.remove_suffix(n);
    } else {
      break;
    }
  }
  return u;
}

// What kind of link starts at `i`, and how long its fixed prefix is.
std::size_t match_prefix(std::string_view s, std::size_t i, bool& need_host) {
  // A scheme must start a word: "xhttp://" and "hxxp://" are not links.
  const bool word_start =
      i == 0 || !(is_alnum(s[i - 1]) || s[i - 1] == '+' || s[i - 1] == '-' || s[i - 1] == '.');
  need_host = true;
  switch (ascii_lower(s[i])) {
    case 'h':
      if (!word_start) return 0;
      if (istarts_with(s, i, "http://")) return 7;
      if (istarts_with(s, i, "https://")) return 8;
      return 0;
    case 'f':
      if (word_start && istarts_with(s, i, "ftp://")) return 6;
      return 0;
    case 'm':
      need_host = false;
      if (word_start && istarts_with(s, i, "mailto:")) return 7;
      return 0;
    case 'w': {
      // "www." without a scheme; not inside a longer name, address or path.
      if (i > 0) {
        const char p = s[i - 1];
        if (is_alnum(p) || p == '.' || p == '-' || p == '_' || p == '@' || p == '/' || p == ':' ||
            p == '\\' || static_cast<unsigned char>(p) >= 0x80)
          return 0;
      }
      if (istarts_with(s, i, "www.")) return 4;
      return 0;
    }
    default:
      return 0;
  }
}

}  // namespace

std::vector<std::string> find_urls(std::string_view text, std::size_t max_urls) {
  std::vector<std::string> urls;
  std::size_t i = 0;
  while (i < text.size() && urls.size() < max_urls) {
    bool need_host = true;
    const std::size_t prefix = match_prefix(text, i, need_host);
    if (prefix == 0) {
      ++i;
      continue;
    }
    const std::size_t body = i + prefix;
    if (need_host ? !host_start(text, body) : (body >= text.size() || ends_url(text, body))) {
      i = body;
      continue;
    }
    std::size_t end = body;
    while (end < text.size() && !ends_url(text, end)) ++end;
    std::string_view url = text.substr(i, end - i);
    // In <...> the brackets delimit the URL (RFC 3986 appendix C): punctuation inside is
    // part of it. Elsewhere trailing sentence punctuation is not.
    const bool opened =
        (i > 0 && text[i - 1] == '<') || (i >= 5 && istarts_with(text, i - 5, "<url:"));
    const bool bracketed = opened && end < text.size() && text[end] == '>';
    if (!bracketed) url = trim_trailing(url);
    if (url.size() > prefix) urls.emplace_back(url);
    i = end;
  }
  return urls;
}

}  // namespace bulwark::mime
