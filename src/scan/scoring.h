// The symbol table: every symbol Bulwark can raise, with its default score, group and
// one-line rationale. docs/symbols.md is checked against it by a test, and a test fails
// when the code raises a symbol that is not declared here.
//   const SymbolInfo* s = find_symbol("MIME_DUP_CONTENT_TYPE");
#pragma once

#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/symbol.h"
#include "scan/verdict.h"

namespace bulwark::scan {

struct SymbolInfo {
  std::string_view name;
  double score;
  std::string_view group;  // "mime", "html", "limit", ...
  std::string_view description;
};

const std::vector<SymbolInfo>& all_symbols();
const SymbolInfo* find_symbol(std::string_view name);

// Fills each symbol's score from the table; returns the total.
double score_symbols(std::vector<Symbol>& symbols);

// True when a symbol of the "limit" group was raised (a parser or inspection limit hit:
// the message was not read whole).
bool limit_hit(const std::vector<Symbol>& symbols);

// Maps a score, parser limits and threats to the action, by the policy thresholds.
Action decide(double score, bool limit_hit, bool has_threats, const PolicyConfig& policy);

// Scores the verdict's symbols and decides its action. The one place a verdict is
// finalised, whether it was computed in this process or came back from a worker.
void finalize(Verdict& v, const PolicyConfig& policy);

}  // namespace bulwark::scan
