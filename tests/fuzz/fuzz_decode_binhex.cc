// libFuzzer target: decode_binhex.
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
  bulwark::mime::decode_binhex(in, kMaxOut, out, name, st);
  check(out.size() <= kMaxOut && name.size() <= 255);
  check(st.junk_bytes <= size);

  // Run-length coding can expand, so a small cap is the interesting case here.
  const std::size_t cap = size % 61;
  std::string small, small_name;
  DecodeStats ss;
  bulwark::mime::decode_binhex(in, cap, small, small_name, ss);
  check(small.size() <= cap && out.compare(0, small.size(), small) == 0);
  if (!st.truncated) check(ss.truncated == (out.size() > cap));
  return 0;
}
