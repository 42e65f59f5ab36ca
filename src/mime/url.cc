// URLs in plain text, found the way mail clients auto-link them: a hand-written scanner,
// one pass, each byte looked at a bounded number of times.
//
// Every link prefix has one fixed byte: the ':' of "http:", "https:", "ftp:", "mailto:" and
// the '.' of "www.". Most text has neither after the right letter, so the scanner jumps
// between such anchors many bytes at a time and looks back for the prefix, instead of
// trying every position as a start.
#include "mime/url.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// A scheme must start a word: "xhttp://" and "hxxp://" are not links.
bool word_start(std::string_view s, std::size_t i) {
  if (i == 0) return true;
  const char p = s[i - 1];
  return !(is_alnum(p) || p == '+' || p == '-' || p == '.');
}

// "www." without a scheme; not inside a longer name, address or path.
bool www_start(std::string_view s, std::size_t i) {
  if (i == 0) return true;
  const char p = s[i - 1];
  return !(is_alnum(p) || p == '.' || p == '-' || p == '_' || p == '@' || p == '/' || p == ':' ||
           p == '\\' || static_cast<unsigned char>(p) >= 0x80);
}

// The fixed start of a link: where it begins, how long it is, and whether a host follows.
struct Prefix {
  std::size_t start = 0;
  std::size_t size = 0;
  bool need_host = true;
};

// The prefix whose anchor (':' or '.') is at `a`, if any. The prefixes share no letters with
// the anchors, so one anchor belongs to at most one prefix, and prefixes come in the order
// of their anchors.
bool prefix_at(std::string_view s, std::size_t a, Prefix& out) {
  if (s[a] == '.') {
    if (a < 3 || !istarts_with(s, a - 3, "www.")) return false;
    out = {a - 3, 4, true};
    return www_start(s, out.start);
  }
  if (a >= 6 && istarts_with(s, a - 6, "mailto:"))
    out = {a - 6, 7, false};
  else if (a >= 5 && istarts_with(s, a - 5, "https://"))
    out = {a - 5, 8, true};
  else if (a >= 4 && istarts_with(s, a - 4, "http://"))
    out = {a - 4, 7, true};
  else if (a >= 3 && istarts_with(s, a - 3, "ftp://"))
    out = {a - 3, 6, true};
  else
    return false;
  return word_start(s, out.start);
}

// ':' after p/s/o or '.' after w (either case): where a link prefix may end.
bool is_anchor(char c, char prev) {
  const char low = static_cast<char>(prev | 0x20);  // ASCII letters to lower case
  if (c == ':') return low == 'p' || low == 's' || low == 'o';
  return c == '.' && low == 'w';
}

// Offset of the first anchor at or after `from`, or s.size(). Sixteen bytes at a time where
// SSE2 is available (every x86-64).
std::size_t next_anchor(std::string_view s, std::size_t from) {
  const char* p = s.data();
  std::size_t i = std::max<std::size_t>(from, 3);  // an anchor has a prefix before it
#if defined(__SSE2__)
  const __m128i colon = _mm_set1_epi8(':');
  const __m128i dot = _mm_set1_epi8('.');
  const __m128i case_bit = _mm_set1_epi8(0x20);
  const __m128i lp = _mm_set1_epi8('p');
  const __m128i ls = _mm_set1_epi8('s');
  const __m128i lo = _mm_set1_epi8('o');
  const __m128i lw = _mm_set1_epi8('w');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i cur = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i prev = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i - 1));
    const __m128i low = _mm_or_si128(prev, case_bit);
    const __m128i scheme = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(low, lp), _mm_cmpeq_epi8(low, ls)), _mm_cmpeq_epi8(low, lo));
    const __m128i hit =
        _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(cur, colon), scheme),
                     _mm_and_si128(_mm_cmpeq_epi8(cur, dot), _mm_cmpeq_epi8(low, lw)));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<std::size_t>(std::countr_zero(mask));
  }
#endif
  for (; i < s.size(); ++i)
    if (is_anchor(p[i], p[i - 1])) return i;
  return s.size();
}

// End of the URL whose body starts at `i`. Plain ASCII is checked inline; ends_url only
// sees the bytes that may be delimiters.
std::size_t url_end(std::string_view s, std::size_t i) {
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c > 0x20 && c < 0x7F && c != '<' && c != '>' && c != '"') continue;
    if (ends_url(s, i)) break;
  }
  return i;
}

}  // namespace

std::vector<std::string> find_urls(std::string_view text, std::size_t max_urls) {
  std::vector<std::string> urls;
  std::size_t i = 0;     // no link starts before i (inside a prefix or URL already seen)
  std::size_t scan = 0;  // where to look for the next anchor
  while (urls.size() < max_urls) {
    const std::size_t a = next_anchor(text, scan);
    if (a >= text.size()) break;
    scan = a + 1;
    Prefix pre;
    if (!prefix_at(text, a, pre) || pre.start < i) continue;
    i = pre.start;
    const std::size_t prefix = pre.size;
    const std::size_t body = i + prefix;
    if (pre.need_host ? !host_start(text, body) : (body >= text.size() || ends_url(text, body))) {
      i = body;
      continue;
    }
    const std::size_t end = url_end(text, body);
    std::string_view url = text.substr(i, end - i);
    // In <...> the brackets delimit the URL (RFC 3986 appendix C): punctuation inside is
    // part of it. Elsewhere trailing sentence punctuation is not.
    const bool opened =
        (i > 0 && text[i - 1] == '<') || (i >= 5 && istarts_with(text, i - 5, "<url:"));
    const bool bracketed = opened && end < text.size() && text[end] == '>';
    if (!bracketed) url = trim_trailing(url);
    if (url.size() > prefix) urls.emplace_back(url);
    i = end;
    scan = std::max(scan, end);
  }
  return urls;
}

}  // namespace bulwark::mime
