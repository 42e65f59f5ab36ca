// Text as a reader sees it, for matching rules and for the classifier's tokens: spam hides
// words from keyword filters with
// characters that render as nothing (zero-width spaces, soft hyphens, bidi controls),
// compatibility forms (fullwidth "ｖｉａｇｒａ", mathematical letters, ligatures), and Latin
// words salted with Cyrillic, Greek, Armenian or Cherokee look-alikes ("vіаgrа"). Rules
// on `body` and on decoded header fields match the undone text, and the classifier reads
// it, so plain letters also catch the disguised word. The disguise itself is scored by
// rules functions (body_invisible(), body_mixed_script(), ...).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace bulwark::mime {

// Writes the reader's view of `utf8` into `out` and returns true, or returns false when
// there is nothing to undo (`out` is then unspecified).
bool deobfuscate(std::string_view utf8, std::string& out);

// Words (letter runs) mixing Latin letters with Cyrillic, Greek, Armenian or Cherokee ones.
std::size_t mixed_script_words(std::string_view utf8);

// The look-alike letters of other scripts this step knows, each with the Latin letter it
// imitates (rules' `/o` patterns match them in whole words too).
std::span<const std::pair<char32_t, char>> look_alike_letters();

}  // namespace bulwark::mime
