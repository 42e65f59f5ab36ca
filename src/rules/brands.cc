#include "rules/brands.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <unordered_set>
#include <vector>

#include "mime/deobfuscate.h"
#include "rules/text_util.h"

namespace bulwark::rules {

namespace {

struct Brand {
  std::string_view name;     // as shown in the detail
  std::string_view words;    // its name as the display name spells it, lower case, one space between words
  bool ambiguous;            // also an everyday word or a first name: only with service words
  std::string_view domains;  // registrable domains it sends from, space-separated
};

// Brands phishing reports name most (APWG, Check Point, Proofpoint, national CERTs), by
// trade. Every registrable domain whose first label is the brand's name squashed
// (paypal.de, wellsfargo.com, royalmail.co.uk) counts as the brand's too.
constexpr Brand kBrands[] = {
    // Accounts, mail and files
    {"Microsoft", "microsoft", false,
     "microsoft.com microsoftonline.com office.com office365.com outlook.com live.com hotmail.com msn.com "
     "sharepoint.com sharepointonline.com onedrive.com azure.com windowsazure.com microsoft365.com xbox.com skype.com"},
    {"Microsoft", "office 365", false, "microsoft.com microsoftonline.com office.com office365.com outlook.com"},
    {"Microsoft", "microsoft 365", false, "microsoft.com microsoftonline.com office.com office365.com outlook.com"},
    {"Microsoft", "onedrive", false, "microsoft.com onedrive.com live.com outlook.com"},
    {"Microsoft", "sharepoint", false, "microsoft.com sharepoint.com sharepointonline.com"},
    {"Microsoft", "outlook", true, "microsoft.com outlook.com live.com hotmail.com office.com office365.com"},
    {"Microsoft", "teams", true, "microsoft.com office.com office365.com"},
    {"Microsoft", "azure", false, "microsoft.com azure.com windowsazure.com"},
    {"Google", "google", false, "google.com youtube.com gmail.com googlemail.com"},
    {"Google", "gmail", false, "google.com gmail.com googlemail.com"},
    {"Google", "youtube", false, "google.com youtube.com"},
    {"Apple", "apple", true, "apple.com icloud.com me.com mac.com itunes.com"},
    {"Apple", "icloud", false, "apple.com icloud.com me.com mac.com"},
    {"Apple", "itunes", false, "apple.com itunes.com"},
    {"Yahoo", "yahoo", false, "yahoo.com ymail.com rocketmail.com yahoo-inc.com"},
    {"AOL", "aol", false, "aol.com aim.com"},
    {"Dropbox", "dropbox", false, "dropbox.com dropboxmail.com hellosign.com"},
    {"DocuSign", "docusign", false, "docusign.com docusign.net"},
    {"Adobe", "adobe", false, "adobe.com adobesign.com echosign.com"},
    {"WeTransfer", "wetransfer", false, "wetransfer.com"},
    {"Zoom", "zoom", true, "zoom.us zoom.com"},
    // Social networks and media
    {"Facebook", "facebook", false, "facebook.com facebookmail.com meta.com fb.com"},
    {"Meta", "meta", true, "meta.com facebook.com facebookmail.com"},
    {"Instagram", "instagram", false, "instagram.com facebookmail.com"},
    {"WhatsApp", "whatsapp", false, "whatsapp.com facebookmail.com"},
    {"LinkedIn", "linkedin", false, "linkedin.com"},
    {"Twitter", "twitter", false, "twitter.com x.com"},
    {"TikTok", "tiktok", false, "tiktok.com"},
    {"Netflix", "netflix", false, "netflix.com"},
    {"Spotify", "spotify", false, "spotify.com"},
    {"Steam", "steam", true, "steampowered.com steamcommunity.com"},
    // Shops and travel
    {"Amazon", "amazon", false, "amazon.com amazonaws.com primevideo.com"},
    {"Amazon", "aws", false, "amazon.com amazonaws.com aws.com"},
    {"eBay", "ebay", false, "ebay.com"},
    {"Booking.com", "booking com", false, "booking.com"},
    {"Airbnb", "airbnb", false, "airbnb.com"},
    {"Walmart", "walmart", false, "walmart.com"},
    {"Costco", "costco", false, "costco.com"},
    {"Target", "target", true, "target.com"},
    {"Best Buy", "best buy", false, "bestbuy.com"},
    {"Geek Squad", "geek squad", false, "bestbuy.com geeksquad.com"},
    {"Mercado Livre", "mercado livre", false, "mercadolivre.com.br mercadolivre.com"},
    {"Mercado Libre", "mercado libre", false, "mercadolibre.com"},
    {"Mercado Pago", "mercado pago", false, "mercadopago.com mercadopago.com.br mercadolivre.com.br mercadolibre.com"},
    // Parcels and post
    {"DHL", "dhl", false, "dhl.com dhl.de deutschepost.de dhlparcel.nl dhlparcel.co.uk"},
    {"FedEx", "fedex", false, "fedex.com"},
    {"UPS", "ups", true, "ups.com"},
    {"USPS", "usps", false, "usps.com usps.gov"},
    {"GLS", "gls", false, "gls-group.eu gls-group.com gls-pakete.de gls-italy.com gls-spain.es gls-netherlands.com"},
    {"DPD", "dpd", false, "dpd.com dpd.de dpd.co.uk dpdgroup.com"},
    {"PostNL", "postnl", false, "postnl.nl postnl.com"},
    {"Correios", "correios", false, "correios.com.br"},
    {"Royal Mail", "royal mail", false, "royalmail.com royalmail.co.uk"},
    {"Canada Post", "canada post", false, "canadapost.ca canadapost-postescanada.ca"},
    {"La Poste", "la poste", false, "laposte.fr laposte.net"},
    {"Australia Post", "australia post", false, "auspost.com.au"},
    {"Poste Italiane", "poste italiane", false, "poste.it posteitaliane.it"},
    {"Deutsche Post", "deutsche post", false, "deutschepost.de dhl.de"},
    // Banks, cards and payments
    {"PayPal", "paypal", false, "paypal.com paypal-communication.com paypal.me"},
    {"Chase", "chase", true, "chase.com jpmorgan.com jpmchase.com"},
    {"Wells Fargo", "wells fargo", false, "wellsfargo.com"},
    {"Bank of America", "bank of america", false, "bankofamerica.com bofa.com"},
    {"Citi", "citibank", false, "citi.com citibank.com"},
    {"Citi", "citi", false, "citi.com citibank.com"},
    {"American Express", "american express", false, "americanexpress.com aexp.com"},
    {"American Express", "amex", false, "americanexpress.com aexp.com"},
    {"Capital One", "capital one", false, "capitalone.com"},
    {"HSBC", "hsbc", false, "hsbc.com"},
    {"Barclays", "barclays", false, "barclays.com barclaycard.co.uk"},
    {"Santander", "santander", false, "santander.com"},
    {"Revolut", "revolut", false, "revolut.com"},
    {"N26", "n26", false, "n26.com"},
    {"Venmo", "venmo", false, "venmo.com"},
    {"Zelle", "zelle", false, "zellepay.com"},
    {"Mastercard", "mastercard", false, "mastercard.com"},
    {"Visa", "visa", true, "visa.com"},
    {"Banco do Brasil", "banco do brasil", false, "bb.com.br"},
    {"Itau", "itau", false, "itau.com.br"},
    {"Bradesco", "bradesco", false, "bradesco.com.br"},
    {"Caixa", "caixa", false, "caixa.gov.br"},
    {"Nubank", "nubank", false, "nubank.com.br"},
    // Crypto
    {"Binance", "binance", false, "binance.com binance.us"},
    {"Coinbase", "coinbase", false, "coinbase.com"},
    {"Trust Wallet", "trust wallet", false, "trustwallet.com"},
    {"MetaMask", "metamask", false, "metamask.io consensys.net"},
    {"Kraken", "kraken", true, "kraken.com"},
    {"Ledger", "ledger", true, "ledger.com"},
    {"Crypto.com", "crypto com", false, "crypto.com"},
    {"Blockchain.com", "blockchain com", false, "blockchain.com"},
    {"KuCoin", "kucoin", false, "kucoin.com"},
    // Security software and telecoms
    {"Norton", "norton", false, "norton.com nortonlifelock.com"},
    {"McAfee", "mcafee", false, "mcafee.com"},
    {"Avast", "avast", false, "avast.com"},
    {"Vodafone", "vodafone", false, "vodafone.com"},
    {"Telekom", "telekom", false, "telekom.de t-online.de"},
    {"Verizon", "verizon", false, "verizon.com verizonwireless.com"},
    {"Xfinity", "xfinity", false, "xfinity.com comcast.com comcast.net"},
    // Government
    {"IRS", "irs", false, "irs.gov"},
    {"HMRC", "hmrc", false, "hmrc.gov.uk"},
    {"ELSTER", "elster", false, "elster.de"},
    {"ADAC", "adac", false, "adac.de"},
    {"Deutsche Bahn", "deutsche bahn", false, "bahn.de deutschebahn.com db.de"},
};

// Words a brand's own display names wrap its name in: departments, services, the kind of
// notice, the country; in the languages phishing in this role is most often written in.
constexpr std::string_view kServiceWords[] = {
    // English
    "support", "service", "services", "customer", "customers", "care", "team", "security", "secure", "account",
    "accounts", "notification", "notifications", "notice", "notices", "alert", "alerts", "info", "information",
    "help", "helpdesk", "desk", "center", "centre", "online", "noreply", "no", "reply", "do", "not", "billing",
    "payment", "payments", "pay", "order", "orders", "delivery", "deliveries", "shipping", "shipment", "express",
    "parcel", "parcels", "package", "packages", "tracking", "track", "trace", "mail", "email", "e", "message",
    "messages", "update", "updates", "verification", "verify", "official", "inc", "ltd", "llc", "corp", "company",
    "group", "global", "international", "worldwide", "app", "apps", "web", "mobile", "bank", "banking", "wallet",
    "rewards", "reward", "prime", "store", "shop", "member", "members", "membership", "admin", "administrator",
    "system", "systems", "department", "dept", "assistance", "operations", "legal", "compliance", "fraud",
    "protection", "id", "login", "sign", "signin", "storage", "cloud", "drive", "docs", "documents", "document",
    "file", "files", "share", "invoice", "invoices", "receipt", "receipts", "subscription", "subscriptions",
    "renewal", "premium", "plus", "business", "pro", "ads", "marketplace", "seller", "sellers", "card",
    "cards", "credit", "solutions", "network", "exchange", "airdrop", "claims", "refund", "refunds",
    "tax", "taxes", "revenue", "post", "office", "logistics", "courier", "freight", "portal", "notify",
    "digital", "direct", "financial", "finance", "resolution", "review", "staff", "sales",
    "community", "feedback", "hq", "usa", "us", "uk", "america", "europe", "canada", "australia", "india",
    // German, Dutch
    "kundenservice", "kundendienst", "kunden", "sicherheit", "sicherheitsteam", "konto", "benachrichtigung",
    "zahlung", "zahlungen", "paket", "pakete", "sendung", "sendungen", "zustellung", "versand", "lieferung",
    "mitteilung", "hinweis", "abteilung", "deutschland", "klantenservice", "pakket", "pakketten", "bezorging",
    "beveiliging", "rekening", "melding", "nederland", "schweiz", "osterreich",
    // Portuguese, Spanish, French, Italian
    "atendimento", "suporte", "seguranca", "conta", "cliente", "clientes", "encomenda", "encomendas", "entrega",
    "entregas", "envio", "envios", "pedido", "pedidos", "servico", "servicos", "servicio", "servicios", "soporte",
    "cuenta", "seguridad", "notificacao", "notificacion", "aviso", "avisos", "brasil", "espana", "mexico",
    "oficial", "clients", "client", "securite", "compte", "colis", "livraison", "france", "servizio", "clienti",
    "sicurezza", "conto", "spedizione", "consegna", "assistenza", "italia", "pagamento", "pagamentos", "pago",
    "pagos", "paiement",
    // Joining words
    "the", "of", "and", "via", "from", "your", "you", "my", "de", "da", "der", "die", "das", "den", "von", "fur",
    "la", "le", "les", "el", "los", "del", "per", "for", "to", "on", "by", "at", "com", "net", "org",
};

// Lower-case letter and digit runs of `s`, accents removed ("Segurança" -> "seguranca").
std::vector<std::string> tokens(std::string_view s) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(st);
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = util::next_cp(s, i);
    if (c >= 0x80 && nfd && U_SUCCESS(st)) {
      icu::UnicodeString d;
      if (nfd->getDecomposition(static_cast<UChar32>(c), d) && d.length() > 0) c = static_cast<char32_t>(d.char32At(0));
    }
    if (u_isalnum(static_cast<UChar32>(c))) {
      append_utf8(cur, static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))));
    } else if (!util::invisible_cp(c) && c != '\'') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const std::size_t sp = s.find(' ');
    out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

// The tables in the form the matching needs, built once (not per message).
struct Prepared {
  const Brand* brand;
  std::vector<std::string_view> words;
  std::string squashed;  // "trustwallet": its name written as one word, and its domains' label
  std::vector<std::string_view> domains;
};

struct Tables {
  std::vector<Prepared> brands;
  std::unordered_set<std::string_view> brand_words;  // every brand's squashed name
  std::unordered_set<std::string_view> service_words{std::begin(kServiceWords), std::end(kServiceWords)};
  Tables() {
    brands.reserve(std::size(kBrands));
    for (const Brand& b : kBrands) {
      Prepared p{&b, split(b.words), {}, split(b.domains)};
      for (std::string_view w : p.words) p.squashed += w;
      brands.push_back(std::move(p));
    }
    for (const Prepared& p : brands) brand_words.insert(p.squashed);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

bool service_word(const Tables& tb, std::string_view w) {
  if (w.size() <= 1) return true;  // initials, stray letters of punctuation
  if (std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  return tb.service_words.contains(w);
}

// Where the brand's words stand in `t` (as consecutive words, or squashed into one word):
// [begin, end) of the words it covers, or begin == end when it is not there.
std::pair<std::size_t, std::size_t> find_brand(const std::vector<std::string>& t, const Prepared& b) {
  const auto& w = b.words;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (w.size() > 1 && t[i] == b.squashed) return {i, i + 1};
    if (i + w.size() > t.size()) continue;
    bool all = true;
    for (std::size_t k = 0; k < w.size() && all; ++k) all = t[i + k] == w[k];
    if (all) return {i, i + w.size()};
  }
  return {0, 0};
}

bool owns(const Prepared& b, std::string_view registrable) {
  if (std::find(b.domains.begin(), b.domains.end(), registrable) != b.domains.end()) return true;
  const std::string& sq = b.squashed;
  return registrable.size() > sq.size() && registrable.starts_with(sq) && registrable[sq.size()] == '.';
}

}  // namespace

std::string impersonated_brand(std::string_view display, std::string_view registrable) {
  if (display.empty() || registrable.empty()) return {};
  std::string plain;
  if (mime::deobfuscate(display, plain)) display = plain;
  const std::vector<std::string> t = tokens(display);
  if (t.empty() || t.size() > 12) return {};
  const Tables& tb = tables();
  for (const Prepared& b : tb.brands) {
    const auto [begin, end] = find_brand(t, b);
    if (begin == end) continue;
    if (owns(b, registrable)) return {};  // the brand itself (or its other name) is speaking
    std::size_t other = 0;
    for (std::size_t i = 0; i < t.size(); ++i)
      if ((i < begin || i >= end) && !service_word(tb, t[i]) && !tb.brand_words.contains(t[i])) ++other;
    // One word of its own ("Jane from PayPal") for a name that is nothing but a brand; none
    // for one that is also a word or a name ("Chase Miller", "Apple Pie Recipes").
    if (other <= (b.brand->ambiguous ? 0u : 1u)) return std::string(b.brand->name);
  }
  return {};
}

}  // namespace bulwark::rules
