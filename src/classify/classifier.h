// The statistical spam classifier: a token-count model (Robinson's f(w), Fisher's
// chi-square combining; docs/classifier.md says why), its SQLite store, and training.
//
// Scanning reads an in-memory Model, loaded whole before the sandbox workers fork:
//   auto m = classify::Model::load(classify::model_path(config));   // nullptr: no model file
//   double p = m.value()->spam_probability(classify::token_hashes(message));
// Training writes through a Trainer, in batches (each one transaction), recording a hash of
// every learned message so that re-running over the same mail counts nothing twice:
//   auto t = classify::Trainer::open(path, /*reset=*/false);
//   t.value()->learn(sha256_hex(raw), token_hashes(message), /*spam=*/true);
//   t.value()->commit();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/result.h"

struct sqlite3;

namespace bulwark::classify {

// <spool.data_dir>/classifier.sqlite3 unless classify.model names a file.
std::string model_path(const Config& config);

struct TokenCounts {
  std::uint64_t hash = 0;
  std::uint32_t spam = 0;  // spam messages that contained the token
  std::uint32_t ham = 0;
};

class Model {
 public:
  // The model at `path`, or nullptr when there is no such file. A file that is not a model
  // (or one from another tokenizer version) is an error.
  static Result<std::unique_ptr<Model>> load(const std::string& path);
  // From counts directly (tests, benchmarks).
  Model(std::vector<TokenCounts> tokens, std::uint64_t spam_messages, std::uint64_t ham_messages);

  std::uint64_t spam_messages() const { return spam_messages_; }
  std::uint64_t ham_messages() const { return ham_messages_; }
  std::size_t token_count() const { return tokens_.size(); }
  // Enough of each class learned to score.
  bool ready(std::size_t min_train) const {
    return spam_messages_ >= min_train && ham_messages_ >= min_train && min_train > 0;
  }
  const TokenCounts* find(std::uint64_t hash) const;

  // Spam probability of a message from its token hashes, in [0, 1]; 0.5 when the model
  // has no evidence either way.
  double spam_probability(const std::vector<std::uint64_t>& hashes) const;

 private:
  std::vector<TokenCounts> tokens_;  // sorted by hash
  std::uint64_t spam_messages_ = 0, ham_messages_ = 0;
};

// The one BAYES_* symbol for a probability, and its detail ("p=0.9987").
std::string_view bayes_symbol(double p);
std::string probability_detail(double p);

class Trainer {
 public:
  enum class Outcome { kLearned, kRelearned, kKnown };

  // Opens (creating it and its directory when needed) the model at `path`; `reset` starts
  // from an empty model.
  static Result<std::unique_ptr<Trainer>> open(const std::string& path, bool reset);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Learns one message (its digest identifies it): kKnown when it was already learned as
  // this class, kRelearned when it had been learned as the other class (its counts move).
  // Buffered until commit().
  Result<Outcome> learn(const std::string& digest, const std::vector<std::uint64_t>& hashes, bool spam);
  // Writes everything learned since the last commit in one transaction.
  Result<bool> commit();
  std::size_t pending() const { return pending_.size(); }

  std::uint64_t spam_messages() const { return spam_messages_; }
  std::uint64_t ham_messages() const { return ham_messages_; }

 private:
  explicit Trainer(sqlite3* db) : db_(db) {}
  Result<bool> exec(const char* sql);
  std::optional<bool> known_class(const std::string& digest);

  sqlite3* db_ = nullptr;
  std::unordered_map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> deltas_;
  std::unordered_map<std::string, bool> pending_;  // digest -> spam
  std::uint64_t spam_messages_ = 0, ham_messages_ = 0;
  std::uint64_t committed_spam_ = 0, committed_ham_ = 0;
};

// Guarded auto-learning: which class, if any, a scanned message should be learned as.
// `rules_score` is the verdict's score without BAYES_* symbols; `p` the classifier's
// probability (nullopt when no model scored). Never learns a message with threats or a
// parser limit hit; with classify.autolearn off, never learns at all.
enum class Learn { kNone, kSpam, kHam };
Learn autolearn_decision(const ClassifyConfig& config, double rules_score, std::optional<double> p,
                         bool has_threats, bool limit_hit);

}  // namespace bulwark::classify
