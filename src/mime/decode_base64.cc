// Base64 body decoder (RFC 2045 6.8), lenient like mail clients, strict in its stats.
#include <algorithm>
#include <array>
#include <cstdint>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

// Classes of a byte; values below 64 are the 6-bit alphabet value.
constexpr std::uint8_t kSpace = 64;  // CR, LF, SP, HT: skipped silently
constexpr std::uint8_t kPad = 65;    // '='
constexpr std::uint8_t kJunk = 66;   // anything else: skipped and counted

// The fast path ORs four pre-shifted lookups; a non-alphabet byte sets the top bit, so a
// single test per quantum tells whether all four bytes were alphabet.
constexpr std::uint32_t kBad = 0x80000000u;

struct Tables {
  std::array<std::uint8_t, 256> cls{};
  std::array<std::uint32_t, 256> s18{}, s12{}, s6{}, s0{};
};

constexpr Tables make_tables() {
  Tables t;
  for (std::size_t c = 0; c < 256; ++c) {
    t.cls[c] = kJunk;
    t.s18[c] = t.s12[c] = t.s6[c] = t.s0[c] = kBad;
  }
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t v = 0; v < kAlphabet.size(); ++v) {
    const auto c = static_cast<unsigned char>(kAlphabet[v]);
    t.cls[c] = static_cast<std::uint8_t>(v);
    t.s18[c] = static_cast<std::uint32_t>(v) << 18;
    t.s12[c] = static_cast<std::uint32_t>(v) << 12;
    t.s6[c] = static_cast<std::uint32_t>(v) << 6;
    t.s0[c] = static_cast<std::uint32_t>(v);
  }
  for (unsigned char c : {'\r', '\n', ' ', '\t'}) t.cls[c] = kSpace;
  t.cls[static_cast<unsigned char>('=')] = kPad;
  return t;
}

constexpr Tables kTables = make_tables();

constexpr std::size_t kMaxLine = 76;  // RFC 2045 6.8

}  // namespace

void decode_base64(std::string_view in, Base64Mode mode, std::size_t max_out, std::string& out,
                   DecodeStats& stats) {
  // Every 4 input bytes yield at most 3 output bytes (a padded short quantum yields fewer),
  // so this bound is exact enough to size the buffer once and write through a pointer.
  const std::size_t cap = std::min(max_out, in.size() / 4 * 3 + 3);
  const std::size_t base = out.size();
  out.resize(base + cap);
  auto* const o_begin = reinterpret_cast<unsigned char*>(out.data() + base);
  unsigned char* o = o_begin;
  unsigned char* const o_end = o_begin + cap;

  const auto* const p_begin = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char* const p_end = p_begin + in.size();
  const unsigned char* p = p_begin;
  const unsigned char* line_start = p_begin;

  std::uint8_t q[4] = {0, 0, 0, 0};  // the current quantum's 6-bit values
  int n = 0;                         // how many of q are filled
  bool in_pad = false;               // after '=' and before the next alphabet byte
  int pads_seen = 0;
  int pads_wanted = 0;
  bool cut = false;  // ran out of room (stats.truncated may be set from an earlier call)

  // Writes the first `k` bytes of the quantum in q; false (and truncated) when out of room.
  auto emit = [&](int k) {
    const unsigned char b[3] = {
        static_cast<unsigned char>((q[0] << 2) | (q[1] >> 4)),
        static_cast<unsigned char>(((q[1] & 0x0f) << 4) | (q[2] >> 2)),
        static_cast<unsigned char>(((q[2] & 0x03) << 6) | q[3]),
    };
    for (int j = 0; j < k; ++j) {
      if (o == o_end) {
        stats.truncated = cut = true;
        return false;
      }
      *o++ = b[j];
    }
    return true;
  };

  auto check_line = [&](const unsigned char* eol) {
    std::size_t len = static_cast<std::size_t>(eol - line_start);
    if (len > 0 && eol[-1] == '\r') --len;
    if (len > kMaxLine) stats.long_lines = true;
  };

  while (p < p_end) {
    if (n == 0 && !in_pad) {
      // Fast path: whole quanta of pure alphabet, no whitespace, no junk.
      std::size_t quanta = std::min(static_cast<std::size_t>(p_end - p) / 4,
                                    static_cast<std::size_t>(o_end - o) / 3);
      while (quanta > 0) {
        const std::uint32_t x =
            kTables.s18[p[0]] | kTables.s12[p[1]] | kTables.s6[p[2]] | kTables.s0[p[3]];
        if (x & kBad) break;
        o[0] = static_cast<unsigned char>(x >> 16);
        o[1] = static_cast<unsigned char>(x >> 8);
        o[2] = static_cast<unsigned char>(x);
        o += 3;
        p += 4;
        --quanta;
      }
      if (p == p_end) break;
    }

    const unsigned char c = *p;
    const std::uint8_t v = kTables.cls[c];
    if (v < 64) {
      if (in_pad) {
        // Alphabet after padding: concatenated base64, or an attempt to hide data from
        // decoders that stop at the first '='.
        stats.padding_in_middle = true;
        if (pads_seen < pads_wanted) stats.bad_padding = true;
        if (mode == Base64Mode::kStopAtPadding) break;
        in_pad = false;
      }
      q[n++] = v;
      if (n == 4) {
        if (!emit(3)) break;
        n = 0;
      }
    } else if (v == kSpace) {
      if (c == '\n') {
        check_line(p);
        line_start = p + 1;
      }
    } else if (v == kPad) {
      if (!in_pad) {
        // "xx==" and "xxx=" end a short quantum; '=' after 0 or 1 chars is never valid.
        if (n >= 2) {
          if (!emit(n - 1)) break;
          pads_wanted = 4 - n;
        } else {
          if (n == 1) stats.bad_padding = true;  // a lone 6-bit char carries no full byte
          pads_wanted = 0;
        }
        n = 0;
        in_pad = true;
        pads_seen = 0;
      }
      if (++pads_seen > pads_wanted) stats.bad_padding = true;
    } else {
      ++stats.junk_bytes;
    }
    ++p;
  }
  // Reached the end of input (not stopped at padding, not truncated): the last line and a
  // quantum left open by missing padding.
  if (p == p_end && !cut) {
    check_line(p_end);
    if (in_pad) {
      if (pads_seen < pads_wanted) stats.bad_padding = true;
    } else if (n == 1) {
      stats.bad_padding = true;
    } else if (n >= 2) {
      stats.bad_padding = true;
      emit(n - 1);
    }
  }
  out.resize(base + static_cast<std::size_t>(o - o_begin));
}

bool looks_like_base64(std::string_view in, std::size_t min_chars) {
  std::size_t chars = 0;
  std::size_t pads = 0;
  for (const char ch : in) {
    const std::uint8_t v = kTables.cls[static_cast<unsigned char>(ch)];
    if (v < 64) {
      if (pads > 0) return false;  // '=' only at the end
      ++chars;
    } else if (v == kPad) {
      if (++pads > 2) return false;
    } else if (v != kSpace) {
      return false;
    }
  }
  return chars >= min_chars;
}

}  // namespace bulwark::mime
