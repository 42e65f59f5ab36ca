// libFuzzer target: decode_gzip64. The input is used both as base64 text and, encoded
// here, as raw compressed bytes, so the fuzzer reaches zlib without learning base64.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mime/decode.h"

namespace {
using bulwark::mime::DecodeStats;
constexpr std::size_t kMaxOut = 1 << 20;

void check(bool ok) {
  if (!ok) std::abort();
}

std::string to_base64(std::string_view in) {
  static const char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = 0;
    const std::size_t n = in.size() - i < 3 ? in.size() - i : 3;
    for (std::size_t k = 0; k < 3; ++k)
      v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) s += k <= n ? kAlpha[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return s;
}

void run(std::string_view in) {
  std::string out;
  DecodeStats st;
  bulwark::mime::decode_gzip64(in, kMaxOut, out, st);
  check(out.size() <= kMaxOut);

  // Smaller caps give a prefix, and say truncated exactly when bytes were cut off.
  for (const std::size_t cap : {std::size_t{0}, in.size() % 61}) {
    std::string small;
    DecodeStats ss;
    bulwark::mime::decode_gzip64(in, cap, small, ss);
    check(small.size() <= cap && out.compare(0, small.size(), small) == 0);
    if (!st.truncated) check(ss.truncated == (out.size() > cap));
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  run(in);
  run(to_base64(in));
  return 0;
}
