// Parsers for header field values: unfolding, RFC 2047 encoded-words, Content-Type and
// Content-Disposition with RFC 2045 / RFC 2231 parameters, RFC 5322 address lists.
//
// All take attacker bytes and never fail: they return their best reading, the one a
// mainstream mail client would show, and report every irregularity to `report`.
//   Report r{symbols, "1"};
//   ContentTypeValue ct = parse_content_type(unfold(raw), r);
//   std::string subject = decode_encoded_words(unfold(raw), r);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mime/report.h"

namespace bulwark::mime {

// Removes folding: each CRLF / LF / bare CR followed by space or tab is dropped (the
// whitespace stays). Leading and trailing whitespace of the value are trimmed.
std::string unfold(std::string_view raw);

// One parameter after RFC 2231 reassembly and decoding.
struct Param {
  std::string name;      // lower-case, without "*" or "*N" suffixes
  std::string value;     // decoded to UTF-8 (2231 charset, or 2047 words clients decode)
  std::string charset;   // the RFC 2231 charset, lower-case, when given
  bool rfc2231 = false;  // came from name* or name*N segments
};

// Content-Type or Content-Disposition. Parameters keep their order; a name given twice
// (or plain and RFC 2231 both) appears twice, so callers see the ambiguity.
struct FieldValue {
  std::string type;     // "text/plain" for Content-Type; "attachment" for a disposition;
                        // lower-case; empty when missing or unparseable
  std::vector<Param> params;
  bool valid = true;    // false: syntax so broken that RFC 2045 says use the default

  // First value of a parameter (or nullptr); all_values returns every value in order.
  const Param* param(std::string_view name) const;
  std::vector<const Param*> all(std::string_view name) const;
};

FieldValue parse_content_type(std::string_view unfolded, const Report& report);
FieldValue parse_disposition(std::string_view unfolded, const Report& report);

// Decodes RFC 2047 encoded-words in an unstructured value (Subject, display names, and the
// parameter values many clients decode though RFC 2047 forbids it) to UTF-8. Adjacent
// encoded-words separated only by whitespace are joined, and words in the same charset are
// concatenated before charset conversion (a character may be split across words).
// Malformed words (unterminated, bad encoding letter, spaces inside, unknown charset) are
// decoded as far as clients do and reported.
std::string decode_encoded_words(std::string_view value, const Report& report);

struct Address {
  std::string display_name;  // decoded UTF-8, quotes and comments removed
  std::string local_part;    // as written, quotes removed
  std::string domain;        // lower-case; an address literal keeps its brackets
  std::string group;         // the group it belongs to, when inside "name: ...;"
  std::string address() const { return domain.empty() ? local_part : local_part + "@" + domain; }
};

// RFC 5322 address-list / mailbox-list, obsolete syntax included: groups, comments
// (nested), quoted strings, route addresses, bare addresses, missing brackets.
std::vector<Address> parse_address_list(std::string_view unfolded, const Report& report);

}  // namespace bulwark::mime
