// The rule language: parsing errors with file:line, meta rules (boolean and counting),
// built-in functions on hand-built messages, per-domain score overrides, the shipped rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "core/config.h"
#include "mime/parser.h"
#include "rules/functions.h"
#include "rules/rules.h"

namespace bulwark::rules {
namespace {

mime::Message parse(const std::string& raw) {
  const Config c;
  return mime::parse_message(raw, c.limits, c.mime);
}

std::shared_ptr<const RuleSet> load(const std::string& text, const RulesOptions& o = {}) {
  auto r = RuleSet::load_sources({RuleSource{"t.rules", text, {}}}, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : nullptr;
}

std::string load_error(const std::string& text) {
  auto r = RuleSet::load_sources({RuleSource{"t.rules", text, {}}}, {});
  return r.ok() ? std::string("(loaded)") : r.error().message;
}

bool has(const std::vector<RuleHit>& hits, const std::string& name) {
  return std::any_of(hits.begin(), hits.end(), [&](const RuleHit& h) { return h.name == name; });
}

const RuleHit* find(const std::vector<RuleHit>& hits, const std::string& name) {
  for (const auto& h : hits)
    if (h.name == name) return &h;
  return nullptr;
}

std::string rule(const std::string& name, const std::string& expr, double score = 1.0) {
  return "rule " + name + " = " + expr + "\n  score " + std::to_string(score) + "\n  describe test rule\n";
}

const char* kPlain =
    "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Lunch tomorrow\r\n"
    "Date: Thu, 22 Aug 2002 13:09:41 +0100\r\nMessage-ID: <1@example.com>\r\n\r\nSee you at noon.\r\n";

TEST(RulesParse, ErrorsNameFileAndLine) {
  EXPECT_EQ(load_error("# c\n\nrule bad_name = body =~ /x/\n"), "t.rules:3: bad rule name 'bad_name' (UPPER_SNAKE, e.g. SUBJ_ALL_CAPS; __NAME for helpers)");
  EXPECT_EQ(load_error("rule A = body =~ /x/\n  score 1\n"), "t.rules:1: rule A has no describe line");
  EXPECT_EQ(load_error("rule A = body =~ /x/\n  describe d\n"), "t.rules:1: rule A has no score");
  EXPECT_EQ(load_error("\nrule A = body =~ /(a)\\1/\n  score 1\n  describe d\n"),
            "t.rules:2: backreference \\1 is not supported (neither Hyperscan nor RE2 can match it in linear time)");
  EXPECT_EQ(load_error("rule A = body =~ /foo(?=bar)/\n  score 1\n  describe d\n"),
            "t.rules:1: lookaround '(?=' is not supported (use a meta rule: A && !B)");
  EXPECT_EQ(load_error("rule A = body =~ /foo(?<!bar)/\n  score 1\n  describe d\n"),
            "t.rules:1: lookaround '(?<!' is not supported (use a meta rule: A && !B)");
  EXPECT_EQ(load_error("rule A = body =~ /x/q\n  score 1\n  describe d\n"), "t.rules:1: unknown regex flag 'q' (i, s, m, o)");
  EXPECT_EQ(load_error("rule A = body =~ /\\Qa.b\\E/o\n  score 1\n  describe d\n"),
            "t.rules:1: \\Q...\\E is not supported with the o flag (escape the characters instead)");
  EXPECT_EQ(load_error("rule A = body =~ /x\n  score 1\n  describe d\n"), "t.rules:1: unterminated /regex/");
  EXPECT_EQ(load_error("rule A = nosuch()\n  score 1\n  describe d\n"), "t.rules:1: unknown function 'nosuch()'");
  EXPECT_EQ(load_error("rule A = B && C\n  score 1\n  describe d\n"), "t.rules:1: rule A refers to unknown rule C");
  EXPECT_EQ(load_error("rule A = (body =~ /x/\n  score 1\n  describe d\n"), "t.rules:1: missing ')'");
  EXPECT_EQ(load_error("frobnicate\n"), "t.rules:1: unknown statement 'frobnicate' (rule, score, domain)");
  EXPECT_EQ(load_error("  score 1\n"), "t.rules:1: indented line outside a rule");
  EXPECT_EQ(load_error("score NOPE 1\n"), "t.rules:1: score for unknown rule NOPE");
  EXPECT_EQ(load_error("rule A = header X-Spam-Status =~ /yes/\n  score 1\n  describe d\n"),
            "t.rules:1: header X-Spam-Status is added by other filters and is never read (it leaks labels)");
  EXPECT_EQ(load_error(rule("A", "B") + rule("B", "A")), "t.rules:4: rule B depends on itself through A");
  EXPECT_EQ(load_error(rule("A", "body =~ /x/") + rule("A", "body =~ /y/")),
            "t.rules:4: rule A already defined at t.rules:1");
  EXPECT_EQ(load_error(rule("URL_IP_HOST", "body =~ /y/")), "t.rules:1: rule URL_IP_HOST already defined (a built-in symbol)");
  // A continuation line carries the error's own line.
  EXPECT_EQ(load_error("rule A = body =~ /x/ &&\n    body =~ /y/ &&\n    )\n  score 1\n  describe d\n"),
            "t.rules:3: unexpected ')'");
  // An error in a second file names that file.
  auto r = RuleSet::load_sources({RuleSource{"a.rules", rule("A", "body =~ /x/"), {}},
                                  RuleSource{"b.rules", "\n\nrule B = A &&\n", {}}},
                                 {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "b.rules:3: expression ends too early");
  EXPECT_TRUE(parse_check(rule("A", "body =~ /x/"), "x").ok());
}

TEST(RulesParse, FilesAndDirectoriesLoad) {
  const auto dir = std::filesystem::temp_directory_path() / ("bulwark_rules_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "domains");
  std::ofstream(dir / "a.rules") << rule("TEST_A", "subject =~ /lunch/i", 2.0);
  std::ofstream(dir / "domains" / "example.org.rules") << "score TEST_A 0.5\n";
  auto r = RuleSet::load({dir.string()}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto m = parse(kPlain);
  EXPECT_EQ(find(r.value()->evaluate(m), "TEST_A")->score, 2.0);
  EXPECT_EQ(find(r.value()->evaluate(m, "example.org"), "TEST_A")->score, 0.5);
  auto missing = RuleSet::load({(dir / "nope.rules").string()}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no such rule file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(RulesMeta, BooleanAndCounting) {
  auto rs = load(rule("__A", "body =~ /alpha/") + rule("__B", "body =~ /beta/") + rule("__C", "body =~ /gamma/") +
                 rule("__D", "body =~ /delta/") + rule("TWO_OF", "(__A + __B + __C + __D) >= 2") +
                 rule("A_NOT_B", "__A && !__B") + rule("A_OR_C", "__A || __C") + rule("NOT_PAREN", "!(__A || __B)") +
                 rule("NEG_TEST", "body !~ /zeta/"));
  ASSERT_TRUE(rs);
  auto eval = [&](const std::string& body) {
    return rs->evaluate(parse("From: a@b.example\r\nSubject: s\r\n\r\n" + body + "\r\n"));
  };
  auto h = eval("alpha gamma");
  EXPECT_TRUE(has(h, "TWO_OF"));
  EXPECT_TRUE(has(h, "A_NOT_B"));
  EXPECT_TRUE(has(h, "A_OR_C"));
  EXPECT_FALSE(has(h, "NOT_PAREN"));
  EXPECT_TRUE(has(h, "NEG_TEST"));
  EXPECT_FALSE(has(h, "__A"));  // helpers are never reported
  h = eval("alpha beta zeta");
  EXPECT_TRUE(has(h, "TWO_OF"));
  EXPECT_FALSE(has(h, "A_NOT_B"));
  EXPECT_FALSE(has(h, "NEG_TEST"));
  h = eval("delta");
  EXPECT_FALSE(has(h, "TWO_OF"));
  EXPECT_TRUE(has(h, "NOT_PAREN"));
  EXPECT_FALSE(has(h, "A_OR_C"));
  // The meta rule's detail names what made it true.
  h = eval("alpha gamma");
  EXPECT_NE(find(h, "TWO_OF")->detail.find("alpha"), std::string::npos) << find(h, "TWO_OF")->detail;
}

TEST(RulesTargets, HeadersBodyHtmlUriStructure) {
  auto rs = load(rule("T_SUBJ", "subject =~ /caf\xc3\xa9/") + rule("T_RAW", "header Subject:raw =~ /=\\?utf-8\\?q\\?/i") +
                 rule("T_ADDR", "header From:addr =~ /^bob@evil\\.example$/") +
                 rule("T_NAME", "header From:name =~ /^Boss$/") + rule("T_ALL", "header ALL =~ /^X-Mailer: ratware/m") +
                 rule("T_LEAK", "header ALL =~ /X-Spam-Flag/i") + rule("T_BODY", "body =~ /visible words/") +
                 rule("T_BODY_HIDDEN_TAG", "body =~ /<b>/") + rule("T_HTML", "html =~ /<b>visible/i") +
                 rule("T_RAWBODY", "rawbody =~ /PGh0bWw/") + rule("T_URI", "uri =~ /^https:\\/\\/shop\\.example\\/buy/") +
                 rule("T_HOST", "uri.host =~ /^shop\\.example$/") + rule("T_CT", "content_type =~ /^multipart\\/mixed$/") +
                 rule("T_FILE", "filename =~ /\\.zip$/i") + rule("T_PARTS", "part_count() == 3 && attachment_count() == 1"));
  ASSERT_TRUE(rs);
  const std::string raw =
      "From: Boss <bob@evil.example>\r\nTo: x@y.example\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
      "X-Mailer: ratware 1.0\r\nX-Spam-Flag: YES\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n"
      "PGh0bWw+PGI+dmlzaWJsZSB3b3JkczwvYj4gPGEgaHJlZj0iaHR0cHM6Ly9zaG9wLmV4YW1wbGUvYnV5Ij5idXk8L2E+PC9odG1sPg==\r\n"
      "--b\r\nContent-Type: application/zip; name=\"a.ZIP\"\r\n\r\nPK\r\n--b--\r\n";
  auto h = rs->evaluate(parse(raw));
  for (const char* n : {"T_SUBJ", "T_RAW", "T_ADDR", "T_NAME", "T_ALL", "T_BODY", "T_HTML", "T_RAWBODY", "T_URI", "T_HOST",
                        "T_CT", "T_FILE", "T_PARTS"})
    EXPECT_TRUE(has(h, n)) << n;
  EXPECT_FALSE(has(h, "T_LEAK"));            // X-Spam-* is never read
  EXPECT_FALSE(has(h, "T_BODY_HIDDEN_TAG"));  // body is rendered text, not markup
}

TEST(RulesFunctions, DatesAndMessageIds) {
  auto rs = load(rule("F_DATE_MISSING", "date_missing()") + rule("F_DATE_BAD", "date_malformed()") +
                 rule("F_FUTURE", "date_skew_hours() > 24") + rule("F_PAST", "date_skew_hours() < -720") +
                 rule("F_MSGID_MISSING", "msgid_missing()") + rule("F_MSGID_BAD", "msgid_malformed()"));
  ASSERT_TRUE(rs);
  const std::string rcvd = "Received: from a.example by b.example; Thu, 22 Aug 2002 13:00:00 +0000\r\n";
  auto h = rs->evaluate(parse(rcvd + "From: a@b.example\r\nSubject: s\r\n\r\nx\r\n"));
  EXPECT_TRUE(has(h, "F_DATE_MISSING"));
  EXPECT_TRUE(has(h, "F_MSGID_MISSING"));
  EXPECT_FALSE(has(h, "F_DATE_BAD"));
  h = rs->evaluate(parse(rcvd + "Date: Wed, 21 Aug 2002 20:31:57 -1600\r\nMessage-ID: no-brackets\r\n\r\nx\r\n"));
  EXPECT_TRUE(has(h, "F_DATE_BAD"));
  EXPECT_TRUE(has(h, "F_MSGID_BAD"));
  EXPECT_FALSE(has(h, "F_DATE_MISSING"));
  h = rs->evaluate(parse(rcvd + "Date: Mon, 26 Aug 2002 13:00:00 +0000\r\nMessage-ID: <a@b>\r\n\r\nx\r\n"));
  EXPECT_TRUE(has(h, "F_FUTURE"));
  EXPECT_FALSE(has(h, "F_MSGID_BAD"));
  h = rs->evaluate(parse(rcvd + "Date: 1 Jan 2001 00:00 GMT\r\n\r\nx\r\n"));
  EXPECT_TRUE(has(h, "F_PAST"));
  EXPECT_FALSE(has(h, "F_DATE_BAD"));
  h = rs->evaluate(parse(rcvd + "Date: Thu, 22 Aug 2002 08:59:00 -0400 (EDT)\r\n\r\nx\r\n"));
  EXPECT_FALSE(has(h, "F_FUTURE"));
  EXPECT_FALSE(has(h, "F_PAST"));
  EXPECT_FALSE(has(h, "F_DATE_BAD"));
}

TEST(RulesFunctions, ReceivedChains) {
  auto rs = load(rule("F_TRAVEL", "received_time_travel() > 12") + rule("F_FORGED", "received_forged_helo() > 0") +
                 rule("F_BAD", "received_malformed() >= 1") + rule("F_COUNT", "received_count() == 2"));
  ASSERT_TRUE(rs);
  auto h = rs->evaluate(parse(
      "Received: from mx.example (mx.example [192.0.2.1]) by in.example; Thu, 22 Aug 2002 13:00:00 +0000\r\n"
      "Received: from hotmail.com (dsl-1-2.badisp.example [198.51.100.7]) by mx.example; Sat, 24 Aug 2002 09:00:00 +0000\r\n"
      "Subject: s\r\n\r\nx\r\n"));
  EXPECT_TRUE(has(h, "F_TRAVEL"));
  EXPECT_TRUE(has(h, "F_FORGED"));
  EXPECT_TRUE(has(h, "F_COUNT"));
  EXPECT_FALSE(has(h, "F_BAD"));
  EXPECT_NE(find(h, "F_FORGED")->detail.find("HELO hotmail.com from dsl-1-2.badisp.example"), std::string::npos);
  h = rs->evaluate(parse(
      "Received: from mx.example (mx.example [192.0.2.1]) by in.example; Thu, 22 Aug 2002 13:00:00 +0000\r\n"
      "Received: from hotmail.com (bay4.hotmail.com [198.51.100.7]) by mx.example; Thu, 22 Aug 2002 12:59:00 +0000\r\n"
      "Received: from somewhere\r\nSubject: s\r\n\r\nx\r\n"));
  EXPECT_FALSE(has(h, "F_TRAVEL"));
  EXPECT_FALSE(has(h, "F_FORGED"));
  EXPECT_TRUE(has(h, "F_BAD"));
}

TEST(RulesFunctions, SenderTricks) {
  auto rs = load(rule("F_NAME_ADDR", "from_name_has_address()") + rule("F_REPLYTO", "replyto_freemail()") +
                 rule("F_FREEMAIL", "from_freemail()"));
  ASSERT_TRUE(rs);
  auto h = rs->evaluate(parse("From: \"service@paypal.com\" <x@evil.example>\r\nReply-To: payments@gmail.com\r\n\r\nx\r\n"));
  EXPECT_TRUE(has(h, "F_NAME_ADDR"));
  EXPECT_TRUE(has(h, "F_REPLYTO"));
  EXPECT_FALSE(has(h, "F_FREEMAIL"));
  h = rs->evaluate(parse("From: \"bob@example.com\" <Bob@example.com>\r\nReply-To: bob@yahoo.co.uk\r\n\r\nx\r\n"));
  EXPECT_FALSE(has(h, "F_NAME_ADDR"));
  EXPECT_TRUE(has(h, "F_REPLYTO"));
  h = rs->evaluate(parse("From: Bob <bob@hotmail.com>\r\nReply-To: bob@yahoo.com\r\n\r\nx\r\n"));
  EXPECT_FALSE(has(h, "F_REPLYTO"));  // free-mail to free-mail is ordinary
  EXPECT_TRUE(has(h, "F_FREEMAIL"));
}

TEST(RulesFunctions, SubjectObfuscation) {
  auto rs = load(rule("F_CAPS", "subject_caps() >= 0.9") + rule("F_MIXED", "subject_mixed_script() > 0") +
                 rule("F_INVIS", "subject_invisible() > 0") + rule("F_SPACED", "subject_spaced() >= 5") +
                 rule("F_ENC_ASCII", "encoded_ascii() > 0") + rule("F_ENC_MANY", "encoded_words() >= 3"));
  ASSERT_TRUE(rs);
  auto subj = [&](const std::string& s) { return rs->evaluate(parse("From: a@b.example\r\nSubject: " + s + "\r\n\r\nx\r\n")); };
  EXPECT_TRUE(has(subj("MAKE MONEY FAST NOW"), "F_CAPS"));
  EXPECT_FALSE(has(subj("Make money fast now"), "F_CAPS"));
  EXPECT_FALSE(has(subj("RE: OK"), "F_CAPS"));  // too few letters to say
  EXPECT_TRUE(has(subj("Your P\xd0\xb0yPal account"), "F_MIXED"));  // Cyrillic a
  EXPECT_FALSE(has(subj("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 friend"), "F_MIXED"));  // separate words
  EXPECT_TRUE(has(subj("Vi\xe2\x80\x8b" "agra"), "F_INVIS"));
  EXPECT_TRUE(has(subj("F R E E  M O N E Y"), "F_SPACED"));
  EXPECT_TRUE(has(subj("V-I-A-G-R-A now"), "F_SPACED"));
  EXPECT_FALSE(has(subj("U.S.A. trip"), "F_SPACED"));
  EXPECT_TRUE(has(subj("=?utf-8?B?RnJlZSBtb25leQ==?="), "F_ENC_ASCII"));
  EXPECT_FALSE(has(subj("=?utf-8?q?caf=C3=A9?="), "F_ENC_ASCII"));
  EXPECT_TRUE(has(subj("=?utf-8?q?a=C3=A9?= =?utf-8?q?b=C3=A9?= =?utf-8?q?c=C3=A9?="), "F_ENC_MANY"));
}

TEST(RulesFunctions, HtmlRatiosAndHiddenText) {
  auto rs = load(rule("F_RATIO", "html_text_ratio() < 0.2") + rule("F_ONLY", "html_only()") +
                 rule("F_HIDDEN", "hidden_text() >= 10") + rule("F_PWD", "symbol(HTML_PASSWORD_FORM)") +
                 rule("F_BODY_INVIS", "body_invisible() >= 2"));
  ASSERT_TRUE(rs);
  std::string html = "<html><body>";
  for (int i = 0; i < 40; ++i) html += "<table><tr><td><img src=\"cid:x\" width=10 height=10></td></tr></table>";
  html += "<p>Buy</p><span style=\"display:none\">lots of hidden filler words</span>"
          "<form><input type=password name=p></form></body></html>";
  auto h = rs->evaluate(parse("From: a@b.example\r\nContent-Type: text/html\r\n\r\n" + html + "\r\n"));
  EXPECT_TRUE(has(h, "F_RATIO"));
  EXPECT_TRUE(has(h, "F_ONLY"));
  EXPECT_TRUE(has(h, "F_HIDDEN"));
  EXPECT_TRUE(has(h, "F_PWD"));
  EXPECT_FALSE(has(h, "F_BODY_INVIS"));
  h = rs->evaluate(parse("Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nV\xe2\x80\x8bi\xe2\x80\x8b" "agra\r\n"));
  EXPECT_TRUE(has(h, "F_BODY_INVIS"));
  h = rs->evaluate(parse(kPlain));
  EXPECT_TRUE(h.empty());
}

TEST(RulesScores, OverridesPerDomainAndOptions) {
  const std::string text = rule("T_LUNCH", "subject =~ /lunch/i", 2.0) + rule("T_NOON", "body =~ /noon/", 1.0) +
                           "score T_NOON 1.5\ndomain example.org\nscore T_LUNCH 0.25\nscore URL_IP_HOST 0\ndomain *\n";
  RulesOptions o;
  o.domain_scores["Example.NET"]["T_LUNCH"] = 0;  // 0: not reported for that domain
  auto rs = load(text, o);
  ASSERT_TRUE(rs);
  auto m = parse(kPlain);
  auto h = rs->evaluate(m);
  EXPECT_EQ(find(h, "T_LUNCH")->score, 2.0);
  EXPECT_EQ(find(h, "T_NOON")->score, 1.5);
  EXPECT_EQ(find(rs->evaluate(m, "example.org"), "T_LUNCH")->score, 0.25);
  EXPECT_FALSE(has(rs->evaluate(m, "example.net"), "T_LUNCH"));
  EXPECT_TRUE(has(rs->evaluate(m, "example.net"), "T_NOON"));
  // Per-domain file.
  auto r2 = RuleSet::load_sources({RuleSource{"a.rules", rule("T_LUNCH", "subject =~ /lunch/i", 2.0), {}},
                                   RuleSource{"example.com.rules", "score T_LUNCH 4\n", "example.com"}},
                                  {});
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(find(r2.value()->evaluate(m, "example.com"), "T_LUNCH")->score, 4.0);
  auto bad = RuleSet::load_sources({RuleSource{"d.rules", "rule X = body =~ /x/\n", "example.com"}}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "d.rules:1: a per-domain file holds only score lines");
  RulesOptions unknown;
  unknown.scores["NOPE"] = 1;
  EXPECT_FALSE(RuleSet::load_sources({}, unknown).ok());
}

TEST(RulesBuiltin, ShippedRulesLoadAndAreDocumented) {
  auto rs = RuleSet::load_builtin({});
  ASSERT_TRUE(rs.ok()) << rs.error().message;
  EXPECT_GT(rs.value()->size(), 60u);
  for (const RuleInfo& r : rs.value()->rules()) {
    EXPECT_FALSE(r.description.empty()) << r.name;
    EXPECT_FALSE(r.group.empty()) << r.name;
  }
  // Every shipped rule has a rationale comment on the line above it.
  for (const RuleSource& s : builtin_sources()) {
    std::string prev;
    std::size_t pos = 0;
    while (pos < s.text.size()) {
      std::size_t nl = s.text.find('\n', pos);
      if (nl == std::string::npos) nl = s.text.size();
      std::string line = s.text.substr(pos, nl - pos);
      if (line.starts_with("rule ")) {
        EXPECT_TRUE(prev.starts_with("# ")) << s.name << ": " << line;
      }
      prev = line;
      pos = nl + 1;
    }
  }
  // A clean personal mail scores nothing.
  EXPECT_TRUE(rs.value()->evaluate(parse(kPlain)).empty());
}

TEST(RulesThreads, EvaluateFromFourThreads) {
  auto rs = RuleSet::load_builtin({});
  ASSERT_TRUE(rs.ok());
  const auto spam = parse(
      "From: \"service@paypal.com\" <x@evil.example>\r\nSubject: FREE MONEY NOW!!\r\nContent-Type: text/html\r\n\r\n"
      "<p>To be removed from our list click here. Act now! <a href=\"http://3232235777/login\">https://paypal.com</a></p>\r\n");
  const auto expected = rs.value()->evaluate(spam);
  ASSERT_GE(expected.size(), 4u);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 300; ++i) {
        auto h = rs.value()->evaluate(i % 2 ? spam : parse(kPlain));
        if (i % 2 ? h.size() == expected.size() : h.empty()) ++good;
      }
      ok[static_cast<std::size_t>(t)] = good;
    });
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 300);
}

}  // namespace
}  // namespace bulwark::rules

TEST(RulesFreemail, ListedDomainsFamiliesAndSubdomains) {
  using bulwark::rules::is_freemail;
  for (const char* d : {"gmail.com", "GMail.com", "bk.ru", "mail.ru", "naver.com", "wp.pl", "yahoo.co.uk",
                        "yahoo.com.tw", "gmx.at", "yandex.kz", "hotmail.fr", "mailinator.com", "bol.com.br",
                        "email.com", "mx1.mail.ru"})
    EXPECT_TRUE(is_freemail(d)) << d;
  for (const char* d : {"example.com", "gmail.com.evil.test", "mail.example.org", "ru", "", "notgmail.com",
                        "yahoo-offers.com", "comcast.net"})
    EXPECT_FALSE(is_freemail(d)) << d;
}
