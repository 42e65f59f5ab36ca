// The whole pipeline on hostile mail: MIME evasions, containers and exploit names must end
// in the right verdict with the threat's exact location. Inputs are built here.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scan/output.h"
#include "scan/pipeline.h"

using bulwark::Action;
using bulwark::scan::Scanner;

namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/tests/golden/" + name + ".eml",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Scanner& scanner() {
  static const Scanner s(bulwark::default_config());
  return s;
}

// A tar (optionally gzipped) holding `files` (name, content), built with libarchive.
std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files, bool gzip) {
  std::string out(1 << 20, '\0');
  std::size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  for (const auto& [name, content] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::string base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
    if (out.size() % 77 == 76) out += "\r\n";
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string mail_with_attachment(const std::string& name, const std::string& bytes) {
  return "From: a@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
         "see attached\r\n--B\r\nContent-Type: application/octet-stream; name=\"" + name +
         "\"\r\nContent-Disposition: attachment; filename=\"" + name +
         "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(bytes) + "\r\n--B--\r\n";
}

bool has_symbol_at(const bulwark::scan::Verdict& v, const std::string& name, const std::string& where) {
  for (const auto& s : v.symbols)
    if (s.name == name && s.detail.find(where) != std::string::npos) return true;
  return false;
}

}  // namespace

// Every golden evasion hides an executable; inspection must find it in whatever reading
// it sits and the message must not be accepted.
class HiddenExecutable : public testing::TestWithParam<const char*> {};

TEST_P(HiddenExecutable, IsFoundAndNotAccepted) {
  const auto r = scanner().scan(golden(GetParam()), GetParam());
  EXPECT_TRUE(r.verdict.action == Action::kQuarantine || r.verdict.action == Action::kReject)
      << bulwark::scan::to_json(r.verdict);
  bool found = false;
  for (const auto& s : r.verdict.symbols) found |= s.name == "FILE_DANGEROUS_TYPE";
  EXPECT_TRUE(found);
}

INSTANTIATE_TEST_SUITE_P(Golden, HiddenExecutable,
                         testing::Values("dup_content_type", "dup_cte", "dup_boundary",
                                         "boundary_2231", "boundary_prefix", "bare_cr_header",
                                         "epilogue_content", "cte_nonstandard", "base64_undeclared",
                                         "uuencode_in_text", "multipart_no_boundary",
                                         "name_filename_mismatch", "nested_rfc822"));

TEST(ScanInspect, CleanMailIsAccepted) {
  for (const char* f : {"simple_text", "charset_latin1"}) {
    const auto r = scanner().scan(golden(f), f);
    EXPECT_EQ(r.verdict.action, Action::kAccept) << f << " " << bulwark::scan::to_json(r.verdict);
    EXPECT_TRUE(r.verdict.threats.empty()) << f;
  }
}

// The multipart/alternative sample is a phishing lure (link text shows bank.example, the
// link goes to evil.example; hidden text; "verify your account"): the rules tag it.
TEST(ScanInspect, PhishingLureIsTaggedAndExplained) {
  const auto r = scanner().scan(golden("multipart_alternative"), "m");
  EXPECT_EQ(r.verdict.action, Action::kTag) << bulwark::scan::to_json(r.verdict);
  bool mismatch = false;
  for (const auto& s : r.verdict.symbols)
    if (s.name == "URL_TEXT_MISMATCH" && s.detail == "shows bank.example, goes to evil.example") mismatch = true;
  EXPECT_TRUE(mismatch) << bulwark::scan::to_json(r.verdict);
}

// CVE-2023-2868: a TAR member name carrying a shell command.
TEST(ScanInspect, TarMemberNameWithShellCommandIsAnExploit) {
  const std::string evil = "'`echo aWQgPiAvdG1wL3B3bmVk | base64 -d | sh`'.txt";
  const std::string tar = make_tar({{"readme.txt", "hello"}, {evil, "x"}}, false);
  const auto r = scanner().scan(mail_with_attachment("report.tar", tar), "m");
  EXPECT_EQ(r.verdict.action, Action::kReject);
  bool found = false;
  for (const auto& t : r.verdict.threats)
    found |= t.kind == "exploit" && t.location == "2/report.tar/" + evil &&
             t.name == "EXPLOIT_SHELL_IN_FILENAME";
  EXPECT_TRUE(found) << bulwark::scan::to_json(r.verdict);
}

TEST(ScanInspect, ExecutableInsideNestedArchivesHasItsPath) {
  const std::string exe = std::string("MZ\x90\x00", 4) + std::string(200, 'A');
  const std::string inner = make_tar({{"docs/run.exe", exe}}, false);
  const std::string outer = make_tar({{"docs.tar", inner}}, true);
  const auto r = scanner().scan(mail_with_attachment("invoice.tgz", outer), "m");
  EXPECT_NE(r.verdict.action, Action::kAccept);
  EXPECT_TRUE(has_symbol_at(r.verdict, "FILE_DANGEROUS_TYPE", "2/invoice.tgz/docs.tar/docs/run.exe"))
      << bulwark::scan::to_json(r.verdict);
}
