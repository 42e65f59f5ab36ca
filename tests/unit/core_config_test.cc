#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"

using bulwark::Action;
using bulwark::load_config_string;

TEST(Config, EmptyFileGivesDefaults) {
  auto r = load_config_string("", "empty.toml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().limits.max_depth, bulwark::MimeLimits{}.max_depth);
  EXPECT_EQ(r.value().source, "empty.toml");
}

TEST(Config, ReadsEverySection) {
  auto r = load_config_string(
      "[limits]\nmax_depth = 7\nmax_time_ms = 250\n"
      "[mime]\nhtml_to_text = false\n"
      "[policy]\ntag_score = 1\nquarantine_score = 2.5\nreject_score = 9\n"
      "limit_action = \"reject\"\n",
      "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& c = r.value();
  EXPECT_EQ(c.limits.max_depth, 7u);
  EXPECT_EQ(c.limits.max_time_ms, 250u);
  EXPECT_FALSE(c.mime.html_to_text);
  EXPECT_DOUBLE_EQ(c.policy.quarantine_score, 2.5);
  EXPECT_EQ(c.policy.limit_action, Action::kReject);
}

TEST(Config, UnknownKeyNamesFileAndLine) {
  auto r = load_config_string("[limits]\nmax_depth = 5\nmax_dept = 6\n", "b.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "b.toml:3: unknown setting 'limits.max_dept'");
}

TEST(Config, WrongTypeNamesFileAndLine) {
  auto r = load_config_string("\n[limits]\nmax_depth = \"deep\"\n", "c.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "c.toml:3: limits.max_depth: expected an integer");
}

TEST(Config, OutOfRangeIsRejected) {
  auto r = load_config_string("[limits]\nmax_depth = 0\n", "d.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "d.toml:2: limits.max_depth: must be between 1 and 1000");
}

TEST(Config, SyntaxErrorNamesLine) {
  auto r = load_config_string("[limits]\nmax_depth = = 3\n", "e.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("e.toml:2: ", 0), 0u) << r.error().message;
}

TEST(Config, BadActionAndThresholdOrder) {
  auto r = load_config_string("[policy]\nlimit_action = \"drop\"\n", "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "f.toml:2: policy.limit_action: expected one of accept, tag, quarantine, reject");
  auto r2 = load_config_string("[policy]\ntag_score = 30\n", "g.toml");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("tag_score <= quarantine_score"), std::string::npos);
}

TEST(Config, TopLevelKeyIsAnError) {
  auto r = load_config_string("max_depth = 3\n", "h.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("h.toml:1: ", 0), 0u);
}

TEST(Config, EveryErrorIsReportedNotJustTheFirst) {
  auto r = load_config_string("[limits]\nfoo = 1\nbar = 2\n", "i.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "i.toml:2: unknown setting 'limits.foo'\ni.toml:3: unknown setting 'limits.bar'");
}

TEST(Config, MissingFileIsAClearError) {
  auto r = bulwark::load_config_file("/nonexistent/bulwark.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/nonexistent/bulwark.toml: cannot open: No such file or directory");
}

// Every setting must be documented in docs/configuration.md with its default.
TEST(Config, EverySettingIsDocumented) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  ASSERT_FALSE(bulwark::all_settings().empty());
  for (const auto& s : bulwark::all_settings()) {
    const std::string key = s.key.substr(s.key.find('.') + 1);
    const std::string section = "[" + s.key.substr(0, s.key.find('.')) + "]";
    EXPECT_NE(doc.find(section), std::string::npos) << section;
    EXPECT_NE(doc.find("`" + key + "`"), std::string::npos) << s.key << " undocumented";
    EXPECT_NE(doc.find("`" + key + "` | " + s.type + " | `" + s.default_value + "`"),
              std::string::npos)
        << s.key << ": docs must list type " << s.type << " and default " << s.default_value;
  }
}
