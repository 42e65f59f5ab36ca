// The scan pipeline: one message in, a Verdict out. Callable from any front end (the
// `scan` command, later SMTP, milter and HTTP) with an immutable Config snapshot.
//   Scanner s(config);
//   ScanResult r = s.scan(std::move(bytes), "inbox/1.eml");
//   print(r.verdict); if (explain) puts(mime::dump_tree(r.message).c_str());
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"
#include "mime/message.h"
#include "scan/verdict.h"

namespace bulwark::scan {

struct ScanResult {
  Verdict verdict;
  mime::Message message;  // the parse, for --explain; owns all part bytes
};

class Scanner {
 public:
  explicit Scanner(Config config) : config_(std::move(config)) {}
  ScanResult scan(std::string raw, std::string_view origin) const;
  const Config& config() const { return config_; }

 private:
  Config config_;
};

}  // namespace bulwark::scan
