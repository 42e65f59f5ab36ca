// Guarded auto-learning in the gateway (classify.autolearn, off by default): messages whose
// verdict both the rules and the classifier are very sure of are learned into the model on
// disk, so it follows the mail an organisation actually receives.
//
// The gateway's supervisor calls offer() with what the sandboxed worker sent back (token
// hashes, probability, score): it never parses the message itself. Learned messages are
// committed in small batches; the scanner's in-memory model picks them up at the next
// reload (SIGHUP), as after `bulwark train`.
//
//   auto l = classify::AutoLearner::open(config);          // nullptr when autolearn is off
//   l.value()->offer(sha256, tokens, rules_score, p, has_threats, limit_hit);
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "classify/classifier.h"
#include "core/config.h"
#include "core/result.h"

namespace bulwark::classify {

class AutoLearner {
 public:
  // Opens (creating when needed) the model at model_path(config); nullptr when
  // classify.enabled or classify.autolearn is off.
  static Result<std::unique_ptr<AutoLearner>> open(const Config& config);
  ~AutoLearner();  // commits what is pending

  // Learns the message when autolearn_decision() says so; returns what it learned it as.
  // Thread-safe. Errors are returned (the caller logs them; mail flow never depends on it).
  Result<Learn> offer(const std::string& digest, const std::vector<std::uint64_t>& tokens, double rules_score,
                      std::optional<double> p, bool has_threats, bool limit_hit);
  // Commits pending messages now.
  Result<bool> flush();

  const std::string& path() const { return path_; }

 private:
  AutoLearner(ClassifyConfig config, std::string path, std::unique_ptr<Trainer> trainer)
      : config_(std::move(config)), path_(std::move(path)), trainer_(std::move(trainer)) {}

  static constexpr std::size_t kBatch = 20;  // messages per transaction
  static constexpr std::chrono::seconds kMaxDelay{30};  // ... or this old, whichever first

  ClassifyConfig config_;
  std::string path_;
  std::mutex mu_;
  std::unique_ptr<Trainer> trainer_;
  std::chrono::steady_clock::time_point oldest_pending_{};
};

}  // namespace bulwark::classify
