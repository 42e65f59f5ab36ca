// yEnc decoder (yEnc 1.3): "=ybegin", optional "=ypart", escaped data, "=yend".
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

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

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Value of `key` ("size=") among the space-separated tokens of `s`, if present.
std::optional<std::string_view> keyword(std::string_view s, std::string_view key) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t sp = s.find(' ', pos);
    const std::string_view tok = s.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
    if (tok.starts_with(key)) return tok.substr(key.size());
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return std::nullopt;
}

// Decimal number; saturates instead of overflowing. nullopt without digits.
std::optional<std::uint64_t> number(std::optional<std::string_view> s) {
  if (!s || s->empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : *s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// 1 to 8 hex digits; nullopt otherwise.
std::optional<std::uint32_t> hex32(std::string_view s) {
  if (s.empty() || s.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  for (const char c : s) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

}  // namespace

void decode_yenc(std::string_view in, std::size_t max_out, std::string& out, std::string& name,
                 DecodeStats& stats) {
  Lines lines(in);
  std::string_view line;
  bool begun = false;
  while (lines.next(line)) {
    if (line.starts_with("=ybegin ")) {
      begun = true;
      break;
    }
  }
  if (!begun) {
    stats.incomplete = true;
    return;
  }
  // "name=" is the last keyword and takes the rest of the line, spaces included.
  std::string_view head = line.substr(7);
  if (const std::size_t np = head.find(" name="); np != std::string_view::npos) {
    name = std::string(trim_right(head.substr(np + 6)));
    head = head.substr(0, np);
  }
  const auto total_size = number(keyword(head, "size="));

  // Each output byte consumes at least one input byte.
  const std::size_t cap = std::min(max_out, in.size());
  const std::size_t base = out.size();
  out.resize(base + cap);
  auto* const o_begin = reinterpret_cast<unsigned char*>(out.data() + base);
  unsigned char* o = o_begin;
  unsigned char* const o_end = o_begin + cap;

  bool have_part = false;
  std::optional<std::uint64_t> part_begin, part_end;
  std::string_view tail;  // the "=yend" line
  bool ended = false;
  bool first = true;
  while (lines.next(line)) {
    if (line.starts_with("=y")) {
      // '=' 'y' never occurs as data (encoders escape only critical bytes), so these are
      // control lines.
      if (line.starts_with("=yend")) {
        tail = line.substr(5);
        ended = true;
        break;
      }
      if (line.starts_with("=ybegin")) break;  // the next file: this one has no end
      if (first && line.starts_with("=ypart")) {
        have_part = true;
        part_begin = number(keyword(trim_right(line.substr(6)), "begin="));
        part_end = number(keyword(trim_right(line.substr(6)), "end="));
      }
      first = false;
      continue;
    }
    first = false;
    const auto* p = reinterpret_cast<const unsigned char*>(line.data());
    const unsigned char* const e = p + line.size();
    while (p < e) {
      unsigned char c = *p++;
      if (c == '\r') continue;  // a stray CR is line-break noise, never data
      if (c == '=') {
        if (p == e) {
          ++stats.junk_bytes;  // an escape with nothing to escape
          break;
        }
        c = static_cast<unsigned char>(*p++ - 64);
      }
      if (o == o_end) {
        stats.truncated = true;
        out.resize(base + static_cast<std::size_t>(o - o_begin));
        return;
      }
      *o++ = static_cast<unsigned char>(c - 42);
    }
  }
  const std::size_t got = static_cast<std::size_t>(o - o_begin);
  out.resize(base + got);
  if (!ended) {
    stats.incomplete = true;
    return;
  }

  tail = trim_right(tail);
  const auto end_size = number(keyword(tail, "size="));
  if (end_size && *end_size != got) stats.bad_length = true;
  if (!have_part && total_size && *total_size != got) stats.bad_length = true;

  const auto pcrc = keyword(tail, "pcrc32=");
  const auto crc = keyword(tail, "crc32=");
  // crc32 covers the whole file: it checks this part only when the part is the whole file.
  const bool whole = !have_part || (part_begin && part_end && total_size && *part_begin == 1 &&
                                    *part_end == *total_size);
  std::optional<std::string_view> want = pcrc ? pcrc : (whole ? crc : std::nullopt);
  if (want) {
    const auto expected = hex32(*want);
    const auto* data = reinterpret_cast<const Bytef*>(out.data() + base);
    const uLong actual = crc32_z(crc32_z(0L, Z_NULL, 0), data, got);
    if (!expected || *expected != static_cast<std::uint32_t>(actual)) stats.bad_checksum = true;
  }
}

}  // namespace bulwark::mime
