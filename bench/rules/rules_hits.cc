// Per-rule hit rates of the spam rules on the SpamAssassin corpus, and evaluate() speed.
//
//   ninja -C build bulwark_rules_hits
//   build/src/rules/bulwark_rules_hits .cache/corpus/spamassassin            # TRAIN half (the only one to tune on)
//   build/src/rules/bulwark_rules_hits .cache/corpus/spamassassin --test     # TEST half: report only, never tune
//   build/src/rules/bulwark_rules_hits .cache/corpus/spamassassin --rules my.rules --builtin
//
// TRAIN = easy-ham-1 + the first 125 of hard-ham-1 (by name) + spam-1;
// TEST  = easy-ham-2 + the last 125 of hard-ham-1 + spam-2.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "mime/parser.h"
#include "rules/rules.h"

namespace fs = std::filesystem;
using bulwark::rules::RuleSet;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<fs::path> list(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().front() != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string raw = ss.str();
  if (raw.starts_with("From ")) raw.erase(0, raw.find('\n') + 1);  // the mbox envelope line
  return raw;
}

struct Set {
  std::string name;
  std::vector<fs::path> files;
  std::map<std::string, int> hits;
  std::vector<double> scores;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--test] [--rules PATH]... [--builtin] [--min-pct N]\n", argv[0]);
    return 2;
  }
  const fs::path corpus(argv[1]);
  bool test = false, builtin = false;
  double min_pct = 0;
  std::vector<std::string> paths;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--test")) test = true;
    else if (!std::strcmp(argv[i], "--builtin")) builtin = true;
    else if (!std::strcmp(argv[i], "--rules") && i + 1 < argc) paths.emplace_back(argv[++i]);
    else if (!std::strcmp(argv[i], "--min-pct") && i + 1 < argc) min_pct = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  bulwark::rules::RulesOptions opt;
  auto rs = paths.empty() ? RuleSet::load_builtin(opt)
                          : (builtin ? RuleSet::load_with_builtin(paths, opt) : RuleSet::load(paths, opt));
  if (!rs) {
    std::fprintf(stderr, "%s\n", rs.error().message.c_str());
    return 2;
  }
  const RuleSet& rules = *rs.value();
  std::printf("%s\n", rules.describe().c_str());

  std::vector<Set> sets(3);
  sets[0].name = "spam";
  sets[1].name = "easy-ham";
  sets[2].name = "hard-ham";
  sets[0].files = list(corpus / (test ? "spam-2" : "spam-1"));
  sets[1].files = list(corpus / (test ? "easy-ham-2" : "easy-ham-1"));
  auto hard = list(corpus / "hard-ham-1");
  const std::size_t half = std::min<std::size_t>(125, hard.size());
  if (test) sets[2].files.assign(hard.end() - static_cast<std::ptrdiff_t>(half), hard.end());
  else sets[2].files.assign(hard.begin(), hard.begin() + static_cast<std::ptrdiff_t>(half));

  const bulwark::Config config;
  double eval_cpu = 0;
  std::size_t messages = 0;
  for (Set& s : sets) {
    for (const auto& f : s.files) {
      auto m = bulwark::mime::parse_message(read(f), config.limits, config.mime);
      const double t0 = cpu_seconds();
      auto hits = rules.evaluate(m);
      eval_cpu += cpu_seconds() - t0;
      ++messages;
      double total = 0;
      for (const auto& h : hits) {
        s.hits[h.name]++;
        total += h.score;
      }
      s.scores.push_back(total);
      if (std::getenv("RULES_VERBOSE")) {
        std::printf("%s %s %.1f", s.name.c_str(), f.filename().c_str(), total);
        for (const auto& h : hits) std::printf(" %s", h.name.c_str());
        std::printf("\n");
        if (std::getenv("RULES_DETAIL"))
          for (const auto& h : hits) std::printf("    %s: %s\n", h.name.c_str(), h.detail.c_str());
      }
    }
  }
  std::printf("%s half: %zu spam, %zu easy ham, %zu hard ham\n\n", test ? "TEST" : "TRAIN", sets[0].files.size(),
              sets[1].files.size(), sets[2].files.size());
  std::printf("%-28s %6s %8s %9s %9s\n", "rule", "score", "spam%", "easyham%", "hardham%");
  for (const auto& info : rules.rules()) {
    double pct[3];
    for (std::size_t i = 0; i < 3; ++i) {
      auto it = sets[i].hits.find(info.name);
      const int n = it == sets[i].hits.end() ? 0 : it->second;
      pct[i] = sets[i].files.empty() ? 0 : 100.0 * n / static_cast<double>(sets[i].files.size());
    }
    if (pct[0] < min_pct && pct[1] < min_pct && pct[2] < min_pct) continue;
    std::printf("%-28s %6.1f %8.2f %9.2f %9.2f\n", info.name.c_str(), info.score, pct[0], pct[1], pct[2]);
  }
  std::printf("\nrules-only total score >= threshold (share of messages):\n%-9s %8s %9s %9s\n", "threshold", "spam%",
              "easyham%", "hardham%");
  for (double t : {2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
    std::printf("%-9.1f", t);
    for (const Set& s : sets) {
      const auto n = std::count_if(s.scores.begin(), s.scores.end(), [&](double v) { return v >= t; });
      std::printf(" %8.2f ", s.scores.empty() ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(s.scores.size()));
    }
    std::printf("\n");
  }
  std::printf("\nevaluate(): %zu messages in %.3f CPU s = %.0f messages per CPU-second (%.1f us each)\n", messages,
              eval_cpu, static_cast<double>(messages) / eval_cpu, 1e6 * eval_cpu / static_cast<double>(messages));
  return 0;
}
