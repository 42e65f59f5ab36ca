// SMTP paths and parameters (RFC 5321 4.1.2, RFC 3461 xtext): strict parsing of what a
// client puts in MAIL FROM and RCPT TO.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::smtp {

struct ParsedPath {
  std::string address;  // without <>; source routes dropped
  std::vector<std::pair<std::string, std::string>> params;  // KEY (upper-cased), value
  std::string error;    // "" when well formed
};

// `text` is what follows "FROM:" / "TO:". One optional space before '<' is tolerated
// (common clients send it); the path must be in angle brackets.
ParsedPath parse_path(std::string_view text, bool allow_empty);

// local@domain with a dot-atom or quoted local part and a domain name or address literal;
// non-ASCII only when `utf8` (SMTPUTF8). At most 254 bytes.
bool valid_address(std::string_view address, bool utf8, bool need_domain);

bool xtext_decode(std::string_view in, std::string& out);
std::string xtext_encode(std::string_view in);

// The domain of an address, lower-cased ("" when there is none).
std::string domain_of(std::string_view address);

}  // namespace bulwark::smtp
