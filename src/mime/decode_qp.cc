// Quoted-printable (RFC 2045 6.7) and RFC 2047 "Q" decoders.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

constexpr std::size_t kMaxLine = 76;  // RFC 2045 6.7 rule 5

// Hex digit value, or -1.
constexpr std::array<std::int8_t, 256> make_hex() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 10; ++i) t[static_cast<std::size_t>('0' + i)] = static_cast<std::int8_t>(i);
  for (int i = 0; i < 6; ++i) {
    t[static_cast<std::size_t>('A' + i)] = static_cast<std::int8_t>(10 + i);
    t[static_cast<std::size_t>('a' + i)] = static_cast<std::int8_t>(10 + i);
  }
  return t;
}
constexpr std::array<std::int8_t, 256> kHex = make_hex();

int hex(char c) {
  return kHex[static_cast<unsigned char>(c)];
}
bool is_lower_hex(char c) {
  return c >= 'a' && c <= 'f';
}

// Decodes "=XX" at s[0..2] into *byte; false when s does not hold a valid escape.
bool escape(const char* s, const char* end, char* byte, DecodeStats& stats) {
  if (end - s < 3) return false;
  const int hi = hex(s[1]);
  const int lo = hex(s[2]);
  if (hi < 0 || lo < 0) return false;
  if (is_lower_hex(s[1]) || is_lower_hex(s[2])) stats.lowercase_hex = true;
  *byte = static_cast<char>((hi << 4) | lo);
  return true;
}

// Appends to `out` up to `room` bytes in total; remembers when something did not fit.
class Sink {
 public:
  Sink(std::string& out, std::size_t room, DecodeStats& stats)
      : out_(out), room_(room), stats_(stats) {}

  bool put(const char* s, std::size_t n) {
    if (n > room_) {
      out_.append(s, room_);
      room_ = 0;
      stats_.truncated = true;
      return false;
    }
    out_.append(s, n);
    room_ -= n;
    return true;
  }
  bool put(char c) { return put(&c, 1); }

 private:
  std::string& out_;
  std::size_t room_;
  DecodeStats& stats_;
};

// Decodes the escapes of one line's content (line break and soft break already removed).
bool decode_segment(const char* p, const char* end, Sink& sink, DecodeStats& stats) {
  while (p < end) {
    const auto* eq =
        static_cast<const char*>(std::memchr(p, '=', static_cast<std::size_t>(end - p)));
    if (eq == nullptr) return sink.put(p, static_cast<std::size_t>(end - p));
    if (!sink.put(p, static_cast<std::size_t>(eq - p))) return false;
    char byte;
    if (escape(eq, end, &byte, stats)) {
      if (!sink.put(byte)) return false;
      p = eq + 3;
    } else {
      // Clients show a broken escape as it is; so do we, and say so. The byte after the
      // '=' is kept with it (RFC 2045 6.7 note 2), so "==3D" stays "==3D" as GMime
      // and Thunderbird show it, instead of turning its tail into an escape.
      stats.broken_escapes = true;
      const std::size_t keep = eq + 1 < end ? 2 : 1;
      if (!sink.put(eq, keep)) return false;
      p = eq + keep;
    }
  }
  return true;
}

}  // namespace

void decode_qp(std::string_view in, std::size_t max_out, std::string& out, DecodeStats& stats) {
  // Output never exceeds input, so one reservation suffices.
  out.reserve(out.size() + std::min(max_out, in.size()));
  Sink sink(out, max_out, stats);
  const char* const begin = in.data();
  const char* const end = begin + in.size();
  const char* p = begin;
  while (p < end) {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const bool has_nl = nl != nullptr;
    const char* content_end = has_nl ? nl : end;
    const bool crlf = has_nl && content_end > p && content_end[-1] == '\r';
    if (crlf) --content_end;
    if (static_cast<std::size_t>(content_end - p) > kMaxLine) stats.long_lines = true;

    // Rule 3: trailing white space was added in transport; a '=' before it is still soft.
    const char* e = content_end;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t')) --e;
    // A '=' at the very end of the input has no line break to join: it stays literal.
    const bool soft = has_nl && e > p && e[-1] == '=';
    if (soft) --e;

    if (!decode_segment(p, e, sink, stats)) return;
    if (has_nl && !soft) {
      if (!(crlf ? sink.put("\r\n", 2) : sink.put('\n'))) return;
    }
    p = has_nl ? nl + 1 : end;
  }
}

void decode_q(std::string_view in, std::string& out, DecodeStats& stats) {
  out.reserve(out.size() + in.size());
  const char* p = in.data();
  const char* const end = p + in.size();
  while (p < end) {
    const char c = *p;
    if (c == '_') {
      out.push_back(' ');
      ++p;
    } else if (c == '=') {
      char byte;
      if (escape(p, end, &byte, stats)) {
        out.push_back(byte);
        p += 3;
      } else {
        stats.broken_escapes = true;
        out.push_back('=');
        ++p;
      }
    } else {
      out.push_back(c);
      ++p;
    }
  }
}

}  // namespace bulwark::mime
