// Maildir delivery: the file lands in new/ (never left in tmp/), with Return-Path and
// Delivered-To prepended, private permissions, unique names, and no path escape.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "smtp/maildir.h"

using namespace bulwark;
namespace fs = std::filesystem;

namespace {

class MaildirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("bulwark-maildir-" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static unsigned mode(const fs::path& p) {
    struct stat st{};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
  }
  fs::path root_;
};

TEST_F(MaildirTest, DeliversIntoNew) {
  Envelope env;
  env.mail_from = "alice@example.org";
  const std::string msg = "Subject: hi\r\n\r\nhello\r\n";
  auto r = smtp::deliver_maildir((root_ / "mail").string(), env, "Bob@Example.COM", msg);
  ASSERT_TRUE(r) << r.error().message;
  const fs::path path = r.value();
  EXPECT_EQ(path.parent_path(), root_ / "mail" / "bob@example.com" / "new");
  EXPECT_EQ(slurp(path), "Return-Path: <alice@example.org>\r\nDelivered-To: Bob@Example.COM\r\n" + msg);
  EXPECT_TRUE(std::regex_match(path.filename().string(), std::regex(R"(\d+\.M\d+P\d+Q\d+\..+)")))
      << path.filename();
  for (const char* sub : {"tmp", "new", "cur"}) {
    EXPECT_TRUE(fs::is_directory(root_ / "mail" / "bob@example.com" / sub));
    EXPECT_EQ(mode(root_ / "mail" / "bob@example.com" / sub), 0700u);
  }
  EXPECT_EQ(mode(root_ / "mail"), 0700u);
  EXPECT_TRUE(fs::is_empty(root_ / "mail" / "bob@example.com" / "tmp"));
  EXPECT_EQ(mode(path), 0600u);
}

TEST_F(MaildirTest, NamesAreUnique) {
  Envelope env;
  std::set<std::string> names;
  for (int i = 0; i < 50; ++i) {
    auto r = smtp::deliver_maildir(root_.string(), env, "u@example.com", "x\r\n");
    ASSERT_TRUE(r) << r.error().message;
    names.insert(r.value());
  }
  EXPECT_EQ(names.size(), 50u);
}

TEST_F(MaildirTest, HostileRecipientStaysUnderRoot) {
  Envelope env;
  env.mail_from = "a@b\r\nX-Injected: 1";
  for (const char* bad : {"../../etc/passwd", "..", ".", "", "a/b@c", "x\r\nX: y"}) {
    auto r = smtp::deliver_maildir(root_.string(), env, bad, "m\r\n");
    ASSERT_TRUE(r) << bad << ": " << r.error().message;
    const fs::path p = fs::weakly_canonical(r.value());
    EXPECT_EQ(p.parent_path().parent_path().parent_path(), fs::weakly_canonical(root_)) << bad;
    EXPECT_EQ(slurp(p).find("\r\nX-Injected"), std::string::npos);
    EXPECT_EQ(slurp(p).find("\r\nX: y"), std::string::npos);
  }
}

TEST_F(MaildirTest, UnwritableRootIsAnError) {
  Envelope env;
  auto r = smtp::deliver_maildir("/proc/bulwark-no-such-dir", env, "u@example.com", "m\r\n");
  EXPECT_FALSE(r);
}

}  // namespace
