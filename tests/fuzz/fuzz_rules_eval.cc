// The shipped spam rules evaluated on arbitrary messages: every built-in function, the
// deobfuscation of decoded texts, URL and sender analysis. Never crashes, never loops,
// scores stay finite; deobfuscate() also runs on the raw bytes as text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config.h"
#include "mime/parser.h"
#include "mime/deobfuscate.h"
#include "rules/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  static const auto rules = [] {
    bulwark::rules::RulesOptions o;
    o.own_domains = {"example.com"};
    auto r = bulwark::rules::RuleSet::load_builtin(o);
    if (!r.ok()) __builtin_trap();
    return r.value();
  }();
  static const bulwark::Config config;
  std::string raw(reinterpret_cast<const char*>(data), size);
  std::string undone;
  if (bulwark::mime::deobfuscate(raw, undone) && undone.size() > 4 * raw.size() + 64) __builtin_trap();
  (void)bulwark::mime::mixed_script_words(raw);
  const bulwark::mime::Message m = bulwark::mime::parse_message(std::move(raw), config.limits, config.mime);
  for (const auto& hit : rules->evaluate(m, "example.com"))
    if (!std::isfinite(hit.score)) __builtin_trap();
  return 0;
}
