// The classifier's tokenizer: Unicode normalisation, header prefixes, and the rule that
// headers added by earlier filters never become features.
#include <gtest/gtest.h>

#include <algorithm>

#include "classify/tokenizer.h"
#include "core/config.h"
#include "mime/parser.h"

namespace {

using bulwark::classify::normalize;
using bulwark::classify::tokenize;

bulwark::mime::Message parse(const std::string& raw) {
  const bulwark::Config c;
  return bulwark::mime::parse_message(raw, c.limits, c.mime);
}

bool has(const std::vector<std::string>& v, const std::string& t) {
  return std::find(v.begin(), v.end(), t) != v.end();
}

TEST(ClassifyTokenizer, NormalisesWidthCaseAndAccents) {
  EXPECT_EQ(normalize("FREE"), "free");
  EXPECT_EQ(normalize("\xEF\xBC\xA6\xEF\xBC\xB2\xEF\xBC\xA5\xEF\xBC\xA5"), "free");  // full-width ＦＲＥＥ
  EXPECT_EQ(normalize("V\xC3\xAF" "agra"), "viagra");                               // Vïagra
  EXPECT_EQ(normalize("e\xCC\x81t\xC3\xA9"), "ete");                                // e + combining acute, é
  EXPECT_EQ(normalize("Stra\xC3\x9F" "e"), "strasse");                              // ß case-folds to ss
  EXPECT_EQ(normalize("\xEF\xAC\x81nance"), "finance");                             // ﬁ ligature
}

TEST(ClassifyTokenizer, DisguisedWordsAreTheWordsTheyImitate) {
  EXPECT_EQ(normalize("VI\xD0\x90GR\xD0\x90"), "viagra");      // Cyrillic А in a Latin word
  EXPECT_EQ(normalize("vi\xCE\xB1gr\xCE\xB1"), "viagra");      // Greek alpha
  EXPECT_EQ(normalize("via\xE2\x80\x8Bgra"), "viagra");         // zero-width space
  EXPECT_EQ(normalize("pay\xC2\xADpal"), "paypal");              // soft hyphen
  // Whole words of another script are that language, and stay as they are (case-folded).
  EXPECT_EQ(normalize("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"),
            "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");  // Привет -> привет
}

TEST(ClassifyTokenizer, BodySubjectAndHeaders) {
  const auto t = tokenize(parse(
      "From: \"Cheap Meds\" <offers@mail.pharma.example.co.uk>\r\n"
      "Reply-To: other@elsewhere.example\r\n"
      "To: alice@corp.example\r\n"
      "Subject: =?UTF-8?B?77ym77yy77yl77yl?= pills\r\n"
      "X-Mailer: MassMailer 3.1\r\n"
      "Received: from a by b\r\nReceived: from c by d\r\n"
      "Content-Type: text/html; charset=utf-8\r\n\r\n"
      "<p>Buy <b>CHEAP</b> pills at <a href=\"http://shop.pills.example.com/x\">our shop</a></p>\r\n"));
  EXPECT_TRUE(has(t, "cheap"));
  EXPECT_TRUE(has(t, "buy"));
  EXPECT_TRUE(has(t, "s:free"));  // full-width subject, decoded and folded
  EXPECT_TRUE(has(t, "s:pills"));
  EXPECT_TRUE(has(t, "from:dom:mail.pharma.example.co.uk"));
  EXPECT_TRUE(has(t, "from:rdom:example.co.uk"));
  EXPECT_TRUE(has(t, "from:name:cheap"));
  EXPECT_TRUE(has(t, "rt:otherdom"));
  EXPECT_TRUE(has(t, "to:dom:corp.example"));
  EXPECT_TRUE(has(t, "rcvd:2"));
  EXPECT_TRUE(has(t, "xm:w:massmailer"));
  EXPECT_TRUE(has(t, "ct:text/html"));
  EXPECT_TRUE(has(t, "cs:utf-8"));
  EXPECT_TRUE(has(t, "url:host:shop.pills.example.com"));
  EXPECT_TRUE(has(t, "url:dom:example.com"));
  EXPECT_FALSE(has(t, "<p>"));
}

TEST(ClassifyTokenizer, LongTokensBecomeSkipTokensAndAttachmentsAreTyped) {
  const auto t = tokenize(parse(
      "From: a@b.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
      "key abcdefghijklmnopqrstuvwxyzabcdefghij end\r\n--B\r\n"
      "Content-Type: application/zip; name=\"inv.zip\"\r\nContent-Disposition: attachment; filename=\"inv.zip\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n--B--\r\n"));
  EXPECT_TRUE(has(t, "skip:a:30"));  // 36 characters
  EXPECT_FALSE(has(t, "abcdefghijklmnopqrstuvwxyzabcdefghij"));
  EXPECT_TRUE(has(t, "att:application/zip"));
  EXPECT_TRUE(has(t, "att:ext:zip"));
  EXPECT_TRUE(has(t, "ct:multipart/mixed"));
}

// A verdict an earlier filter wrote into the headers must not change a single token.
TEST(ClassifyTokenizer, FilterHeadersAreIgnored) {
  const std::string body =
      "From: bob@example.org\r\nTo: alice@example.com\r\nSubject: lunch\r\n\r\nSee you at noon.\r\n";
  const std::string filtered =
      "X-Spam-Status: Yes, score=15.2 required=5.0 tests=BAYES_99,zzspamword\r\n"
      "X-Spam-Flag: YES\r\nX-Spam-Level: ***************\r\n"
      "X-Virus-Scanned: clean zzvirusword\r\nX-Bogosity: Spam, tests=bogofilter zzbogoword\r\n"
      "X-DSPAM-Result: Spam\r\nAuthentication-Results: mx; spf=fail zzauthword\r\n" + body;
  EXPECT_EQ(tokenize(parse(body)), tokenize(parse(filtered)));
  for (const char* h : {"X-Spam-Status", "x-spam-flag", "X-Virus-Scanned", "X-Bogosity", "X-DSPAM-Result",
                        "Authentication-Results", "ARC-Authentication-Results", "Received-SPF"})
    EXPECT_TRUE(bulwark::classify::is_filter_header(h)) << h;
  for (const char* h : {"From", "Subject", "X-Mailer", "User-Agent", "Reply-To", "To", "Received"})
    EXPECT_FALSE(bulwark::classify::is_filter_header(h)) << h;
}

TEST(ClassifyTokenizer, RegistrableDomains) {
  using bulwark::classify::registrable_domain;
  EXPECT_EQ(registrable_domain("www.example.com"), "example.com");
  EXPECT_EQ(registrable_domain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(registrable_domain("example.com."), "example.com");
  EXPECT_EQ(registrable_domain("localhost"), "localhost");
  EXPECT_EQ(registrable_domain("192.0.2.1"), "192.0.2.1");
}

TEST(ClassifyTokenizer, HashesAreSortedUniqueAndStable) {
  const auto m = parse("Subject: hello hello\r\n\r\nhello world world\r\n");
  const auto h = bulwark::classify::token_hashes(m);
  EXPECT_TRUE(std::is_sorted(h.begin(), h.end()));
  EXPECT_EQ(std::adjacent_find(h.begin(), h.end()), h.end());
  // Stored in models: a change must bump kTokenizerVersion.
  EXPECT_EQ(bulwark::classify::token_hash("hello"), bulwark::classify::token_hash("hello"));
  EXPECT_NE(bulwark::classify::token_hash("hello"), bulwark::classify::token_hash("s:hello"));
}

}  // namespace
