// The shared body of the document-analyser fuzz targets: one analyser on arbitrary bytes,
// through an Inspector with small limits so the budget paths run too (children go through
// the whole chain), checking the analyser's promises: bounded findings, details escaped
// for display, the member limit kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/config.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"

namespace bulwark::fuzz {

inline const inspect::Engines& engines() {
  static const std::unique_ptr<inspect::Engines> e = [] {
    auto r = inspect::Engines::load(InspectConfig{});
    if (!r) std::abort();
    return std::move(r).value();
  }();
  return *e;
}

inline const InspectLimits& small_limits() {
  static const InspectLimits l = [] {
    InspectLimits x;
    x.max_depth = 3;
    x.max_members = 32;
    x.max_expanded_bytes = 8u << 20;
    x.max_member_bytes = 4u << 20;
    x.max_time_ms = 5000;
    return x;
  }();
  return l;
}

inline int run_analyser(void (*analyse)(const inspect::Blob&, inspect::Inspector&),
                        std::string_view name, const std::uint8_t* data, std::size_t size) {
  inspect::Inspector insp(engines(), small_limits());
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  analyse(inspect::Blob{bytes, "1", {std::string(name)}, "", 0}, insp);
  const inspect::Results& r = insp.results();
  if (r.symbols.size() > 10000) std::abort();
  if (r.blobs > small_limits().max_members) std::abort();
  for (const auto& f : r.symbols) {
    if (f.symbol.empty() || f.detail.size() > 8192) std::abort();
    for (char c : f.detail)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();  // unescaped
  }
  return 0;
}

}  // namespace bulwark::fuzz
