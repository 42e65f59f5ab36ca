// `bulwark train` end to end: the real binary on a temporary directory of messages.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

struct Outcome {
  int status = -1;
  std::string out;
};

// Test code only (the product never spawns): runs the binary through the shell.
Outcome run(const std::string& args) {
  Outcome r;
  const std::string cmd = std::string(BULWARK_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void write(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

std::string message(bool spam, int i) {
  const std::string words = spam ? "winner lottery prize claim cheap pharmacy offer urgent bitcoin "
                                 : "meeting agenda patch review kernel release minutes lunch build ";
  std::string body;
  for (int k = 0; k < 8; ++k) body += words;
  return "From: " + std::string(spam ? "deals@promo.example" : "bob@corp.example") +
         "\r\nTo: alice@corp.example\r\nSubject: " + (spam ? "winner " : "meeting ") + std::to_string(i) +
         "\r\n\r\n" + body + std::to_string(i) + "\r\n";
}

TEST(ClassifyCli, TrainIsResumableAndScanUsesTheModel) {
  const fs::path d = fs::temp_directory_path() / ("bulwark-train-" + std::to_string(::getpid()));
  fs::remove_all(d);
  for (int i = 0; i < 6; ++i) {
    write(d / "spam" / ("s" + std::to_string(i) + ".eml"), message(true, i));
    write(d / "ham" / "sub" / ("h" + std::to_string(i) + ".eml"), message(false, i));
  }
  // Two more spam in one mbox.
  write(d / "spam.mbox", "From x Mon Jan  1 00:00:00 2024\n" + message(true, 100) + "\nFrom y Mon Jan  1 00:00:00 2024\n" +
                             message(true, 101));
  write(d / "bulwark.toml", "[spool]\ndata_dir = \"" + (d / "data").string() + "\"\n\n[classify]\nmin_train = 5\n");
  const std::string common = " --config " + (d / "bulwark.toml").string() + " --spam " + (d / "spam").string() + " " +
                             (d / "spam.mbox").string() + " --ham " + (d / "ham").string();

  Outcome first = run("train" + common);
  EXPECT_EQ(first.status, 0) << first.out;
  EXPECT_NE(first.out.find("spam: 8 learned, 0 already known"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("ham: 6 learned, 0 already known"), std::string::npos) << first.out;
  EXPECT_TRUE(fs::exists(d / "data" / "classifier.sqlite3"));

  Outcome again = run("train" + common);
  EXPECT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find("spam: 0 learned, 8 already known"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("8 spam, 6 ham"), std::string::npos) << again.out;

  write(d / "new" / "n.eml", message(true, 55));
  Outcome scan = run("scan --format json --config " + (d / "bulwark.toml").string() + " " + (d / "new").string());
  const auto v = nlohmann::json::parse(scan.out.substr(0, scan.out.find('\n')));
  bool found = false;
  for (const auto& s : v["symbols"])
    if (s["name"].get<std::string>().starts_with("BAYES_SPAM")) found = true;
  EXPECT_TRUE(found) << scan.out;

  Outcome reset = run("train --reset --config " + (d / "bulwark.toml").string() + " --ham " + (d / "ham").string());
  EXPECT_EQ(reset.status, 0) << reset.out;
  EXPECT_NE(reset.out.find("0 spam, 6 ham"), std::string::npos) << reset.out;

  Outcome nothing = run("train");
  EXPECT_EQ(nothing.status, 2);
  fs::remove_all(d);
}

}  // namespace
