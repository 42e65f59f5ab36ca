// Next-hop resolution for outbound mail: MX records (RFC 5321 5.1), falling back to the
// domain's address records, with a deadline on every lookup (an unreachable resolver must
// never stall the queue). Uses c-ares; the resolver's address can be set, so tests run a
// real DNS server on 127.0.0.1.
//   Resolver r({.servers = "127.0.0.1:5353", .timeout_ms = 2000});
//   auto hosts = r.mail_hosts("example.com");   // ordered by preference, ties shuffled
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace bulwark::smtp {

struct ResolverOptions {
  std::string servers;  // "ip[:port],..." ("" = the system's /etc/resolv.conf)
  std::uint32_t timeout_ms = 5000;  // the whole lookup, all retries included
};

struct MailHost {
  std::string name;
  std::uint16_t preference = 0;
  std::vector<std::string> addresses;  // IPv4 and IPv6 literals
};

class Resolver {
 public:
  explicit Resolver(ResolverOptions options);
  // MX hosts by preference with their addresses; a domain without MX yields itself (the
  // implicit MX). A "null MX" (RFC 7505: preference 0, ".") is an Error whose message starts
  // with "null MX". NXDOMAIN is an Error starting with "no such domain"; a timeout or server
  // failure an Error starting with "temporary". Error messages never start otherwise.
  Result<std::vector<MailHost>> mail_hosts(const std::string& domain) const;
  Result<std::vector<std::string>> addresses(const std::string& host) const;

 private:
  ResolverOptions options_;
};

}  // namespace bulwark::smtp
