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

TEST(RulesShipped, AccountAlarmsInOtherLanguages) {
  const std::string r = "BODY_ACCOUNT_ALARM_INTL";
  EXPECT_TRUE(fires("a@example.net", "Hinweis", "Ihr Konto wurde vor\xc3\xbc" "bergehend gesperrt. Bitte best\xc3\xa4tigen Sie Ihre Daten.", r));
  EXPECT_TRUE(fires("a@example.net", "Melding", "Uw rekening is tijdelijk geblokkeerd, bevestig uw gegevens.", r));
  EXPECT_TRUE(fires("a@example.net", "Aviso", "Sua conta foi bloqueada por atividade suspeita.", r));
  EXPECT_TRUE(fires("a@example.net", "Aviso", "Sua encomenda est\xc3\xa1 retida: pague a taxa de importa\xc3\xa7\xc3\xa3o.", r));
  EXPECT_TRUE(fires("a@example.net", "Aviso", "Su cuenta ha sido suspendida. Verifique sus datos.", r));
  EXPECT_TRUE(fires("a@example.net", "Avis", "Votre colis est en attente: frais de douane 2,99 EUR.", r));
  EXPECT_TRUE(fires("a@example.net", "Avviso", "Il tuo account \xc3\xa8 stato sospeso.", r));
  // The same words in ordinary mail.
  EXPECT_FALSE(fires("a@example.net", "Konto", "Ihr Konto bei uns ist eingerichtet. Viel Spa\xc3\x9f!", r));
  EXPECT_FALSE(fires("a@example.net", "Conta", "A conta do jantar foi dividida entre todos.", r));
  EXPECT_FALSE(fires("a@example.net", "Colis", "Votre colis a \xc3\xa9t\xc3\xa9 livr\xc3\xa9 ce matin.", r));
  // It joins the phishing metas: an alarm plus a deceptive link.
  EXPECT_TRUE(fires("a@example.net", "Aviso", "Sua conta foi bloqueada. Acesse https://bit.ly/3xYz", "META_PHISH_LINK_ALARM"));
}

TEST(RulesShipped, GamblingAndCryptoLures) {
  EXPECT_TRUE(fires("a@example.net", "Bonus", "150 Freispiele ohne Einzahlung im Prestige Casino!", "BODY_GAMBLING_BONUS"));
  EXPECT_TRUE(fires("a@example.net", "Bonus", "Get 200 free spins and a 500% welcome bonus", "BODY_GAMBLING_BONUS"));
  EXPECT_TRUE(fires("a@example.net", "Bono", "Bono de bienvenida y 50 giros gratis", "BODY_GAMBLING_BONUS"));
  EXPECT_TRUE(fires("a@example.net", "Bonus", "Prestige Casino: 3500 EUR Bonus nur heute!", "BODY_GAMBLING_BONUS"));
  EXPECT_TRUE(fires("a@example.net", "Spins", "Claim 300 GRATIS spins vandaag", "BODY_GAMBLING_BONUS"));
  EXPECT_FALSE(fires("a@example.net", "Re: bike", "The free wheel spins when you stop pedalling.", "BODY_GAMBLING_BONUS"));
  const std::string c = "BODY_CRYPTO_LURE";
  EXPECT_TRUE(fires("a@example.net", "Ledger", "Enter your 24-word recovery phrase to keep your funds safe.", c));
  EXPECT_TRUE(fires("a@example.net", "Action needed", "Please validate your wallet before Friday.", c));
  EXPECT_TRUE(fires("a@example.net", "Live", "The ARB airdrop is now live. Claim your tokens today.", c));
  EXPECT_TRUE(fires("a@example.net", "Firmware", "After the security incident, update your Ledger device now.", c));
  EXPECT_TRUE(fires("a@example.net", "KYC", "Our system indicates that your wallet has not yet been verified.", c));
  EXPECT_TRUE(fires("a@example.net", "NFT", "Claim your free NFT from the collection today.", c));
  EXPECT_FALSE(fires("a@example.net", "Re: keys", "Keep the private key of the server off the laptop.", c));
  EXPECT_FALSE(fires("a@example.net", "Re: wallet", "I left my wallet in your car, can you check?", c));
}

TEST(RulesShipped, PrizesAndAntivirusRenewals) {
  const std::string p = "BODY_PRIZE_INTL";
  EXPECT_TRUE(fires("a@example.net", "Gl\xc3\xbc" "ckwunsch", "Sie wurden als Gewinner eines Gutscheins ausgew\xc3\xa4hlt.", p));
  EXPECT_TRUE(fires("a@example.net", "Kaufland", "Ihr Einkaufsgutschein im Wert von 500 \xe2\x82\xac wartet.", p));
  EXPECT_TRUE(fires("a@example.net", "Gefeliciteerd", "U bent geselecteerd voor een cadeaukaart van 250 euro.", p));
  EXPECT_TRUE(fires("a@example.net", "Parab\xc3\xa9ns", "Voc\xc3\xaa foi selecionado para um cart\xc3\xa3o-presente de R$ 500.", p));
  EXPECT_FALSE(fires("a@example.net", "Geburtstag", "Herzlichen Gl\xc3\xbc" "ckwunsch zum Geburtstag, lieber Max!", p));
  EXPECT_FALSE(fires("a@example.net", "Team", "Sie wurden in das Projektteam aufgenommen.", p));
  const std::string a = "BODY_AV_RENEWAL";
  EXPECT_TRUE(fires("a@example.net", "Expired", "Your McAfee subscription has expired. Renew it now to stay protected.", a));
  EXPECT_TRUE(fires("a@example.net", "Abgelaufen", "Ihr Norton-Abonnement ist abgelaufen! Jetzt sofort verl\xc3\xa4ngern.", a));
  EXPECT_FALSE(fires("a@example.net", "Re: laptop", "Which antivirus do you use? Mine came with the laptop.", a));
  EXPECT_FALSE(fires("a@example.net", "Re: cert", "The TLS certificate has expired; renew it now please.", a));
}

TEST(RulesShipped, Sextortion) {
  const std::string scam =
      "Hi there! I am a professional hacker and have successfully managed to hack your operating system. "
      "I recorded a video of you through your camera while you visited adult websites. "
      "Send 1200 USD in Bitcoin to the wallet address below within 48 hours.";
  EXPECT_TRUE(fires("a@example.net", "Your data leaked", scam, "BODY_SEXTORTION"));
  // Each part alone is ordinary: security news with a video, a crypto newsletter.
  EXPECT_FALSE(fires("a@example.net", "Webinar", "Attackers hacked your router? Watch the video of our talk.", "BODY_SEXTORTION"));
  EXPECT_FALSE(fires("a@example.net", "News", "Bitcoin fell 5% today; see the video recording of the panel.", "BODY_SEXTORTION"));
}

TEST(RulesShipped, AppPlatformsAndStorageBuckets) {
  const std::string u = "URI_APP_PLATFORM";
  EXPECT_TRUE(fires("a@example.net", "Doc", "Open: https://docs-share-4471.web.app/login", u));
  EXPECT_TRUE(fires("a@example.net", "Doc", "Open: https://storage.googleapis.com/xk42/index.html#alice@example.org", u));
  EXPECT_TRUE(fires("a@example.net", "Doc", "Open: https://ipfs.io/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", u));
  EXPECT_TRUE(fires("a@example.net", "Doc", "Open: https://pub-5f2a.r2.dev/o365.html", u));
  // A bucket's picture, Google's fonts, and a business's own site are not.
  EXPECT_FALSE(fires("a@example.net", "News", "Logo: https://storage.googleapis.com/acme-news/logo.png", u));
  EXPECT_FALSE(fires("a@example.net", "News", "https://fonts.googleapis.com/css?family=Roboto https://www.example.com/app", u));
  const std::string f = "FROM_APP_PLATFORM";
  EXPECT_TRUE(fires("Zahlung <noreply@golion4.firebaseapp.com>", "Auszahlung", "x", f));
  EXPECT_FALSE(fires("Firebase <noreply@firebase.google.com>", "Welcome", "x", f));
  EXPECT_FALSE(fires("Shop <orders@web-app.example>", "Order", "x", f));
}

TEST(RulesShipped, ABrandOverAnotherAddressWithALure) {
  const std::string lure = "Ihr Konto wurde gesperrt. Bitte best\xc3\xa4tigen Sie Ihre Daten.";
  EXPECT_TRUE(fires("\"PayPal Kundenservice\" <info@pp-kunden.example>", "Hinweis", lure, "META_BRAND_LURE"));
  EXPECT_FALSE(fires("\"PayPal\" <service@paypal.de>", "Hinweis", lure, "META_BRAND_LURE"));
  EXPECT_FALSE(fires("\"PayPal Kundenservice\" <info@pp-kunden.example>", "Hinweis", "Danke f\xc3\xbcr Ihren Einkauf.",
                     "META_BRAND_LURE"));
}

}  // namespace
}  // namespace bulwark::rules
