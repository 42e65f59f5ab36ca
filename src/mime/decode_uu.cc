// uuencode decoder: "begin MODE NAME", length-prefixed lines, "end".
#include <algorithm>
#include <cstring>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Iterates lines ending in LF or CRLF; the line excludes its terminator.
class Lines {
 public:
  explicit Lines(std::string_view s) : s_(s) {}
  bool next(std::string_view& line) {
    if (pos_ >= s_.size()) return false;
    const char* start = s_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', s_.size() - pos_));
    std::size_t len = nl ? static_cast<std::size_t>(nl - start) : s_.size() - pos_;
    pos_ += len + (nl ? 1 : 0);
    if (len > 0 && start[len - 1] == '\r') --len;
    line = std::string_view(start, len);
    return true;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// The 6-bit value of a uuencode character: ' ' and '`' are both zero.
unsigned uu(char c) {
  return (static_cast<unsigned char>(c) - 0x20u) & 0x3fu;
}
bool in_uu_range(char c) {
  return c >= 0x20 && c <= 0x60;
}

// Parses "begin MODE NAME"; false if the line is not a begin line.
bool parse_begin(std::string_view line, std::string& name) {
  if (!line.starts_with("begin")) return false;
  std::string_view rest = line.substr(5);
  if (!rest.empty() && !is_blank(rest.front())) return false;  // e.g. "begin-base64"
  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && rest.front() >= '0' && rest.front() <= '7') rest.remove_prefix(1);
  name = std::string(trim(rest));  // the name may contain spaces
  return true;
}

}  // namespace

void decode_uuencode(std::string_view in, std::size_t max_out, std::string& out, std::string& name,
                     DecodeStats& stats) {
  Lines lines(in);
  std::string_view line;
  bool begun = false;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;  // blank lines before "begin"
    begun = parse_begin(line, name);
    break;
  }
  if (!begun) {
    stats.incomplete = true;
    return;
  }

  // Every output byte costs at least one input byte, so this bounds the buffer.
  const std::size_t cap = std::min(max_out, in.size());
  const std::size_t base = out.size();
  out.resize(base + cap);
  char* const o_begin = out.data() + base;
  char* o = o_begin;
  char* const o_end = o_begin + cap;

  bool ended = false;
  while (lines.next(line)) {
    if (trim(line) == "end") {
      ended = true;
      break;
    }
    if (line.empty()) continue;
    const std::size_t n = uu(line[0]);
    const std::string_view data = line.substr(1);
    const std::size_t needed = (n + 2) / 3 * 4;
    // Some encoders append one checksum character; anything else disagrees with the length.
    if (data.size() < needed || data.size() > needed + 1) stats.bad_length = true;
    for (const char c : data)
      if (!in_uu_range(c)) ++stats.junk_bytes;
    const std::size_t bytes = std::min(n, data.size() * 3 / 4);
    std::size_t made = 0;
    for (std::size_t i = 0; made < bytes; i += 4) {
      auto at = [&](std::size_t k) { return i + k < data.size() ? uu(data[i + k]) : 0u; };
      const unsigned a = at(0), b = at(1), c = at(2), d = at(3);
      const char group[3] = {static_cast<char>((a << 2) | (b >> 4)),
                             static_cast<char>(((b & 0x0f) << 4) | (c >> 2)),
                             static_cast<char>(((c & 0x03) << 6) | d)};
      for (int k = 0; k < 3 && made < bytes; ++k, ++made) {
        if (o == o_end) {
          stats.truncated = true;
          out.resize(base + static_cast<std::size_t>(o - o_begin));
          return;
        }
        *o++ = group[k];
      }
    }
  }
  if (!ended) stats.incomplete = true;
  out.resize(base + static_cast<std::size_t>(o - o_begin));
}

}  // namespace bulwark::mime
