// The scan pipeline: one message in, a Verdict out. Callable from any front end (the
// `scan` command, later SMTP, milter and HTTP) with an immutable Config snapshot.
//   Scanner s(config);                      // loads the inspection engines once
//   if (!s.load_error().empty()) fail(s.load_error());
//   ScanResult r = s.scan(std::move(bytes), "inbox/1.eml");
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"
#include "mime/message.h"
#include "scan/verdict.h"

namespace bulwark::inspect {
class Engines;
}

namespace bulwark::scan {

struct ScanResult {
  Verdict verdict;
  mime::Message message;  // the parse, for --explain; owns all part bytes
};

class Scanner {
 public:
  // Loads libmagic, ClamAV signatures and YARA rules (before any worker forks). A load
  // failure is kept in load_error(): a scanner without its engines must not be used.
  explicit Scanner(Config config);
  ~Scanner();
  ScanResult scan(std::string raw, std::string_view origin) const;
  const Config& config() const { return config_; }
  const std::string& load_error() const { return load_error_; }
  std::string describe_engines() const;

 private:
  Config config_;
  std::unique_ptr<inspect::Engines> engines_;
  std::string load_error_;
};

}  // namespace bulwark::scan
