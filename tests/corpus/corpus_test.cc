// Every message of the SpamAssassin corpus through parse_message with the default limits:
// real mail must never hit a limit, must yield at least one leaf, valid UTF-8 text and a
// dump. Also prints how often ham and spam raise each symbol (for tuning scores) and fails
// when a heavy "mime" symbol (score >= 2) fires on more than 1% of ham: such a symbol
// would tag legitimate mail.
//
// BULWARK_CORPUS names the corpus directory (`make corpus` fetches it). Unset or empty:
// the tests skip. Set but missing or empty of messages: they fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/config.h"
#include "mime/charset.h"
#include "mime/parser.h"
#include "scan/scoring.h"

namespace fs = std::filesystem;
using bulwark::mime::Message;
using bulwark::mime::Part;

namespace {

struct CorpusFile {
  fs::path path;
  bool spam = false;  // by directory: spam-1, spam-2 hold spam; *ham* hold ham
};

// Every *.eml under the directory named by BULWARK_CORPUS, sorted for stable output.
// Sets `dir` to "" when the variable is unset or empty.
std::vector<CorpusFile> corpus_files(std::string& dir) {
  const char* env = std::getenv("BULWARK_CORPUS");
  dir = env ? env : "";
  std::vector<CorpusFile> out;
  if (dir.empty() || !fs::is_directory(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".eml") continue;
    const std::string rel = fs::relative(e.path().parent_path(), dir).string();
    out.push_back({e.path(), rel.find("spam") != std::string::npos});
  }
  std::sort(out.begin(), out.end(),
            [](const CorpusFile& a, const CorpusFile& b) { return a.path < b.path; });
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string short_name(const CorpusFile& f) {
  return f.path.parent_path().filename().string() + "/" + f.path.filename().string();
}

// Leaves of the primary reading: reached from the root through children only (views,
// embedded blocks, preamble and epilogue hang off `views`).
void primary_leaves(const Message& m, int idx, std::vector<const Part*>& out) {
  const Part& p = m.parts[static_cast<std::size_t>(idx)];
  if (p.is_leaf()) out.push_back(&p);
  for (int c : p.children) primary_leaves(m, c, out);
}

// What one message told us, kept after its Message is gone.
struct Outcome {
  std::vector<std::string> problems;  // broken invariants, with the file name
  std::set<std::string> symbols;
  bool views_only = false;  // every leaf is a view: nothing in the primary reading
};

Outcome check_message(const CorpusFile& f, const bulwark::Config& config) {
  Outcome o;
  const Message m = bulwark::mime::parse_message(read_file(f.path), config.limits, config.mime);
  const std::string name = short_name(f);
  for (const auto& s : m.symbols.all()) {
    o.symbols.insert(s.name);
    if (s.name.starts_with("MIME_LIMIT_"))
      o.problems.push_back(name + ": limit " + s.name + " (" + s.detail + ")");
  }
  if (m.limit_hit && o.problems.empty())
    o.problems.push_back(name + ": limit_hit without a MIME_LIMIT_* symbol");
  if (m.parts.empty()) {
    o.problems.push_back(name + ": no parts at all");
    return o;
  }
  // Some leaf to inspect. Two spam messages have none in the primary reading (their
  // delimiter lines do not match the boundary, for GMime neither); the body is then a
  // preamble view, which inspection still scans.
  if (std::none_of(m.parts.begin(), m.parts.end(), [](const Part& p) { return p.is_leaf(); }))
    o.problems.push_back(name + ": no leaf part");
  std::vector<const Part*> leaves;
  primary_leaves(m, 0, leaves);
  o.views_only = leaves.empty();
  for (const Part& p : m.parts)
    if (!bulwark::mime::is_valid_utf8(p.text))
      o.problems.push_back(name + ": part '" + p.path + "' text is not valid UTF-8");
  if (!bulwark::mime::is_valid_utf8(m.subject))
    o.problems.push_back(name + ": decoded Subject is not valid UTF-8");
  const std::string dump = bulwark::mime::dump_tree(m);
  if (dump.empty()) o.problems.push_back(name + ": empty dump");
  return o;
}

class Corpus : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = corpus_files(dir_);
    if (dir_.empty()) return;
    const bulwark::Config config = bulwark::default_config();
    outcomes_.reserve(files_.size());
    for (const CorpusFile& f : files_) outcomes_.push_back(check_message(f, config));
  }

  // Skips without a corpus; fails when one was named but is not there.
  void RequireCorpus() {
    if (dir_.empty()) GTEST_SKIP() << "BULWARK_CORPUS is not set: run `make corpus` and set it";
    ASSERT_TRUE(fs::is_directory(dir_)) << "BULWARK_CORPUS=" << dir_ << " is not a directory";
    ASSERT_FALSE(files_.empty()) << "no *.eml under BULWARK_CORPUS=" << dir_;
  }

  static std::string dir_;
  static std::vector<CorpusFile> files_;
  static std::vector<Outcome> outcomes_;
};

std::string Corpus::dir_;
std::vector<CorpusFile> Corpus::files_;
std::vector<Outcome> Corpus::outcomes_;

TEST_F(Corpus, EveryMessageParsesWithinLimitsToValidText) {
  RequireCorpus();
  if (IsSkipped() || HasFatalFailure()) return;
  std::vector<std::string> problems;
  std::string views_only;
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    const Outcome& o = outcomes_[i];
    problems.insert(problems.end(), o.problems.begin(), o.problems.end());
    if (o.views_only) views_only += " " + short_name(files_[i]);
  }
  if (!views_only.empty()) std::printf("leaves only in views:%s\n", views_only.c_str());
  std::string shown;
  for (std::size_t i = 0; i < problems.size() && i < 30; ++i) shown += "  " + problems[i] + "\n";
  EXPECT_EQ(problems.size(), 0u) << "of " << files_.size() << " messages:\n" << shown;
  std::printf("corpus: %zu messages parsed, %zu problems\n", files_.size(), problems.size());
}

TEST_F(Corpus, HeavyMimeSymbolsAreRareInHam) {
  RequireCorpus();
  if (IsSkipped() || HasFatalFailure()) return;
  std::size_t ham = 0, spam = 0;
  std::map<std::string, std::pair<std::size_t, std::size_t>> counts;  // symbol -> ham, spam
  std::map<std::string, std::string> ham_examples;                    // symbol -> files
  for (std::size_t i = 0; i < files_.size(); ++i) {
    (files_[i].spam ? spam : ham)++;
    for (const std::string& s : outcomes_[i].symbols) {
      (files_[i].spam ? counts[s].second : counts[s].first)++;
      if (!files_[i].spam && counts[s].first <= 5) ham_examples[s] += " " + short_name(files_[i]);
    }
  }
  ASSERT_GT(ham, 0u) << "no ham in the corpus: cannot measure false positives";

  // The table, most frequent in ham first: the input for tuning scores.
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> rows(counts.begin(),
                                                                                counts.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(b.second.first, b.second.second, a.first) <
           std::tie(a.second.first, a.second.second, b.first);
  });
  std::printf("\n%-30s %6s %5s %7s %7s %7s %7s\n", "symbol", "group", "score", "ham", "ham%",
              "spam", "spam%");
  for (const auto& [name, c] : rows) {
    const auto* info = bulwark::scan::find_symbol(name);
    std::printf("%-30s %6s %5.1f %7zu %6.2f%% %7zu %6.2f%%\n", name.c_str(),
                info ? std::string(info->group).c_str() : "?", info ? info->score : 0.0, c.first,
                100.0 * static_cast<double>(c.first) / static_cast<double>(ham), c.second,
                spam ? 100.0 * static_cast<double>(c.second) / static_cast<double>(spam) : 0.0);
  }
  std::printf("(%zu ham, %zu spam messages)\n\n", ham, spam);

  for (const auto& [name, c] : rows) {
    const auto* info = bulwark::scan::find_symbol(name);
    EXPECT_NE(info, nullptr) << name << " is raised but not declared in scan/scoring.cc";
    if (!info || info->group != "mime" || info->score < 2.0) continue;
    EXPECT_LE(static_cast<double>(c.first), 0.01 * static_cast<double>(ham))
        << name << " (score " << info->score << ") fires on " << c.first << " of " << ham
        << " ham messages, e.g." << ham_examples[name];
  }
}

}  // namespace
