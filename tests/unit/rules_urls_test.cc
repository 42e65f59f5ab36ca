// URL and sender symbols, each on a crafted hostile example and a benign look-alike.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/config.h"
#include "mime/parser.h"
#include "rules/rules.h"

namespace bulwark::rules {
namespace {

mime::Message parse(const std::string& raw) {
  const Config c;
  return mime::parse_message(raw, c.limits, c.mime);
}

std::shared_ptr<const RuleSet> rules(const RulesOptions& o = {}) {
  auto r = RuleSet::load_sources({}, o);  // the built-in symbols alone
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.value();
}

std::vector<RuleHit> html(const std::string& body, const RulesOptions& o = {}, std::string_view rcpt = {}) {
  return rules(o)->evaluate(
      parse("From: Service <service@mailer.example>\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n<html><body>" + body +
            "</body></html>\r\n"),
      rcpt);
}

std::string detail(const std::vector<RuleHit>& hits, const std::string& name) {
  for (const auto& h : hits)
    if (h.name == name) return h.detail;
  return "(no " + name + ")";
}

bool has(const std::vector<RuleHit>& hits, const std::string& name) {
  return std::any_of(hits.begin(), hits.end(), [&](const RuleHit& h) { return h.name == name; });
}

TEST(RulesUrls, PunycodeHomographOfPaypal) {
  // "pаypal.com" with a Cyrillic a, as punycode and as Unicode.
  auto h = html("<a href=\"https://xn--pypal-4ve.com/signin\">Log in</a>");
  EXPECT_EQ(detail(h, "URL_PUNYCODE"), "xn--pypal-4ve.com (p\xd0\xb0ypal.com)");
  EXPECT_EQ(detail(h, "URL_HOMOGRAPH"), "p\xd0\xb0ypal.com imitates paypal.com");
  h = html("<a href=\"https://p\xd0\xb0ypal.com/\">x</a>");
  EXPECT_TRUE(has(h, "URL_HOMOGRAPH"));
  // ASCII confusables count too: paypa1 (digit one).
  EXPECT_EQ(detail(html("<a href=\"http://www.paypa1.com/\">x</a>"), "URL_HOMOGRAPH"), "paypa1.com imitates paypal.com");
  // Mixed scripts on a domain that is no brand.
  EXPECT_EQ(detail(html("<a href=\"http://shop-\xd1\x81ity.example.org/\">x</a>"), "URL_HOMOGRAPH"),
            "shop-\xd1\x81ity.example.org mixes scripts");
  // The real thing, and an honest non-Latin domain, are clean.
  EXPECT_FALSE(has(html("<a href=\"https://www.paypal.com/\">x</a>"), "URL_HOMOGRAPH"));
  EXPECT_FALSE(has(html("<a href=\"https://\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84/\">x</a>"), "URL_HOMOGRAPH"));
  // Protected domains from options.
  RulesOptions o;
  o.builtin_protected_domains = false;
  o.protected_domains = {"examplebank.com"};
  EXPECT_TRUE(has(html("<a href=\"http://examp1ebank.com/\">x</a>", o), "URL_HOMOGRAPH"));
  EXPECT_FALSE(has(html("<a href=\"http://paypa1.com/\">x</a>", o), "URL_HOMOGRAPH"));
}

TEST(RulesUrls, NumericAndIpHosts) {
  auto h = html("<a href=\"http://3232235777/login\">x</a>");
  EXPECT_EQ(detail(h, "URL_NUMERIC_HOST"), "3232235777 = 192.168.1.1");
  EXPECT_EQ(detail(html("<a href=\"http://0xC0.0250.1.1/\">x</a>"), "URL_NUMERIC_HOST"), "0xc0.0250.1.1 = 192.168.1.1");
  EXPECT_EQ(detail(html("<a href=\"http://0xc0a80101/\">x</a>"), "URL_NUMERIC_HOST"), "0xc0a80101 = 192.168.1.1");
  h = html("<a href=\"http://192.0.2.7/paypal/\">x</a>");
  EXPECT_EQ(detail(h, "URL_IP_HOST"), "192.0.2.7");
  EXPECT_FALSE(has(h, "URL_NUMERIC_HOST"));
  EXPECT_TRUE(has(html("<a href=\"http://[2001:db8::1]/\">x</a>"), "URL_IP_HOST"));
  EXPECT_FALSE(has(html("<a href=\"http://1.2.3.example/\">x</a>"), "URL_IP_HOST"));
  // Plain-text URLs count as well.
  auto t = rules()->evaluate(parse("Subject: s\r\n\r\nGo to http://3232235777/x now\r\n"));
  EXPECT_TRUE(has(t, "URL_NUMERIC_HOST"));
}

TEST(RulesUrls, UserinfoTrick) {
  auto h = html("<a href=\"http://www.paypal.com@evil.example/login\">x</a>");
  EXPECT_EQ(detail(h, "URL_USERINFO"), "www.paypal.com@evil.example");
  EXPECT_FALSE(has(html("<a href=\"mailto:someone@example.com\">x</a>"), "URL_USERINFO"));
}

TEST(RulesUrls, AnchorTextMismatch) {
  auto h = html("<a href=\"http://paypa1-secure.example.net/login.php\">https://www.paypal.com/signin</a>");
  EXPECT_EQ(detail(h, "URL_TEXT_MISMATCH"), "shows paypal.com, goes to example.net");
  EXPECT_TRUE(has(html("<a href=\"http://evil.example/\">www.mybank.com</a>"), "URL_TEXT_MISMATCH"));
  EXPECT_TRUE(has(html("<a href=\"http://evil.example/\">mybank.co.uk</a>"), "URL_TEXT_MISMATCH"));
  // Same registrable domain, ordinary words, and e-mail addresses are fine.
  EXPECT_FALSE(has(html("<a href=\"https://login.paypal.com/x\">www.paypal.com</a>"), "URL_TEXT_MISMATCH"));
  EXPECT_FALSE(has(html("<a href=\"http://evil.example/\">Click here</a>"), "URL_TEXT_MISMATCH"));
  EXPECT_FALSE(has(html("<a href=\"http://evil.example/\">readme.txt</a>"), "URL_TEXT_MISMATCH"));
  EXPECT_FALSE(has(html("<a href=\"mailto:a@b.example\">a@b.example</a>"), "URL_TEXT_MISMATCH"));
  // A redirector whose target is the shown domain is not a mismatch (but is a redirector).
  h = html("<a href=\"https://www.google.com/url?q=https%3A%2F%2Fwww.example.org%2F\">www.example.org</a>");
  EXPECT_FALSE(has(h, "URL_TEXT_MISMATCH"));
  EXPECT_TRUE(has(h, "URL_REDIRECTOR"));
}

// Newsletters count clicks through their own domain: a link shown as a shop's domain that
// goes to the sender's domain is that, not phishing; unless the shown domain is a brand
// phishers imitate, or the organisation's own.
TEST(RulesUrls, AnchorTextMismatchThroughTheSendersOwnDomain) {
  auto from = [&](const std::string& sender, const std::string& body, const RulesOptions& o = {}) {
    return rules(o)->evaluate(parse("From: News <" + sender + ">\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n" + body + "\r\n"),
                              {});
  };
  const std::string newsletter = "<a href=\"http://clickthru.online.example/Click?q=2e-eMTG\">www.buy.example</a>";
  EXPECT_FALSE(has(from("Online#3.19@newsletter.online.example", newsletter), "URL_TEXT_MISMATCH"));
  EXPECT_TRUE(has(from("deals@elsewhere.example", newsletter), "URL_TEXT_MISMATCH"));
  // A phisher sending from the domain it links to, showing a protected brand.
  EXPECT_EQ(detail(from("service@paypal-help.example", "<a href=\"https://secure.paypal-help.example/\">www.paypal.com</a>"),
                   "URL_TEXT_MISMATCH"),
            "shows paypal.com, goes to paypal-help.example");
  // ... or the organisation's own domain.
  RulesOptions o;
  o.own_domains = {"example-bank.com"};
  EXPECT_TRUE(has(from("it@helpdesk.example", "<a href=\"https://sso.helpdesk.example/\">portal.example-bank.com</a>", o),
                  "URL_TEXT_MISMATCH"));
}

TEST(RulesUrls, ShortenerRedirectorDataUri) {
  EXPECT_EQ(detail(html("<a href=\"https://bit.ly/3xYz\">x</a>"), "URL_SHORTENER"), "bit.ly");
  EXPECT_FALSE(has(html("<a href=\"https://bitly.example.org/\">x</a>"), "URL_SHORTENER"));
  EXPECT_EQ(detail(html("<a href=\"https://grabify.link/ABC123\">x</a><a href=\"https://surl.li/abcd\">y</a>"), "URL_SHORTENER"),
            "grabify.link; surl.li");
  EXPECT_EQ(detail(html("<a href=\"https://www.google.com/url?sa=t&url=http://evil.example/phish\">x</a>"), "URL_REDIRECTOR"),
            "google.com -> evil.example");
  EXPECT_EQ(detail(html("<a href=\"http://t.example/r.php?http%3A%2F%2F0x7f000001%2F\">x</a>"), "URL_NUMERIC_HOST"),
            "0x7f000001 = 127.0.0.1");  // the redirect target is checked too
  EXPECT_FALSE(has(html("<a href=\"https://example.org/login?next=https://example.org/home\">x</a>"), "URL_REDIRECTOR"));
  EXPECT_FALSE(has(html("<a href=\"https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fexample.org\">x</a>"),
                   "URL_REDIRECTOR"));
  EXPECT_EQ(detail(html("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">Open</a>"), "URL_DATA_URI"), "data:text/html in <a>");
  EXPECT_TRUE(has(html("<iframe src=\"data:text/html,hi\"></iframe>"), "URL_DATA_URI"));
  EXPECT_FALSE(has(html("<img src=\"data:image/png;base64,iVBORw0KGgo=\">"), "URL_DATA_URI"));
}

TEST(RulesUrls, OwnDomainLookalikesAndExecutives) {
  RulesOptions o;
  o.own_domains = {"example-corp.com"};
  o.executives = {"Jane Doe"};
  auto h = html("<a href=\"https://example-c0rp.com/sso\">x</a> <a href=\"https://exampel-corp.com/\">y</a>"
                "<a href=\"https://example-corp.net/\">z</a><a href=\"https://www.example-corp.com/\">ok</a>",
                o);
  EXPECT_EQ(detail(h, "URL_LOOKALIKE_OWN_DOMAIN"),
            "example-c0rp.com imitates example-corp.com; exampel-corp.com imitates example-corp.com; example-corp.net "
            "imitates example-corp.com");
  auto rs = rules(o);
  auto from = [&](const std::string& f, std::string_view rcpt = {}) {
    return rs->evaluate(parse("From: " + f + "\r\nSubject: wire\r\n\r\nurgent\r\n"), rcpt);
  };
  EXPECT_EQ(detail(from("\"Doe, Jane\" <ceo.jane@gmail.com>"), "FROM_EXEC_IMPERSONATION"),
            "\"Doe, Jane\" <ceo.jane@gmail.com>");
  EXPECT_TRUE(has(from("JANE  DOE <jd@partner.example>"), "FROM_EXEC_IMPERSONATION"));
  EXPECT_FALSE(has(from("Jane Doe <jane@example-corp.com>"), "FROM_EXEC_IMPERSONATION"));
  EXPECT_FALSE(has(from("John Doe <john@gmail.com>"), "FROM_EXEC_IMPERSONATION"));
  EXPECT_EQ(detail(from("IT <it@examp1e-corp.com>"), "FROM_LOOKALIKE_OWN_DOMAIN"), "examp1e-corp.com imitates example-corp.com");
  // The recipient's domain counts as own.
  RulesOptions none;
  auto plain = rules(none);
  EXPECT_TRUE(has(plain->evaluate(parse("From: a@rnybank.com\r\n\r\nx\r\n"), "mybank.com"), "FROM_LOOKALIKE_OWN_DOMAIN"));
  EXPECT_FALSE(has(plain->evaluate(parse("From: a@mybank.com\r\n\r\nx\r\n"), "mybank.com"), "FROM_LOOKALIKE_OWN_DOMAIN"));
}

TEST(RulesUrls, BrandDomainWornInFrontOfAnother) {
  const std::string b = "URL_BRAND_SUBDOMAIN";
  EXPECT_EQ(detail(html("<a href=\"https://paypal.com.secure-login.example/\">x</a>"), b),
            "paypal.com.secure-login.example wears paypal.com");
  EXPECT_EQ(detail(html("<a href=\"https://login.microsoftonline.com-verify.example/o\">x</a>"), b),
            "login.microsoftonline.com-verify.example wears microsoftonline.com");
  // The brand's own hosts and country domains, and names that merely contain a brand.
  EXPECT_FALSE(has(html("<a href=\"https://www.paypal.com/signin\">x</a>"), b));
  EXPECT_FALSE(has(html("<a href=\"https://www.paypal.com.au/\">x</a><a href=\"https://amazon.co.uk/\">y</a>"), b));
  EXPECT_FALSE(has(html("<a href=\"https://mypaypal.company.example/\">x</a>"), b));
  EXPECT_FALSE(has(html("<a href=\"https://news.example/paypal.com-fees\">x</a>"), b));
  // The organisation's own domain counts too.
  RulesOptions o;
  o.own_domains = {"example-corp.com"};
  EXPECT_TRUE(has(html("<a href=\"https://sso.example-corp.com.auth-check.example/\">x</a>", o), b));
}

TEST(RulesUrls, AddressInTheFragment) {
  const std::string f = "URL_ADDRESS_IN_FRAGMENT";
  EXPECT_TRUE(has(html("<a href=\"https://x.web.app/#alice@example.org\">x</a>"), f));
  EXPECT_TRUE(has(html("<a href=\"https://kit.example/o365/#YWxpY2VAZXhhbXBsZS5vcmc=\">x</a>"), f));  // base64
  EXPECT_TRUE(has(html("<a href=\"https://kit.example/#e=alice%40example.org\">x</a>"), f));
  // Addresses in the query (newsletters' unsubscribe links), anchors, and "@2x" are not.
  EXPECT_FALSE(has(html("<a href=\"https://news.example/unsub?e=alice@example.org\">x</a>"), f));
  EXPECT_FALSE(has(html("<a href=\"https://docs.example/page#section-2\">x</a>"), f));
  EXPECT_FALSE(has(html("<a href=\"https://img.example/a#logo@2.5x\">x</a>"), f));
}

TEST(RulesUrls, RedirectsHiddenInBase64AndAmp) {
  const std::string r = "URL_REDIRECTOR";
  // Bing's click link with the target in base64url after "a1"; Google's AMP viewer.
  EXPECT_EQ(detail(html("<a href=\"https://www.bing.com/ck/a?!&&p=abc&u=a1aHR0cHM6Ly9ldmlsLWcuZXhhbXBsZS9sb2dpbg&ntb=1\">x</a>"), r),
            "bing.com -> evil-g.example");
  EXPECT_EQ(detail(html("<a href=\"https://www.google.com/amp/s/evil-b.example/x\">x</a>"), r), "google.com -> evil-b.example");
  // Any parameter holding a base64 URL.
  EXPECT_EQ(detail(html("<a href=\"https://tracker.example/c?id=7&d=aHR0cDovLzE5OC41MS4xMDAuNy9vd2E=\">x</a>"), r),
            "tracker.example -> 198.51.100.7");
  EXPECT_TRUE(has(html("<a href=\"https://tracker.example/c?id=7&d=aHR0cDovLzE5OC41MS4xMDAuNy9vd2E=\">x</a>"), "URL_IP_HOST"));
  // The same site, or base64 that is not a URL, is no redirect.
  EXPECT_FALSE(has(html("<a href=\"https://www.google.com/amp/s/www.google.com/news\">x</a>"), r));
  EXPECT_FALSE(has(html("<a href=\"https://shop.example/p?token=aGVsbG8gd29ybGQ=\">x</a>"), r));
}

TEST(RulesUrls, BrandInTheDisplayNameFromAnotherDomain) {
  auto rs = rules();
  auto from = [&](const std::string& f) {
    return rs->evaluate(parse("From: " + f + "\r\nSubject: notice\r\n\r\nhello\r\n"));
  };
  const std::string b = "FROM_BRAND_IMPERSONATION";
  // The brand alone, with service words in several languages, squashed, disguised, encoded.
  EXPECT_EQ(detail(from("PayPal <service@paypa1-secure.example>"), b), "PayPal: \"PayPal\" <service@paypa1-secure.example>");
  EXPECT_EQ(detail(from("\"Fedex Pakket\" <UQDRG@astonatos78.example>"), b).substr(0, 7), "FedEx: ");
  EXPECT_EQ(detail(from("=?utf-8?q?Correios_-_Atendimento_ao_Cliente?= <taxas@atendimento.example>"), b).substr(0, 10),
            "Correios: ");
  EXPECT_EQ(detail(from("\"TrustWallet APP\" <noreply@pepsup.example>"), b).substr(0, 14), "Trust Wallet: ");
  EXPECT_EQ(detail(from("\"Microsoft 365 Sicherheitsteam\" <a@b.example>"), b).substr(0, 11), "Microsoft: ");
  EXPECT_EQ(detail(from("\"Setor de Seguran\xc3\xa7" "a Banco do Brasil\" <bb@x.example>"), b).substr(0, 17),
            "Banco do Brasil: ");
  // Cyrillic a and e in "Netflix" and "PayPal": the disguise is undone first.
  EXPECT_TRUE(has(from("\"N\xd0\xb5tflix Billing\" <billing@nf-renew.example>"), b));
  EXPECT_TRUE(has(from("\"P\xd0\xb0yPal Team\" <x@gmail.com>"), b));  // free mail is never the brand
  // One word of its own for a name that is only a brand.
  EXPECT_TRUE(has(from("\"Jane from DocuSign\" <jane@sign-docs.example>"), b));
  // The brand's own domains, and any domain named after it.
  EXPECT_FALSE(has(from("PayPal <service@paypal.com>"), b));
  EXPECT_FALSE(has(from("PayPal <service@mail.paypal.de>"), b));
  EXPECT_FALSE(has(from("\"The Microsoft account team\" <account-security-noreply@accountprotection.microsoft.com>"), b));
  EXPECT_FALSE(has(from("\"Amazon Web Services\" <no-reply@sns.amazonaws.com>"), b));
  EXPECT_FALSE(has(from("\"Jane Doe via DocuSign\" <dse@docusign.net>"), b));
  EXPECT_FALSE(has(from("\"DHL Express\" <noreply@dhl.co.uk>"), b));
  EXPECT_FALSE(has(from("\"Google Calendar\" <calendar-notification@google.com>"), b));
  // People and subjects that merely contain a brand's word.
  EXPECT_FALSE(has(from("\"Chase Miller\" <chase@miller.example>"), b));
  EXPECT_FALSE(has(from("\"Apple Pie Recipes\" <news@bakery.example>"), b));
  EXPECT_FALSE(has(from("\"Target Practice Club\" <club@range.example>"), b));
  EXPECT_FALSE(has(from("\"Notes on the new PayPal fees from our CFO\" <cfo@shop.example>"), b));
  EXPECT_FALSE(has(from("\"Anna Schmidt\" <anna@example.de>"), b));
  // The organisation's own mail may name any brand ("Microsoft 365 Admin" of the IT team).
  RulesOptions o;
  o.own_domains = {"example-corp.com"};
  EXPECT_FALSE(has(rules(o)->evaluate(parse("From: \"Microsoft 365 Admin\" <it@example-corp.com>\r\n\r\nx\r\n")), b));
}

TEST(RulesUrls, MetaRulesSeeBuiltins) {
  auto r = RuleSet::load_sources(
      {RuleSource{"m.rules", "rule PHISH = URL_USERINFO && body =~ /verify/i\n  score 4\n  describe d\nscore URL_USERINFO 0\n", {}}},
      {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto h = r.value()->evaluate(parse("Subject: s\r\n\r\nPlease verify: http://www.bank.example@evil.example/\r\n"));
  EXPECT_TRUE(has(h, "PHISH"));
  EXPECT_FALSE(has(h, "URL_USERINFO"));  // scored 0: not reported, still seen by meta rules
  EXPECT_NE(detail(h, "PHISH").find("URL_USERINFO"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::rules
