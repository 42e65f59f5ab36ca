// Report: where a MIME helper function writes what it noticed about hostile or broken input.
//
// Every anomaly becomes a symbol; `where` (a part path such as "2.1") prefixes the detail so
// the explanation says which part it was.
//   Report r{msg.symbols, "2.1"};
//   r.add("MIME_ENCODED_WORD_BAD", "unterminated encoded-word");
#pragma once

#include <string>
#include <string_view>

#include "core/symbol.h"

namespace bulwark::mime {

struct Report {
  SymbolSet& symbols;
  std::string_view where;

  void add(std::string_view name, std::string_view detail = {}) const {
    if (where.empty()) {
      symbols.add(name, detail);
      return;
    }
    std::string d;
    d.reserve(where.size() + 2 + detail.size());
    d.append("part ").append(where);
    if (!detail.empty()) d.append(": ").append(detail);
    symbols.add(name, d);
  }
};

}  // namespace bulwark::mime
