// libFuzzer target: decode_qp and decode_q.
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
  std::string out;
  DecodeStats st;
  bulwark::mime::decode_qp(in, kMaxOut, out, st);
  check(out.size() <= kMaxOut && out.size() <= size);
  // Without '=' the only changes are removed trailing white space.
  if (in.find('=') == std::string_view::npos) check(!st.broken_escapes && !st.lowercase_hex);

  const std::size_t cap = size % 61;
  std::string small;
  DecodeStats ss;
  bulwark::mime::decode_qp(in, cap, small, ss);
  check(small.size() <= cap && out.compare(0, small.size(), small) == 0);
  if (!st.truncated) check(ss.truncated == (out.size() > cap));

  std::string q;
  DecodeStats sq;
  bulwark::mime::decode_q(in, q, sq);
  check(q.size() <= size);
  return 0;
}
