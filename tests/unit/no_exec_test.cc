// Promise 1: the product never runs another program. The gateway Bulwark replaces was
// taken over through a shell command built from an attachment name (CVE-2023-2868).
// No file under src/ may call a process-spawning function; fork is for src/sandbox/ only.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

TEST(Hardening, NoProcessSpawningInProduct) {
  const std::regex spawn(
      R"(\b(std::)?(system|popen|execl|execlp|execle|execv|execvp|execvpe|execve|fexecve|posix_spawnp?|wordexp)\s*\()");
  const std::regex forking(R"(\b(fork|vfork|clone)\s*\()");
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(BULWARK_SOURCE_DIR) / "src")) {
    const auto ext = e.path().extension();
    if (ext != ".cc" && ext != ".h") continue;
    ++files;
    std::ifstream in(e.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      const auto code = line.substr(0, line.find("//"));
      EXPECT_FALSE(std::regex_search(code, spawn)) << e.path() << ":" << n << ": " << line;
      const bool in_sandbox = e.path().string().find("/src/sandbox/") != std::string::npos;
      if (!in_sandbox) {
        EXPECT_FALSE(std::regex_search(code, forking)) << e.path() << ":" << n << ": " << line;
      }
    }
  }
  EXPECT_GT(files, 20u);
}
