// The built binary carries every hardening the build promises: PIE, full RELRO, a
// non-executable stack, stack protector, fortified libc calls, CET; and every product
// translation unit was compiled with the hardening flags.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");  // test code only: the product never spawns
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

bool has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const std::string kBinary = BULWARK_BINARY;

}  // namespace

// The sanitizer build replaces fortified libc calls with ASan's own; hardening is checked
// on the real build.
#ifdef BULWARK_SANITIZED
#define MAYBE_SKIP() GTEST_SKIP() << "sanitizer build"
#else
#define MAYBE_SKIP() (void)0
#endif

TEST(Hardening, PositionIndependentExecutable) {
  const std::string h = run("readelf -W -h " + kBinary);
  ASSERT_TRUE(has(h, "ELF Header")) << "readelf failed on " << kBinary;
  EXPECT_TRUE(has(h, "DYN (Position-Independent Executable file)") || has(h, "DYN (Shared object file)"))
      << h;
  EXPECT_TRUE(has(run("readelf -W -d " + kBinary), "PIE"));
}

TEST(Hardening, FullRelro) {
  EXPECT_TRUE(has(run("readelf -W -l " + kBinary), "GNU_RELRO"));
  const std::string d = run("readelf -W -d " + kBinary);
  EXPECT_TRUE(has(d, "BIND_NOW") || has(d, "Flags: NOW")) << d;
}

TEST(Hardening, NonExecutableStack) {
  const std::string l = run("readelf -W -l " + kBinary);
  const auto at = l.find("GNU_STACK");
  ASSERT_NE(at, std::string::npos);
  const std::string line = l.substr(at, l.find('\n', at) - at);
  EXPECT_TRUE(has(line, " RW ")) << line;
  EXPECT_FALSE(has(line, "RWE")) << line;
}

TEST(Hardening, StackProtectorAndFortify) {
  MAYBE_SKIP();
  const std::string syms = run("readelf -W --dyn-syms " + kBinary);
  EXPECT_TRUE(has(syms, "__stack_chk_fail"));
  EXPECT_TRUE(has(syms, "_chk@")) << "no fortified libc call in the binary";
}

// Every object we compile carries the IBT/SHSTK property. The linked binary cannot: the
// property is the AND over all inputs, and Debian 12's glibc start files (crt1.o, crti.o)
// are built without it.
TEST(Hardening, ControlFlowProtectionInEveryObject) {
  const std::string n = run("find " + std::string(BULWARK_BUILD_DIR) +
                            "/src -name '*.o' -exec readelf -W -n {} + 2>&1");
  std::size_t objects = 0, marked = 0;
  for (std::size_t at = 0; (at = n.find("File: ", at)) != std::string::npos; ++at) ++objects;
  for (std::size_t at = 0; (at = n.find("x86 feature: IBT, SHSTK", at)) != std::string::npos; ++at)
    ++marked;
  EXPECT_GT(objects, 20u);
  EXPECT_EQ(marked, objects);
}

TEST(Hardening, EveryProductUnitCompiledWithFlags) {
  MAYBE_SKIP();
  std::ifstream in(std::string(BULWARK_BUILD_DIR) + "/compile_commands.json");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string db = ss.str();
  std::size_t units = 0;
  for (std::size_t at = 0; (at = db.find("\"command\":", at)) != std::string::npos; ++at) {
    const std::size_t end = db.find('\n', at);
    const std::string cmd = db.substr(at, end - at);
    const auto file_at = db.find("\"file\":", at);
    const std::string file = db.substr(file_at, db.find('\n', file_at) - file_at);
    if (!has(file, "/src/")) continue;
    ++units;
    for (const char* flag : {"-fstack-protector-strong", "-fstack-clash-protection",
                             "-fcf-protection", "-D_FORTIFY_SOURCE=3"})
      EXPECT_TRUE(has(cmd, flag)) << file << " lacks " << flag;
    EXPECT_TRUE(has(cmd, "-fPIE") || has(cmd, "-fPIC")) << file << " is not position-independent";
  }
  EXPECT_GT(units, 20u);
}
