// Fuzzes the configuration loader: any bytes must give a Config or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = bulwark::load_config_string(text, "fuzz.toml");
  if (!r && r.error().message.rfind("fuzz.toml", 0) != 0) __builtin_trap();
  return 0;
}
