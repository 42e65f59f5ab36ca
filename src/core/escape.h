// Escaping of message-derived strings before they reach a terminal, a log line or the
// console: control bytes, DEL, invalid UTF-8 and bidi overrides become visible escapes, so
// a hostile Subject or file name cannot move the cursor, forge a log line or reorder text.
#pragma once

#include <string>
#include <string_view>

namespace bulwark {

// Returns `s` with every byte < 0x20, 0x7f, invalid UTF-8 byte, and Unicode bidi control
// (U+202A..U+202E, U+2066..U+2069, U+200E/F, U+061C) replaced by \xNN or \u{NNNN}.
// Backslash itself becomes "\\".
std::string escape_for_display(std::string_view s);

}  // namespace bulwark
