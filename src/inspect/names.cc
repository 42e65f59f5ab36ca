#include "core/ascii.h"
#include "inspect/names.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "core/escape.h"

namespace bulwark::inspect {

namespace {

using ascii::lower;

// ---- small byte helpers (names are raw bytes, usually but not always UTF-8) ----

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}
bool is_word(char c) {
  return is_alnum(c) || c == '_';
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Decodes one UTF-8 sequence at s[i]; returns the code point (or -1 for an invalid byte)
// and sets `len` (at least 1, so every loop over a name advances).
std::int32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b0 < 0x80) return b0;
  std::size_t n = 0;
  std::int32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3, cp = b0 & 0x07;
  } else {
    return -1;
  }
  if (i + n >= s.size()) return -1;
  for (std::size_t k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  len = n + 1;
  return cp;
}

// The last path component, both separators counted (archives from Windows use '\').
std::string_view basename_of(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// Windows ignores trailing dots and spaces: "run.exe. " opens as "run.exe".
std::string_view trim_trailing_dots_spaces(std::string_view s) {
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

std::string_view extension_of(std::string_view base) {
  base = trim_trailing_dots_spaces(base);
  const std::size_t dot = base.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : base.substr(dot + 1);
}

template <std::size_t N>
bool in_list(std::string_view word, const std::array<std::string_view, N>& list) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// ---- shell syntax (CVE-2023-2868) ----
//
// The rule, identical for attachment names and archive member names. A name is an exploit
// attempt when it contains shell syntax that *executes* something, not merely characters
// that are special to a shell:
//   1. a backtick pair `...` with something inside            ('`echo aGk= | base64 -d | sh`')
//   2. "$(" or "${" opening a command or parameter expansion ("$(curl x|sh)", "${IFS}")
//   3. a command separator ; | & (also && ||) followed, after blanks or ${IFS}, by a path
//      ("/bin/sh", "./x") or a known command word: always for unambiguous tools (sh, wget,
//      curl, base64, powershell...), and for ordinary-English commands (echo, cat, rm...)
//      only when the separator touches the word or more shell syntax follows
//   4. a redirection to a path, a descriptor or a process (">/tmp/x", ">&2", "<(")
//   5. a newline or carriage return (a command separator everywhere)
//   6. option injection: a name that is an option ("--checkpoint-action=exec=sh x",
//      "-rf", "-oProxyCommand=...") — a leading '-' then letters up to '=', a blank or
//      the end; "-draft.docx" is not one.
// What is deliberately NOT a hit: lone quotes, '&', ';', '|', '$' as people use them in
// real file names ("Tom's report.pdf", "Q&A.docx", "Smith; Jones.pdf", "Price $5.xlsx"),
// in attachments and in archive members alike (zips of office documents are full of
// them). Unquoting needs something to run afterwards, and that is what 1-6 look for.
constexpr std::array<std::string_view, 44> kStrongCommands = {
    "sh",       "bash",    "dash",       "zsh",     "ksh",      "csh",       "tcsh",   "ash",
    "busybox",  "wget",    "curl",       "nc",      "ncat",     "netcat",    "socat",  "telnet",
    "tftp",     "python",  "python2",    "python3", "perl",     "ruby",      "php",    "lua",
    "base64",   "openssl", "chmod",      "mkfifo",  "xxd",      "nohup",     "setsid", "awk",
    "gawk",     "sed",     "powershell", "pwsh",    "certutil", "bitsadmin", "mshta",  "rundll32",
    "regsvr32", "wscript", "cscript",    "msiexec"};
constexpr std::array<std::string_view, 21> kWeakCommands = {
    "echo",  "printf", "cat", "rm",    "cp",     "mv",    "id", "cd",  "ls",  "eval", "exec",
    "sleep", "kill",   "tar", "uname", "whoami", "touch", "dd", "cmd", "iex", "env"};

bool more_shell_syntax(std::string_view rest) {
  return rest.find_first_of("|;>$`/<&") != std::string_view::npos;
}

// After a separator at `i` (already skipped): blanks, $IFS / ${IFS}, then a command.
bool command_follows(std::string_view s, std::size_t i) {
  const std::size_t start = i;
  for (;;) {
    if (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
      ++i;
    } else if (s.substr(i).starts_with("${IFS}")) {
      i += 6;
    } else if (s.substr(i).starts_with("$IFS")) {
      i += 4;
    } else {
      break;
    }
  }
  if (i >= s.size()) return false;
  if (s[i] == '/' || s.substr(i).starts_with("./") || s.substr(i).starts_with("../")) return true;
  // The word must end where the shell ends it: "x;sh.txt" looks up "sh.txt", not sh.
  std::size_t w = i;
  while (w < s.size() && is_word(s[w])) ++w;
  const std::string_view word = s.substr(i, w - i);
  const bool bounded = w == s.size() || s[w] == ' ' || s[w] == '\t' || s[w] == ';' || s[w] == '|' ||
                       s[w] == '&' || s[w] == '$' || s[w] == '<' || s[w] == '>' || s[w] == '`' ||
                       s[w] == ')' || s[w] == '\'' || s[w] == '"';
  if (!bounded || word.empty()) return false;
  if (in_list(word, kStrongCommands)) return true;
  if (in_list(word, kWeakCommands)) return i == start || more_shell_syntax(s.substr(w));
  return false;
}

const char* shell_syntax(std::string_view s) {
  if (s.find_first_of("\r\n") != std::string_view::npos) return "newline";
  // 6: option injection.
  if (s.size() >= 2 && s[0] == '-' && (is_alpha(s[1]) || s[1] == '-')) {
    std::size_t i = 1;
    while (i < s.size() && (is_alnum(s[i]) || s[i] == '-' || s[i] == '_')) ++i;
    if (i == s.size() || s[i] == '=' || s[i] == ' ' || s[i] == '\t') return "option";
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '`') {
      const std::size_t close = s.find('`', i + 1);
      if (close != std::string_view::npos && close > i + 1) return "backticks";
    } else if (c == '$' && i + 1 < s.size()) {
      const char n = s[i + 1];
      if (n == '(' || n == '{') {
        std::size_t k = i + 2;
        while (k < s.size() && (s[k] == ' ' || s[k] == '(')) ++k;
        if (k < s.size() && (is_alpha(s[k]) || s[k] == '_' || s[k] == '/' || s[k] == '.' ||
                             s[k] == '$' || s[k] == '`' || s[k] == '#' || s[k] == '!'))
          return n == '(' ? "$(" : "${";
      }
    } else if (c == ';' || c == '|' || c == '&') {
      std::size_t k = i + 1;
      if (k < s.size() && (s[k] == '|' || s[k] == '&')) ++k;  // || && |& &|
      if (command_follows(s, k)) return "command after separator";
    } else if (c == '>' || c == '<') {
      std::size_t k = i + 1;
      if (k < s.size() && s[k] == '(') return "process substitution";
      if (k < s.size() && (s[k] == '>' || s[k] == '&')) {
        if (s[k] == '&') return "redirection";
        ++k;
      }
      while (k < s.size() && s[k] == ' ') ++k;
      if (k < s.size() && s[k] == '/') return "redirection";
    }
  }
  return nullptr;
}

// ---- paths ----

// "%2e" -> '.', "%2f" / "%5c" -> separators, overlong "%c0%ae" and raw C0 AE / C0 AF too,
// so "..%2f" and "%2e%2e/" are seen as what a decoding unpacker would make of them.
std::string decode_path_escapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      const int v = hex(s[i + 1]) * 16 + hex(s[i + 2]);
      if (v == 0xc0 && i + 5 < s.size() && s[i + 3] == '%' && hex(s[i + 4]) >= 0 &&
          hex(s[i + 5]) >= 0) {
        const int w = hex(s[i + 4]) * 16 + hex(s[i + 5]);
        if (w == 0xae || w == 0xaf) {
          out += w == 0xae ? '.' : '/';
          i += 6;
          continue;
        }
      }
      if (v == 0x2e || v == 0x2f || v == 0x5c) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    if (static_cast<unsigned char>(s[i]) == 0xc0 && i + 1 < s.size() &&
        (static_cast<unsigned char>(s[i + 1]) == 0xae ||
         static_cast<unsigned char>(s[i + 1]) == 0xaf)) {
      out += static_cast<unsigned char>(s[i + 1]) == 0xae ? '.' : '/';
      i += 2;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// A ".." component; Windows also reads "... " or ".. " as one (trailing dots/spaces go).
bool has_dotdot_component(std::string_view s) {
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view comp = s.substr(start, end - start);
    while (!comp.empty() && comp.back() == ' ') comp.remove_suffix(1);
    if (comp.size() >= 2 && comp.find_first_not_of('.') == std::string_view::npos) return true;
    start = end + 1;
  }
  return false;
}

enum class Absolute { kNo, kRoot, kDrive, kUnc };

Absolute absolute_kind(std::string_view s) {
  if (s.starts_with("\\\\") || s.starts_with("//")) return Absolute::kUnc;
  if (!s.empty() && (s[0] == '/' || s[0] == '\\')) return Absolute::kRoot;
  if (s.size() >= 2 && is_alpha(s[0]) && s[1] == ':') return Absolute::kDrive;
  return Absolute::kNo;
}

// ---- characters ----

bool is_bidi_control(std::int32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
         cp == 0x200F || cp == 0x061C;
}

// Dots that look like '.' but do not end a name's stem for Windows or macOS.
bool is_lookalike_dot(std::int32_t cp) {
  return cp == 0xFF0E || cp == 0x2024 || cp == 0xFE52 || cp == 0x2E31 || cp == 0x00B7 ||
         cp == 0x0701 || cp == 0x0702 || cp == 0xA4F8;
}

// Blanks wider than a space, used to push the real extension out of view.
bool is_wide_blank(std::int32_t cp) {
  return cp == ' ' || cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000 || cp == 0x3164 || cp == 0x2800 || cp == 0x115F ||
         cp == 0x1160 || cp == 0xFFA0;
}

struct CharScan {
  bool bidi = false;
  bool control = false;
  bool lookalike_dot_ext = false;
};

CharScan scan_chars(std::string_view s) {
  CharScan r;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const std::int32_t cp = decode_utf8(s, i, len);
    if (cp >= 0) {
      if (is_bidi_control(cp)) r.bidi = true;
      // CR/LF are shell syntax (an exploit), reported there.
      if ((cp < 0x20 && cp != '\r' && cp != '\n') || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
        r.control = true;
      if (is_lookalike_dot(cp)) {
        // Followed by an extension-like run of 1..5 ASCII letters or digits.
        std::size_t k = i + len, n = 0;
        while (k < s.size() && is_alnum(s[k]) && n < 6) ++k, ++n;
        if (n >= 1 && n <= 5) r.lookalike_dot_ext = true;
      }
    }
    i += len;
  }
  return r;
}

// An extension that mixes ASCII letters with other letters ("p\u0440f" with a Cyrillic
// er): a reader sees a familiar extension, Windows sees an unknown one.
bool mixed_script_extension(std::string_view ext) {
  if (ext.empty() || ext.size() > 16) return false;
  bool ascii_letter = false, other = false;
  for (char c : ext) {
    if (is_alpha(c)) ascii_letter = true;
    if (static_cast<unsigned char>(c) >= 0x80) other = true;
  }
  return ascii_letter && other;
}

// ---- extensions ----

// Decoy extensions: what a double-extension name wants the reader to believe.
constexpr std::array<std::string_view, 38> kDecoyExtensions = {
    "pdf", "doc", "docx", "xls",   "xlsx",    "ppt", "pptx", "rtf", "txt",  "csv",
    "odt", "ods", "odp",  "jpg",   "jpeg",    "png", "gif",  "bmp", "tif",  "tiff",
    "mp3", "mp4", "avi",  "mov",   "wav",     "zip", "rar",  "7z",  "html", "htm",
    "xml", "eml", "msg",  "pages", "numbers", "key", "heic", "webp"};

// Final extensions that make a double extension dangerous: the code-running ones, plus
// the page types phishing kits use ("invoice.pdf.html").
bool active_extension(std::string_view ext_lower) {
  static constexpr std::array<std::string_view, 6> kPages = {"html",  "htm", "shtml",
                                                             "xhtml", "svg", "mht"};
  return in_list(ext_lower, kPages);
}

std::string_view strip_wide_blanks_back(std::string_view s) {
  for (;;) {
    if (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '_')) {
      s.remove_suffix(1);
      continue;
    }
    // A multi-byte blank: find the start of the last UTF-8 sequence.
    std::size_t start = s.size();
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start - 1]) & 0xC0) == 0x80)
      --start;
    if (start == 0 || start == s.size()) return s;
    --start;
    std::size_t len = 1;
    const std::int32_t cp = decode_utf8(s, start, len);
    if (start + len != s.size() || cp < 0 || !is_wide_blank(cp)) return s;
    s.remove_suffix(len);
  }
}

// "invoice.pdf.exe", "invoice.pdf      .exe", "photo.jpg\u3000\u3000.scr".
bool double_extension(std::string_view base, std::string_view ext_lower, bool& padded) {
  padded = false;
  if (ext_lower.empty()) return false;
  std::string_view stem = trim_trailing_dots_spaces(base);
  stem.remove_suffix(ext_lower.size() + 1);
  const std::string_view trimmed = strip_wide_blanks_back(stem);
  // Many blanks before the real extension hide it in a narrow column.
  padded = stem.size() - trimmed.size() >= 5;
  const std::size_t dot = trimmed.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string inner = ascii_lower(trimmed.substr(dot + 1));
  return in_list(std::string_view(inner), kDecoyExtensions);
}

}  // namespace

bool dangerous_extension(std::string_view name) {
  // Windows (PE, scripts, shortcuts, installers, containers that mount, Office add-ins and
  // macro formats, help and control-panel files), macOS (app bundles, installers, command
  // files) and Linux desktops (shell scripts, .desktop launchers, ELF without extension is
  // found by content instead).
  static constexpr std::array<std::string_view, 98> kDangerous = {"exe",
                                                                  "com",
                                                                  "scr",
                                                                  "pif",
                                                                  "cpl",
                                                                  "msi",
                                                                  "msp",
                                                                  "mst",
                                                                  "msc",
                                                                  "msu",
                                                                  "dll",
                                                                  "sys",
                                                                  "drv",
                                                                  "ocx",
                                                                  "bat",
                                                                  "cmd",
                                                                  "ps1",
                                                                  "ps1xml",
                                                                  "ps2",
                                                                  "ps2xml",
                                                                  "psc1",
                                                                  "psc2",
                                                                  "psm1",
                                                                  "psd1",
                                                                  "vb",
                                                                  "vbs",
                                                                  "vbe",
                                                                  "js",
                                                                  "jse",
                                                                  "wsf",
                                                                  "wsc",
                                                                  "wsh",
                                                                  "ws",
                                                                  "hta",
                                                                  "lnk",
                                                                  "url",
                                                                  "scf",
                                                                  "reg",
                                                                  "jar",
                                                                  "jnlp",
                                                                  "iso",
                                                                  "img",
                                                                  "vhd",
                                                                  "vhdx",
                                                                  "udf",
                                                                  "one",
                                                                  "onepkg",
                                                                  "appx",
                                                                  "appxbundle",
                                                                  "msix",
                                                                  "msixbundle",
                                                                  "appinstaller",
                                                                  "appref-ms",
                                                                  "application",
                                                                  "xbap",
                                                                  "vsto",
                                                                  "chm",
                                                                  "hlp",
                                                                  "inf",
                                                                  "ins",
                                                                  "isp",
                                                                  "gadget",
                                                                  "diagcab",
                                                                  "settingcontent-ms",
                                                                  "searchconnector-ms",
                                                                  "library-ms",
                                                                  "xll",
                                                                  "xlam",
                                                                  "xla",
                                                                  "ppam",
                                                                  "ppa",
                                                                  "docm",
                                                                  "dotm",
                                                                  "xlsm",
                                                                  "xltm",
                                                                  "pptm",
                                                                  "potm",
                                                                  "ppsm",
                                                                  "sldm",
                                                                  "iqy",
                                                                  "slk",
                                                                  "mde",
                                                                  "accde",
                                                                  "ade",
                                                                  "adp",
                                                                  "mam",
                                                                  "sh",
                                                                  "bash",
                                                                  "csh",
                                                                  "ksh",
                                                                  "zsh",
                                                                  "command",
                                                                  "desktop",
                                                                  "elf",
                                                                  "app",
                                                                  "pkg",
                                                                  "mpkg",
                                                                  "dmg"};
  const std::string ext = ascii_lower(extension_of(basename_of(name)));
  return !ext.empty() && in_list(std::string_view(ext), kDangerous);
}

void check_name(const Blob& where, std::string_view name, NameOrigin origin, Inspector& insp) {
  if (name.empty()) return;
  const std::string_view base = basename_of(name);
  const std::string decoded = decode_path_escapes(name);

  // Exploit attempts: threats, whatever else the name is.
  if (shell_syntax(name) || shell_syntax(decoded))
    insp.threat(where, "exploit", "EXPLOIT_SHELL_IN_FILENAME");
  if (has_dotdot_component(name) || has_dotdot_component(decoded))
    insp.threat(where, "exploit", "EXPLOIT_PATH_TRAVERSAL");
  const Absolute abs = std::max(absolute_kind(name), absolute_kind(decoded));
  // Some mail clients put the sender's local path in an attachment's filename parameter
  // ("C:\Users\...\report.pdf"); readers take its last component. A drive path is only an
  // exploit inside an archive, where an unpacker would honour it.
  if (abs != Absolute::kNo && (origin == NameOrigin::kArchiveMember || abs != Absolute::kDrive))
    insp.threat(where, "exploit", "EXPLOIT_ABSOLUTE_PATH");

  // Symbols carry the name (or the component they are about) escaped for display.
  const std::string shown = "'" + escape_for_display(name) + "'";
  const std::string shown_base = "'" + escape_for_display(base) + "'";
  const CharScan chars = scan_chars(name);
  if (chars.bidi) insp.symbol(where, "FILE_NAME_BIDI", shown);
  if (chars.control) insp.symbol(where, "FILE_NAME_CONTROL", shown);
  if (name.size() > insp.limits().max_name_length) {
    insp.symbol(where, "FILE_NAME_LONG",
                std::to_string(name.size()) + " bytes: '" + escape_for_display(name.substr(0, 64)) +
                    "...'");
  }

  const std::string ext = ascii_lower(extension_of(base));
  const bool dangerous = dangerous_extension(base);
  if (dangerous) insp.symbol(where, "FILE_DANGEROUS_EXT", "." + escape_for_display(ext));
  bool padded = false;
  const bool dbl = double_extension(base, ext, padded);
  if ((dbl && (dangerous || active_extension(ext))) || (padded && dangerous))
    insp.symbol(where, "FILE_NAME_DOUBLE_EXT", shown_base);
  if (chars.lookalike_dot_ext || mixed_script_extension(extension_of(base)))
    insp.symbol(where, "FILE_NAME_UNICODE_TRICK", shown_base);
}

}  // namespace bulwark::inspect
