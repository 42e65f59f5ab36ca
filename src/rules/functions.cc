#include "rules/functions.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "mime/deobfuscate.h"
#include "mime/header_value.h"
#include "rules/freemail.h"
#include "rules/text_util.h"

namespace bulwark::rules {

using util::iequals;
using util::istarts;
using util::lower_ascii;
using util::next_cp;
using util::trim;

namespace {

constexpr std::size_t kMaxScanText = 1u << 20;  // body bytes read by text functions

const std::vector<FnSpec> kFunctions = {
    {"html_text_ratio", Fn::kHtmlTextRatio, false,
     "Visible text bytes / HTML source bytes over the HTML body parts (1 without HTML or under 256 bytes of it)."},
    {"html_parts", Fn::kHtmlParts, false, "Number of text/html body parts."},
    {"text_parts", Fn::kTextParts, false, "Number of text/plain body parts."},
    {"html_only", Fn::kHtmlOnly, false, "1 when the message has HTML body parts and no text/plain one."},
    {"hidden_text", Fn::kHiddenText, false,
     "Bytes of HTML text a reader cannot see (as the MIME renderer reports in HTML_HIDDEN_TEXT)."},
    {"symbol", Fn::kSymbol, true, "1 when the MIME parser or inspection raised this symbol (e.g. symbol(IMAGE_QR_URL))."},
    {"has_header", Fn::kHasHeader, true, "Number of header fields with this name (0: missing)."},
    {"date_missing", Fn::kDateMissing, false, "1 without a Date field."},
    {"date_malformed", Fn::kDateMalformed, false, "1 when Date is not an RFC 5322 date (or its zone is impossible)."},
    {"date_skew_hours", Fn::kDateSkewHours, false,
     "Date minus the newest Received timestamp, in hours: > 0 in the future, < 0 in the past (0 without either)."},
    {"msgid_missing", Fn::kMsgidMissing, false, "1 without a Message-ID field."},
    {"msgid_malformed", Fn::kMsgidMalformed, false, "1 when Message-ID is not <left@right>."},
    {"received_count", Fn::kReceivedCount, false, "Number of Received fields."},
    {"received_malformed", Fn::kReceivedMalformed, false,
     "Received fields without 'by', without a ';' date, or with an unparseable date."},
    {"received_time_travel", Fn::kReceivedTimeTravel, false,
     "Largest number of hours an older hop (lower Received) is stamped after a newer one."},
    {"received_forged_helo", Fn::kReceivedForgedHelo, false,
     "Hops whose HELO names a large mail provider while the reverse DNS is outside it."},
    {"from_name_has_address", Fn::kFromNameHasAddress, false,
     "1 when the From display name holds an e-mail address other than the sender's."},
    {"from_freemail", Fn::kFromFreemail, false, "1 when the From domain is a free-mail provider."},
    {"replyto_freemail", Fn::kReplytoFreemail, false,
     "1 when Reply-To goes to a free-mail domain and From is not free-mail."},
    {"subject_caps", Fn::kSubjectCaps, false,
     "Share of upper-case letters in the Subject (0 with fewer than 8 letters)."},
    {"subject_mixed_script", Fn::kSubjectMixedScript, false,
     "Subject words mixing Latin with Cyrillic or Greek letters (look-alike obfuscation)."},
    {"subject_invisible", Fn::kSubjectInvisible, false,
     "Zero-width, bidi-control and soft-hyphen characters in the Subject."},
    {"subject_spaced", Fn::kSubjectSpaced, false,
     "Longest run of single letters separated by spaces, dots or dashes (\"F R E E\" = 4)."},
    {"body_mixed_script", Fn::kBodyMixedScript, false,
     "Body words mixing Latin with Cyrillic, Greek, Armenian or Cherokee letters (look-alike obfuscation)."},
    {"body_invisible", Fn::kBodyInvisible, false, "Zero-width, bidi-control and soft-hyphen characters in the body text."},
    {"encoded_words", Fn::kEncodedWords, false, "RFC 2047 encoded-words in the top-level header fields."},
    {"encoded_ascii", Fn::kEncodedAscii, false,
     "Encoded-words in Subject or From whose content is plain ASCII (encoded for no reason but filters)."},
    {"part_count", Fn::kPartCount, false, "Number of MIME parts (the message itself included)."},
    {"attachment_count", Fn::kAttachmentCount, false, "Leaves with a file name or an attachment disposition."},
    {"url_count", Fn::kUrlCount, false, "Distinct URLs in the text and HTML parts."},
    {"body_bytes", Fn::kBodyBytes, false, "Bytes of decoded body text."},
    {"recipients", Fn::kRecipients, false, "Addresses in To and Cc."},
};

// Prefixes of fields that spam filters and virus scanners add on the way: a verdict.
constexpr std::array<std::string_view, 22> kIgnoredPrefixes = {
    "x-spam",          "x-virus",          "x-amavis",      "x-bogosity",    "x-dspam",
    "x-rspamd",        "x-barracuda",      "x-ham-",        "x-mailscanner", "x-proofpoint-spam",
    "x-forefront-antispam", "x-microsoft-antispam", "x-ms-exchange-organization-scl", "x-pmx-spam",
    "x-antispam",      "x-anti-spam",      "x-razor",       "x-dcc-",        "x-pyzor",
    "x-quarantine",    "x-bulwark",        "x-ironport"};

const mime::Part& root(const mime::Message& m) { return m.parts.front(); }

const mime::HeaderField* field(const mime::Message& m, std::string_view name) {
  if (m.parts.empty()) return nullptr;
  return root(m).header(name);
}

std::vector<mime::Address> addresses(const mime::Message& m, std::string_view name) {
  std::vector<mime::Address> out;
  if (m.parts.empty()) return out;
  SymbolSet scratch;
  const mime::Report r{scratch, {}};
  for (const mime::HeaderField* f : root(m).all_headers(name))
    for (auto& a : mime::parse_address_list(mime::unfold(f->raw), r)) out.push_back(std::move(a));
  return out;
}

bool body_part(const mime::Part& p) {
  return p.is_leaf() && p.is_text() && p.disposition != "attachment" && p.origin != mime::Origin::kView;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Reads a run of digits; returns the count read.
std::size_t digits(std::string_view s, std::size_t& i, int& value) {
  std::size_t n = 0;
  value = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && n < 9) {
    value = value * 10 + (s[i] - '0');
    ++i;
    ++n;
  }
  return n;
}

void skip_cfws(std::string_view s, std::size_t& i) {
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
      ++i;
    } else if (s[i] == '(') {
      int depth = 0;
      while (i < s.size()) {
        if (s[i] == '(') ++depth;
        else if (s[i] == ')' && --depth == 0) {
          ++i;
          break;
        }
        ++i;
      }
    } else {
      break;
    }
  }
}

// Registrable-ish domain for provider comparisons: the last two labels, three under a
// two-letter country code with a short second level (yahoo.co.uk).
std::string base_domain(std::string_view host) {
  std::string h = lower_ascii(trim(host));
  while (!h.empty() && h.back() == '.') h.pop_back();
  std::size_t last = h.rfind('.');
  if (last == std::string::npos || last == 0) return h;
  std::size_t second = h.rfind('.', last - 1);
  if (second == std::string::npos) return h;
  const std::string_view sld = std::string_view(h).substr(second + 1, last - second - 1);
  if (h.size() - last - 1 == 2 && (sld == "co" || sld == "com" || sld == "net" || sld == "org" || sld == "ac" ||
                                   sld == "gov" || sld == "ne" || sld == "or")) {
    std::size_t third = h.rfind('.', second - 1);
    if (second == 0) return h;
    return third == std::string::npos ? h : h.substr(third + 1);
  }
  return h.substr(second + 1);
}

// The label that names the provider: "yahoo" in yahoo.co.uk.
std::string provider_label(std::string_view domain) {
  std::string b = base_domain(domain);
  return b.substr(0, b.find('.'));
}

std::string decode_b64(std::string_view s) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_q(std::string_view s) {
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') out += ' ';
    else if (s[i] == '=' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else out += s[i];
  }
  return out;
}

// Each encoded-word of a raw field value: (encoding letter, encoded text).
template <class F>
void for_each_encoded_word(std::string_view v, F&& f) {
  std::size_t i = 0;
  while ((i = v.find("=?", i)) != std::string_view::npos) {
    std::size_t q1 = v.find('?', i + 2);
    if (q1 == std::string_view::npos || q1 + 2 >= v.size() || v[q1 + 2] != '?') {
      i += 2;
      continue;
    }
    std::size_t end = v.find("?=", q1 + 3);
    if (end == std::string_view::npos) break;
    std::string_view text = v.substr(q1 + 3, end - q1 - 3);
    if (text.find_first_of(" \t\r\n") != std::string_view::npos) {
      i += 2;
      continue;
    }
    f(v[q1 + 1], text);
    i = end + 2;
  }
}

}  // namespace

const std::vector<FnSpec>& all_functions() { return kFunctions; }

const FnSpec* find_function(std::string_view name) {
  for (const FnSpec& f : kFunctions)
    if (f.name == name) return &f;
  return nullptr;
}

bool ignored_header(std::string_view name) {
  for (std::string_view p : kIgnoredPrefixes)
    if (istarts(name, p)) return true;
  return false;
}

bool is_freemail(std::string_view domain) {
  const std::string b = base_domain(domain);
  if (b.empty()) return false;
  return freemail_domain_listed(b) || freemail_family(provider_label(domain));
}

std::optional<std::int64_t> parse_rfc5322_date(std::string_view s) {
  static const std::array<std::string_view, 12> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  std::size_t i = 0;
  skip_cfws(s, i);
  // Optional day name, with or without the comma.
  if (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) {
    while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
    skip_cfws(s, i);
    if (i < s.size() && s[i] == ',') ++i;
    skip_cfws(s, i);
  }
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (digits(s, i, day) == 0 || day < 1 || day > 31) return std::nullopt;
  skip_cfws(s, i);
  if (i < s.size() && s[i] == '-') ++i;  // "22-Aug-2002"
  if (i + 3 > s.size()) return std::nullopt;
  unsigned month = 0;
  for (unsigned k = 0; k < 12; ++k)
    if (iequals(s.substr(i, 3), months[k])) month = k + 1;
  if (month == 0) return std::nullopt;
  i += 3;
  while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) ++i;  // "August"
  skip_cfws(s, i);
  if (i < s.size() && s[i] == '-') ++i;
  const std::size_t ydigits = digits(s, i, year);
  if (ydigits < 2 || ydigits > 4) return std::nullopt;
  if (ydigits == 2) year += year < 50 ? 2000 : 1900;
  else if (ydigits == 3) year += 1900;
  skip_cfws(s, i);
  if (digits(s, i, hh) == 0 || i >= s.size() || s[i] != ':') return std::nullopt;
  ++i;
  if (digits(s, i, mm) != 2) return std::nullopt;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (digits(s, i, ss) != 2) return std::nullopt;
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  skip_cfws(s, i);
  int offset_min = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const bool neg = s[i] == '-';
    ++i;
    int z = 0;
    if (digits(s, i, z) != 4) return std::nullopt;
    const int zh = z / 100, zm = z % 100;
    if (zh > 14 || zm > 59) return std::nullopt;  // "-1600": no such zone
    offset_min = (zh * 60 + zm) * (neg ? -1 : 1);
  } else if (i < s.size()) {
    std::size_t st = i;
    while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) ++i;
    const std::string zone = lower_ascii(s.substr(st, i - st));
    static const std::array<std::pair<std::string_view, int>, 11> zones = {
        {{"ut", 0}, {"utc", 0}, {"gmt", 0}, {"est", -5}, {"edt", -4}, {"cst", -6}, {"cdt", -5}, {"mst", -7},
         {"mdt", -6}, {"pst", -8}, {"pdt", -7}}};
    for (const auto& [name, h] : zones)
      if (zone == name) offset_min = h * 60;
  }
  const std::int64_t days = days_from_civil(year, month, static_cast<unsigned>(day));
  return days * 86400 + hh * 3600 + mm * 60 + ss - static_cast<std::int64_t>(offset_min) * 60;
}

const FnContext::DateInfo& FnContext::date() {
  if (date_) return *date_;
  DateInfo d;
  if (const mime::HeaderField* f = field(m_, "Date")) {
    d.present = true;
    if (auto t = parse_rfc5322_date(mime::unfold(f->raw))) {
      d.valid = true;
      d.epoch = *t;
    }
  }
  date_ = d;
  return *date_;
}

const std::vector<FnContext::Hop>& FnContext::hops() {
  if (hops_) return *hops_;
  std::vector<Hop> out;
  if (!m_.parts.empty()) {
    for (const mime::HeaderField* f : root(m_).all_headers("Received")) {
      if (out.size() >= 64) break;
      Hop h;
      h.text = mime::unfold(f->raw);
      if (auto semi = h.text.rfind(';'); semi != std::string::npos) {
        if (auto t = parse_rfc5322_date(std::string_view(h.text).substr(semi + 1))) {
          h.has_date = true;
          h.epoch = *t;
        }
      }
      out.push_back(std::move(h));
    }
  }
  hops_ = std::move(out);
  return *hops_;
}

std::optional<std::int64_t> FnContext::reference_time() {
  for (const Hop& h : hops())
    if (h.has_date) return h.epoch;
  return std::nullopt;
}

double FnContext::call(Fn fn, std::string_view arg) {
  note_.clear();
  if (m_.parts.empty()) return 0;
  const mime::Part& top = root(m_);
  switch (fn) {
    case Fn::kHtmlTextRatio: {
      std::size_t html = 0, text = 0;
      for (const mime::Part& p : m_.parts)
        if (body_part(p) && p.content_type == "text/html") {
          html += p.payload.size();
          text += p.text.size();
        }
      if (html < 256) return 1;
      return static_cast<double>(text) / static_cast<double>(html);
    }
    case Fn::kHtmlParts:
    case Fn::kTextParts: {
      const std::string_view want = fn == Fn::kHtmlParts ? "text/html" : "text/plain";
      double n = 0;
      for (const mime::Part& p : m_.parts)
        if (body_part(p) && p.content_type == want) ++n;
      return n;
    }
    case Fn::kHtmlOnly:
      return call(Fn::kHtmlParts, {}) > 0 && call(Fn::kTextParts, {}) == 0 ? 1 : 0;
    case Fn::kHiddenText: {
      const Symbol* s = m_.symbols.find("HTML_HIDDEN_TEXT");
      if (!s) return 0;
      // Details read "part 1: 123 bytes of hidden text; part 2: ...".
      double total = 0;
      std::string_view d = s->detail;
      std::size_t at = 0;
      while ((at = d.find(" bytes of hidden text", at)) != std::string_view::npos) {
        std::size_t b = at;
        while (b > 0 && d[b - 1] >= '0' && d[b - 1] <= '9') --b;
        int v = 0;
        std::size_t k = b;
        digits(d, k, v);
        total += v;
        at += 1;
      }
      return total;
    }
    case Fn::kSymbol:
      return m_.symbols.has(arg) ? 1 : 0;
    case Fn::kHasHeader:
      if (ignored_header(arg)) return 0;
      return static_cast<double>(top.all_headers(arg).size());
    case Fn::kDateMissing:
      return date().present ? 0 : 1;
    case Fn::kDateMalformed:
      return date().present && !date().valid ? 1 : 0;
    case Fn::kDateSkewHours: {
      if (!date().valid) return 0;
      const auto ref = reference_time();
      if (!ref) return 0;
      return static_cast<double>(date().epoch - *ref) / 3600.0;
    }
    case Fn::kMsgidMissing:
      return field(m_, "Message-ID") ? 0 : 1;
    case Fn::kMsgidMalformed: {
      const mime::HeaderField* f = field(m_, "Message-ID");
      if (!f) return 0;
      std::string v = mime::unfold(f->raw);
      std::string_view t = trim(v);
      note_ = util::snippet(t, 80);
      if (t.size() < 5 || t.front() != '<' || t.back() != '>') return 1;
      std::string_view in = t.substr(1, t.size() - 2);
      const std::size_t at = in.rfind('@');
      if (at == std::string_view::npos || at == 0 || at + 1 == in.size()) return 1;
      if (in.find_first_of(" \t<>") != std::string_view::npos) return 1;
      return 0;
    }
    case Fn::kReceivedCount:
      return static_cast<double>(hops().size());
    case Fn::kReceivedMalformed: {
      double n = 0;
      for (const Hop& h : hops()) {
        const bool has_by = h.text.find("by ") != std::string::npos || h.text.find("by\t") != std::string::npos;
        if (!has_by || !h.has_date) {
          ++n;
          if (note_.empty()) note_ = util::snippet(h.text, 80);
        }
      }
      return n;
    }
    case Fn::kReceivedTimeTravel: {
      // Fields are newest first: each lower hop happened earlier.
      double worst = 0;
      const auto& hs = hops();
      std::int64_t newest = 0;
      bool have = false;
      for (const Hop& h : hs) {
        if (!h.has_date) continue;
        if (have && h.epoch > newest) worst = std::max(worst, static_cast<double>(h.epoch - newest) / 3600.0);
        if (!have || h.epoch < newest) newest = h.epoch;
        have = true;
      }
      return worst;
    }
    case Fn::kReceivedForgedHelo: {
      static const std::array<std::string_view, 10> big = {"hotmail.com", "yahoo.com",   "msn.com",   "aol.com",
                                                          "gmail.com",   "outlook.com", "live.com",  "compuserve.com",
                                                          "earthlink.net", "excite.com"};
      double n = 0;
      for (const Hop& h : hops()) {
        std::string_view t = h.text;
        if (!istarts(t, "from ")) continue;
        t.remove_prefix(5);
        t = trim(t);
        const std::size_t e = t.find_first_of(" \t(");
        const std::string helo = lower_ascii(t.substr(0, e));
        const std::string helo_base = base_domain(helo);
        if (std::find(big.begin(), big.end(), helo_base) == big.end()) continue;
        // "(rdns [ip])" right after the HELO name.
        const std::size_t open = t.find('(');
        const std::size_t by = t.find(" by ");
        std::string rdns;
        if (open != std::string_view::npos && (by == std::string_view::npos || open < by)) {
          std::string_view c = trim(t.substr(open + 1));
          rdns = lower_ascii(c.substr(0, c.find_first_of(" \t[)")));
        }
        if (rdns.empty() || rdns.find('.') == std::string::npos) continue;  // no rDNS recorded: unknown
        if (base_domain(rdns) != helo_base) {
          ++n;
          if (note_.empty()) note_ = "HELO " + helo + " from " + rdns;
        }
      }
      return n;
    }
    case Fn::kFromNameHasAddress: {
      if (m_.from.empty()) return 0;
      const mime::Address& a = m_.from.front();
      const std::string& name = a.display_name;
      const std::size_t at = name.find('@');
      if (at == std::string::npos || at == 0) return 0;
      std::size_t b = at, e = at + 1;
      auto addr_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == '_' || c == '+';
      };
      while (b > 0 && addr_char(name[b - 1])) --b;
      while (e < name.size() && addr_char(name[e])) ++e;
      std::string shown = lower_ascii(std::string_view(name).substr(b, e - b));
      while (!shown.empty() && shown.back() == '.') shown.pop_back();
      const std::size_t sat = shown.find('@');
      if (sat == 0 || sat + 1 >= shown.size() || shown.find('.', sat) == std::string::npos) return 0;
      if (shown == lower_ascii(a.address())) return 0;
      note_ = "shows " + shown + ", sent from " + a.address();
      return 1;
    }
    case Fn::kFromFreemail:
      return !m_.from.empty() && is_freemail(m_.from.front().domain) ? 1 : 0;
    case Fn::kReplytoFreemail: {
      if (m_.from.empty()) return 0;
      const std::string& from = m_.from.front().domain;
      if (is_freemail(from)) return 0;
      for (const mime::Address& r : addresses(m_, "Reply-To")) {
        if (r.domain.empty() || !is_freemail(r.domain) || base_domain(r.domain) == base_domain(from)) continue;
        note_ = "Reply-To " + r.address() + ", From domain " + from;
        return 1;
      }
      return 0;
    }
    case Fn::kSubjectCaps: {
      std::size_t upper = 0, letters = 0;
      for (std::size_t i = 0; i < m_.subject.size();) {
        const char32_t c = next_cp(m_.subject, i);
        if (u_isUAlphabetic(static_cast<UChar32>(c))) {
          ++letters;
          if (u_isUUppercase(static_cast<UChar32>(c))) ++upper;
        }
      }
      if (letters < 8) return 0;
      return static_cast<double>(upper) / static_cast<double>(letters);
    }
    case Fn::kSubjectMixedScript: {
      const auto words = static_cast<double>(mime::mixed_script_words(m_.subject));
      if (words > 0) note_ = util::snippet(m_.subject, 80);
      return words;
    }
    case Fn::kBodyMixedScript: {
      std::size_t words = 0, budget = kMaxScanText;
      for (const mime::Part& p : m_.parts) {
        if (!body_part(p) || budget == 0) continue;
        std::string_view t = std::string_view(p.text).substr(0, budget);
        budget -= t.size();
        words += mime::mixed_script_words(t);
      }
      return static_cast<double>(words);
    }
    case Fn::kSubjectInvisible:
    case Fn::kBodyInvisible: {
      double n = 0;
      auto count = [&](std::string_view s) {
        for (std::size_t i = 0; i < s.size();)
          if (util::invisible_cp(next_cp(s, i))) ++n;
      };
      if (fn == Fn::kSubjectInvisible) {
        count(m_.subject);
      } else {
        std::size_t budget = kMaxScanText;
        for (const mime::Part& p : m_.parts) {
          if (!body_part(p) || budget == 0) continue;
          std::string_view t = std::string_view(p.text).substr(0, budget);
          budget -= t.size();
          count(t);
        }
      }
      return n;
    }
    case Fn::kSubjectSpaced: {
      // Tokens of one letter, separated by 1-3 of " .-_*|": the run length of such tokens.
      int best = 0, run = 0;
      const std::string& s = m_.subject;
      std::size_t i = 0;
      auto sep = [](char c) { return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*' || c == '|'; };
      while (i < s.size()) {
        std::size_t st = i;
        const char32_t c = next_cp(s, i);
        const bool letter = u_isUAlphabetic(static_cast<UChar32>(c));
        const bool alone_before = st == 0 || sep(s[st - 1]);
        const bool alone_after = i >= s.size() || sep(s[i]);
        if (letter && alone_before && alone_after) {
          ++run;
          best = std::max(best, run);
          std::size_t k = 0;
          while (i < s.size() && sep(s[i]) && k < 4) {
            ++i;
            ++k;
          }
          if (k == 0 || k > 3) run = 0;
        } else if (!sep(static_cast<char>(c < 0x80 ? c : 0))) {
          run = 0;
        }
      }
      return best;
    }
    case Fn::kEncodedWords: {
      double n = 0;
      for (const mime::HeaderField& f : top.headers) {
        if (ignored_header(f.name)) continue;
        for_each_encoded_word(f.raw, [&](char, std::string_view) { ++n; });
      }
      return n;
    }
    case Fn::kEncodedAscii: {
      double n = 0;
      for (std::string_view name : {std::string_view("Subject"), std::string_view("From")}) {
        for (const mime::HeaderField* f : top.all_headers(name)) {
          for_each_encoded_word(f->raw, [&](char enc, std::string_view text) {
            const std::string d = (enc == 'b' || enc == 'B') ? decode_b64(text) : decode_q(text);
            if (d.size() < 4) return;
            for (char c : d)
              if (static_cast<unsigned char>(c) >= 0x7F || static_cast<unsigned char>(c) < 0x20) return;
            ++n;
            if (note_.empty()) note_ = std::string(name) + ": \"" + util::snippet(d, 60) + "\"";
          });
        }
      }
      return n;
    }
    case Fn::kPartCount:
      return static_cast<double>(m_.parts.size());
    case Fn::kAttachmentCount: {
      double n = 0;
      for (const mime::Part& p : m_.parts)
        if (p.is_leaf() && p.origin != mime::Origin::kView && (!p.filename.empty() || p.disposition == "attachment"))
          ++n;
      return n;
    }
    case Fn::kUrlCount:
      return static_cast<double>(m_.urls.size());
    case Fn::kBodyBytes: {
      double n = 0;
      for (const mime::Part& p : m_.parts)
        if (body_part(p)) n += static_cast<double>(p.text.size());
      return n;
    }
    case Fn::kRecipients:
      return static_cast<double>(addresses(m_, "To").size() + addresses(m_, "Cc").size());
    case Fn::kCount:
      break;
  }
  return 0;
}

std::string FnContext::detail(Fn fn, std::string_view arg, double value, std::string_view note) {
  std::string out(kFunctions[static_cast<std::size_t>(fn)].name);
  out += "(";
  out += arg;
  out += ")=";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", value);
  out += buf;
  if (!note.empty()) out.append(" (").append(note).append(")");
  return out;
}

}  // namespace bulwark::rules
