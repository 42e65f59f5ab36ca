// Rules see through keyword-dodging: invisible characters, compatibility forms and
// look-alike letters from other scripts are undone before `body` and decoded header
// patterns match; text in other languages is left alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/config.h"
#include "mime/parser.h"
#include "mime/deobfuscate.h"
#include "rules/rules.h"

namespace bulwark::rules {
namespace {

using mime::deobfuscate;
using mime::mixed_script_words;

std::string undo(const std::string& s) {
  std::string out;
  return deobfuscate(s, out) ? out : s;
}

TEST(RulesDeobfuscate, UndoesEachDisguise) {
  EXPECT_EQ(undo("via\u200Bgra"), "viagra");                      // zero-width space
  EXPECT_EQ(undo("via\u00ADgra"), "viagra");                      // soft hyphen
  EXPECT_EQ(undo("v\u2060i\u200Da\u202Egra"), "viagra");          // word joiner, ZWJ, bidi override
  EXPECT_EQ(undo("\uFF56\uFF49\uFF41\uFF47\uFF52\uFF41"), "viagra");  // fullwidth
  EXPECT_EQ(undo("\U0001D42F\U0001D422agra"), "viagra");          // mathematical bold
  EXPECT_EQ(undo("vi\u0430gr\u0430 now"), "viagra now");          // Cyrillic a
  EXPECT_EQ(undo("vi\u03B1gr\u03B1"), "viagra");                  // Greek alpha
  EXPECT_EQ(undo("\u0420\u0430yP\u0430l"), "PayPal");            // Cyrillic P and a, mixed word
  EXPECT_EQ(undo("pay\u00A0now"), "pay now");                     // no-break space
}

TEST(RulesDeobfuscate, LeavesRealTextAlone) {
  std::string out;
  EXPECT_FALSE(deobfuscate("plain ASCII text, nothing to undo", out));
  // Whole words in Cyrillic or Greek are that language, not a disguise.
  EXPECT_EQ(undo("\u041F\u0440\u0438\u0432\u0435\u0442, Bob"), "\u041F\u0440\u0438\u0432\u0435\u0442, Bob");
  EXPECT_EQ(undo("\u039A\u03B1\u03BB\u03B7\u03BC\u03AD\u03C1\u03B1 Anna"),
            "\u039A\u03B1\u03BB\u03B7\u03BC\u03AD\u03C1\u03B1 Anna");
  EXPECT_EQ(undo("caf\u00E9 cr\u00E8me \u4F60\u597D"), "caf\u00E9 cr\u00E8me \u4F60\u597D");
  // Bytes that are not UTF-8 are kept as they are.
  EXPECT_EQ(undo("a\xFF\xFE b\u200B"), "a\xFF\xFE b");
}

TEST(RulesDeobfuscate, CountsMixedScriptWords) {
  EXPECT_EQ(mixed_script_words("vi\u0430gr\u0430 and c\u0456alis, but \u041F\u0440\u0438\u0432\u0435\u0442"), 2u);
  EXPECT_EQ(mixed_script_words("plain words only"), 0u);
  EXPECT_EQ(mixed_script_words("via\u200B\u0433ra"), 1u);  // an invisible character does not split the word
}

mime::Message parse(const std::string& raw) {
  const Config c;
  return mime::parse_message(raw, c.limits, c.mime);
}

bool fires(const std::string& message, const std::string& expr) {
  const std::string text = "rule T_HIT = " + expr + "\n  score 1\n  describe test\n";
  auto rs = RuleSet::load_sources({RuleSource{"t.rules", text, {}}}, {});
  EXPECT_TRUE(rs.ok()) << (rs.ok() ? "" : rs.error().message);
  if (!rs.ok()) return false;
  const auto hits = rs.value()->evaluate(parse(message));
  return std::any_of(hits.begin(), hits.end(), [](const RuleHit& h) { return h.name == "T_HIT"; });
}

std::string message(const std::string& subject_field, const std::string& body, const std::string& type = "plain") {
  return "From: a@example.com\r\nTo: b@example.org\r\nSubject: " + subject_field +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/" + type +
         "; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n";
}

TEST(RulesDeobfuscate, BodyAndSubjectPatternsMatchTheUndoneText) {
  const std::string body = "/\\bviagra\\b/i";
  EXPECT_TRUE(fires(message("hi", "Buy via\u200Bgra now"), "body =~ " + body));
  EXPECT_TRUE(fires(message("hi", "Buy VI\u0410GRA now"), "body =~ " + body));
  EXPECT_TRUE(fires(message("hi", "Buy \uFF56\uFF49\uFF41\uFF47\uFF52\uFF41 now"), "body =~ " + body));
  EXPECT_TRUE(fires(message("hi", "<p>Buy Vi<!-- x -->a&shy;gra now</p>", "html"), "body =~ " + body));
  EXPECT_FALSE(fires(message("hi", "Buy vitamins now"), "body =~ " + body));
  // RFC 2047 Subject "Via<ZWSP>gra"
  EXPECT_TRUE(fires(message("=?utf-8?B?Vmlh4oCLZ3Jh?=", "x"), "subject =~ " + body));
  // Raw views keep the bytes as sent, so rules can still see the trick itself.
  EXPECT_TRUE(fires(message("hi", "Buy via\u200Bgra now"), "rawbody =~ /via\\xE2\\x80\\x8Bgra/"));
  EXPECT_TRUE(fires(message("hi", "Buy via\u200Bgra now"), "body_invisible() == 1"));
  EXPECT_TRUE(fires(message("hi", "vi\u0430gr\u0430 and c\u0456alis"), "body_mixed_script() == 2"));
}

}  // namespace
}  // namespace bulwark::rules
