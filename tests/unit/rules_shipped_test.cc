// The shipped spam rules on mail built for each trick they target, and on the ordinary
// mail that resembles it: each rule must fire on the first and stay quiet on the second.
// (Rates on real mail: bench/rules; the corpus test checks ham as a whole.)
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/config.h"
#include "mime/parser.h"
#include "rules/rules.h"

namespace bulwark::rules {
namespace {

const RuleSet& shipped() {
  static const auto rs = [] {
    auto r = RuleSet::load_builtin({});
    if (!r.ok()) ADD_FAILURE() << r.error().message;
    return r.value();
  }();
  return *rs;
}

bool fires(const std::string& from, const std::string& subject, const std::string& body, const std::string& rule) {
  const Config c;
  const auto m = mime::parse_message("From: " + from + "\r\nTo: alice@example.org\r\nSubject: " + subject +
                                         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                         "Content-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n",
                                     c.limits, c.mime);
  const auto hits = shipped().evaluate(m);
  return std::any_of(hits.begin(), hits.end(), [&](const RuleHit& h) { return h.name == rule; });
}

TEST(RulesShipped, CallbackPhishing) {
  const std::string lure =
      "Dear Customer,\nYour Norton 360 Total Protection subscription has been renewed.\n"
      "Invoice No: NRT-88213-US\nAmount charged: $399.99\n"
      "If you did not authorize this charge, call our billing department at +1 (808) 555-0142 within 24 hours.";
  EXPECT_TRUE(fires("Norton Billing <nortonbilling.team@gmail.com>", "Order confirmation", lure, "BODY_CALLBACK_LURE"));
  EXPECT_TRUE(fires("Norton Billing <nortonbilling.team@gmail.com>", "Order confirmation", lure, "META_CALLBACK_FREEMAIL"));
  EXPECT_FALSE(fires("Norton <billing@norton.example>", "Order confirmation", lure, "META_CALLBACK_FREEMAIL"));
  // A real order confirmation with a link and no number to call; a support signature with a
  // number but no charge.
  EXPECT_FALSE(fires("orders@shop.example", "Your order", "Your Amazon order #112-3345 has shipped. Track it at https://www.amazon.com/track",
                     "BODY_CALLBACK_LURE"));
  EXPECT_FALSE(fires("bob@example.net", "lunch", "Microsoft Teams meeting moved. Call me at 415 555 0199 if needed.",
                     "BODY_CALLBACK_LURE"));
}

TEST(RulesShipped, KeywordsInDisguise) {
  EXPECT_TRUE(fires("a@example.net", "hi", "Cheap V1@GRA and c1alis here", "BODY_DISGUISED_DRUG"));
  EXPECT_TRUE(fires("a@example.net", "hi", "Please verify your P@yPal account today", "BODY_DISGUISED_BRAND"));
  EXPECT_TRUE(fires("a@example.net", "hi", "Your acc0unt is l0cked", "BODY_DISGUISED_ACCOUNT"));
  EXPECT_TRUE(fires("a@example.net", "hi", "Get $ave c@$h now", "BODY_DISGUISED_OFFER"));
  EXPECT_TRUE(fires("a@example.net", "LOOK! You are a W I N N E R", "x", "SUBJ_DISGUISED_WORD"));
  // The plain words, and ordinary text with digits and names, are not disguises.
  EXPECT_FALSE(fires("a@example.net", "hi", "Viagra and cialis, plainly written", "BODY_DISGUISED_DRUG"));
  EXPECT_FALSE(fires("a@example.net", "hi", "You can log in to your account at 10:30 on Windows 10.", "BODY_DISGUISED_ACCOUNT"));
  EXPECT_FALSE(fires("a@example.net", "Meeting in room 101", "x", "SUBJ_DISGUISED_WORD"));
}

TEST(RulesShipped, AdultOffersNotTheWord) {
  EXPECT_TRUE(fires("a@example.net", "hi", "GET FREE ACCESS TO XXX videos tonight", "BODY_ADULT"));
  EXPECT_FALSE(fires("a@example.net", "Re: filters", "Web filters keep kids from visiting porn, the article says.", "BODY_ADULT"));
  EXPECT_FALSE(fires("a@example.net", "Re: patch", "# XXX: this needs a proper fix", "BODY_ADULT"));
}

}  // namespace
}  // namespace bulwark::rules
