// The classifier on a small fixed slice of the real SpamAssassin corpus (BULWARK_CORPUS):
// train on the first 300 of spam-1 and easy-ham-1 (sorted by name), score the first 200 of
// spam-2 and easy-ham-2. Bounds are the measured values minus a margin, so a tokenizer or
// model change that costs accuracy fails here. Skips without a corpus.
// Measured (unigram tokens, Fisher combining): spam >= 0.5: 196/200, >= 0.99: 168/200;
// easy ham >= 0.5: 0/200, >= 0.99: 0/200.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "classify/classifier.h"
#include "classify/tokenizer.h"
#include "mime/parser.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::uint64_t>> load(const fs::path& dir, std::size_t n) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().front() != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  files.resize(std::min(files.size(), n));
  const bulwark::Config c;
  std::vector<std::vector<std::uint64_t>> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string raw = ss.str();
    if (raw.starts_with("From ")) raw.erase(0, raw.find('\n') + 1);  // the mbox envelope line
    out.push_back(bulwark::classify::token_hashes(bulwark::mime::parse_message(std::move(raw), c.limits, c.mime)));
  }
  return out;
}

TEST(ClassifyCorpus, RecallAndFalsePositivesOnAFixedSlice) {
  const char* env = std::getenv("BULWARK_CORPUS");
  if (!env || !*env) GTEST_SKIP() << "BULWARK_CORPUS not set";
  const fs::path corpus(env);
  ASSERT_TRUE(fs::is_directory(corpus / "spam-1")) << corpus;
  const auto spam = load(corpus / "spam-1", 300), ham = load(corpus / "easy-ham-1", 300);
  const auto test_spam = load(corpus / "spam-2", 200), test_ham = load(corpus / "easy-ham-2", 200);
  ASSERT_EQ(spam.size(), 300u);
  ASSERT_EQ(test_ham.size(), 200u);

  std::map<std::uint64_t, std::pair<std::uint32_t, std::uint32_t>> counts;
  for (const auto& m : spam)
    for (auto h : m) ++counts[h].first;
  for (const auto& m : ham)
    for (auto h : m) ++counts[h].second;
  std::vector<bulwark::classify::TokenCounts> tokens;
  for (const auto& [h, c] : counts) tokens.push_back({h, c.first, c.second});
  const bulwark::classify::Model model(std::move(tokens), spam.size(), ham.size());

  auto count = [&](const auto& set, double threshold) {
    return static_cast<std::size_t>(std::count_if(set.begin(), set.end(), [&](const auto& m) {
      return model.spam_probability(m) >= threshold;
    }));
  };
  const std::size_t caught_50 = count(test_spam, 0.5), caught_99 = count(test_spam, 0.99);
  const std::size_t fp_50 = count(test_ham, 0.5), fp_99 = count(test_ham, 0.99);
  std::printf("spam >= 0.5: %zu/200, >= 0.99: %zu/200; ham >= 0.5: %zu/200, >= 0.99: %zu/200\n", caught_50,
              caught_99, fp_50, fp_99);
  EXPECT_GE(caught_50, 190u);
  EXPECT_GE(caught_99, 155u);
  EXPECT_LE(fp_50, 3u);
  EXPECT_LE(fp_99, 1u);
}

}  // namespace
