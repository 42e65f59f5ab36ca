// URLs found in plain text: scheme URLs (http, https, ftp, hxxp-style defanged ones are
// not URLs), "www." hosts without a scheme, and mailto. Linear, no regex.
//   for (auto& u : find_urls(text, 1000)) ...
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::mime {

std::vector<std::string> find_urls(std::string_view text, std::size_t max_urls);

}  // namespace bulwark::mime
