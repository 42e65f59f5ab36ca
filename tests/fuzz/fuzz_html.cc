// libFuzzer target for html_to_text. One input in three gets small output bounds so the
// truncation paths run too; the checks below are the API's promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mime/html.h"

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80         ? 1
                            : (c >> 5) == 6  ? 2
                            : (c >> 4) == 14 ? 3
                            : (c >> 3) == 30 ? 4
                                             : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool small = size % 3 == 0;
  const std::size_t max_text = small ? size % 97 : std::size_t{1} << 16;
  const std::size_t max_links = small ? size % 7 : 64;
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  const bulwark::mime::HtmlResult r = bulwark::mime::html_to_text(html, max_text, max_links);
  if (r.text.size() > max_text) std::abort();
  if (r.links.size() > max_links) std::abort();
  for (const bulwark::mime::Link& l : r.links) {
    if (l.url.empty() || l.url.size() > 8192 || l.tag.empty()) std::abort();
    if (l.text.size() > 1024) std::abort();
  }
  // gumbo replaces invalid input sequences, and truncation keeps whole characters.
  if (valid_utf8(html) && !valid_utf8(r.text)) std::abort();
  return 0;
}
