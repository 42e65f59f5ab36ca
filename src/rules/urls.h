// URL and sender analysis for phishing (internal to src/rules/): every URL of a message
// (text, HTML href/src/action, meta refresh) normalised (IDNA via libidn2, registrable
// domain via libpsl) and checked; look-alikes via ICU's spoof checker (UTS #39 skeletons).
// The results are built-in symbols (URL_*, FROM_*) that rule files can score and combine.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "mime/message.h"
#include "rules/rules.h"

struct psl_ctx_st;
struct USpoofChecker;

namespace bulwark::rules {

enum class Builtin : std::uint8_t {
  kTextMismatch,
  kIpHost,
  kNumericHost,
  kUserinfo,
  kPunycode,
  kHomograph,
  kLookalikeOwn,
  kShortener,
  kRedirector,
  kDataUri,
  kFromExecImpersonation,
  kFromLookalikeOwn,
  kFromBrandImpersonation,
  kAddressInFragment,
  kBrandSubdomain,
  kCount,
};
constexpr std::size_t kBuiltinCount = static_cast<std::size_t>(Builtin::kCount);

struct BuiltinSpec {
  std::string_view name;
  double score;
  std::string_view group;
  std::string_view description;
};
const std::array<BuiltinSpec, kBuiltinCount>& builtin_symbols();

struct BuiltinResult {
  std::array<bool, kBuiltinCount> hit{};
  std::array<std::string, kBuiltinCount> detail;
  void add(Builtin b, std::string_view d);
};

// A URL split into the parts the checks need. Hosts are lower-case.
struct UrlParts {
  std::string scheme;  // lower-case; "http" for "www." URLs without one
  bool has_userinfo = false;
  std::string userinfo;
  std::string host;  // percent-decoded, lower-case, as written (may be Unicode)
  std::string path;
  std::string query;
};
bool split_url(std::string_view url, UrlParts& out);

// inet_aton's reading of a host: "3232235777", "0xC0A80001", "0300.0250.0.1" all are
// 192.168.0.1. Returns the dotted form, or "" when the host is not numeric.
std::string numeric_ipv4(std::string_view host);

class UrlAnalyzer {
 public:
  static Result<std::unique_ptr<UrlAnalyzer>> create(const RulesOptions& options);
  ~UrlAnalyzer();
  UrlAnalyzer(const UrlAnalyzer&) = delete;
  UrlAnalyzer& operator=(const UrlAnalyzer&) = delete;

  void analyze(const mime::Message& m, std::string_view recipient_domain, BuiltinResult& out) const;

  struct Host {
    std::string ascii;        // IDNA ASCII (punycode) form
    std::string unicode;      // Unicode form
    std::string registrable;  // registrable domain, Unicode form (the host itself when none)
    bool ip = false;          // IPv4 dotted quad or IPv6 literal
    std::string numeric;      // non-canonical numeric IPv4 (decimal, hex, octal): dotted form
  };
  Host normalize_host(std::string_view host) const;
  std::string registrable(std::string_view unicode_host) const;
  std::string skeleton(std::string_view s) const;
  bool mixed_script(std::string_view unicode) const;
  // The domain `reg` imitates among `own` (edit distance, skeleton or same name under
  // another suffix); "" when none.
  // A protected brand's or an own registrable domain written inside `h` as labels that go on
  // to another domain (paypal.com.secure-login.example, login.microsoftonline.com-x.example);
  // "" when none.
  std::string brand_in_host(const Host& h, const std::vector<std::string>& own) const;
  std::string lookalike(std::string_view reg, const std::vector<std::string>& own) const;

 private:
  UrlAnalyzer() = default;
  psl_ctx_st* psl_ = nullptr;
  bool psl_owned_ = false;
  USpoofChecker* spoof_ = nullptr;
  std::unordered_map<std::string, std::string> protected_skeletons_;  // skeleton -> domain
  std::vector<std::string> own_;                                      // registrable, lower-case
  std::vector<std::string> executives_;                               // normalised names
};

// "Jane  DOE", "Doe, Jane" -> "jane doe": how display names are compared.
std::string normalize_person(std::string_view name);

}  // namespace bulwark::rules
