#include "mime/deobfuscate.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/utf8.h"

namespace bulwark::mime {

namespace {

// Letters of other scripts that look like a Latin letter in common fonts (a hand-picked
// subset of Unicode's confusables: the ones seen in keyword-dodging spam).
constexpr std::array<std::pair<char32_t, char>, 113> kLookAlikes = {{
    // Cyrillic
    {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x041A, 'K'}, {0x041C, 'M'}, {0x041D, 'H'}, {0x041E, 'O'},
    {0x0420, 'P'}, {0x0421, 'C'}, {0x0422, 'T'}, {0x0423, 'Y'}, {0x0425, 'X'}, {0x0430, 'a'}, {0x0432, 'b'},
    {0x0435, 'e'}, {0x043A, 'k'}, {0x043C, 'm'}, {0x043D, 'h'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
    {0x0442, 't'}, {0x0443, 'y'}, {0x0445, 'x'}, {0x0405, 'S'}, {0x0406, 'I'}, {0x0408, 'J'}, {0x0455, 's'},
    {0x0456, 'i'}, {0x0457, 'i'}, {0x0458, 'j'}, {0x04BB, 'h'}, {0x04C0, 'I'}, {0x04CF, 'l'}, {0x0501, 'd'},
    {0x051A, 'Q'}, {0x051B, 'q'}, {0x051C, 'W'}, {0x051D, 'w'}, {0x0461, 'w'}, {0x0475, 'v'}, {0x0474, 'V'},
    {0x044C, 'b'}, {0x0491, 'r'}, {0x0433, 'r'},
    // Greek
    {0x0391, 'A'}, {0x0392, 'B'}, {0x0395, 'E'}, {0x0396, 'Z'}, {0x0397, 'H'}, {0x0399, 'I'}, {0x039A, 'K'},
    {0x039C, 'M'}, {0x039D, 'N'}, {0x039F, 'O'}, {0x03A1, 'P'}, {0x03A4, 'T'}, {0x03A5, 'Y'}, {0x03A7, 'X'},
    {0x03B1, 'a'}, {0x03B3, 'y'}, {0x03B5, 'e'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'},
    {0x03C1, 'p'}, {0x03C4, 't'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03F2, 'c'}, {0x03F3, 'j'}, {0x03F9, 'C'},
    {0x037F, 'J'},
    // Armenian
    {0x0570, 'h'}, {0x0578, 'n'}, {0x057D, 'u'}, {0x0581, 'g'}, {0x0585, 'o'}, {0x0566, 'q'}, {0x0544, 'U'},
    {0x054D, 'U'}, {0x0555, 'O'}, {0x0561, 'w'},
    // Cherokee
    {0x13AA, 'A'}, {0x13F4, 'B'}, {0x13DF, 'C'}, {0x13A1, 'R'}, {0x13AC, 'E'}, {0x13BB, 'H'}, {0x13AB, 'J'},
    {0x13E6, 'K'}, {0x13DE, 'L'}, {0x13B7, 'M'}, {0x13E2, 'P'}, {0x13DA, 'S'}, {0x13A2, 'T'}, {0x13D9, 'V'},
    {0x13B3, 'W'}, {0x13C3, 'Z'}, {0x13A0, 'D'}, {0x13C0, 'G'}, {0x13B1, 'H'}, {0x13D2, 'P'}, {0x13A5, 'i'},
    {0x13BE, 'O'}, {0x13DD, 'I'}, {0x13D1, 'D'}, {0x13E7, 'd'}, {0x13D7, 'P'}, {0x13C2, 'h'}, {0x13F3, 'G'},
    {0x13AE, 'U'},
}};

const std::array<std::pair<char32_t, char>, kLookAlikes.size()>& sorted_look_alikes() {
  static const auto table = [] {
    auto t = kLookAlikes;
    std::sort(t.begin(), t.end());
    return t;
  }();
  return table;
}

char latin_look_alike(char32_t c) {
  const auto& t = sorted_look_alikes();
  auto it = std::lower_bound(t.begin(), t.end(), std::pair<char32_t, char>{c, '\0'});
  return it != t.end() && it->first == c ? it->second : '\0';
}

bool disguising_script(UScriptCode s) {
  return s == USCRIPT_CYRILLIC || s == USCRIPT_GREEK || s == USCRIPT_ARMENIAN || s == USCRIPT_CHEROKEE;
}

UScriptCode script_of(UChar32 c) {
  UErrorCode e = U_ZERO_ERROR;
  const UScriptCode s = uscript_getScript(c, &e);
  return U_FAILURE(e) ? USCRIPT_COMMON : s;
}

bool hidden(char32_t c) {
  return invisible_cp(c) || u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

// The NFKC form of one code point (fullwidth letters, mathematical alphanumerics,
// ligatures, superscripts), appended as UTF-8.
void append_nfkc(std::string& out, char32_t c) {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(ec);
  if (U_FAILURE(ec)) {
    append_utf8(out, c);
    return;
  }
  const icu::UnicodeString n = nfkc->normalize(icu::UnicodeString(static_cast<UChar32>(c)), ec);
  if (U_FAILURE(ec)) append_utf8(out, c);
  else n.toUTF8String(out);
}

// Tracks whether the current word mixes Latin with a disguising script.
struct WordScripts {
  bool latin = false, other = false;
  void add(char32_t c) {
    if (c < 0x80) {  // digits belong to every script
      latin |= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      return;
    }
    const UScriptCode s = script_of(static_cast<UChar32>(c));
    latin |= s == USCRIPT_LATIN;
    other |= disguising_script(s);
  }
  bool mixed() const { return latin && other; }
  void reset() { latin = other = false; }
};

bool word_char(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return u_isUAlphabetic(static_cast<UChar32>(c)) || u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK;
}

bool needs_work(std::string_view s) {
  for (char ch : s)
    if (static_cast<unsigned char>(ch) >= 0x80) return true;
  return false;
}

// Replaces look-alike letters by Latin ones inside the mixed words of `s`.
std::string map_mixed_words(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    const char32_t c = next_cp(s, j);
    if (!word_char(c)) {
      out.append(s.substr(i, j - i));
      i = j;
      continue;
    }
    std::size_t end = i;
    WordScripts w;
    while (end < s.size()) {
      std::size_t k = end;
      const char32_t d = next_cp(s, k);
      if (!word_char(d)) break;
      w.add(d);
      end = k;
    }
    if (!w.mixed()) {
      out.append(s.substr(i, end - i));
    } else {
      for (std::size_t k = i; k < end;) {
        const std::size_t from = k;
        const char32_t d = next_cp(s, k);
        if (const char l = latin_look_alike(d)) out += l;
        else out.append(s.substr(from, k - from));
      }
    }
    i = end;
  }
  return out;
}

}  // namespace

bool deobfuscate(std::string_view utf8, std::string& out) {
  if (!needs_work(utf8)) return false;
  // One pass over the UTF-8: drop what renders as nothing, fold compatibility forms, note
  // mixed-script words. Most non-ASCII mail needs none of it (an &nbsp;, an accent).
  out.clear();
  out.reserve(utf8.size());
  bool changed = false, mixed = false;
  WordScripts word;
  for (std::size_t i = 0; i < utf8.size();) {
    const std::size_t start = i;
    const char32_t c = next_cp(utf8, i);
    if (c >= 0x80 && hidden(c)) {  // inside a word it does not end the word
      changed = true;
      continue;
    }
    if (c == 0xA0) {  // no-break space: a space
      out += ' ';
      changed = true;
    } else if (c >= 0x80 && u_getIntPropertyValue(static_cast<UChar32>(c), UCHAR_NFKC_QUICK_CHECK) == UNORM_NO) {
      append_nfkc(out, c);
      changed = true;
    } else {
      out.append(utf8.substr(start, i - start));
    }
    if (word_char(c)) {
      word.add(c);
    } else {
      mixed |= word.mixed();
      word.reset();
    }
  }
  mixed |= word.mixed();
  if (mixed) out = map_mixed_words(out);
  return changed || mixed;
}

std::span<const std::pair<char32_t, char>> look_alike_letters() { return kLookAlikes; }

std::size_t mixed_script_words(std::string_view utf8) {
  std::size_t words = 0;
  WordScripts word;
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t c = next_cp(utf8, i);
    if (word_char(c)) {
      word.add(c);
    } else if (c < 0x80 || !hidden(c)) {  // a hidden character does not end the word
      words += word.mixed() ? 1 : 0;
      word.reset();
    }
  }
  return words + (word.mixed() ? 1 : 0);
}

}  // namespace bulwark::mime
