#include "inspect/passwords.h"

#include <array>
#include <string>
#include <unordered_set>
#include <vector>

namespace bulwark::inspect {

namespace {

// Keywords as they appear in campaigns, each followed by a separator and the password.
// ASCII ones match case-insensitively; others are listed in the cases mail uses.
constexpr std::array<std::string_view, 44> kKeywords = {
    "password",     "passwort",   "passcode",   "passwd",      "pass",       "pwd",
    "pw",           "kennwort",   "contraseña", "contrasena",  "CONTRASEÑA", "Contraseña",
    "mot de passe", "mdp",        "senha",      "wachtwoord",  "parola",     "hasło",
    "haslo",        "Hasło",      "heslo",      "jelszó",      "şifre",      "sifre",
    "Şifre",        "lösenord",   "salasana",   "adgangskode", "passord",    "пароль",
    "Пароль",       "ПАРОЛЬ",     "код",        "Код",         "КОД",        "密码",
    "密碼",         "パスワード", "비밀번호",   "mật khẩu",    "Mật khẩu",   "كلمة المرور",
    "סיסמה",        "κωδικός"};

constexpr std::size_t kMaxToken = 64;

bool ascii_alpha(unsigned char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive for ASCII letters, exact for everything else.
bool matches_at(std::string_view line, std::size_t pos, std::string_view kw) {
  if (line.size() - pos < kw.size()) return false;
  for (std::size_t i = 0; i < kw.size(); ++i) {
    auto a = static_cast<unsigned char>(line[pos + i]);
    auto b = static_cast<unsigned char>(kw[i]);
    if (ascii_alpha(a) && ascii_alpha(b)) {
      a |= 0x20, b |= 0x20;
    }
    if (a != b) return false;
  }
  return true;
}

// ASCII letters and digits and every non-ASCII byte count as word characters, so "pass"
// does not match inside "passport" or "bypass", nor "код" inside "кодировка".
bool wordish(unsigned char c) {
  return ascii_alpha(c) || (c >= '0' && c <= '9') || c >= 0x80;
}

std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  // U+00A0 and U+3000 are blanks as well.
  for (;;) {
    if (s.substr(i).starts_with("\xc2\xa0")) {
      i += 2;
    } else if (s.substr(i).starts_with("\xe3\x80\x80")) {
      i += 3;
    } else if (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
      ++i;
    } else {
      return i;
    }
  }
}

// The separator between keyword and password: ':' '=' '-' and their Unicode forms, or the
// words "is"/"ist"/"est"/"es"/"é" ("The password is 1234"). Returns the position after it,
// or npos when there is none.
std::size_t skip_separator(std::string_view s, std::size_t i) {
  i = skip_blanks(s, i);
  static constexpr std::array<std::string_view, 10> kSeps = {"\xef\xbc\x9a" /* ： */,
                                                             "\xe2\x80\x93" /* – */,
                                                             "\xe2\x80\x94" /* — */,
                                                             "=>",
                                                             "->",
                                                             ":",
                                                             "=",
                                                             "-",
                                                             "\xef\xbc\x9d" /* ＝ */,
                                                             "\xd8\x9b"};
  for (std::string_view sep : kSeps)
    if (s.substr(i).starts_with(sep)) return skip_blanks(s, i + sep.size());
  static constexpr std::array<std::string_view, 5> kWords = {"is", "ist", "est", "es", "é"};
  for (std::string_view w : kWords) {
    if (matches_at(s, i, w) &&
        (i + w.size() == s.size() || !wordish(static_cast<unsigned char>(s[i + w.size()])))) {
      std::size_t j = skip_blanks(s, i + w.size());
      // "is: 1234"
      if (j < s.size() && s[j] == ':') j = skip_blanks(s, j + 1);
      return j;
    }
  }
  return std::string_view::npos;
}

// The password token at s[i]: up to a blank, without quotes, brackets or the punctuation
// that ends a sentence around it.
std::string take_token(std::string_view s, std::size_t i) {
  std::size_t end = i;
  while (end < s.size() && s[end] != ' ' && s[end] != '\t' &&
         !s.substr(end).starts_with("\xc2\xa0"))
    ++end;
  std::string_view t = s.substr(i, end - i);
  static constexpr std::array<std::string_view, 14> kOpen = {"\"",
                                                             "'",
                                                             "(",
                                                             "[",
                                                             "{",
                                                             "<",
                                                             "*",
                                                             "`",
                                                             "\xe2\x80\x9c",
                                                             "\xe2\x80\x98",
                                                             "\xc2\xab",
                                                             "\xe2\x80\x9e",
                                                             "\xe3\x80\x8c",
                                                             "\xef\xbc\x88"};
  static constexpr std::array<std::string_view, 18> kClose = {"\"",
                                                              "'",
                                                              ")",
                                                              "]",
                                                              "}",
                                                              ">",
                                                              "*",
                                                              "`",
                                                              ".",
                                                              ",",
                                                              ";",
                                                              ":",
                                                              "\xe2\x80\x9d",
                                                              "\xe2\x80\x99",
                                                              "\xc2\xbb",
                                                              "\xe3\x80\x8d",
                                                              "\xef\xbc\x89",
                                                              "\xe3\x80\x82"};
  // Each pass removes at least one byte, so both loops end.
  for (bool again = true; again && !t.empty();) {
    again = false;
    for (std::string_view o : kOpen)
      if (t.starts_with(o)) {
        t.remove_prefix(o.size());
        again = true;
        break;
      }
  }
  for (bool again = true; again && !t.empty();) {
    again = false;
    for (std::string_view c : kClose)
      if (t.ends_with(c)) {
        t.remove_suffix(c.size());
        again = true;
        break;
      }
  }
  if (t.size() > kMaxToken) return {};
  return std::string(t);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

struct Collector {
  std::size_t max;
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  void add(std::string t) {
    if (t.empty() || out.size() >= max) return;
    if (seen.insert(t).second) out.push_back(std::move(t));
  }
  bool full() const { return out.size() >= max; }
};

// Keywords by their first byte (ASCII lowered), so a line is scanned once, not once per
// keyword.
struct KeywordIndex {
  std::array<std::vector<std::string>, 256> by_first;
  KeywordIndex() {
    for (std::string_view kw : kKeywords) {
      std::string k(kw);
      for (char& ch : k) ch = lower(ch);
      by_first[static_cast<unsigned char>(k[0])].push_back(std::move(k));
    }
  }
};

// Looks for "keyword sep token" in one line. Returns true when a keyword ends the line
// (its password is then on the next line).
bool scan_line(std::string_view line, Collector& c) {
  static const KeywordIndex index;
  std::string low(line);
  for (char& ch : low) ch = lower(ch);
  bool dangling = false;
  for (std::size_t hit = 0; hit < low.size() && !c.full(); ++hit) {
    for (const std::string& kw : index.by_first[static_cast<unsigned char>(low[hit])]) {
      if (low.compare(hit, kw.size(), kw) != 0) continue;
      const std::size_t pos = hit + kw.size();
      // CJK and kana are written without spaces: no word boundaries to check there.
      const bool cjk = static_cast<unsigned char>(kw[0]) >= 0xE3;
      const bool left_ok = cjk || hit == 0 || !wordish(static_cast<unsigned char>(line[hit - 1]));
      const bool right_ok = cjk || pos == line.size() ||
                            !wordish(static_cast<unsigned char>(line[pos])) ||
                            (static_cast<unsigned char>(line[pos]) >= 0x80 &&
                             skip_separator(line, pos) != std::string_view::npos);
      if (!left_ok || !right_ok) continue;
      const std::size_t after = skip_separator(line, pos);
      if (after == std::string_view::npos) {
        // "Password" alone (or "Password" + blanks) on its line.
        if (skip_blanks(line, pos) >= line.size()) dangling = true;
        continue;
      }
      if (after >= line.size()) {
        dangling = true;
        continue;
      }
      c.add(take_token(line, after));
    }
  }
  return dangling;
}

}  // namespace

std::vector<std::string> find_passwords(std::string_view text, std::size_t max) {
  Collector c{max, {}, {}};
  if (max == 0) return {};
  bool dangling = false;
  std::size_t start = 0;
  while (start < text.size() && !c.full()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;  // the password may follow after a blank line
    if (dangling) {
      // A lone short token on the line after "Password:".
      dangling = false;
      if (line.size() <= kMaxToken && line.find_first_of(" \t") == std::string_view::npos)
        c.add(take_token(line, 0));
    }
    // Long lines are prose, not "Password: x"; they are still scanned (bounded by the
    // line's length times the keyword count).
    dangling = scan_line(line, c);
  }
  return std::move(c.out);
}

}  // namespace bulwark::inspect
