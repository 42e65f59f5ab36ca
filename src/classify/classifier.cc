#include "classify/classifier.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "classify/tokenizer.h"

namespace bulwark::classify {

namespace fs = std::filesystem;

namespace {

constexpr int kSchemaVersion = 1;
// Robinson's f(w): a token seen n times is pulled towards kUnknownProb with strength kStrength.
constexpr double kStrength = 0.45;
constexpr double kUnknownProb = 0.5;
// Only tokens at least this far from 0.5 take part, at most kMaxDiscriminators of them.
constexpr double kMinDeviation = 0.1;
constexpr std::size_t kMaxDiscriminators = 1000;

std::int64_t to_signed(std::uint64_t h) { return std::bit_cast<std::int64_t>(h); }
std::uint64_t to_unsigned(std::int64_t h) { return std::bit_cast<std::uint64_t>(h); }

// Probability that a chi-square variable with `dof` (even) degrees of freedom exceeds x2.
double chi2q(double x2, std::size_t dof) {
  const double m = x2 / 2.0;
  double term = std::exp(-m), sum = term;
  for (std::size_t i = 1; i < dof / 2; ++i) {
    term *= m / static_cast<double>(i);
    sum += term;
  }
  return std::min(sum, 1.0);
}

struct Db {
  sqlite3* db = nullptr;
  ~Db() {
    if (db) sqlite3_close(db);
  }
};

struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) s = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  explicit operator bool() const { return s != nullptr; }
};

std::optional<std::int64_t> meta(sqlite3* db, const char* key) {
  Stmt st(db, "SELECT value FROM meta WHERE key = ?1");
  if (!st) return std::nullopt;
  sqlite3_bind_text(st.s, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st.s) != SQLITE_ROW) return std::nullopt;
  return sqlite3_column_int64(st.s, 0);
}

std::string db_error(sqlite3* db, const std::string& path, const std::string& what) {
  return "classifier model " + path + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

}  // namespace

std::string model_path(const Config& config) {
  if (!config.classify.model.empty()) return config.classify.model;
  return (fs::path(config.spool.data_dir) / "classifier.sqlite3").string();
}

// ---------------------------------------------------------------- Model

Model::Model(std::vector<TokenCounts> tokens, std::uint64_t spam_messages, std::uint64_t ham_messages)
    : tokens_(std::move(tokens)), spam_messages_(spam_messages), ham_messages_(ham_messages) {
  std::sort(tokens_.begin(), tokens_.end(),
            [](const TokenCounts& a, const TokenCounts& b) { return a.hash < b.hash; });
}

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::unique_ptr<Model>();
  Db d;
  if (sqlite3_open_v2(path.c_str(), &d.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    return Error{db_error(d.db, path, "cannot open")};
  sqlite3_busy_timeout(d.db, 5000);
  const auto schema = meta(d.db, "schema");
  const auto tokenizer = meta(d.db, "tokenizer");
  if (!schema || *schema != kSchemaVersion)
    return Error{"classifier model " + path + ": not a Bulwark classifier model (schema " +
                 (schema ? std::to_string(*schema) : "missing") + ")"};
  if (!tokenizer || *tokenizer != kTokenizerVersion)
    return Error{"classifier model " + path + ": trained by another tokenizer version; retrain with `bulwark train --reset`"};
  const auto spam = meta(d.db, "spam_messages").value_or(0);
  const auto ham = meta(d.db, "ham_messages").value_or(0);
  std::vector<TokenCounts> tokens;
  if (auto n = meta(d.db, "tokens")) tokens.reserve(static_cast<std::size_t>(std::max<std::int64_t>(*n, 0)));
  Stmt st(d.db, "SELECT h, spam, ham FROM tokens");
  if (!st) return Error{db_error(d.db, path, "cannot read tokens")};
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    tokens.push_back(TokenCounts{to_unsigned(sqlite3_column_int64(st.s, 0)),
                                 static_cast<std::uint32_t>(std::clamp<std::int64_t>(sqlite3_column_int64(st.s, 1), 0, UINT32_MAX)),
                                 static_cast<std::uint32_t>(std::clamp<std::int64_t>(sqlite3_column_int64(st.s, 2), 0, UINT32_MAX))});
  }
  if (rc != SQLITE_DONE) return Error{db_error(d.db, path, "cannot read tokens")};
  return std::make_unique<Model>(std::move(tokens), static_cast<std::uint64_t>(std::max<std::int64_t>(spam, 0)),
                                 static_cast<std::uint64_t>(std::max<std::int64_t>(ham, 0)));
}

const TokenCounts* Model::find(std::uint64_t hash) const {
  auto it = std::lower_bound(tokens_.begin(), tokens_.end(), hash,
                             [](const TokenCounts& t, std::uint64_t h) { return t.hash < h; });
  return it != tokens_.end() && it->hash == hash ? &*it : nullptr;
}

double Model::spam_probability(const std::vector<std::uint64_t>& hashes) const {
  if (spam_messages_ == 0 || ham_messages_ == 0) return 0.5;
  const double nspam = static_cast<double>(spam_messages_), nham = static_cast<double>(ham_messages_);
  std::vector<double> f;
  f.reserve(hashes.size());
  for (std::uint64_t h : hashes) {
    const TokenCounts* t = find(h);
    if (!t) continue;
    const double sp = t->spam / nspam, hp = t->ham / nham;
    if (sp + hp <= 0) continue;
    const double p = sp / (sp + hp);
    const double n = static_cast<double>(t->spam) + static_cast<double>(t->ham);
    const double fw = (kStrength * kUnknownProb + n * p) / (kStrength + n);
    if (std::fabs(fw - 0.5) >= kMinDeviation) f.push_back(fw);
  }
  if (f.empty()) return 0.5;
  if (f.size() > kMaxDiscriminators) {
    std::nth_element(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(kMaxDiscriminators), f.end(),
                     [](double a, double b) { return std::fabs(a - 0.5) > std::fabs(b - 0.5); });
    f.resize(kMaxDiscriminators);
  }
  // Fisher: how unlikely the f(w) would be if they were random, towards each side.
  double ln_ham = 0, ln_spam = 0;
  for (double x : f) {
    ln_ham += std::log(x);
    ln_spam += std::log1p(-x);
  }
  const std::size_t dof = 2 * f.size();
  const double s = 1.0 - chi2q(-2.0 * ln_spam, dof);
  const double h = 1.0 - chi2q(-2.0 * ln_ham, dof);
  return std::clamp((s - h + 1.0) / 2.0, 0.0, 1.0);
}

std::string_view bayes_symbol(double p) {
  if (p >= 0.999) return "BAYES_SPAM_999";
  if (p >= 0.99) return "BAYES_SPAM_99";
  if (p >= 0.95) return "BAYES_SPAM_95";
  if (p >= 0.80) return "BAYES_SPAM_80";
  if (p > 0.20) return "BAYES_UNSURE";
  if (p > 0.01) return "BAYES_HAM";
  return "BAYES_HAM_99";
}

std::string probability_detail(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p=%.4f", p);
  return buf;
}

// ---------------------------------------------------------------- Trainer

Result<std::unique_ptr<Trainer>> Trainer::open(const std::string& path, bool reset) {
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (reset) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string e = db_error(raw, path, "cannot open");
    sqlite3_close(raw);
    return Error{e};
  }
  std::unique_ptr<Trainer> t(new Trainer(raw));
  sqlite3_busy_timeout(raw, 10000);
  for (const char* sql : {
           "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
           "CREATE TABLE IF NOT EXISTS tokens(h INTEGER PRIMARY KEY, spam INTEGER NOT NULL, ham INTEGER NOT NULL)",
           "CREATE TABLE IF NOT EXISTS learned(digest TEXT PRIMARY KEY, spam INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID",
       }) {
    if (auto r = t->exec(sql); !r) return r.error();
  }
  const auto schema = meta(raw, "schema");
  const auto tokenizer = meta(raw, "tokenizer");
  if (!schema) {
    Stmt st(raw, "INSERT INTO meta(key, value) VALUES ('schema', ?1), ('tokenizer', ?2), "
                 "('spam_messages', 0), ('ham_messages', 0), ('tokens', 0)");
    sqlite3_bind_int(st.s, 1, kSchemaVersion);
    sqlite3_bind_int(st.s, 2, kTokenizerVersion);
    if (!st || sqlite3_step(st.s) != SQLITE_DONE) return Error{db_error(raw, path, "cannot initialise")};
  } else if (*schema != kSchemaVersion) {
    return Error{"classifier model " + path + ": not a Bulwark classifier model"};
  } else if (!tokenizer || *tokenizer != kTokenizerVersion) {
    return Error{"classifier model " + path +
                 ": trained by another tokenizer version; start again with --reset"};
  }
  t->spam_messages_ = t->committed_spam_ =
      static_cast<std::uint64_t>(std::max<std::int64_t>(meta(raw, "spam_messages").value_or(0), 0));
  t->ham_messages_ = t->committed_ham_ =
      static_cast<std::uint64_t>(std::max<std::int64_t>(meta(raw, "ham_messages").value_or(0), 0));
  return t;
}

Trainer::~Trainer() {
  if (db_) sqlite3_close(db_);
}

Result<bool> Trainer::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = std::string("classifier model: ") + (err ? err : "error");
    sqlite3_free(err);
    return Error{e};
  }
  return true;
}

std::optional<bool> Trainer::known_class(const std::string& digest) {
  if (auto it = pending_.find(digest); it != pending_.end()) return it->second;
  Stmt st(db_, "SELECT spam FROM learned WHERE digest = ?1");
  if (!st) return std::nullopt;
  sqlite3_bind_text(st.s, 1, digest.data(), static_cast<int>(digest.size()), SQLITE_STATIC);
  if (sqlite3_step(st.s) != SQLITE_ROW) return std::nullopt;
  return sqlite3_column_int(st.s, 0) != 0;
}

Result<Trainer::Outcome> Trainer::learn(const std::string& digest, const std::vector<std::uint64_t>& hashes,
                                        bool spam) {
  const std::optional<bool> before = known_class(digest);
  if (before && *before == spam) return Outcome::kKnown;
  for (std::uint64_t h : hashes) {
    auto& d = deltas_[h];
    (spam ? d.first : d.second) += 1;
    if (before) (spam ? d.second : d.first) -= 1;  // it moves from the other class
  }
  pending_[digest] = spam;
  (spam ? spam_messages_ : ham_messages_) += 1;
  if (before) (spam ? ham_messages_ : spam_messages_) -= 1;
  return before ? Outcome::kRelearned : Outcome::kLearned;
}

Result<bool> Trainer::commit() {
  if (pending_.empty()) return true;
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r.error();
  auto fail = [&](const char* what) -> Result<bool> {
    std::string e = db_error(db_, "", what);
    exec("ROLLBACK").ok();
    return Error{e};
  };
  {
    Stmt up(db_,
            "INSERT INTO tokens(h, spam, ham) VALUES (?1, max(?2, 0), max(?3, 0)) "
            "ON CONFLICT(h) DO UPDATE SET spam = max(spam + ?2, 0), ham = max(ham + ?3, 0)");
    if (!up) return fail("cannot write tokens");
    bool removed = false;
    for (const auto& [h, d] : deltas_) {
      if (d.first == 0 && d.second == 0) continue;
      removed = removed || d.first < 0 || d.second < 0;
      sqlite3_bind_int64(up.s, 1, to_signed(h));
      sqlite3_bind_int64(up.s, 2, d.first);
      sqlite3_bind_int64(up.s, 3, d.second);
      if (sqlite3_step(up.s) != SQLITE_DONE) return fail("cannot write tokens");
      sqlite3_reset(up.s);
    }
    if (removed && !exec("DELETE FROM tokens WHERE spam = 0 AND ham = 0")) return fail("cannot prune tokens");
    Stmt rec(db_, "INSERT OR REPLACE INTO learned(digest, spam, at) VALUES (?1, ?2, ?3)");
    if (!rec) return fail("cannot record messages");
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (const auto& [digest, spam] : pending_) {
      sqlite3_bind_text(rec.s, 1, digest.data(), static_cast<int>(digest.size()), SQLITE_STATIC);
      sqlite3_bind_int(rec.s, 2, spam ? 1 : 0);
      sqlite3_bind_int64(rec.s, 3, now);
      if (sqlite3_step(rec.s) != SQLITE_DONE) return fail("cannot record messages");
      sqlite3_reset(rec.s);
    }
    // Counts move by this trainer's own deltas: another writer (the gateway's auto-learning
    // while `bulwark train` runs) may have committed in between.
    Stmt m(db_, "UPDATE meta SET value = CASE key WHEN 'spam_messages' THEN max(value + ?1, 0) "
                "WHEN 'ham_messages' THEN max(value + ?2, 0) "
                "ELSE (SELECT count(*) FROM tokens) END WHERE key IN ('spam_messages', 'ham_messages', 'tokens')");
    if (!m) return fail("cannot write counts");
    sqlite3_bind_int64(m.s, 1, static_cast<std::int64_t>(spam_messages_) - static_cast<std::int64_t>(committed_spam_));
    sqlite3_bind_int64(m.s, 2, static_cast<std::int64_t>(ham_messages_) - static_cast<std::int64_t>(committed_ham_));
    if (sqlite3_step(m.s) != SQLITE_DONE) return fail("cannot write counts");
  }
  if (auto r = exec("COMMIT"); !r) {
    exec("ROLLBACK").ok();
    return r.error();
  }
  deltas_.clear();
  pending_.clear();
  spam_messages_ = static_cast<std::uint64_t>(std::max<std::int64_t>(meta(db_, "spam_messages").value_or(0), 0));
  ham_messages_ = static_cast<std::uint64_t>(std::max<std::int64_t>(meta(db_, "ham_messages").value_or(0), 0));
  committed_spam_ = spam_messages_;
  committed_ham_ = ham_messages_;
  return true;
}

// ---------------------------------------------------------------- auto-learning

Learn autolearn_decision(const ClassifyConfig& config, double rules_score, std::optional<double> p,
                         bool has_threats, bool limit_hit) {
  if (!config.autolearn || has_threats || limit_hit) return Learn::kNone;
  // Without a ready model the rules decide alone (that is how a model bootstraps); with one,
  // both must agree with high confidence.
  if (rules_score >= config.autolearn_spam_score && (!p || *p >= config.autolearn_spam_probability))
    return Learn::kSpam;
  if (rules_score <= config.autolearn_ham_score && (!p || *p <= config.autolearn_ham_probability))
    return Learn::kHam;
  return Learn::kNone;
}

}  // namespace bulwark::classify
