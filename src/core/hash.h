// SHA-256 of a byte string as lowercase hex (OpenSSL's implementation, SHA-NI when present).
#pragma once

#include <string>
#include <string_view>

namespace bulwark {

std::string sha256_hex(std::string_view bytes);

}  // namespace bulwark
