// libFuzzer target: every header value parser on the same input (unfold, Content-Type,
// Content-Disposition, RFC 2047 words, address lists). None may crash, hang or throw, and
// every string they return must be valid UTF-8 (a boundary keeps its raw bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/symbol.h"
#include "mime/charset.h"
#include "mime/header_value.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_field(const bulwark::mime::FieldValue& v) {
  using bulwark::mime::is_valid_utf8;
  check(is_valid_utf8(v.type));
  check(v.valid || v.type.empty());
  check(v.params.size() <= 3 * 1024);
  for (const auto& p : v.params) {
    check(!p.name.empty());
    for (const char c : p.name) check(!(c >= 'A' && c <= 'Z'));
    check(p.name == "boundary" || is_valid_utf8(p.value));
    check(v.param(p.name) != nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bulwark::mime;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  bulwark::SymbolSet symbols;
  const Report report{symbols, "1"};

  const std::string value = unfold(raw);
  check(value.size() <= raw.size());
  check(unfold(value) == value);  // idempotent

  check_field(parse_content_type(value, report));
  check_field(parse_disposition(value, report));

  const std::string text = decode_encoded_words(value, report);
  check(is_valid_utf8(text));
  check(text.size() <= (1u << 20));

  for (const Address& a : parse_address_list(value, report)) {
    check(is_valid_utf8(a.display_name));
    check(is_valid_utf8(a.local_part));
    check(is_valid_utf8(a.domain));
    check(is_valid_utf8(a.group));
    for (const char c : a.domain) check(!(c >= 'A' && c <= 'Z'));
  }
  for (const auto& s : symbols.all()) check(s.name.rfind("MIME_", 0) == 0);
  return 0;
}
