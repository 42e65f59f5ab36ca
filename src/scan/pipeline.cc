#include "scan/pipeline.h"

#include <chrono>

#include "core/hash.h"
#include "mime/parser.h"
#include "scan/scoring.h"

namespace bulwark::scan {

namespace {

std::string_view origin_label(mime::Origin o) {
  switch (o) {
    case mime::Origin::kMime: return "";
    case mime::Origin::kEmbedded: return "embedded";
    case mime::Origin::kView: return "view";
    case mime::Origin::kPreamble: return "preamble";
    case mime::Origin::kEpilogue: return "epilogue";
  }
  return "";
}

}  // namespace

ScanResult Scanner::scan(std::string raw, std::string_view origin) const {
  const auto t0 = std::chrono::steady_clock::now();
  ScanResult r;
  r.message = mime::parse_message(std::move(raw), config_.limits, config_.mime);
  const mime::Message& m = r.message;
  Verdict& v = r.verdict;
  v.file = std::string(origin);
  v.message_id = m.message_id;
  v.subject = m.subject;
  for (const mime::Part& p : m.parts) {
    if (!p.is_leaf()) continue;
    v.parts.push_back(PartInfo{p.path, p.content_type, p.filename, p.payload.size(),
                               sha256_hex(p.payload), std::string(origin_label(p.origin))});
  }
  v.symbols = m.symbols.all();
  finalize(v, config_.policy);
  v.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace bulwark::scan
