// The `o` regex flag: a pattern written with plain letters that also matches the spellings
// spam uses to slip past keyword filters and that the text itself cannot undo without
// damaging real words: digits and symbols for letters (`v1agra`, `fr3e`, `ca$h`), accented
// letters (`víagra`), whole words in look-alike letters of one script (Cyrillic `рау`),
// letter pairs (`rn` for `m`, `vv` for `w`) and one separator between the letters of a
// long word (`v-i-a-g-r-a`, `f r e e`). Invisible characters, fullwidth forms and look-alikes
// inside a Latin word are undone before any `body` or header pattern (mime/deobfuscate.h),
// with or without the flag.
#pragma once

#include <string>
#include <string_view>

namespace bulwark::rules {

// Rewrites `regex` so each literal ASCII letter (outside character classes, escapes and
// group syntax) matches its disguises too. `caseless`: the pattern's `i` flag (stand-ins of
// both cases are then accepted). Returns false with `why` set when the pattern cannot be
// rewritten (`\Q`, or a result over the size limit).
bool expand_disguises(std::string_view regex, bool caseless, std::string& out, std::string& why);

}  // namespace bulwark::rules
