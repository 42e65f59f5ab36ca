#include "classify/tokenizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <unordered_set>

#include "classify/list_footer.h"
#include "core/ascii.h"
#include "mime/deobfuscate.h"
#include "mime/header_value.h"

namespace bulwark::classify {

namespace {

// Bounds: a huge message costs no more than a large one.
constexpr std::size_t kMaxTextBytesPerPart = 64 * 1024;
constexpr std::size_t kMaxTextBytes = 256 * 1024;
constexpr std::size_t kMaxBodyWords = 4000;
constexpr std::size_t kMaxUrls = 100;
constexpr std::size_t kMaxWordCodePoints = 20;  // longer: a "skip:" token
constexpr std::size_t kOsbWindow = 1;  // 1 = unigrams only (measured best; docs/classifier.md)

// FNV-1a, then a MurmurHash3 finaliser to spread the bits. Stored in models: never change
// without bumping kTokenizerVersion.
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL;
std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}
std::uint64_t finish_hash(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool is_cjk(UChar32 c) {
  if (u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC)) return true;
  UErrorCode ec = U_ZERO_ERROR;
  const UScriptCode s = uscript_getScript(c, &ec);
  return s == USCRIPT_HIRAGANA || s == USCRIPT_KATAKANA || s == USCRIPT_HANGUL || s == USCRIPT_THAI;
}

bool is_word_char(UChar32 c) {
  return u_isalnum(c) || c == '$' || c == '\'' || c == '-' || c == '_' || c == 0x20AC /* € */ ||
         c == 0xA3 /* £ */ || c == '%';
}

bool ascii_word_char(UChar32 c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '$' || c == '\'' ||
         c == '-' || c == '_' || c == '%';
}

// Splits normalised UTF-8 into words; '.' ',' '/' ':' '@' join two word characters
// ("3.50", "example.com"), CJK characters stand alone.
void split_words(std::string_view s, std::vector<std::string>& out, std::size_t max_words) {
  std::string cur;
  std::size_t cur_cps = 0;
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const auto n = static_cast<std::int32_t>(std::min<std::size_t>(s.size(), INT32_MAX));
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == '-' || cur.back() == '\'' || cur.back() == '_')) cur.pop_back();
    std::size_t start = 0;
    while (start < cur.size() && (cur[start] == '-' || cur[start] == '\'' || cur[start] == '_')) ++start;
    if (cur.size() - start >= 2 || (cur.size() - start == 1 && cur[start] == '$') ||
        (cur.size() - start >= 1 && static_cast<unsigned char>(cur[start]) >= 0x80)) {
      if (cur_cps > kMaxWordCodePoints) {
        // Long strings (hashes, base64 junk, run-together words): one coarse token.
        std::string t = "skip:";
        t += cur[start];
        t += ':';
        t += std::to_string(cur_cps / 10 * 10);
        out.push_back(std::move(t));
      } else {
        out.push_back(cur.substr(start));
      }
    }
    cur.clear();
    cur_cps = 0;
  };
  std::int32_t i = 0;
  while (i < n && out.size() < max_words) {
    const std::int32_t at = i;
    UChar32 c;
    if (p[i] < 0x80) {
      // ASCII (most mail text): no ICU property lookups.
      c = p[i++];
      if (ascii_word_char(c)) {
        cur.push_back(static_cast<char>(c));
        ++cur_cps;
        continue;
      }
      if ((c == '.' || c == ',' || c == '/' || c == ':' || c == '@') && !cur.empty() && i < n && p[i] < 0x80) {
        if (std::isalnum(p[i])) {
          cur.push_back(static_cast<char>(c));
          ++cur_cps;
          continue;
        }
      }
      if (c != '.' && c != ',' && c != '/' && c != ':' && c != '@') {
        flush();
        continue;
      }
      i = at;  // a joiner before a non-ASCII character: the general path decides
    }
    U8_NEXT(p, i, n, c);
    if (c < 0) {
      flush();
      continue;
    }
    if (is_cjk(c)) {
      flush();
      out.emplace_back(s.substr(static_cast<std::size_t>(at), static_cast<std::size_t>(i - at)));
      continue;
    }
    if (is_word_char(c)) {
      cur.append(s.substr(static_cast<std::size_t>(at), static_cast<std::size_t>(i - at)));
      ++cur_cps;
      continue;
    }
    if ((c == '.' || c == ',' || c == '/' || c == ':' || c == '@') && !cur.empty() && i < n) {
      std::int32_t j = i;
      UChar32 next;
      U8_NEXT(p, j, n, next);
      if (next >= 0 && u_isalnum(next) && !is_cjk(next)) {
        cur.push_back(static_cast<char>(c));
        ++cur_cps;
        continue;
      }
    }
    flush();
  }
  if (out.size() < max_words) flush();
}

// Receives the tokens. Two modes: strings (tokenize(), for tests and explanation) or their
// hashes only (token_hashes(), the scanning path: no string is built per token).
class Collector {
 public:
  explicit Collector(bool hashes_only) : hashes_only_(hashes_only) {}
  void add(std::string_view t) { add({}, t); }
  void add(std::string_view prefix, std::string_view t) {
    if (prefix.empty() && t.empty()) return;
    if (hashes_only_) {
      hashes_.push_back(finish_hash(fnv(fnv(kFnvBasis, prefix), t)));
      return;
    }
    std::string s;
    s.reserve(prefix.size() + t.size());
    s.append(prefix).append(t);
    if (seen_.insert(s).second) tokens_.push_back(std::move(s));
  }
  // Words with a prefix, plus orthogonal sparse bigrams up to kOsbWindow apart.
  void words(std::string_view prefix, const std::vector<std::string>& w) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      add(prefix, w[i]);
      for (std::size_t d = 1; d < kOsbWindow && d <= i; ++d) {
        std::string s(prefix);
        s.append(w[i - d]);
        s.append(d, ' ');  // the gap: "a b" adjacent, "a  b" one word between
        s.append(w[i]);
        add(s);
      }
    }
  }
  std::vector<std::string> take() { return std::move(tokens_); }
  std::vector<std::uint64_t> take_hashes() {
    std::sort(hashes_.begin(), hashes_.end());
    hashes_.erase(std::unique(hashes_.begin(), hashes_.end()), hashes_.end());
    return std::move(hashes_);
  }

 private:
  bool hashes_only_;
  std::unordered_set<std::string> seen_;
  std::vector<std::string> tokens_;
  std::vector<std::uint64_t> hashes_;
};

std::vector<std::string> words_of(std::string_view text, std::size_t max_words) {
  std::vector<std::string> w;
  split_words(normalize(text), w, max_words);
  return w;
}

std::string bucket(std::size_t n) {
  if (n <= 3) return std::to_string(n);
  if (n <= 5) return "4-5";
  if (n <= 10) return "6-10";
  if (n <= 30) return "11-30";
  return "many";
}

bool mostly_upper(std::string_view s) {
  std::size_t upper = 0, letters = 0;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') ++upper, ++letters;
    else if (c >= 'a' && c <= 'z') ++letters;
  }
  return letters >= 5 && upper * 2 >= letters;
}

std::vector<mime::Address> addresses(const mime::Part& root, std::string_view name) {
  const mime::HeaderField* f = root.header(name);
  if (!f) return {};
  SymbolSet ignored;
  return mime::parse_address_list(mime::unfold(f->raw), mime::Report{ignored, ""});
}

void address_tokens(Collector& c, std::string_view prefix, const std::vector<mime::Address>& list,
                    std::size_t max) {
  for (std::size_t i = 0; i < list.size() && i < max; ++i) {
    const mime::Address& a = list[i];
    const std::string dom = lower_ascii(a.domain);
    if (!dom.empty()) {
      c.add(std::string(prefix) + "dom:", dom);
      c.add(std::string(prefix) + "rdom:", registrable_domain(dom));
    }
    if (a.display_name.empty()) c.add(std::string(prefix) + "noname");
    for (const auto& w : words_of(a.display_name, 16)) c.add(std::string(prefix) + "name:", w);
  }
}

std::string url_host(std::string_view url, std::string& scheme) {
  scheme.clear();
  std::size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon > 10) return {};
  scheme = lower_ascii(url.substr(0, colon));
  std::string_view rest = url.substr(colon + 1);
  if (scheme == "mailto") {
    std::size_t at = rest.rfind('@');
    if (at == std::string_view::npos) return {};
    rest = rest.substr(at + 1);
    return lower_ascii(rest.substr(0, rest.find_first_of("?>&\"")));
  }
  while (!rest.empty() && (rest.front() == '/' || rest.front() == '\\')) rest.remove_prefix(1);
  rest = rest.substr(0, rest.find_first_of("/\\?#"));
  if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() != '[') rest = rest.substr(0, rest.find(':'));
  while (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  return lower_ascii(rest);
}

bool is_ip_literal(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return true;
  return host.find_first_not_of("0123456789.") == std::string_view::npos ||
         (host.starts_with("0x") && host.find_first_not_of("0123456789abcdefx.") == std::string_view::npos);
}

}  // namespace

bool is_filter_header(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kPrefixes = {
      "x-spam", "x-virus", "x-bogosity", "x-dspam", "x-rspamd", "x-amavis", "x-mailscanner",
      "x-barracuda", "x-proofpoint", "x-ironport", "x-forefront-antispam"};
  static constexpr std::array<std::string_view, 12> kExact = {
      "authentication-results", "arc-authentication-results", "received-spf",
      "x-authentication-warning", "x-ms-exchange-organization-scl", "x-microsoft-antispam",
      "x-crm114-status", "x-quarantine-id", "x-bulwark-score", "x-bulwark-action",
      "x-bulwark-symbols", "x-uscan"};
  const std::string n = lower_ascii(name);
  for (auto p : kPrefixes)
    if (n.starts_with(p)) return true;
  if (n.starts_with("x-bulwark")) return true;
  for (auto e : kExact)
    if (n == e) return true;
  return false;
}

std::string normalize(std::string_view text) {
  if (is_ascii(text)) return lower_ascii(text);
  // Disguises undone first (look-alike letters in mixed-script words become Latin), so a
  // disguised word is the word the model knows; the folding below does the rest.
  std::string undone;
  const std::string_view utf8 = mime::deobfuscate(text, undone) ? std::string_view(undone) : text;
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(ec);
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(ec);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(ec);
  if (U_FAILURE(ec)) return lower_ascii(utf8);
  const auto len = static_cast<std::int32_t>(std::min<std::size_t>(utf8.size(), INT32_MAX));
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), len));
  icu::UnicodeString d = nfd->normalize(fold->normalize(u, ec), ec);
  if (U_FAILURE(ec)) return lower_ascii(utf8);
  icu::UnicodeString stripped;
  stripped.getBuffer(d.length());
  stripped.releaseBuffer(0);
  for (std::int32_t i = 0; i < d.length();) {
    const UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) != U_NON_SPACING_MARK) stripped.append(c);
  }
  icu::UnicodeString out = nfc->normalize(stripped, ec);
  if (U_FAILURE(ec)) return lower_ascii(utf8);
  std::string s;
  out.toUTF8String(s);
  return s;
}

std::string registrable_domain(std::string_view host) {
  std::string h = lower_ascii(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (is_ip_literal(h)) return h;
  std::vector<std::size_t> dots;
  for (std::size_t i = 0; i < h.size(); ++i)
    if (h[i] == '.') dots.push_back(i);
  if (dots.size() < 2) return h;
  // "example.co.uk": the second-level label is a generic one under a country code.
  const std::size_t last = dots[dots.size() - 1], prev = dots[dots.size() - 2];
  const std::string_view sld = std::string_view(h).substr(prev + 1, last - prev - 1);
  const std::string_view tld = std::string_view(h).substr(last + 1);
  static constexpr std::array<std::string_view, 12> kGeneric = {
      "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gob", "mil"};
  const bool generic = tld.size() == 2 && std::find(kGeneric.begin(), kGeneric.end(), sld) != kGeneric.end();
  std::size_t keep_from = generic ? (dots.size() >= 3 ? dots[dots.size() - 3] + 1 : 0) : prev + 1;
  return h.substr(keep_from);
}

std::uint64_t token_hash(std::string_view token) { return finish_hash(fnv(kFnvBasis, token)); }

namespace {

void collect(const mime::Message& m, Collector& c) {
  if (m.parts.empty()) return;
  const mime::Part& root = m.root();

  // Subject.
  const auto subject = words_of(m.subject, 64);
  if (subject.empty()) c.add("s:none");
  c.words("s:", subject);
  if (mostly_upper(m.subject)) c.add("s:caps");
  if (m.subject.find('!') != std::string::npos) c.add("s:!");

  // Sender, reply address, recipients.
  address_tokens(c, "from:", m.from, 1);
  if (m.from.empty()) c.add("from:none");
  else if (!m.from[0].domain.empty()) c.add("from:addr:", lower_ascii(m.from[0].address()));
  const auto reply_to = addresses(root, "Reply-To");
  address_tokens(c, "rt:", reply_to, 1);
  if (!reply_to.empty() && !m.from.empty())
    c.add(lower_ascii(reply_to[0].domain) == lower_ascii(m.from[0].domain) ? "rt:samedom" : "rt:otherdom");
  const auto to = addresses(root, "To");
  for (std::size_t i = 0; i < to.size() && i < 10; ++i)
    if (!to[i].domain.empty()) c.add("to:dom:", lower_ascii(to[i].domain));
  c.add("to:n:", bucket(to.size()));
  if (!root.header("Cc")) c.add("cc:none");

  // Path length, mailer.
  c.add("rcvd:", std::to_string(std::min<std::size_t>(root.all_headers("Received").size(), 10)));
  const mime::HeaderField* mailer = root.header("X-Mailer");
  if (!mailer) mailer = root.header("User-Agent");
  if (mailer) {
    const std::string v = normalize(mime::unfold(mailer->raw));
    c.add("xm:", v.substr(0, 40));
    std::vector<std::string> w;
    split_words(v, w, 16);
    for (const auto& x : w) c.add("xm:w:", x);
  } else {
    c.add("xm:none");
  }

  // Structure: content types, charsets, attachments.
  c.add("ct:", root.content_type);
  std::size_t text_bytes = 0;
  std::size_t body_words = 0;
  const bool list_message = is_list_message(root);
  for (const mime::Part& p : m.parts) {
    if (!p.is_leaf() || p.origin == mime::Origin::kView || p.origin == mime::Origin::kEmbedded) {
      if (p.is_multipart()) c.add("pct:", p.content_type);
      continue;
    }
    c.add("pct:", p.content_type);
    if (!p.charset.empty()) c.add("cs:", lower_ascii(p.charset.substr(0, 32)));
    const bool attachment = p.disposition == "attachment" || !p.filename.empty();
    if (attachment) {
      c.add("att:", p.content_type);
      const std::size_t dot = p.filename.rfind('.');
      if (dot != std::string::npos && p.filename.size() - dot <= 8)
        c.add("att:ext:", normalize(p.filename.substr(dot + 1)));
    }
    if (p.is_text() && !(attachment && p.disposition == "attachment") && text_bytes < kMaxTextBytes) {
      std::string_view text = p.text;
      if (list_message) text = strip_list_footer(text);
      text = text.substr(0, std::min({text.size(), kMaxTextBytesPerPart, kMaxTextBytes - text_bytes}));
      text_bytes += text.size();
      if (body_words < kMaxBodyWords) {
        std::vector<std::string> w;
        split_words(normalize(text), w, kMaxBodyWords - body_words);
        c.words("", w);
        body_words += w.size();
      }
    }
  }
  c.add("words:", bucket(body_words / 20));

  // Links: where they lead.
  std::size_t n_urls = 0;
  for (const std::string& u : m.urls) {
    if (n_urls++ >= kMaxUrls) break;
    std::string scheme;
    const std::string host = url_host(u, scheme);
    if (host.empty()) continue;
    c.add("url:scheme:", scheme.substr(0, 10));
    if (is_ip_literal(host)) {
      c.add("url:ip");
      continue;
    }
    c.add("url:host:", host.substr(0, 80));
    c.add("url:dom:", registrable_domain(host).substr(0, 80));
    const std::size_t dot = host.rfind('.');
    if (dot != std::string::npos) c.add("url:tld:", host.substr(dot + 1, 16));
  }
  c.add("url:n:", bucket(m.urls.size()));
}

}  // namespace

std::vector<std::string> tokenize(const mime::Message& m) {
  Collector c(/*hashes_only=*/false);
  collect(m, c);
  return c.take();
}

std::vector<std::uint64_t> token_hashes(const mime::Message& m) {
  Collector c(/*hashes_only=*/true);
  collect(m, c);
  return c.take_hashes();
}

}  // namespace bulwark::classify
