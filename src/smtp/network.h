// Client address matching against configured networks ("10.0.0.0/8", "::1/128", or a bare
// address), and the PROXY protocol v2 header (what a load balancer puts in front of the
// client's bytes to say who the client really is).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::smtp {

class NetworkList {
 public:
  NetworkList() = default;
  // Entries that fail to parse are reported in `errors` and skipped.
  explicit NetworkList(const std::vector<std::string>& entries, std::string* errors = nullptr);
  bool contains(std::string_view ip) const;  // IPv4-mapped IPv6 addresses match IPv4 entries
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    std::array<unsigned char, 16> addr{};
    int bits = 0;
  };
  std::vector<Net> nets_;
};

// PROXY v2 (haproxy's spec): 16-byte header, then `length` bytes of addresses and TLVs.
constexpr std::size_t kProxyHeaderSize = 16;
constexpr std::size_t kProxyMaxLength = 1024;
// Checks the fixed header; returns the length of what follows, or nullopt if it is not a
// PROXY v2 header (or claims more than kProxyMaxLength).
std::optional<std::size_t> proxy_v2_length(const unsigned char* header);
// The source address from the header and the block after it: "" for a LOCAL command (a
// health check: keep the real peer), nullopt when malformed or an unsupported family.
std::optional<std::string> proxy_v2_source(const unsigned char* header, std::string_view block);

}  // namespace bulwark::smtp
