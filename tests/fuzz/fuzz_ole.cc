// libFuzzer target for inspect_ole: OLE2 / Compound File (VBA, XLM, Ole10Native), through an
// Inspector with small limits so the budget paths run too. Children go through the whole chain. The
// checks are the analyser's promises: bounded findings, details escaped for display.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "core/config.h"
#include "inspect/documents.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"

namespace {

const bulwark::inspect::Engines& engines() {
  static const std::unique_ptr<bulwark::inspect::Engines> e = [] {
    auto r = bulwark::inspect::Engines::load(bulwark::InspectConfig{});
    if (!r) std::abort();
    return std::move(r).value();
  }();
  return *e;
}

bulwark::InspectLimits small_limits() {
  bulwark::InspectLimits l;
  l.max_depth = 3;
  l.max_members = 32;
  l.max_expanded_bytes = 8u << 20;
  l.max_member_bytes = 4u << 20;
  l.max_time_ms = 5000;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bulwark::InspectLimits limits = small_limits();
  bulwark::inspect::Inspector insp(engines(), limits);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bulwark::inspect::inspect_ole(bulwark::inspect::Blob{bytes, "1", {"fuzz"}, "", 0}, insp);
  const bulwark::inspect::Results& r = insp.results();
  if (r.symbols.size() > 10000) std::abort();
  if (r.blobs > limits.max_members) std::abort();
  for (const auto& f : r.symbols) {
    if (f.symbol.empty() || f.detail.size() > 8192) std::abort();
    for (char c : f.detail)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();  // unescaped
  }
  return 0;
}
