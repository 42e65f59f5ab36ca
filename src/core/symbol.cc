#include "core/symbol.h"

namespace bulwark {

namespace {
// One detail string per symbol must stay bounded even when a hostile message repeats a
// trick thousands of times.
constexpr std::size_t kMaxDetailBytes = 512;
}  // namespace

void SymbolSet::add(std::string_view name, std::string_view detail) {
  for (auto& s : symbols_) {
    if (s.name != name) continue;
    if (!detail.empty() && s.detail.size() < kMaxDetailBytes) {
      if (!s.detail.empty()) s.detail += "; ";
      s.detail.append(detail.substr(0, kMaxDetailBytes - s.detail.size()));
    }
    return;
  }
  symbols_.push_back(
      Symbol{std::string(name), std::string(detail.substr(0, kMaxDetailBytes)), 0.0});
}

bool SymbolSet::has(std::string_view name) const { return find(name) != nullptr; }

const Symbol* SymbolSet::find(std::string_view name) const {
  for (const auto& s : symbols_)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace bulwark
