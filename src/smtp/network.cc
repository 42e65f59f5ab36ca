#include "smtp/network.h"

#include <arpa/inet.h>

#include <cstring>

namespace bulwark::smtp {

namespace {

// Parses an address into 16 bytes (IPv4 as IPv4-mapped IPv6) with its natural prefix length.
bool parse_ip(std::string_view text, std::array<unsigned char, 16>& out, int& bits) {
  std::string s(text);
  in_addr v4{};
  in6_addr v6{};
  out.fill(0);
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    bits = 128;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    bits = 128;
    return true;
  }
  return false;
}

}  // namespace

NetworkList::NetworkList(const std::vector<std::string>& entries, std::string* errors) {
  for (const auto& e : entries) {
    const std::size_t slash = e.find('/');
    Net n;
    int natural = 0;
    if (!parse_ip(std::string_view(e).substr(0, slash), n.addr, natural)) {
      if (errors) *errors += "'" + e + "' is not an address or network\n";
      continue;
    }
    const bool v4 = e.find(':') == std::string::npos;
    n.bits = 128;
    if (slash != std::string::npos) {
      const std::string len = e.substr(slash + 1);
      if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) {
        if (errors) *errors += "'" + e + "' has a bad prefix length\n";
        continue;
      }
      const int p = std::stoi(len);
      if (p > (v4 ? 32 : 128)) {
        if (errors) *errors += "'" + e + "' has a bad prefix length\n";
        continue;
      }
      n.bits = v4 ? 96 + p : p;
    }
    nets_.push_back(n);
  }
}

bool NetworkList::contains(std::string_view ip) const {
  std::array<unsigned char, 16> a{};
  int bits = 0;
  if (!parse_ip(ip, a, bits)) return false;
  for (const auto& n : nets_) {
    int left = n.bits;
    bool match = true;
    for (std::size_t i = 0; i < 16 && left > 0 && match; ++i, left -= 8) {
      const unsigned mask = left >= 8 ? 0xffu : (0xffu << (8 - left)) & 0xffu;
      match = (a[i] & mask) == (n.addr[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::optional<std::size_t> proxy_v2_length(const unsigned char* h) {
  static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
  if (std::memcmp(h, sig, 12) != 0) return std::nullopt;
  if ((h[12] & 0xf0) != 0x20) return std::nullopt;  // version 2
  const std::size_t len = (static_cast<std::size_t>(h[14]) << 8) | h[15];
  if (len > kProxyMaxLength) return std::nullopt;
  return len;
}

std::optional<std::string> proxy_v2_source(const unsigned char* h, std::string_view block) {
  const unsigned command = h[12] & 0x0f;
  if (command == 0x0) return std::string();  // LOCAL
  if (command != 0x1) return std::nullopt;
  const unsigned family = h[13];
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 0x11) {  // TCP over IPv4
    if (block.size() < 12) return std::nullopt;
    if (!inet_ntop(AF_INET, block.data(), buf, sizeof buf)) return std::nullopt;
  } else if (family == 0x21) {  // TCP over IPv6
    if (block.size() < 36) return std::nullopt;
    if (!inet_ntop(AF_INET6, block.data(), buf, sizeof buf)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return std::string(buf);
}

}  // namespace bulwark::smtp
