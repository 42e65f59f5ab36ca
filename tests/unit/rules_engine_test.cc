// Hyperscan single-pass matching against RE2 on the same patterns: both engines must agree
// on which rules match, on hand-written edge cases and on real corpus texts (BULWARK_CORPUS).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config.h"
#include "mime/parser.h"
#include "rules/rules.h"

namespace bulwark::rules {
namespace {

namespace fs = std::filesystem;

mime::Message parse(std::string raw) {
  const Config c;
  if (raw.starts_with("From ")) raw.erase(0, raw.find('\n') + 1);
  return mime::parse_message(std::move(raw), c.limits, c.mime);
}

std::set<std::string> names(const std::vector<RuleHit>& hits) {
  std::set<std::string> out;
  for (const auto& h : hits) out.insert(h.name);
  return out;
}

std::string rule(const std::string& name, const std::string& expr) {
  return "rule " + name + " = " + expr + "\n  score 1\n  describe d\n";
}

// Flags, anchors, classes and alternations on one database, each engine alone.
TEST(RulesEngines, AgreeOnEdgeCases) {
  const std::string text =
      rule("E_CASE", "body =~ /hello world/i") + rule("E_CASE_SENS", "body =~ /Hello World/") +
      rule("E_ML", "body =~ /^second line$/m") + rule("E_NOML", "body =~ /^second line/") +
      rule("E_DOT", "body =~ /first.*second/") + rule("E_DOTALL", "body =~ /first.*second/s") +
      rule("E_CLASS", "body =~ /\\b[0-9]{3}-[0-9]{4}\\b/") + rule("E_ALT", "body =~ /(foo|bar|baz)qux/") +
      rule("E_BYTES", "body =~ /caf\\xc3\\xa9/") + rule("E_EMPTYABLE", "body =~ /z*/") +
      rule("E_REPEAT", "body =~ /a{2,4}b/") + rule("E_NEG", "body !~ /absent/") +
      rule("E_SUBJ", "subject =~ /^re:/i") + rule("E_HDR_ML", "header ALL =~ /^subject: re/im");
  RulesOptions hs, re2;
  re2.engine = RulesOptions::Engine::kRe2Only;
  auto a = RuleSet::load_sources({RuleSource{"e.rules", text, {}}}, hs);
  auto b = RuleSet::load_sources({RuleSource{"e.rules", text, {}}}, re2);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_NE(a.value()->describe().find("0 with RE2"), std::string::npos) << a.value()->describe();
  const auto m = parse(
      "Subject: Re: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst line HELLO WORLD 555-1234 barqux "
      "caf\xc3\xa9 aaab\r\nsecond line\r\n");
  const auto ha = names(a.value()->evaluate(m)), hb = names(b.value()->evaluate(m));
  EXPECT_EQ(ha, hb);
  for (const char* n : {"E_CASE", "E_ML", "E_DOTALL", "E_CLASS", "E_ALT", "E_BYTES", "E_EMPTYABLE", "E_REPEAT", "E_NEG",
                        "E_SUBJ", "E_HDR_ML"})
    EXPECT_TRUE(ha.contains(n)) << n;
  for (const char* n : {"E_CASE_SENS", "E_NOML", "E_DOT"}) EXPECT_FALSE(ha.contains(n)) << n;
}

// The shipped rules with each engine over real mail.
TEST(RulesEngines, AgreeOnCorpus) {
  const char* env = std::getenv("BULWARK_CORPUS");
  if (!env || !*env) GTEST_SKIP() << "BULWARK_CORPUS not set";
  RulesOptions re2;
  re2.engine = RulesOptions::Engine::kRe2Only;
  auto a = RuleSet::load_builtin({});
  auto b = RuleSet::load_builtin(re2);
  ASSERT_TRUE(a.ok() && b.ok());
  std::size_t n = 0, hits = 0;
  for (const char* dir : {"spam-1", "easy-ham-1", "hard-ham-1", "spam-2"}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(env) / dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    files.resize(std::min<std::size_t>(files.size(), 250));
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const auto m = parse(ss.str());
      const auto ha = names(a.value()->evaluate(m)), hb = names(b.value()->evaluate(m));
      EXPECT_EQ(ha, hb) << f;
      hits += ha.size();
      ++n;
    }
  }
  EXPECT_EQ(n, 1000u);
  EXPECT_GT(hits, 1000u);
}

}  // namespace
}  // namespace bulwark::rules
