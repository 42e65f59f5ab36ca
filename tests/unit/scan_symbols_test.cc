// The symbol table is the contract between the code and the explanation: every symbol the
// code can raise is declared with a score and a rationale, and docs/symbols.md lists it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "rules/rules.h"
#include "scan/scoring.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Names passed as string literals to add(...) / limit(...) anywhere under src/, plus the
// MIME_EMBEDDED_* family built from a prefix.
std::set<std::string> raised_in_source() {
  std::set<std::string> names;
  const std::regex lit("\"((MIME|HTML|URL|ARCHIVE|AUTH|RULE|SMTP|FILE|DOC|PDF|INSPECT|AV|YARA|SANDBOX|BAYES)_[A-Z0-9_]+)\"");
  for (const auto& e : fs::recursive_directory_iterator(fs::path(BULWARK_SOURCE_DIR) / "src")) {
    if (e.path().extension() != ".cc") continue;
    if (e.path().filename() == "scoring.cc") continue;  // the table itself
    // The rule engine declares its symbols itself, with scores (RuleSet::rules()).
    if (e.path().parent_path().filename() == "rules") continue;
    const std::string text = slurp(e.path());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), lit); it != std::sregex_iterator(); ++it)
      names.insert((*it)[1].str());
  }
  names.erase("MIME_EMBEDDED_");
  return names;
}

}  // namespace

TEST(Symbols, EveryRaisedSymbolIsDeclared) {
  const auto raised = raised_in_source();
  ASSERT_GT(raised.size(), 20u);
  for (const auto& name : raised)
    EXPECT_NE(bulwark::scan::find_symbol(name), nullptr) << name << " is raised but not declared in scoring.cc";
}

TEST(Symbols, EveryDeclaredSymbolIsDocumented) {
  const std::string doc = slurp(fs::path(BULWARK_SOURCE_DIR) / "docs/symbols.md");
  ASSERT_FALSE(doc.empty());
  for (const auto& s : bulwark::scan::all_symbols())
    EXPECT_NE(doc.find("`" + std::string(s.name) + "`"), std::string::npos) << s.name << " undocumented";
}

TEST(Symbols, NamesAreUniqueAndUpperSnake) {
  std::set<std::string_view> seen;
  const std::regex shape("[A-Z][A-Z0-9]*(_[A-Z0-9]+)+");
  for (const auto& s : bulwark::scan::all_symbols()) {
    EXPECT_TRUE(seen.insert(s.name).second) << s.name;
    EXPECT_TRUE(std::regex_match(std::string(s.name), shape)) << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
  }
}

TEST(Decide, ThresholdsLimitsAndThreats) {
  bulwark::PolicyConfig p;  // tag 5, quarantine 10, reject 20
  using bulwark::Action;
  using bulwark::scan::decide;
  EXPECT_EQ(decide(4.9, false, false, p), Action::kAccept);
  EXPECT_EQ(decide(5.0, false, false, p), Action::kTag);
  EXPECT_EQ(decide(10.0, false, false, p), Action::kQuarantine);
  EXPECT_EQ(decide(25.0, false, false, p), Action::kReject);
  EXPECT_EQ(decide(0.0, true, false, p), Action::kQuarantine);
  EXPECT_EQ(decide(25.0, true, false, p), Action::kReject);
  EXPECT_EQ(decide(0.0, false, true, p), Action::kReject);
  p.limit_action = Action::kTag;
  EXPECT_EQ(decide(0.0, true, false, p), Action::kTag);
}

// Rule-engine symbols (shipped rules and the built-in URL/phishing checks) score themselves;
// they must never shadow a table symbol, and the built-in ones are documented.
TEST(Symbols, RuleSymbolsDoNotShadowTheTableAndAreDocumented) {
  auto rs = bulwark::rules::RuleSet::load_builtin({});
  ASSERT_TRUE(rs) << rs.error().message;
  const std::string doc = slurp(fs::path(BULWARK_SOURCE_DIR) / "docs/rules.md");
  ASSERT_GT(rs.value()->rules().size(), 20u);
  for (const auto& r : rs.value()->rules()) {
    EXPECT_EQ(bulwark::scan::find_symbol(r.name), nullptr) << r.name << " is both a rule and a table symbol";
    EXPECT_FALSE(r.description.empty()) << r.name;
    if (r.source == "built-in") {
      EXPECT_NE(doc.find(r.name), std::string::npos) << r.name << " not in docs/rules.md";
    }
  }
}
