// The `o` regex flag: plain letters in a pattern also match digits and symbols for letters,
// accents, look-alike letters of other scripts, letter pairs and separated letters, while
// ordinary words (and other languages) still do not match.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/config.h"
#include "mime/parser.h"
#include "rules/disguise.h"
#include "rules/rules.h"

namespace bulwark::rules {
namespace {

mime::Message parse(const std::string& raw) {
  const Config c;
  return mime::parse_message(raw, c.limits, c.mime);
}

std::string message(const std::string& body) {
  return "From: a@example.com\r\nTo: b@example.org\r\nSubject: hello\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
         body + "\r\n";
}

// Whether `body =~ regex` fires on a message with `body`, with each engine; both must agree.
bool fires(const std::string& body, const std::string& regex) {
  const std::string text = "rule T_HIT = body =~ " + regex + "\n  score 1\n  describe test\n";
  bool result[2] = {false, false};
  for (int e = 0; e < 2; ++e) {
    RulesOptions o;
    if (e == 1) o.engine = RulesOptions::Engine::kRe2Only;
    auto rs = RuleSet::load_sources({RuleSource{"t.rules", text, {}}}, o);
    EXPECT_TRUE(rs.ok()) << (rs.ok() ? "" : rs.error().message);
    if (!rs.ok()) return false;
    const auto hits = rs.value()->evaluate(parse(message(body)));
    result[e] = std::any_of(hits.begin(), hits.end(), [](const RuleHit& h) { return h.name == "T_HIT"; });
  }
  EXPECT_EQ(result[0], result[1]) << "Hyperscan and RE2 disagree on " << regex << " over " << body;
  return result[0];
}

TEST(RulesDisguise, MatchesDigitsSymbolsAndAccentsForLetters) {
  const std::string viagra = "/\\bviagra\\b/io";
  EXPECT_TRUE(fires("Buy v1agra now", viagra));
  EXPECT_TRUE(fires("Buy VI@GRA now", viagra));
  EXPECT_TRUE(fires("Buy v|agr4 now", viagra));
  EXPECT_TRUE(fires("Buy v\u00EDagra now", viagra));         // precomposed accent
  EXPECT_TRUE(fires("Buy vi\u0301\u00E4gra now", viagra));   // combining accent, umlaut
  EXPECT_TRUE(fires("Buy V\u00CD\u00C1GR\u00C0 now", viagra));  // upper-case accents
  EXPECT_TRUE(fires("Buy \\/iagra now", viagra));            // a letter as a pair of symbols
  EXPECT_TRUE(fires("Get ca$h fast", "/\\bcash\\b/io"));
  EXPECT_TRUE(fires("$ave big", "/\\bsave\\b/io"));           // a word boundary before a symbol
  EXPECT_TRUE(fires("fr3e gift", "/\\bfree\\b/io"));
  EXPECT_TRUE(fires("make rnoney", "/\\bmoney\\b/io"));
  EXPECT_TRUE(fires("your 0rder", "/\\border\\b/io"));
}

// Word boundaries around a group apply to each alternative, so a symbol at the edge of a
// word still matches: `\b(save|cash)\b` finds `$ave`, and `viagr@` ends a word.
TEST(RulesDisguise, BoundariesAroundGroupsReachTheLetters) {
  EXPECT_TRUE(fires("$ave big today", "/\\b(save|cash)\\b/io"));
  EXPECT_TRUE(fires("buy VIAGR@ now", "/\\b(?:viagra|cialis)\\b/io"));
  EXPECT_TRUE(fires("get ca$h", "/\\b(save|(cash|money))\\b/io"));  // nested groups
  EXPECT_FALSE(fires("a cashew nut", "/\\b(save|cash)\\b/io"));
  EXPECT_FALSE(fires("unsaved work", "/\\b(save|cash)\\b/io"));
  EXPECT_TRUE(fires("cashcash", "/\\b(cash)+\\b/io"));  // a repeated group keeps its boundaries as written
}

TEST(RulesDisguise, MatchesSeparatedLettersOfLongWords) {
  EXPECT_TRUE(fires("Buy v-i-a-g-r-a now", "/\\bviagra\\b/io"));
  EXPECT_TRUE(fires("Buy V i A g R a now", "/\\bviagra\\b/io"));
  EXPECT_TRUE(fires("it is f.r.e.e", "/\\bfree\\b/io"));
  // Separators go between every two letters or none: two real words are not one.
  EXPECT_FALSE(fires("You can log in here", "/\\blogin\\b/io"));
  EXPECT_FALSE(fires("and in come the others", "/\\bincome\\b/io"));
  EXPECT_FALSE(fires("a log-in page", "/\\blogin\\b/io"));
  EXPECT_TRUE(fires("l o g i n", "/\\blogin\\b/io"));
  // Short words take no separators: "his wife's ex" is not "sex".
  EXPECT_FALSE(fires("his wife's ex-husband", "/\\bsex\\b/io"));
  EXPECT_TRUE(fires("s3x", "/\\bsex\\b/io"));
}

TEST(RulesDisguise, MatchesWholeWordsInLookAlikeLetters) {
  // "paypal" spelled entirely in Cyrillic (р а у р а ӏ): not a mixed-script word, so the text
  // is left alone and only the flag sees it.
  const std::string cyrillic = "\u0440\u0430\u0443\u0440\u0430\u04CF";
  EXPECT_FALSE(fires("Log in to " + cyrillic + " today", "/\\bpaypal\\b/i"));
  EXPECT_TRUE(fires("Log in to " + cyrillic + " today", "/\\bpaypal\\b/io"));
  // Short words never take other scripts' letters: Russian "раунд" is not "pay...".
  EXPECT_FALSE(fires("\u0440\u0430\u0443\u043D\u0434 \u0434\u0432\u0430", "/\\bpay/io"));
}

TEST(RulesDisguise, LeavesOrdinaryWordsAndSyntaxAlone) {
  EXPECT_FALSE(fires("Buy vitamins now", "/\\bviagra\\b/io"));
  EXPECT_FALSE(fires("a cashew nut", "/\\bcash\\b/io"));
  EXPECT_FALSE(fires("freedom", "/\\bfree\\b/io"));
  // Group syntax, classes, escapes and counted repeats keep their meaning.
  EXPECT_TRUE(fires("order 12345 shipped", "/(?:order|invoice) [0-9]{5}\\b/o"));
  EXPECT_FALSE(fires("order 1234 shipped", "/(?:order|invoice) [0-9]{5}\\b/o"));
  EXPECT_TRUE(fires("win $500 today", "/\\bwin \\$\\d+/o"));
  EXPECT_TRUE(fires("caaash", "/ca+sh/o"));
  EXPECT_TRUE(fires("c4444sh", "/ca+sh/o"));
  EXPECT_FALSE(fires("Hello", "/hello/o"));  // case still matters without `i`
  EXPECT_TRUE(fires("H3LLO", "/HELLO/o"));
  EXPECT_TRUE(fires("named group", "/(?P<w>named) group/o"));
}

TEST(RulesDisguise, RewritesOnlyLiteralLetters) {
  std::string out, why;
  ASSERT_TRUE(expand_disguises("[a-z]\\d{2,3}(?i:x)\\x41", false, out, why));
  EXPECT_EQ(out.rfind("[a-z]\\d{2,3}(?i:", 0), 0u) << out;  // class, escape, quantifier, group flags as written
  EXPECT_NE(out.find("\\x41"), std::string::npos);
  EXPECT_FALSE(expand_disguises("\\Qa\\E", false, out, why));
  EXPECT_NE(why.find("\\Q"), std::string::npos);
  // Bounded: a pattern that would expand past the limit is refused, not compiled.
  EXPECT_FALSE(expand_disguises(std::string(16 * 1024, 'a'), true, out, why));
  EXPECT_NE(why.find("too long"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::rules
