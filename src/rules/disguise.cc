#include "rules/disguise.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "core/utf8.h"
#include "mime/deobfuscate.h"

namespace bulwark::rules {

namespace {

// An expanded letter is about 100 bytes; a pattern is at most 16 KiB before expansion.
constexpr std::size_t kMaxExpanded = 512 * 1024;

// Separators and other scripts' look-alikes are allowed only inside runs of at least this
// many letters: in short words they would match ordinary text ("his wife's ex" is not "sex",
// and a Russian word may well contain "рау").
constexpr std::size_t kMinRunForSeparators = 4;

// The character between separated letters: space, tab, . - _ * ~ + '
constexpr std::string_view kSeparator = "[\\x20\\x09\\x2e\\x2d\\x5f\\x2a\\x7e\\x2b\\x27]";

// Digits and symbols that stand for a letter, whatever its case.
std::string_view symbol_stand_ins(char lower) {
  switch (lower) {
    case 'a': return "4@";
    case 'b': return "8";
    case 'e': return "3";
    case 'g': return "96";
    case 'i': return "1!|l";
    case 'l': return "1|I";
    case 'o': return "0";
    case 's': return "5$";
    case 't': return "7+";
    case 'z': return "2";
    default: return "";
  }
}

// Letter pairs that read as one letter.
std::vector<std::string> pair_stand_ins(char lower) {
  switch (lower) {
    case 'm': return {"rn"};
    case 'w': return {"vv", "\\/\\/"};
    case 'v': return {"\\/"};
    case 'k': return {"|<"};
    default: return {};
  }
}

// Letters without a decomposition that still read as a Latin letter.
constexpr std::array<std::pair<char32_t, char>, 12> kStrokeLetters = {{
    {0x00F8, 'o'}, {0x00D8, 'O'}, {0x0142, 'l'}, {0x0141, 'L'}, {0x0111, 'd'}, {0x0110, 'D'},
    {0x0131, 'i'}, {0x0127, 'h'}, {0x0126, 'H'}, {0x0167, 't'}, {0x0166, 'T'}, {0x00DF, 'B'},
}};

// Every spelling of each ASCII letter (by byte value), UTF-8 encoded, the letter included.
using Spellings = std::array<std::set<std::string>, 128>;

const Spellings& spellings() {
  static const Spellings table = [] {
    Spellings t;
    for (int c = 'A'; c <= 'z'; ++c) {
      if (c > 'Z' && c < 'a') continue;
      const char letter = static_cast<char>(c);
      const char lower = static_cast<char>(c | 0x20);
      t[c].insert(std::string(1, letter));
      for (char s : symbol_stand_ins(lower)) t[c].insert(std::string(1, s));
      if (letter == lower)
        for (auto& p : pair_stand_ins(lower)) t[c].insert(p);
    }
    // Accented Latin letters (Latin-1 Supplement and Latin Extended-A): those whose
    // canonical decomposition is an ASCII letter and combining marks.
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
    for (char32_t cp = 0xC0; cp <= 0x17F && U_SUCCESS(status); ++cp) {
      icu::UnicodeString d;
      if (!nfd->getDecomposition(static_cast<UChar32>(cp), d) || d.length() < 2) continue;
      const UChar32 base = d.char32At(0);
      if (base >= 0x80 || !u_isalpha(base)) continue;
      bool marks = true;
      for (int32_t k = 1; k < d.length(); ++k)
        if (u_charType(d.char32At(k)) != U_NON_SPACING_MARK) marks = false;
      if (!marks) continue;
      std::string u;
      append_utf8(u, cp);
      t[static_cast<unsigned char>(base)].insert(u);
    }
    for (auto [cp, letter] : kStrokeLetters) {
      std::string u;
      append_utf8(u, cp);
      t[static_cast<unsigned char>(letter)].insert(u);
    }
    for (auto [cp, letter] : mime::look_alike_letters()) {
      std::string u;
      append_utf8(u, cp);
      t[static_cast<unsigned char>(letter)].insert(u);
    }
    return t;
  }();
  return table;
}

void hex_byte(std::string& out, unsigned char b) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", b);
  out += buf;
}

bool word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// How one letter is written out.
struct GroupKey {
  char letter;
  bool lead_boundary;   // a `\b` before it, kept for the spellings made of word characters
  bool trail_boundary;  // a `\b` after it, likewise
  bool other_scripts;   // Cyrillic/Greek/... look-alikes too (long words only)
  auto operator<=>(const GroupKey&) const = default;
};

// "(?:(?:[single bytes]|pairs|\xc3[\xa0\xa1...]|...)(?:combining mark)?)":
// multi-byte spellings grouped by all but their last byte, so the group stays short. A
// word boundary next to the letter applies to the word-character spellings only: `$`, `@`
// or a look-alike letter is not a word character to the engines, yet it stands for one.
std::string letter_group(const GroupKey& key, bool caseless) {
  const Spellings& t = spellings();
  std::set<std::string> all = t[static_cast<unsigned char>(key.letter)];
  if (caseless) {
    const auto& other = t[static_cast<unsigned char>(key.letter ^ 0x20)];
    all.insert(other.begin(), other.end());
  }
  std::string word_singles, other_singles;
  std::vector<std::string> ascii_seqs;
  std::map<std::string, std::string> by_prefix;  // prefix bytes -> last bytes
  for (const std::string& s : all) {
    if (s.size() == 1) (word_byte(s[0]) ? word_singles : other_singles) += s;
    else if (static_cast<unsigned char>(s[0]) < 0x80) ascii_seqs.push_back(s);
    else if (s.size() == 2 && static_cast<unsigned char>(s[0]) >= 0xC3 && static_cast<unsigned char>(s[0]) <= 0xC5)
      by_prefix[s.substr(0, 1)] += s.back();  // an accented Latin letter
    else if (key.other_scripts) by_prefix[s.substr(0, s.size() - 1)] += s.back();
  }
  const std::string lead = key.lead_boundary ? "\\b" : "", trail = key.trail_boundary ? "\\b" : "";
  auto klass = [](const std::string& bytes) {
    std::string k = "[";
    for (char c : bytes) hex_byte(k, static_cast<unsigned char>(c));
    return k + "]";
  };
  std::string out = "(?:(?:" + lead + klass(word_singles) + trail;
  if (!other_singles.empty()) out += "|" + klass(other_singles);
  for (const std::string& s : ascii_seqs) {
    out += '|';
    if (word_byte(s.front())) out += lead;
    for (char c : s) hex_byte(out, static_cast<unsigned char>(c));
    if (word_byte(s.back())) out += trail;
  }
  for (const auto& [prefix, lasts] : by_prefix) {
    out += '|';
    for (char c : prefix) hex_byte(out, static_cast<unsigned char>(c));
    out += klass(lasts);
  }
  // Combining accents written as separate characters (U+0300..U+036F).
  out += ")(?:\\xcc[\\x80-\\xbf]|\\xcd[\\x80-\\xaf])?)";
  return out;
}

bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

// A pattern piece: a literal letter (rewritten), or anything else (copied), with the
// quantifier that follows it.
struct Atom {
  std::string text;
  char letter = 0;
  std::string quant;
  bool quantifiable = true;
};

// Length of a counted quantifier "{n}", "{n,}", "{n,m}", "{,m}" at `i`, or 0.
std::size_t counted_quantifier(std::string_view re, std::size_t i) {
  std::size_t j = i + 1;
  bool digits = false, comma = false;
  while (j < re.size() && (digit(re[j]) || (re[j] == ',' && !comma))) {
    if (re[j] == ',') comma = true;
    else digits = true;
    ++j;
  }
  return j < re.size() && re[j] == '}' && digits ? j + 1 - i : 0;
}

bool split(std::string_view re, std::vector<Atom>& atoms, std::string& why) {
  std::size_t i = 0;
  const std::size_t n = re.size();
  while (i < n) {
    const char c = re[i];
    Atom a;
    if (c == '\\') {
      std::size_t j = i + 2;
      if (i + 1 < n) {
        const char e = re[i + 1];
        if (e == 'Q') {
          why = "\\Q...\\E is not supported with the o flag (escape the characters instead)";
          return false;
        }
        if (e == 'x' && j < n && re[j] == '{') {
          while (j < n && re[j] != '}') ++j;
          j = std::min(n, j + 1);
        } else if (e == 'x') {
          for (int k = 0; k < 2 && j < n && std::isxdigit(static_cast<unsigned char>(re[j])); ++k) ++j;
        } else if ((e == 'p' || e == 'P') && j < n && re[j] == '{') {
          while (j < n && re[j] != '}') ++j;
          j = std::min(n, j + 1);
        }
      }
      a.text = std::string(re.substr(i, std::min(j, n) - i));
      a.quantifiable = !(a.text == "\\b" || a.text == "\\B" || a.text == "\\A" || a.text == "\\z");
      i = std::min(j, n);
    } else if (c == '[') {
      std::size_t j = i + 1;
      if (j < n && re[j] == '^') ++j;
      if (j < n && re[j] == ']') ++j;
      while (j < n && re[j] != ']') {
        if (re[j] == '\\') j += 2;
        else if (re[j] == '[' && j + 1 < n && re[j + 1] == ':') {
          const std::size_t end = re.find(":]", j + 2);
          j = end == std::string_view::npos ? j + 1 : end + 2;
        } else ++j;
      }
      j = std::min(n, j + 1);
      a.text = std::string(re.substr(i, j - i));
      i = j;
    } else if (c == '(') {
      std::size_t j = i + 1;
      if (j < n && re[j] == '?') {
        ++j;
        if (j < n && re[j] == 'P') ++j;
        if (j < n && re[j] == '<') {
          while (j < n && re[j] != '>') ++j;
        } else {
          while (j < n && re[j] != ':' && re[j] != ')') ++j;
        }
        j = std::min(n, j + 1);
      }
      a.text = std::string(re.substr(i, j - i));
      a.quantifiable = false;
      i = j;
    } else if ((c == '*' || c == '+' || c == '?') && !atoms.empty() && atoms.back().quantifiable) {
      atoms.back().quant += c;
      ++i;
      continue;
    } else if (std::size_t q = c == '{' ? counted_quantifier(re, i) : 0; q && !atoms.empty() && atoms.back().quantifiable) {
      atoms.back().quant += re.substr(i, q);
      i += q;
      continue;
    } else if (ascii_letter(c)) {
      a.text = std::string(1, c);
      a.letter = c;
      ++i;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      std::size_t j = i + 1;
      while (j < n && (static_cast<unsigned char>(re[j]) & 0xC0) == 0x80) ++j;
      a.text = std::string(re.substr(i, j - i));
      i = j;
    } else {
      a.text = std::string(1, c);
      a.quantifiable = c != '|' && c != '^' && c != '$';
      ++i;
    }
    atoms.push_back(std::move(a));
  }
  return true;
}

bool is_boundary(const Atom& a) { return a.text == "\\b" && a.quant.empty(); }
bool opens_group(const Atom& a) { return a.text.front() == '(' && a.text.back() != ')'; }

// `\b(cash|money)\b` means `(\bcash\b|\bmoney\b)`: written that way, each boundary sits
// next to a letter, where the letter's group can apply it to word-character spellings only
// (so `$ave` and `viagr@` still match). Repeated until nested groups are reached too.
void distribute_boundaries(std::vector<Atom>& atoms) {
  Atom b;
  b.text = "\\b";
  b.quantifiable = false;
  for (int pass = 0; pass < 256; ++pass) {
    bool changed = false;
    for (std::size_t i = 0; i + 1 < atoms.size() && !changed; ++i) {
      const bool lead = is_boundary(atoms[i]) && opens_group(atoms[i + 1]);
      const bool trail = atoms[i].text == ")" && atoms[i].quant.empty() && is_boundary(atoms[i + 1]);
      if (!lead && !trail) continue;
      // The group's extent and its top-level alternatives.
      std::size_t open = lead ? i + 1 : 0, close = lead ? 0 : i;
      std::vector<std::size_t> bars;
      if (lead) {
        int depth = 0;
        for (std::size_t k = open; k < atoms.size(); ++k) {
          if (opens_group(atoms[k])) ++depth;
          else if (atoms[k].text == ")" && --depth == 0) { close = k; break; }
          else if (atoms[k].text == "|" && depth == 1) bars.push_back(k);
        }
        if (!close || !atoms[close].quant.empty()) continue;  // "\b(ab)+": left as written
      } else {
        int depth = 0;
        bool found = false;
        for (std::size_t k = close + 1; k-- > 0;) {
          if (atoms[k].text == ")") ++depth;
          else if (opens_group(atoms[k]) && --depth == 0) { open = k; found = true; break; }
          else if (atoms[k].text == "|" && depth == 1) bars.push_back(k);
        }
        if (!found) continue;
      }
      std::vector<Atom> out;
      out.reserve(atoms.size() + bars.size() + 2);
      for (std::size_t k = 0; k < atoms.size(); ++k) {
        if (lead && k == i) continue;                // the \b moves inside
        if (trail && k == i + 1) continue;
        const bool bar = std::find(bars.begin(), bars.end(), k) != bars.end();
        if (trail && (bar || k == close)) out.push_back(b);
        out.push_back(atoms[k]);
        if (lead && (bar || k == open)) out.push_back(b);
      }
      atoms = std::move(out);
      changed = true;
    }
    if (!changed) return;
  }
}

}  // namespace

bool expand_disguises(std::string_view regex, bool caseless, std::string& out, std::string& why) {
  std::vector<Atom> atoms;
  if (!split(regex, atoms, why)) return false;
  distribute_boundaries(atoms);
  out.clear();
  std::map<GroupKey, std::string> groups;
  auto is_b = [&](std::size_t k) { return k < atoms.size() && atoms[k].text == "\\b" && atoms[k].quant.empty(); };
  auto is_letter = [&](std::size_t k) { return k < atoms.size() && atoms[k].letter; };
  auto too_long = [&] {
    why = "pattern too long with the o flag (over " + std::to_string(kMaxExpanded / 1024) + " KiB once expanded)";
    return false;
  };
  for (std::size_t k = 0; k < atoms.size();) {
    const Atom& a = atoms[k];
    if (!a.letter) {
      // A `\b` between a letter and something else moves into that letter's group.
      const bool after_letter = k > 0 && is_letter(k - 1) && atoms[k - 1].quant.empty();
      if (!(is_b(k) && is_letter(k + 1) != after_letter)) out += a.text + a.quant;
      ++k;
      continue;
    }
    // A run of letters: each one's group, written once together and, for a long run whose
    // letters carry no quantifier, once more with a separator between every two letters
    // ("v-i-a-g-r-a"; never between some only, or "log in" would read as "login").
    std::size_t end = k;
    bool quantified = false;
    while (end < atoms.size() && atoms[end].letter) quantified |= !atoms[end++].quant.empty();
    const bool long_run = end - k >= kMinRunForSeparators;
    std::vector<std::string> pieces;
    for (std::size_t m = k; m < end; ++m) {
      const Atom& l = atoms[m];
      const GroupKey key{l.letter, m == k && m > 0 && is_b(m - 1) && !(m > 1 && is_letter(m - 2) && atoms[m - 2].quant.empty()),
                         m + 1 == end && l.quant.empty() && is_b(m + 1) && !is_letter(m + 2), long_run};
      auto [it, fresh] = groups.try_emplace(key);
      if (fresh) it->second = letter_group(key, caseless);
      pieces.push_back(it->second + l.quant);
    }
    std::string joined, separated;
    for (std::size_t m = 0; m < pieces.size(); ++m) {
      joined += pieces[m];
      if (m) separated += kSeparator;
      separated += pieces[m];
    }
    if (long_run && !quantified) out += "(?:" + joined + "|" + separated + ")";
    else out += joined;
    if (out.size() > kMaxExpanded) return too_long();
    k = end;
  }
  return true;
}

}  // namespace bulwark::rules
