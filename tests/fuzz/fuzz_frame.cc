// Fuzzes the supervisor's view of a hostile worker: any reply or request payload must
// decode or fail cleanly, and whatever decodes must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sandbox/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto r = bulwark::sandbox::decode_reply(in); r.ok()) {
    if (bulwark::sandbox::encode_reply(r.value()) != in) __builtin_trap();
  }
  if (auto q = bulwark::sandbox::decode_request(in); q.ok()) {
    if (bulwark::sandbox::encode_request(q.value()) != in) __builtin_trap();
  }
  return 0;
}
