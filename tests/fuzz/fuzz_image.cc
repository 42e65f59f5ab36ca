// libFuzzer target for the image decoders (PNG, JPEG, GIF) and the 2D-code reader behind
// IMAGE_QR_URL: any bytes end in a clear ImageRead, a decoded image is exactly
// width x height, and reading codes never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inspect/image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1u << 20)) return 0;
  bulwark::inspect::GreyImage g;
  // A small pixel limit keeps each run fast; the limit itself is part of what is tested.
  const auto r = bulwark::inspect::read_grey(std::string_view(reinterpret_cast<const char*>(data), size), 512 * 512, g);
  if (r != bulwark::inspect::ImageRead::kOk) return 0;
  if (g.width <= 0 || g.height <= 0 || g.pixels.size() != static_cast<std::size_t>(g.width) * g.height)
    __builtin_trap();
  bulwark::inspect::read_codes(g, 8);
  return 0;
}
