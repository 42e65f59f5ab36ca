// libFuzzer target for find_urls: every URL is a piece of the input, non-empty, free of
// delimiters, and there are never more than asked for.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mime/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t max_urls = size % 8;
  const auto urls = bulwark::mime::find_urls(text, max_urls);
  if (urls.size() > max_urls) std::abort();
  std::size_t from = 0;
  for (const std::string& u : urls) {
    const std::size_t at = text.find(u, from);
    if (u.empty() || at == std::string_view::npos) std::abort();  // in order, as written
    from = at + u.size();
    for (char c : u)
      if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"') std::abort();
  }
  return 0;
}
