#include "rules/matcher.h"

#include <hs/hs.h>
#include <re2/re2.h>

namespace bulwark::rules {

namespace {

unsigned hs_flags(const lang::Pattern& p) {
  unsigned f = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
  if (p.caseless) f |= HS_FLAG_CASELESS;
  if (p.dotall) f |= HS_FLAG_DOTALL;
  if (p.multiline) f |= HS_FLAG_MULTILINE;
  return f;
}

// RE2 reading the same bytes the same way as Hyperscan without HS_FLAG_UTF8: Latin-1
// (one byte, one character), Perl classes, flags from the rule.
Result<std::unique_ptr<re2::RE2>> make_re2(const lang::Pattern& p) {
  re2::RE2::Options o;
  o.set_encoding(re2::RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  o.set_case_sensitive(!p.caseless);
  o.set_dot_nl(p.dotall);
  o.set_max_mem(32 << 20);
  const std::string re = p.multiline ? "(?m)" + p.regex : p.regex;
  auto r = std::make_unique<re2::RE2>(re, o);
  if (!r->ok()) return Error{r->error()};
  return r;
}

struct ScanCtx {
  const std::vector<int>* ids;
  MatchState* state;
  std::string_view text;
};

int on_match(unsigned id, unsigned long long /*from*/, unsigned long long to, unsigned /*flags*/, void* ctx) {
  auto* c = static_cast<ScanCtx*>(ctx);
  const auto idx = static_cast<std::size_t>((*c->ids)[id]);
  if (!c->state->matched[idx]) {
    c->state->matched[idx] = 1;
    c->state->loc[idx] = MatchLoc{c->text, static_cast<std::size_t>(to)};
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<PatternSet>> PatternSet::compile(const std::vector<const lang::Pattern*>& patterns,
                                                        const std::vector<int>& ids, bool re2_only) {
  std::unique_ptr<PatternSet> set(new PatternSet());
  std::vector<std::size_t> to_hs;  // positions in `patterns`
  std::vector<std::size_t> to_re2;
  for (std::size_t i = 0; i < patterns.size(); ++i) (re2_only ? to_re2 : to_hs).push_back(i);

  // Compile all at once; a pattern Hyperscan rejects moves to RE2 and the rest recompile.
  while (!to_hs.empty()) {
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, hs_ids;
    for (std::size_t k = 0; k < to_hs.size(); ++k) {
      exprs.push_back(patterns[to_hs[k]]->regex.c_str());
      flags.push_back(hs_flags(*patterns[to_hs[k]]));
      hs_ids.push_back(static_cast<unsigned>(k));
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc = hs_compile_multi(exprs.data(), flags.data(), hs_ids.data(), static_cast<unsigned>(exprs.size()),
                                           HS_MODE_BLOCK, nullptr, &db, &err);
    if (rc == HS_SUCCESS) {
      set->db_ = db;
      for (std::size_t k : to_hs) set->hs_ids_.push_back(ids[k]);
      break;
    }
    const int bad = err ? err->expression : -1;
    const std::string msg = err && err->message ? err->message : "unknown error";
    hs_free_compile_error(err);
    if (bad < 0 || static_cast<std::size_t>(bad) >= to_hs.size())
      return Error{(patterns.empty() ? std::string("rules") : patterns.front()->where) + ": Hyperscan: " + msg};
    const std::size_t pos = to_hs[static_cast<std::size_t>(bad)];
    // RE2 must take it, or the rule is in error (both messages help the author).
    auto r = make_re2(*patterns[pos]);
    if (!r) return Error{patterns[pos]->where + ": regex rejected: Hyperscan: " + msg + "; RE2: " + r.error().message};
    set->re2_.emplace_back(ids[pos], std::move(r).value());
    to_hs.erase(to_hs.begin() + bad);
  }
  for (std::size_t pos : to_re2) {
    auto r = make_re2(*patterns[pos]);
    if (!r) return Error{patterns[pos]->where + ": regex rejected by RE2: " + r.error().message};
    set->re2_.emplace_back(ids[pos], std::move(r).value());
  }
  return set;
}

PatternSet::~PatternSet() {
  if (db_) hs_free_database(db_);
}

void PatternSet::scan(std::string_view text, hs_scratch* scratch, MatchState& state) const {
  if (db_ && scratch) {
    ScanCtx ctx{&hs_ids_, &state, text};
    // Hyperscan needs a non-null pointer even for empty input.
    static const char kEmpty[1] = {0};
    hs_scan(db_, text.empty() ? kEmpty : text.data(), static_cast<unsigned>(text.size()), 0, scratch, on_match, &ctx);
  }
  for (const auto& [idx, re] : re2_) {
    const auto i = static_cast<std::size_t>(idx);
    if (state.matched[i]) continue;
    re2::StringPiece sp(text.data(), text.size());
    re2::StringPiece m;
    if (re->Match(sp, 0, sp.size(), re2::RE2::UNANCHORED, &m, 1)) {
      state.matched[i] = 1;
      state.loc[i] = MatchLoc{text, static_cast<std::size_t>(m.data() - sp.data()) + m.size()};
    }
  }
}

ScratchPool::~ScratchPool() {
  for (hs_scratch* s : free_) hs_free_scratch(s);
  if (proto_) hs_free_scratch(proto_);
}

Result<bool> ScratchPool::prepare(const std::vector<const PatternSet*>& sets, std::size_t warm) {
  for (const PatternSet* s : sets) {
    if (!s->database()) continue;
    if (hs_alloc_scratch(s->database(), &proto_) != HS_SUCCESS) return Error{"Hyperscan: cannot allocate scratch"};
  }
  if (!proto_) return true;
  for (std::size_t i = 0; i < warm; ++i) {
    hs_scratch_t* c = nullptr;
    if (hs_clone_scratch(proto_, &c) != HS_SUCCESS) return Error{"Hyperscan: cannot clone scratch"};
    free_.push_back(c);
  }
  return true;
}

hs_scratch* ScratchPool::acquire() const {
  if (!proto_) return nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      hs_scratch* s = free_.back();
      free_.pop_back();
      return s;
    }
  }
  hs_scratch_t* c = nullptr;
  if (hs_clone_scratch(proto_, &c) != HS_SUCCESS) return nullptr;
  return c;
}

void ScratchPool::release(hs_scratch* s) const {
  if (!s) return;
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(s);
}

}  // namespace bulwark::rules
