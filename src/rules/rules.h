// Spam and phishing rules: a small rule language (docs/rules.md), every regular expression
// of a class compiled into one Hyperscan database, built-in checks in C++, meta rules, and
// the URL / phishing analysis of urls.h.
//
// A RuleSet is loaded once (before sandbox workers fork: loading reads files, evaluating
// never does) and is immutable afterwards; evaluate() is thread-safe and touches memory
// only.
//   auto rs = RuleSet::load_builtin(options);            // the shipped rules/spam/*.rules
//   if (!rs) { std::cerr << rs.error().message; ... }    // "file:line: what"
//   for (const RuleHit& h : rs.value()->evaluate(message, "example.com")) ...
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "mime/message.h"

namespace bulwark::rules {

struct RulesOptions {
  // Brands / domains whose look-alikes are phishing (URL_HOMOGRAPH). Added to a built-in
  // list of commonly phished brands unless builtin_protected_domains is false.
  std::vector<std::string> protected_domains;
  bool builtin_protected_domains = true;
  // Display names of executives ("Jane Doe"): From with such a name but an address outside
  // own_domains raises FROM_EXEC_IMPERSONATION.
  std::vector<std::string> executives;
  // The organisation's own domains (URL_LOOKALIKE_OWN_DOMAIN, FROM_LOOKALIKE_OWN_DOMAIN,
  // FROM_EXEC_IMPERSONATION). The recipient_domain passed to evaluate() counts as own too.
  std::vector<std::string> own_domains;
  // Score overrides: for every recipient domain (scores), and per recipient domain
  // (domain_scores[domain][rule]). They win over `score` lines in rule files. Score 0
  // disables a rule's report (meta rules still see it).
  std::map<std::string, double, std::less<>> scores;
  std::map<std::string, std::map<std::string, double, std::less<>>, std::less<>> domain_scores;
  // Bytes of one text (body, raw body, HTML, one header) given to the matchers.
  std::size_t max_scan_bytes = 1u << 20;
  // kRe2Only compiles every pattern with RE2 instead of Hyperscan: for differential tests
  // and for comparison, never needed in production.
  enum class Engine { kAuto, kRe2Only };
  Engine engine = Engine::kAuto;
};

struct RuleHit {
  std::string name;
  double score = 0.0;
  std::string detail;
  std::string group;
  std::string description;
};

struct RuleInfo {
  std::string name;
  double score = 0.0;  // before per-domain overrides
  std::string group;
  std::string description;
  std::string source;  // "file:line", or "built-in" for the C++ symbols (URL_*, FROM_*)
};

// One rule file given as text (embedded rules, tests, the fuzzer).
struct RuleSource {
  std::string name;  // shown in errors: "name:line: what"
  std::string text;
  std::string domain;  // non-empty: a per-domain file (only `score` lines), for this domain
};

class RuleSet {
 public:
  // Files and directories (every *.rules inside, sorted; files in a "domains" subdirectory
  // named <domain>.rules are per-domain score files). Errors read "file:line: what".
  static Result<std::shared_ptr<const RuleSet>> load(const std::vector<std::string>& rule_dirs_or_files,
                                                     const RulesOptions& options);
  // The shipped default ruleset (rules/spam/*.rules, embedded at build time).
  static Result<std::shared_ptr<const RuleSet>> load_builtin(const RulesOptions& options);
  // Built-in rules plus files: the usual production call (files may override scores).
  static Result<std::shared_ptr<const RuleSet>> load_with_builtin(const std::vector<std::string>& paths,
                                                                  const RulesOptions& options);
  static Result<std::shared_ptr<const RuleSet>> load_sources(const std::vector<RuleSource>& sources,
                                                             const RulesOptions& options);

  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Every rule that fired (helper rules named __* and rules scored 0 are not reported),
  // scored for recipient_domain's overrides. Thread-safe; memory only.
  std::vector<RuleHit> evaluate(const mime::Message& m, std::string_view recipient_domain = {}) const;

  std::size_t size() const;                     // reported rules (language + built-in)
  const std::vector<RuleInfo>& rules() const;  // sorted by name
  // "N rules (M patterns in K Hyperscan databases, R with RE2)" for --explain / logs.
  std::string describe() const;

  struct Impl;

 private:
  explicit RuleSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses rule text without compiling patterns: the fuzz target and `check` tools. Returns
// the number of rules, or the first error as "name:line: what".
Result<std::size_t> parse_check(std::string_view text, std::string_view name);

// The shipped rule files, as embedded (name, text).
std::vector<RuleSource> builtin_sources();

}  // namespace bulwark::rules
