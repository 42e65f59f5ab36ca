// Golden tests: every tests/golden/NAME.eml is parsed and its tree dump compared with
// NAME.ref. To accept a deliberate change, run with BULWARK_UPDATE_GOLDEN=1 and review
// the diff of the .ref files before committing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "mime/parser.h"

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> golden_inputs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(BULWARK_SOURCE_DIR) / "tests/golden"))
    if (e.path().extension() == ".eml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

class Golden : public testing::TestWithParam<fs::path> {};

TEST_P(Golden, MatchesReference) {
  const fs::path in = GetParam();
  const fs::path ref = fs::path(in).replace_extension(".ref");
  const bulwark::Config c = bulwark::default_config();
  const auto m = bulwark::mime::parse_message(read_file(in), c.limits, c.mime);
  const std::string got = bulwark::mime::dump_tree(m);
  if (std::getenv("BULWARK_UPDATE_GOLDEN")) {
    std::ofstream(ref, std::ios::binary) << got;
    GTEST_SKIP() << "updated " << ref;
  }
  ASSERT_TRUE(fs::exists(ref)) << "missing " << ref << "; run with BULWARK_UPDATE_GOLDEN=1";
  EXPECT_EQ(read_file(ref), got) << "for " << in;
}

INSTANTIATE_TEST_SUITE_P(Mime, Golden, testing::ValuesIn(golden_inputs()),
                         [](const testing::TestParamInfo<fs::path>& p) {
                           return p.param.stem().string();
                         });

}  // namespace
