#include "classify/autolearn.h"

namespace bulwark::classify {

Result<std::unique_ptr<AutoLearner>> AutoLearner::open(const Config& config) {
  if (!config.classify.enabled || !config.classify.autolearn) return std::unique_ptr<AutoLearner>();
  const std::string path = model_path(config);
  auto t = Trainer::open(path, /*reset=*/false);
  if (!t) return t.error();
  return std::unique_ptr<AutoLearner>(new AutoLearner(config.classify, path, std::move(t).value()));
}

AutoLearner::~AutoLearner() { (void)flush(); }

Result<Learn> AutoLearner::offer(const std::string& digest, const std::vector<std::uint64_t>& tokens,
                                 double rules_score, std::optional<double> p, bool has_threats, bool limit_hit) {
  const Learn what = autolearn_decision(config_, rules_score, p, has_threats, limit_hit);
  if (what == Learn::kNone || tokens.empty()) return Learn::kNone;
  std::lock_guard<std::mutex> lock(mu_);
  auto r = trainer_->learn(digest, tokens, what == Learn::kSpam);
  if (!r) return r.error();
  if (r.value() == Trainer::Outcome::kKnown) return Learn::kNone;  // already learned as this class
  const auto now = std::chrono::steady_clock::now();
  if (trainer_->pending() == 1) oldest_pending_ = now;
  if (trainer_->pending() >= kBatch || now - oldest_pending_ >= kMaxDelay) {
    auto c = trainer_->commit();
    if (!c) return c.error();
  }
  return what;
}

Result<bool> AutoLearner::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (trainer_->pending() == 0) return true;
  return trainer_->commit();
}

}  // namespace bulwark::classify
