// Multi-pattern matching (internal): all regular expressions of one class compiled into
// one Hyperscan block-mode database and matched in one pass per text; the few patterns
// Hyperscan rejects go to RE2. Compiled once at load; scanning is const and thread-safe
// given a scratch per concurrent caller (ScratchPool).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "rules/lang.h"

struct hs_database;
struct hs_scratch;
namespace re2 {
class RE2;
}

namespace bulwark::rules {

// Where a pattern first matched: the text and the end offset of the match.
struct MatchLoc {
  std::string_view text;
  std::size_t end = 0;
};

struct MatchState {
  std::vector<std::uint8_t> matched;  // by pattern index
  std::vector<MatchLoc> loc;          // by pattern index, for details
  std::string_view attachment_text;   // the body target's second text (documents' text)
};

class PatternSet {
 public:
  // `ids[i]` is the caller's index of `patterns[i]`. re2_only: skip Hyperscan (tests).
  static Result<std::unique_ptr<PatternSet>> compile(const std::vector<const lang::Pattern*>& patterns,
                                                     const std::vector<int>& ids, bool re2_only);
  ~PatternSet();
  PatternSet(const PatternSet&) = delete;
  PatternSet& operator=(const PatternSet&) = delete;

  // One pass over `text`; marks every pattern that matches. `scratch` may be null when the
  // set has no Hyperscan database.
  void scan(std::string_view text, hs_scratch* scratch, MatchState& state) const;

  hs_database* database() const { return db_; }
  std::size_t hyperscan_patterns() const { return hs_ids_.size(); }
  std::size_t re2_patterns() const { return re2_.size(); }

 private:
  PatternSet() = default;
  hs_database* db_ = nullptr;
  std::vector<int> hs_ids_;  // Hyperscan id -> caller index
  std::vector<std::pair<int, std::unique_ptr<re2::RE2>>> re2_;
};

// Hyperscan scratch space for every database of a ruleset, one per concurrent evaluate():
// taken from a free list and returned, cloned only when all are in use. No allocation per
// call once warm; memory only (safe in forked, sandboxed workers).
class ScratchPool {
 public:
  ScratchPool() = default;
  ~ScratchPool();
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;

  Result<bool> prepare(const std::vector<const PatternSet*>& sets, std::size_t warm);
  hs_scratch* acquire() const;
  void release(hs_scratch* s) const;

 private:
  hs_scratch* proto_ = nullptr;
  mutable std::mutex mu_;
  mutable std::vector<hs_scratch*> free_;
};

}  // namespace bulwark::rules
