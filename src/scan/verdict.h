// Verdict: what the scan pipeline concludes about one message, and why.
//
// The fields follow the `bulwark scan --format json` contract in DESIGN.md: action, score,
// every symbol with its score and detail, threats with their location inside the message,
// and every part with its hash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/symbol.h"

namespace bulwark::scan {

struct Threat {
  std::string kind;      // "virus", "exploit", "policy", ...
  std::string name;      // signature or rule name
  std::string location;  // path inside the message: "2/invoice.zip/a.tar/x.exe"
};

struct PartInfo {
  std::string path;  // MIME path ("1", "2.1", views "2~1")
  std::string content_type;
  std::string filename;
  std::size_t size = 0;  // decoded bytes
  std::string sha256;
  std::string origin;  // "", "view", "embedded", "preamble", "epilogue"
};

struct Verdict {
  std::string file;        // where the message came from (path, "path:N" for mbox, "-")
  std::string message_id;
  std::string subject;     // decoded, for display
  Action action = Action::kAccept;
  double score = 0.0;
  std::vector<Symbol> symbols;
  std::vector<Threat> threats;
  std::vector<PartInfo> parts;
  double elapsed_ms = 0.0;
  // For guarded auto-learning in the gateway (classify.autolearn): the classifier's spam
  // probability (-1: no model scored) and the message's token hashes (empty unless
  // autolearn is on). Not part of the JSON output.
  double spam_probability = -1.0;
  std::vector<std::uint64_t> tokens;
};

}  // namespace bulwark::scan
