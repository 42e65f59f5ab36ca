#include "rules/urls.h"

#include <idn2.h>
#include <libpsl.h>
#include <unicode/uchar.h>
#include <unicode/uspoof.h>

#include <algorithm>
#include <cstdlib>
#include <unordered_set>

#include "core/utf8.h"
#include "mime/decode.h"
#include "rules/brands.h"
#include "rules/functions.h"
#include "rules/text_util.h"

namespace bulwark::rules {

using util::istarts;
using util::lower_ascii;
using util::trim;

namespace {

constexpr std::size_t kMaxUrls = 500;        // distinct URLs examined per message
constexpr std::size_t kMaxDetail = 300;      // bytes of one symbol's detail
constexpr std::size_t kMaxHost = 253 * 4;    // longer "hosts" are not looked up

const std::array<BuiltinSpec, kBuiltinCount> kBuiltins = {{
    {"URL_TEXT_MISMATCH", 2.0, "phishing",
     "A link's visible text shows one domain while it leads to another registrable domain."},
    {"URL_IP_HOST", 1.5, "phishing", "A link to a bare IP address instead of a domain name."},
    {"URL_NUMERIC_HOST", 4.0, "phishing",
     "A link host written as a decimal, hex or octal number (an IP address disguised from readers)."},
    {"URL_USERINFO", 3.0, "phishing",
     "A web link with user@ before the host (http://www.bank.com@evil.example/): the real host hides at the end."},
    {"URL_PUNYCODE", 0.5, "phishing", "A link to an internationalised (punycode) domain."},
    {"URL_HOMOGRAPH", 5.0, "phishing",
     "A link domain that mixes scripts or is a look-alike (confusable) of a protected brand domain."},
    {"URL_LOOKALIKE_OWN_DOMAIN", 4.0, "phishing",
     "A link domain one typo or one confusable character away from the organisation's own domain."},
    {"URL_SHORTENER", 0.5, "url", "A link through a URL shortener: the destination is hidden."},
    {"URL_REDIRECTOR", 1.0, "url",
     "A link through an open redirector (e.g. google.com/url?q=) to another domain."},
    {"URL_DATA_URI", 3.0, "phishing",
     "A data: URI in a link, form or frame (a page carried inside the mail, invisible to URL filters)."},
    {"FROM_EXEC_IMPERSONATION", 5.0, "phishing",
     "The From display name is one of the configured executives, but the address is outside the organisation."},
    {"FROM_LOOKALIKE_OWN_DOMAIN", 5.0, "phishing",
     "The sender's domain is a look-alike of the organisation's own domain."},
    {"FROM_BRAND_IMPERSONATION", 3.0, "phishing",
     "The From display name is a well-known brand (\"PayPal Service\", \"DHL Express\") but the address is not one of the brand's domains."},
    {"URL_ADDRESS_IN_FRAGMENT", 2.0, "phishing",
     "A link that carries an email address after '#', plainly or in base64: phishing kits pre-fill the victim's address there, out of the server's logs."},
    {"URL_BRAND_SUBDOMAIN", 3.0, "phishing",
     "A link host that wears a brand's whole domain in front of another one (paypal.com.secure-login.example)."},
}};

// Brands phishing imitates most (public reports by APWG, Check Point, Vade): their
// look-alikes are URL_HOMOGRAPH.
constexpr std::array<std::string_view, 46> kProtected = {
    "paypal.com",        "apple.com",        "icloud.com",      "microsoft.com",   "office.com",
    "office365.com",     "outlook.com",      "live.com",        "hotmail.com",     "microsoftonline.com",
    "sharepoint.com",    "onedrive.com",     "google.com",      "gmail.com",       "youtube.com",
    "amazon.com",        "amazon.co.uk",     "amazon.de",       "facebook.com",    "instagram.com",
    "whatsapp.com",      "netflix.com",      "linkedin.com",    "dropbox.com",     "docusign.com",
    "docusign.net",      "adobe.com",        "chase.com",       "wellsfargo.com",  "bankofamerica.com",
    "citibank.com",      "americanexpress.com", "ebay.com",     "dhl.com",         "fedex.com",
    "ups.com",           "usps.com",         "irs.gov",         "twitter.com",     "yahoo.com",
    "wetransfer.com",    "coinbase.com",     "binance.com",     "steampowered.com", "spotify.com",
    "booking.com"};

// URL shorteners: the destination is unknown until followed.
constexpr std::array<std::string_view, 59> kShorteners = {
    "bit.ly",      "bitly.com",   "tinyurl.com", "goo.gl",     "t.co",       "ow.ly",      "is.gd",
    "buff.ly",     "rebrand.ly",  "cutt.ly",     "shorturl.at", "tiny.cc",   "t.ly",       "rb.gy",
    "s.id",        "v.gd",        "lnkd.in",     "qrco.de",    "x.co",       "tr.im",      "su.pr",
    "snipurl.com", "bl.ink",      "shorte.st",   "adf.ly",     "bc.vc",      "po.st",      "1url.com",
    "cli.gs",      "u.to",        "clck.ru",     "tiny.one",   "shrtco.de",  "urlz.fr",    "soo.gd",
    "mcaf.ee",     "db.tt",       "trib.al",     "snip.ly",    "short.gy",   "cutt.us",    "n9.cl",
    "ln.run",      "lc.cx",       "zpr.io",      "goo.su",     "ix.sk",      "2u.pw",      "surl.li",
    "shorturl.asia", "urlr.me",   "gg.gg",       "bit.do",     "l.ead.me",
    // IP loggers: a link that records who clicked, then forwards
    "grabify.link", "iplogger.org", "iplogger.com", "2no.co",   "yip.su"};

// Hosts whose redirects are legitimate link protection (they rewrite every link).
constexpr std::array<std::string_view, 6> kRewriters = {"outlook.com", "urldefense.com", "proofpoint.com",
                                                        "mimecast.com", "cudasvc.com",    "trendmicro.com"};

// Query parameters that carry a redirect target.
constexpr std::array<std::string_view, 22> kRedirectKeys = {
    "url",  "u",        "q",      "redirect", "redirect_url", "redirect_uri", "redirecturl", "target",
    "dest", "destination", "next", "goto",    "link",         "r",            "rurl",        "return",
    "returnurl", "continue", "to", "out",     "go",           "adurl"};

bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::string percent_decode(std::string_view s, bool plus_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && hex_digit(s[i + 1]) && hex_digit(s[i + 2])) {
      out += static_cast<char>(hex_val(s[i + 1]) * 16 + hex_val(s[i + 2]));
      i += 2;
    } else if (plus_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_web(std::string_view scheme) { return scheme == "http" || scheme == "https" || scheme == "ftp"; }

bool in_list(std::string_view host, std::string_view reg, auto const& list) {
  std::string_view h = host;
  if (h.starts_with("www.")) h.remove_prefix(4);
  for (std::string_view d : list)
    if (h == d || reg == d) return true;
  return false;
}

// Optimal string alignment distance (adjacent transpositions count one), bounded inputs.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  if (a.size() > 64 || b.size() > 64) return 99;
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

bool ascii_only(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

const std::array<BuiltinSpec, kBuiltinCount>& builtin_symbols() { return kBuiltins; }

void BuiltinResult::add(Builtin b, std::string_view d) {
  const auto i = static_cast<std::size_t>(b);
  std::string& s = detail[i];
  if (hit[i] && s.find(d) != std::string::npos) return;
  hit[i] = true;
  if (s.size() >= kMaxDetail) return;
  if (!s.empty()) s += "; ";
  s += util::snippet(d, kMaxDetail - std::min(kMaxDetail, s.size()));
}

namespace {
// Base64 or base64url text decoded (at most 2 KiB of it): redirect targets hidden in a query.
std::string base64_url(std::string_view in) {
  std::string std_alphabet(in.substr(0, 2048));
  for (char& c : std_alphabet) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  std::string out;
  mime::DecodeStats st;
  mime::decode_base64(std_alphabet, mime::Base64Mode::kStopAtPadding, 2048, out, st);
  return out;
}
}  // namespace

namespace {
// An email address (local@domain.tld) anywhere in `s`, plainly, percent-encoded, or as the
// base64 of the whole value (up to '&'): what a phishing kit's link carries after '#'.
bool plain_address(std::string_view t) {
  const std::size_t at = t.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view dom = t.substr(at + 1);
  dom = dom.substr(0, std::min(dom.find_first_of("&?/#=;, "), dom.size()));
  const std::size_t dot = dom.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dom.size() - dot - 1 < 2) return false;
  return std::all_of(dom.begin() + static_cast<std::ptrdiff_t>(dot) + 1, dom.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

bool holds_address(std::string_view s) {
  if (plain_address(s)) return true;
  if (s.find('%') != std::string_view::npos && plain_address(percent_decode(s, false))) return true;
  const std::string_view v = s.substr(0, std::min(s.find('&'), s.size()));
  if (v.size() < 8 || v.size() > 400) return false;
  const std::string d = base64_url(v);
  return d.size() >= 5 && std::all_of(d.begin(), d.end(), [](char c) { return c > 0x20 && c < 0x7f; }) &&
         plain_address(d);
}
}  // namespace

bool split_url(std::string_view url, UrlParts& out) {
  url = trim(url);
  out = UrlParts{};
  std::size_t i = 0;
  while (i < url.size() && ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
                            (i > 0 && ((url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' || url[i] == '.'))))
    ++i;
  std::string_view rest;
  if (i > 0 && i < url.size() && url[i] == ':') {
    out.scheme = lower_ascii(url.substr(0, i));
    rest = url.substr(i + 1);
    if (!is_web(out.scheme)) return true;  // mailto:, data:, javascript:, cid: ... no host
    // Browsers accept any number of slashes and backslashes here.
    std::size_t s = 0;
    while (s < rest.size() && (rest[s] == '/' || rest[s] == '\\')) ++s;
    rest = rest.substr(s);
  } else if (istarts(url, "www.")) {
    out.scheme = "http";
    rest = url;
  } else if (url.starts_with("//")) {
    out.scheme = "http";
    rest = url.substr(2);
  } else {
    return false;  // relative reference
  }
  const std::size_t end = std::min(rest.find_first_of("/?#\\"), rest.size());
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = rest.substr(end);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    out.has_userinfo = true;
    out.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  if (host.starts_with("[")) {
    const std::size_t close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  out.host = lower_ascii(percent_decode(host, false));
  while (!out.host.empty() && out.host.back() == '.') out.host.pop_back();
  const std::size_t q = tail.find('?');
  const std::size_t h = tail.find('#');
  out.path = std::string(tail.substr(0, std::min(q, h)));
  if (q != std::string_view::npos && (h == std::string_view::npos || q < h))
    out.query = std::string(tail.substr(q + 1, h == std::string_view::npos ? std::string_view::npos : h - q - 1));
  return !out.host.empty();
}

std::string numeric_ipv4(std::string_view host) {
  if (host.empty() || host.size() > 64) return {};
  std::vector<std::uint64_t> parts;
  bool canonical = true;
  std::size_t i = 0;
  while (i <= host.size()) {
    std::size_t dot = host.find('.', i);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view p = host.substr(i, dot - i);
    if (p.empty()) return {};
    std::uint64_t v = 0;
    if (p.size() > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
      canonical = false;
      for (char c : p.substr(2)) {
        if (!hex_digit(c)) return {};
        v = v * 16 + static_cast<std::uint64_t>(hex_val(c));
        if (v > 0xFFFFFFFFull) return {};
      }
    } else if (p.size() > 1 && p[0] == '0') {
      canonical = false;
      for (char c : p.substr(1)) {
        if (c < '0' || c > '7') return {};
        v = v * 8 + static_cast<std::uint64_t>(c - '0');
        if (v > 0xFFFFFFFFull) return {};
      }
    } else {
      for (char c : p) {
        if (c < '0' || c > '9') return {};
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > 0xFFFFFFFFull) return {};
      }
    }
    parts.push_back(v);
    if (parts.size() > 4) return {};
    i = dot + 1;
    if (dot == host.size()) break;
  }
  // inet_aton: a.b.c.d, a.b.c (c is 16 bits), a.b (b is 24 bits), a (32 bits).
  std::uint64_t addr = 0;
  const std::size_t n = parts.size();
  for (std::size_t k = 0; k + 1 < n; ++k) {
    if (parts[k] > 255) return {};
    addr = (addr << 8) | parts[k];
  }
  const std::uint64_t last_max = n == 1 ? 0xFFFFFFFFull : n == 2 ? 0xFFFFFFull : n == 3 ? 0xFFFFull : 0xFFull;
  if (parts[n - 1] > last_max) return {};
  addr = (addr << (8 * (5 - n))) | parts[n - 1];
  if (n != 4) canonical = false;
  std::string dotted = std::to_string((addr >> 24) & 255) + "." + std::to_string((addr >> 16) & 255) + "." +
                       std::to_string((addr >> 8) & 255) + "." + std::to_string(addr & 255);
  return canonical ? "=" + dotted : dotted;  // "=" marks a plain dotted quad
}

std::string normalize_person(std::string_view name) {
  std::string flat;
  // Letters and digits lower-cased (ICU, so "JÖRG" matches "jörg"); the rest separates.
  std::string cur;
  std::vector<std::string> words;
  std::size_t comma_words = 0;
  bool comma = false;
  auto flush = [&]() {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < name.size();) {
    const char32_t c = util::next_cp(name, i);
    if (u_isalnum(static_cast<UChar32>(c))) {
      append_utf8(cur, static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))));
      continue;
    }
    if (c == '\'' || c == '.' || util::invisible_cp(c)) continue;  // "O'Brien", "J. Doe" -> "obrien", "j doe"
    flush();
    if (c == ',' && !comma) {
      comma = true;
      comma_words = words.size();
    }
  }
  flush();
  // "Doe, Jane" -> "jane doe".
  if (comma && comma_words > 0 && comma_words < words.size())
    std::rotate(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(comma_words), words.end());
  for (const auto& w : words) {
    if (!flat.empty()) flat += ' ';
    flat += w;
  }
  return flat;
}

Result<std::unique_ptr<UrlAnalyzer>> UrlAnalyzer::create(const RulesOptions& options) {
  std::unique_ptr<UrlAnalyzer> a(new UrlAnalyzer());
  // The newest suffix list installed on this machine (read at load, before the scan workers start), else the built-in one.
  a->psl_ = psl_latest(nullptr);
  if (a->psl_) a->psl_owned_ = true;
  else a->psl_ = const_cast<psl_ctx_st*>(psl_builtin());
  UErrorCode st = U_ZERO_ERROR;
  a->spoof_ = uspoof_open(&st);
  if (U_FAILURE(st)) return Error{std::string("ICU spoof checker: ") + u_errorName(st)};
  uspoof_setChecks(a->spoof_, USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS, &st);
  uspoof_setRestrictionLevel(a->spoof_, USPOOF_HIGHLY_RESTRICTIVE);
  if (U_FAILURE(st)) return Error{std::string("ICU spoof checker: ") + u_errorName(st)};
  std::vector<std::string> prot;
  if (options.builtin_protected_domains)
    for (std::string_view d : kProtected) prot.emplace_back(d);
  for (const auto& d : options.protected_domains) prot.push_back(d);
  for (const auto& d : prot) {
    Host h = a->normalize_host(d);
    if (h.registrable.empty()) continue;
    a->protected_skeletons_.emplace(a->skeleton(h.registrable), h.registrable);
  }
  for (const auto& d : options.own_domains) {
    Host h = a->normalize_host(d);
    if (!h.registrable.empty()) a->own_.push_back(h.registrable);
  }
  for (const auto& e : options.executives) {
    std::string n = normalize_person(e);
    if (!n.empty()) a->executives_.push_back(std::move(n));
  }
  return a;
}

UrlAnalyzer::~UrlAnalyzer() {
  if (psl_owned_) psl_free(psl_);
  if (spoof_) uspoof_close(spoof_);
}

std::string UrlAnalyzer::registrable(std::string_view unicode_host) const {
  if (unicode_host.empty()) return {};
  const std::string h(unicode_host);
  const char* r = psl_ ? psl_registrable_domain(psl_, h.c_str()) : nullptr;
  if (r) return std::string(r);
  return h;
}

UrlAnalyzer::Host UrlAnalyzer::normalize_host(std::string_view host_in) const {
  Host h;
  std::string host = lower_ascii(trim(host_in));
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty() || host.size() > kMaxHost) return h;
  if (host.front() == '[') {
    h.ip = true;
    h.ascii = h.unicode = h.registrable = host;
    return h;
  }
  if (std::string n = numeric_ipv4(host); !n.empty()) {
    if (n.front() == '=') h.ip = true;
    else h.numeric = n;
    h.ascii = h.unicode = h.registrable = host;
    return h;
  }
  if (ascii_only(host)) {
    h.ascii = host;
  } else {
    char* out = nullptr;
    int rc = idn2_to_ascii_8z(host.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
      idn2_free(out);
      out = nullptr;
      rc = idn2_to_ascii_8z(host.c_str(), &out, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    }
    if (rc == IDN2_OK && out) h.ascii = lower_ascii(out);
    else h.ascii = host;  // not valid IDNA: keep what was written
    idn2_free(out);
  }
  h.unicode = h.ascii;
  if (h.ascii.find("xn--") != std::string::npos) {
    char* out = nullptr;
    if (idn2_to_unicode_8z8z(h.ascii.c_str(), &out, 0) == IDN2_OK && out) h.unicode = out;
    else if (!ascii_only(host)) h.unicode = host;
    idn2_free(out);
  } else if (!ascii_only(host)) {
    h.unicode = host;
  }
  h.registrable = registrable(h.unicode);
  return h;
}

std::string UrlAnalyzer::skeleton(std::string_view s) const {
  UErrorCode st = U_ZERO_ERROR;
  char buf[1024];
  const int32_t n = uspoof_getSkeletonUTF8(spoof_, 0, s.data(), static_cast<int32_t>(s.size()), buf,
                                           static_cast<int32_t>(sizeof buf), &st);
  if (U_FAILURE(st) || n < 0 || n > static_cast<int32_t>(sizeof buf)) return std::string(s);
  return std::string(buf, static_cast<std::size_t>(n));
}

bool UrlAnalyzer::mixed_script(std::string_view unicode) const {
  if (ascii_only(unicode)) return false;
  // Label by label: the dots between are not part of any script.
  std::size_t i = 0;
  while (i <= unicode.size()) {
    std::size_t dot = unicode.find('.', i);
    if (dot == std::string_view::npos) dot = unicode.size();
    std::string_view label = unicode.substr(i, dot - i);
    if (!label.empty() && !ascii_only(label)) {
      UErrorCode st = U_ZERO_ERROR;
      const int32_t r = uspoof_check2UTF8(spoof_, label.data(), static_cast<int32_t>(label.size()), nullptr, &st);
      if (U_SUCCESS(st) && r != 0) return true;
    }
    if (dot == unicode.size()) break;
    i = dot + 1;
  }
  return false;
}

std::string UrlAnalyzer::brand_in_host(const Host& h, const std::vector<std::string>& own) const {
  // The first label of a registrable domain ("paypal" of paypal.com.au): a brand's own
  // country domains carry its name too.
  auto label = [](std::string_view d) { return d.substr(0, d.find('.')); };
  auto check = [&](const std::string& d) -> bool {
    if (d.empty() || h.registrable == d || label(h.registrable) == label(d)) return false;
    for (std::size_t at = h.ascii.find(d); at != std::string::npos; at = h.ascii.find(d, at + 1)) {
      const std::size_t end = at + d.size();
      if ((at == 0 || h.ascii[at - 1] == '.' || h.ascii[at - 1] == '-') && end < h.ascii.size() &&
          (h.ascii[end] == '.' || h.ascii[end] == '-'))
        return true;
    }
    return false;
  };
  for (const auto& [skel, d] : protected_skeletons_)
    if (check(d)) return d;
  for (const std::string& d : own)
    if (check(d)) return d;
  return {};
}

std::string UrlAnalyzer::lookalike(std::string_view reg, const std::vector<std::string>& own) const {
  if (reg.empty()) return {};
  const std::string sk = skeleton(reg);
  const std::string_view label = reg.substr(0, reg.find('.'));
  for (const std::string& o : own) {
    if (reg == o) return {};
  }
  for (const std::string& o : own) {
    if (sk == skeleton(o)) return o;
    const std::string_view olabel = std::string_view(o).substr(0, o.find('.'));
    if (olabel.size() >= 4 && label == olabel) return o;  // same name, another suffix
    const std::size_t limit = olabel.size() >= 10 ? 2 : olabel.size() >= 5 ? 1 : 0;
    if (limit > 0 && reg.size() + 3 > o.size() && o.size() + 3 > reg.size()) {
      const std::size_t d = edit_distance(reg, o);
      if (d > 0 && d <= limit) return o;
    }
  }
  return {};
}

void UrlAnalyzer::analyze(const mime::Message& m, std::string_view recipient_domain, BuiltinResult& out) const {
  std::vector<std::string> own = own_;
  if (!recipient_domain.empty()) {
    Host h = normalize_host(recipient_domain);
    if (!h.registrable.empty() && std::find(own.begin(), own.end(), h.registrable) == own.end())
      own.push_back(h.registrable);
  }

  // Every URL once: links first (they carry anchor text and tags), then text URLs.
  struct Item {
    std::string_view url;
    std::string_view text;
    std::string_view tag;
  };
  std::vector<Item> items;
  std::unordered_set<std::string_view> seen;
  for (const mime::Part& p : m.parts)
    for (const mime::Link& l : p.links) {
      if (items.size() >= kMaxUrls) break;
      // Anchors keep their own entry even when the URL repeats (each anchor text counts).
      if (l.tag == "a" && !l.text.empty()) {
        items.push_back({l.url, l.text, l.tag});
        seen.insert(l.url);
      } else if (seen.insert(l.url).second) {
        items.push_back({l.url, {}, l.tag});
      }
    }
  for (const std::string& u : m.urls) {
    if (items.size() >= kMaxUrls) break;
    if (seen.insert(u).second) items.push_back({u, {}, {}});
  }

  std::unordered_map<std::string, Host> hosts;  // by host as written
  auto host_of = [&](const std::string& h) -> const Host& {
    auto it = hosts.find(h);
    if (it == hosts.end()) it = hosts.emplace(h, normalize_host(h)).first;
    return it->second;
  };
  std::unordered_set<std::string> checked_domains, checked_hosts;
  UrlParts u, t;
  // The sender's registrable domain: a link shown as one domain that goes through the
  // sender's own domain is its click tracking (newsletters do it to count clicks), unless
  // the shown domain is a protected brand or the organisation's own.
  const std::string sender_reg = m.from.empty() ? std::string() : normalize_host(m.from.front().domain).registrable;
  auto brand_or_own = [&](const std::string& reg) {
    if (std::find(own.begin(), own.end(), reg) != own.end()) return true;
    const auto p = protected_skeletons_.find(skeleton(reg));
    return p != protected_skeletons_.end();
  };

  for (const Item& it : items) {
    std::string_view url = trim(it.url);
    // data: URIs: a page or a program inside the mail. Inline images are ordinary.
    if (istarts(url, "data:")) {
      std::string_view media = url.substr(5);
      media = media.substr(0, std::min(media.find_first_of(";,"), media.size()));
      const std::string mt = lower_ascii(trim(media));
      const bool image_tag = it.tag == "img" || it.tag.empty();
      if (!(image_tag && mt.starts_with("image/") && mt != "image/svg+xml"))
        out.add(Builtin::kDataUri, "data:" + (mt.empty() ? std::string("text/plain") : mt) +
                                       (it.tag.empty() ? std::string() : " in <" + std::string(it.tag) + ">"));
      continue;
    }
    if (!split_url(url, u) || !is_web(u.scheme)) continue;
    const Host& h = host_of(u.host);
    const std::string shown_host = u.host.size() > 80 ? u.host.substr(0, 80) : u.host;
    if (u.has_userinfo && u.scheme != "ftp")
      out.add(Builtin::kUserinfo, util::snippet(u.userinfo, 60) + "@" + shown_host);
    if (h.ip) out.add(Builtin::kIpHost, shown_host);
    if (!h.numeric.empty()) out.add(Builtin::kNumericHost, shown_host + " = " + h.numeric);
    if (const std::size_t hash = url.find('#'); hash != std::string_view::npos && holds_address(url.substr(hash + 1)))
      out.add(Builtin::kAddressInFragment, shown_host + "#" + util::snippet(url.substr(hash + 1), 60));

    // Redirects: a parameter (or the whole query) that is itself a URL to another domain,
    // written plainly, percent-encoded or in base64 ("aHR0c..." is "http"; Bing's click
    // links prefix it with "a1"); and Google's AMP viewer, whose path is the target.
    std::string target_reg;
    auto redirects_to = [&](const std::string& value) {
      if (!target_reg.empty()) return;
      if (!(istarts(value, "http://") || istarts(value, "https://") || istarts(value, "//")) || !split_url(value, t))
        return;
      const Host& th = host_of(t.host);
      if (th.registrable.empty() || th.registrable == h.registrable) return;
      target_reg = th.registrable;
      out.add(Builtin::kRedirector, h.registrable + " -> " + th.registrable);
      // The destination is checked like any other link.
      if (th.ip) out.add(Builtin::kIpHost, th.ascii);
      if (!th.numeric.empty()) out.add(Builtin::kNumericHost, th.ascii + " = " + th.numeric);
    };
    if (h.registrable.starts_with("google.") && (u.path.starts_with("/amp/s/") || u.path.starts_with("/amp/")))
      redirects_to("https://" + u.path.substr(u.path.starts_with("/amp/s/") ? 7 : 5));
    if (!u.query.empty() && !in_list(h.ascii, h.registrable, kRewriters)) {
      std::string_view q = u.query;
      std::size_t i = 0;
      while (i <= q.size() && target_reg.empty()) {
        std::size_t amp = q.find('&', i);
        if (amp == std::string_view::npos) amp = q.size();
        std::string_view kv = q.substr(i, amp - i);
        const std::size_t eq = kv.find('=');
        const std::string key = lower_ascii(eq == std::string_view::npos ? std::string_view() : kv.substr(0, eq));
        std::string value = percent_decode(eq == std::string_view::npos ? kv : kv.substr(eq + 1), true);
        if (value.find('%') != std::string::npos) value = percent_decode(value, false);
        const bool keyed = eq == std::string_view::npos ||
                           std::find(kRedirectKeys.begin(), kRedirectKeys.end(), key) != kRedirectKeys.end();
        if (keyed) redirects_to(value);
        if (std::string_view b64 = value; b64.starts_with("a1aHR0c") || b64.starts_with("aHR0c")) {
          if (b64.starts_with("a1")) b64.remove_prefix(2);
          redirects_to(base64_url(b64));
        }
        if (amp == q.size()) break;
        i = amp + 1;
      }
    }
    if (in_list(h.ascii, h.registrable, kShorteners)) out.add(Builtin::kShortener, h.registrable);

    // Anchor text that shows a domain: it must be the domain the link goes to.
    if (!it.text.empty() && it.tag == "a") {
      std::string_view text = trim(it.text);
      while (!text.empty() && (text.front() == '<' || text.front() == '"' || text.front() == '(')) text.remove_prefix(1);
      while (!text.empty() && (text.back() == '>' || text.back() == '"' || text.back() == ')' || text.back() == '.'))
        text.remove_suffix(1);
      if (!text.empty() && text.size() < 300 && text.find_first_of(" \t\r\n@") == std::string_view::npos) {
        const bool has_scheme = istarts(text, "http://") || istarts(text, "https://");
        std::string candidate = has_scheme || istarts(text, "www.") ? std::string(text) : "http://" + std::string(text);
        if (split_url(candidate, t) && t.host.find('.') != std::string::npos) {
          const Host& th = host_of(t.host);
          const std::string tld = th.ascii.substr(th.ascii.rfind('.') + 1);
          bool looks_domain = has_scheme || istarts(text, "www.");
          if (!looks_domain && tld.size() >= 2 && psl_ &&
              psl_is_public_suffix2(psl_, tld.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) &&
              std::all_of(tld.begin(), tld.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
            looks_domain = true;
          const bool sender_tracking = !sender_reg.empty() && h.registrable == sender_reg && !brand_or_own(th.registrable);
          if (looks_domain && !th.registrable.empty() && !h.registrable.empty() && th.registrable != h.registrable &&
              th.registrable != target_reg && !sender_tracking)
            out.add(Builtin::kTextMismatch, "shows " + th.registrable + ", goes to " + h.registrable);
        }
      }
    }

    // A brand's whole domain worn as the front of another one, once per host.
    if (!h.ip && h.numeric.empty() && !h.registrable.empty() && checked_hosts.insert(h.ascii).second)
      if (std::string b = brand_in_host(h, own); !b.empty()) out.add(Builtin::kBrandSubdomain, h.ascii + " wears " + b);

    // Look-alike domains, once per registrable domain.
    if (h.ip || !h.numeric.empty() || h.registrable.empty()) continue;
    if (!checked_domains.insert(h.registrable).second) continue;
    if (h.ascii.find("xn--") != std::string::npos) out.add(Builtin::kPunycode, h.ascii + " (" + h.unicode + ")");
    if (!protected_skeletons_.empty()) {
      auto p = protected_skeletons_.find(skeleton(h.registrable));
      if (p != protected_skeletons_.end() && p->second != h.registrable)
        out.add(Builtin::kHomograph, h.registrable + " imitates " + p->second);
      else if (mixed_script(h.unicode))
        out.add(Builtin::kHomograph, h.unicode + " mixes scripts");
    } else if (mixed_script(h.unicode)) {
      out.add(Builtin::kHomograph, h.unicode + " mixes scripts");
    }
    if (!own.empty())
      if (std::string o = lookalike(h.registrable, own); !o.empty())
        out.add(Builtin::kLookalikeOwn, h.registrable + " imitates " + o);
  }

  // The sender.
  if (!m.from.empty()) {
    const mime::Address& a = m.from.front();
    const Host fh = normalize_host(a.domain);
    bool own_sender = false;
    for (const std::string& o : own)
      if (fh.registrable == o) own_sender = true;
    if (!executives_.empty() && !a.display_name.empty() && !own_sender) {
      const std::string n = normalize_person(a.display_name);
      const bool decidable = !own.empty() || is_freemail(a.domain);
      if (decidable && std::find(executives_.begin(), executives_.end(), n) != executives_.end())
        out.add(Builtin::kFromExecImpersonation, "\"" + a.display_name + "\" <" + a.address() + ">");
    }
    if (!own.empty() && !own_sender)
      if (std::string o = lookalike(fh.registrable, own); !o.empty())
        out.add(Builtin::kFromLookalikeOwn, fh.registrable + " imitates " + o);
    if (!own_sender && !fh.registrable.empty())
      if (std::string b = impersonated_brand(a.display_name, fh.registrable); !b.empty())
        out.add(Builtin::kFromBrandImpersonation, b + ": \"" + a.display_name + "\" <" + a.address() + ">");
  }
}

}  // namespace bulwark::rules
