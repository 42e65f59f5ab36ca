// Conversion of text parts to UTF-8 (ICU), with charset detection when the label is
// missing or wrong.
//   TextResult t = to_utf8(bytes, "iso-8859-1", /*detect=*/true, report);
#pragma once

#include <string>
#include <string_view>

#include "mime/report.h"

namespace bulwark::mime {

struct TextResult {
  std::string utf8;     // always valid UTF-8; undecodable input becomes U+FFFD
  std::string charset;  // the charset actually used (lower-case canonical name)
};

// `label` is the charset parameter as written (any case, aliases such as "latin1",
// "utf8", "cp1252", "x-sjis"); empty when missing. ASCII and valid UTF-8 take a fast path.
// When the label is unknown, or the label is missing / us-ascii and the bytes are 8-bit,
// and `detect` is true, the charset is detected (ICU); otherwise windows-1252 is assumed
// (what browsers do with unlabelled 8-bit text). Reports MIME_CHARSET_UNKNOWN,
// MIME_CHARSET_MISSING_8BIT, MIME_CHARSET_WRONG (label disagrees with valid UTF-8 bytes, or
// conversion produced many replacement characters).
TextResult to_utf8(std::string_view bytes, std::string_view label, bool detect,
                   const Report& report);

// Converts bytes in a known charset without detection (RFC 2047 words, RFC 2231 values).
// Returns false when the charset is unknown to ICU (out then holds a Latin-1 reading).
bool charset_to_utf8(std::string_view bytes, std::string_view label, std::string& out);

// True when `s` is valid UTF-8 (fast: SIMD-friendly loop over ASCII runs).
bool is_valid_utf8(std::string_view s);

}  // namespace bulwark::mime
