// Symbols: the named findings every stage raises, and the set a message collects.
//
// A symbol is a name (UPPER_SNAKE, stable, documented in docs/symbols.md), a detail that
// says where or why, and a score filled in by scoring. Raising the same name twice keeps
// one entry and appends the detail, so the explanation stays readable.
//   SymbolSet s;
//   s.add("MIME_DUP_CONTENT_TYPE", "part 2: 2 Content-Type fields");
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct Symbol {
  std::string name;
  std::string detail;
  double score = 0.0;
};

class SymbolSet {
 public:
  void add(std::string_view name, std::string_view detail = {});
  bool has(std::string_view name) const;
  const Symbol* find(std::string_view name) const;
  const std::vector<Symbol>& all() const { return symbols_; }
  std::vector<Symbol>& all() { return symbols_; }
  std::size_t size() const { return symbols_.size(); }

 private:
  std::vector<Symbol> symbols_;
};

}  // namespace bulwark
