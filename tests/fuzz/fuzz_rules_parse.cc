// The rule-file parser on arbitrary bytes: never crashes, never loops, always reports
// "name:line: what" on errors.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = bulwark::rules::parse_check(text, "fuzz.rules");
  if (!r.ok() && r.error().message.rfind("fuzz.rules:", 0) != 0) __builtin_trap();
  return 0;
}
