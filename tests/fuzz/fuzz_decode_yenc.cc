// libFuzzer target: decode_yenc.
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
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out, name;
  DecodeStats st;
  bulwark::mime::decode_yenc(in, kMaxOut, out, name, st);
  check(out.size() <= kMaxOut && out.size() <= size && name.size() <= size);

  const std::size_t cap = size % 61;
  std::string small, small_name;
  DecodeStats ss;
  bulwark::mime::decode_yenc(in, cap, small, small_name, ss);
  check(small.size() <= cap && out.compare(0, small.size(), small) == 0);
  check(small_name == name);
  if (!st.truncated) check(ss.truncated == (out.size() > cap));
  // Size and CRC are only judged on a complete decode.
  if (ss.truncated) check(!ss.bad_checksum && !ss.bad_length);
  return 0;
}
