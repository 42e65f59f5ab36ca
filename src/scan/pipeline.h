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
namespace bulwark::rules {
class RuleSet;
}

namespace bulwark::classify {
class Model;
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
  // Also loads the classifier's model whole into memory when classify.enabled and the
  // model file exists (workers cannot open files); a model that cannot be read leaves the
  // scanner usable without it and says why in classifier_note(). And compiles the spam
  // rules (shipped + rules.directories); a rule file with an error is a load_error().
  explicit Scanner(Config config);
  ~Scanner();
  ScanResult scan(std::string raw, std::string_view origin) const;
  const Config& config() const { return config_; }
  const std::string& load_error() const { return load_error_; }
  std::string describe_engines() const;
  // Per-process set-up of the libraries, in the process and thread that will scan: their
  // notes to stderr (Tesseract's "Empty page!!") go to /dev/null, opened here, and
  // Tesseract's OpenMP team stays off (a locked-down worker may not start threads). Call it
  // where scanning happens and no worker is forked later: a sandboxed worker before
  // lockdown, or `scan --no-sandbox`.
  void prepare_scanning_process() const;
  // "" when the classifier is in use or simply absent; otherwise why it is not used.
  const std::string& classifier_note() const { return classifier_note_; }
  const classify::Model* classifier() const { return model_.get(); }
  const rules::RuleSet* rules() const { return rules_.get(); }
  // Sets the score of every rule-engine symbol from this scanner's rules (0 for a name it
  // does not know): a verdict from a sandboxed worker is not trusted to carry its scores.
  void rescore(Verdict& v) const;

 private:
  Config config_;
  std::unique_ptr<inspect::Engines> engines_;
  std::string load_error_;
  std::unique_ptr<const classify::Model> model_;
  std::string classifier_note_;
  std::shared_ptr<const rules::RuleSet> rules_;
};

}  // namespace bulwark::scan
