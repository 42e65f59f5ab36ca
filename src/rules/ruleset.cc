#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "mime/deobfuscate.h"
#include "mime/header_value.h"
#include "rules/functions.h"
#include "rules/lang.h"
#include "rules/matcher.h"
#include "rules/rules.h"
#include "rules/text_util.h"
#include "rules/urls.h"
#include "spam_rules_embedded.h"

namespace bulwark::rules {

namespace fs = std::filesystem;
using lang::NodeKind;
using lang::Target;

namespace {

constexpr std::size_t kMaxDetailItems = 3;
constexpr std::size_t kMaxTexts = 1000;  // header fields / URLs / names scanned per group

// A group of patterns matched over the same texts: one Hyperscan database.
struct Group {
  Target target;
  std::string header;  // for header targets
  std::unique_ptr<PatternSet> set;
};

struct FnCall {
  Fn fn;
  std::string_view arg;
  double value;
  std::string note;
};

}  // namespace

struct RuleSet::Impl {
  lang::Parsed parsed;
  std::vector<int> order;
  std::vector<Group> groups;
  std::vector<double> base_score;  // by rule
  std::map<std::string, std::vector<std::pair<int, double>>, std::less<>> domain_scores;
  std::array<int, kBuiltinCount> builtin_rule{};
  std::vector<RuleInfo> infos;
  std::size_t reportable = 0;
  std::unique_ptr<UrlAnalyzer> urls;
  ScratchPool scratch;
  std::size_t max_scan = 1u << 20;

  double eval(int node, const MatchState& ms, FnContext& fctx, std::vector<FnCall>& calls,
              const std::vector<std::uint8_t>& truth) const;
  void explain(int node, const MatchState& ms, const std::vector<FnCall>& calls, const std::vector<std::uint8_t>& truth,
               std::vector<std::string>& items, std::size_t depth) const;
  void scan_all(const mime::Message& m, MatchState& ms, std::deque<std::string>& storage, hs_scratch* s) const;
};

RuleSet::RuleSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleSet::~RuleSet() = default;

std::size_t RuleSet::size() const { return impl_->reportable; }
const std::vector<RuleInfo>& RuleSet::rules() const { return impl_->infos; }

std::string RuleSet::describe() const {
  std::size_t hs = 0, re = 0, dbs = 0;
  for (const Group& g : impl_->groups) {
    hs += g.set->hyperscan_patterns();
    re += g.set->re2_patterns();
    if (g.set->database()) ++dbs;
  }
  return std::to_string(impl_->reportable) + " rules (" + std::to_string(hs) + " patterns in " + std::to_string(dbs) +
         " Hyperscan databases, " + std::to_string(re) + " with RE2)";
}

std::vector<RuleSource> builtin_sources() {
  std::vector<RuleSource> out;
  for (std::size_t i = 0; i < kEmbeddedSpamRuleCount; ++i)
    out.push_back(RuleSource{std::string("rules/spam/") + kEmbeddedSpamRules[i].name,
                             std::string(kEmbeddedSpamRules[i].text, kEmbeddedSpamRules[i].size), {}});
  return out;
}

Result<std::size_t> parse_check(std::string_view text, std::string_view name) {
  lang::Parsed p;
  for (const BuiltinSpec& b : builtin_symbols()) {
    lang::RuleDef d;
    d.name = std::string(b.name);
    d.builtin = true;
    d.has_score = true;
    p.rules.push_back(std::move(d));
  }
  auto r = lang::parse_file(p, text, name, {});
  if (!r) return r.error();
  auto o = lang::resolve(p);
  if (!o) return o.error();
  return p.rules.size() - kBuiltinCount;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::load_sources(const std::vector<RuleSource>& sources,
                                                             const RulesOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->max_scan = options.max_scan_bytes;
  lang::Parsed& p = impl->parsed;
  for (std::size_t i = 0; i < kBuiltinCount; ++i) {
    const BuiltinSpec& b = builtin_symbols()[i];
    lang::RuleDef d;
    d.name = std::string(b.name);
    d.where = "built-in";
    d.score = b.score;
    d.has_score = true;
    d.group = std::string(b.group);
    d.description = std::string(b.description);
    d.builtin = true;
    p.rules.push_back(std::move(d));
    impl->builtin_rule[i] = static_cast<int>(i);
  }
  for (const RuleSource& s : sources) {
    auto r = lang::parse_file(p, s.text, s.name, util::lower_ascii(s.domain));
    if (!r) return r.error();
  }
  auto order = lang::resolve(p);
  if (!order) return order.error();
  impl->order = std::move(order).value();

  // Scores: the rule's own, then file `score` lines (in order), then options.
  std::map<std::string, int, std::less<>> by_name;
  for (std::size_t i = 0; i < p.rules.size(); ++i) by_name.emplace(p.rules[i].name, static_cast<int>(i));
  impl->base_score.resize(p.rules.size());
  for (std::size_t i = 0; i < p.rules.size(); ++i) impl->base_score[i] = p.rules[i].score;
  std::map<std::string, std::map<int, double>, std::less<>> per_domain;
  for (const lang::ScoreLine& s : p.scores) {
    const int r = by_name.at(s.rule);
    if (s.domain.empty()) impl->base_score[static_cast<std::size_t>(r)] = s.score;
    else per_domain[s.domain][r] = s.score;
  }
  for (const auto& [name, score] : options.scores) {
    auto it = by_name.find(name);
    if (it == by_name.end()) return Error{"rules options: score for unknown rule " + name};
    impl->base_score[static_cast<std::size_t>(it->second)] = score;
  }
  for (const auto& [domain, m] : options.domain_scores)
    for (const auto& [name, score] : m) {
      auto it = by_name.find(name);
      if (it == by_name.end()) return Error{"rules options: score for unknown rule " + name + " (domain " + domain + ")"};
      per_domain[util::lower_ascii(domain)][it->second] = score;
    }
  for (auto& [domain, m] : per_domain)
    impl->domain_scores[domain] = std::vector<std::pair<int, double>>(m.begin(), m.end());

  // Patterns grouped by what they read: one database per group. Patterns with the `o` flag
  // get a database of their own: they have no plain literal for Hyperscan to look for, and
  // compiled together with the literal patterns they cost more compile time than apart.
  std::map<std::tuple<int, std::string, bool>, std::vector<int>> grouped;
  for (std::size_t i = 0; i < p.patterns.size(); ++i)
    grouped[{static_cast<int>(p.patterns[i].target), p.patterns[i].header, p.patterns[i].disguised}].push_back(
        static_cast<int>(i));
  std::vector<const PatternSet*> sets;
  for (const auto& [key, ids] : grouped) {
    std::vector<const lang::Pattern*> pats;
    for (int id : ids) pats.push_back(&p.patterns[static_cast<std::size_t>(id)]);
    auto set = PatternSet::compile(pats, ids, options.engine == RulesOptions::Engine::kRe2Only);
    if (!set) return set.error();
    impl->groups.push_back(Group{static_cast<Target>(std::get<0>(key)), std::get<1>(key), std::move(set).value()});
    sets.push_back(impl->groups.back().set.get());
  }
  const std::size_t warm = std::max<std::size_t>(1, std::min<std::size_t>(std::thread::hardware_concurrency(), 16));
  if (auto r = impl->scratch.prepare(sets, warm); !r) return r.error();

  auto urls = UrlAnalyzer::create(options);
  if (!urls) return urls.error();
  impl->urls = std::move(urls).value();

  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const lang::RuleDef& d = p.rules[i];
    if (d.name.starts_with("__")) continue;
    impl->infos.push_back(RuleInfo{d.name, impl->base_score[i], d.group, d.description, d.where});
  }
  std::sort(impl->infos.begin(), impl->infos.end(), [](const RuleInfo& a, const RuleInfo& b) { return a.name < b.name; });
  impl->reportable = impl->infos.size();
  return std::shared_ptr<const RuleSet>(new RuleSet(std::move(impl)));
}

namespace {

Result<bool> read_file(const fs::path& path, std::string domain, std::vector<RuleSource>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path.string() + ": cannot read"};
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{path.string() + ": read error"};
  out.push_back(RuleSource{path.string(), ss.str(), std::move(domain)});
  return true;
}

Result<bool> collect(const std::vector<std::string>& paths, std::vector<RuleSource>& out) {
  for (const std::string& p : paths) {
    std::error_code ec;
    const fs::path path(p);
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files, domains;
      for (const auto& e : fs::directory_iterator(path, ec))
        if (e.is_regular_file() && e.path().extension() == ".rules") files.push_back(e.path());
      if (ec) return Error{p + ": " + ec.message()};
      const fs::path ddir = path / "domains";
      if (fs::is_directory(ddir, ec))
        for (const auto& e : fs::directory_iterator(ddir, ec))
          if (e.is_regular_file() && e.path().extension() == ".rules") domains.push_back(e.path());
      std::sort(files.begin(), files.end());
      std::sort(domains.begin(), domains.end());
      for (const auto& f : files)
        if (auto r = read_file(f, {}, out); !r) return r;
      for (const auto& f : domains)
        if (auto r = read_file(f, f.stem().string(), out); !r) return r;
    } else if (fs::exists(path, ec)) {
      const std::string domain = path.parent_path().filename() == "domains" ? path.stem().string() : std::string();
      if (auto r = read_file(path, domain, out); !r) return r;
    } else {
      return Error{p + ": no such rule file or directory"};
    }
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<const RuleSet>> RuleSet::load(const std::vector<std::string>& paths, const RulesOptions& options) {
  std::vector<RuleSource> sources;
  if (auto r = collect(paths, sources); !r) return r.error();
  return load_sources(sources, options);
}

Result<std::shared_ptr<const RuleSet>> RuleSet::load_builtin(const RulesOptions& options) {
  return load_sources(builtin_sources(), options);
}

Result<std::shared_ptr<const RuleSet>> RuleSet::load_with_builtin(const std::vector<std::string>& paths,
                                                                  const RulesOptions& options) {
  std::vector<RuleSource> sources = builtin_sources();
  if (auto r = collect(paths, sources); !r) return r.error();
  return load_sources(sources, options);
}

// ---- evaluation ----

void RuleSet::Impl::scan_all(const mime::Message& m, MatchState& ms, std::deque<std::string>& storage,
                             hs_scratch* s) const {
  if (m.parts.empty()) return;
  const mime::Part& root = m.parts.front();
  SymbolSet sink;
  const mime::Report report{sink, {}};
  auto cap = [&](std::string_view t) { return t.substr(0, std::min(t.size(), max_scan)); };
  // Texts must outlive the match locations: they go to `storage` (a deque: stable).
  auto keep = [&](std::string t) -> std::string_view {
    storage.push_back(std::move(t));
    return storage.back();
  };
  // Decoded text as a reader sees it (deobfuscate.h); plain ASCII is kept as it is.
  auto keep_visible = [&](std::string t) -> std::string_view {
    std::string v;
    return keep(mime::deobfuscate(t, v) ? std::move(v) : std::move(t));
  };
  std::string_view body_joined;
  bool body_built = false;
  for (const Group& g : groups) {
    const PatternSet& set = *g.set;
    std::size_t n = 0;
    auto scan = [&](std::string_view t) {
      if (n++ < kMaxTexts) set.scan(cap(t), s, ms);
    };
    switch (g.target) {
      case Target::kHeader:
      case Target::kRawHeader:
      case Target::kHeaderAddr:
      case Target::kHeaderName: {
        const bool raw = g.target == Target::kRawHeader;
        if (g.header == "all") {
          std::string all;
          for (const mime::HeaderField& f : root.headers) {
            if (ignored_header(f.name) || all.size() > max_scan) continue;
            all.append(f.name).append(": ");
            if (raw) all.append(f.raw);
            else all.append(mime::decode_encoded_words(mime::unfold(f.raw), report));
            all += '\n';
          }
          scan(raw ? keep(std::move(all)) : keep_visible(std::move(all)));
          break;
        }
        for (const mime::HeaderField& f : root.headers) {
          if (!util::iequals(f.name, g.header)) continue;
          if (raw) {
            scan(f.raw);
          } else if (g.target == Target::kHeader) {
            scan(keep_visible(mime::decode_encoded_words(mime::unfold(f.raw), report)));
          } else {
            for (const mime::Address& a : mime::parse_address_list(mime::unfold(f.raw), report))
              scan(keep(g.target == Target::kHeaderAddr ? a.address() : a.display_name));
          }
        }
        break;
      }
      case Target::kBody: {
        if (!body_built) {
          std::string joined;
          for (const mime::Part& p : m.parts) {
            if (!p.is_leaf() || !p.is_text() || p.disposition == "attachment" || joined.size() >= max_scan) continue;
            if (!joined.empty()) joined += '\n';
            // Lines end in LF, so that $ in multi-line patterns means the end of a line.
            std::string_view t = p.text;
            for (std::size_t i = 0; i < t.size(); ++i)
              if (!(t[i] == '\r' && i + 1 < t.size() && t[i + 1] == '\n')) joined += t[i];
          }
          body_joined = keep_visible(std::move(joined));
          // Attached documents' text (a PDF's "call this number") is part of what the
          // recipient reads: a second body text, so explanations can say where it was.
          if (!m.attachment_text.empty()) {
            ms.attachment_text = keep_visible(m.attachment_text);
          }
          body_built = true;
        }
        scan(body_joined);
        if (!ms.attachment_text.empty()) scan(ms.attachment_text);
        break;
      }
      case Target::kRawBody:
        scan(root.body);
        break;
      case Target::kHtml:
        for (const mime::Part& p : m.parts)
          if (p.is_leaf() && p.content_type == "text/html") scan(p.payload);
        break;
      case Target::kUri:
        for (const std::string& u : m.urls) scan(u);
        break;
      case Target::kUriHost: {
        std::set<std::string> hosts;
        UrlParts parts;
        for (const std::string& u : m.urls)
          if (hosts.size() < kMaxTexts && split_url(u, parts)) hosts.insert(urls->normalize_host(parts.host).ascii);
        for (const std::string& h : hosts) scan(keep(h));
        break;
      }
      case Target::kFilename: {
        std::set<std::string_view> names;
        for (const mime::Part& p : m.parts) {
          if (!p.filename.empty()) names.insert(p.filename);
          for (const std::string& nm : p.names) names.insert(nm);
        }
        for (std::string_view nm : names) scan(nm);
        break;
      }
      case Target::kContentType:
        for (const mime::Part& p : m.parts) scan(p.content_type);
        break;
    }
  }
}

double RuleSet::Impl::eval(int node, const MatchState& ms, FnContext& fctx, std::vector<FnCall>& calls,
                           const std::vector<std::uint8_t>& truth) const {
  const lang::Node& n = parsed.nodes[static_cast<std::size_t>(node)];
  switch (n.kind) {
    case NodeKind::kNum: return n.num;
    case NodeKind::kRule: return truth[static_cast<std::size_t>(n.ref)];
    case NodeKind::kTest: {
      const bool hit = ms.matched[static_cast<std::size_t>(n.ref)] != 0;
      return (hit != n.negate) ? 1 : 0;
    }
    case NodeKind::kFunc: {
      const auto fn = static_cast<Fn>(n.ref);
      for (const FnCall& c : calls)
        if (c.fn == fn && c.arg == n.name) return c.value;
      const double v = fctx.call(fn, n.name);
      calls.push_back(FnCall{fn, n.name, v, fctx.take_note()});
      return v;
    }
    case NodeKind::kNot: return eval(n.kids[0], ms, fctx, calls, truth) != 0 ? 0 : 1;
    case NodeKind::kAnd:
      for (int k : n.kids)
        if (eval(k, ms, fctx, calls, truth) == 0) return 0;
      return 1;
    case NodeKind::kOr:
      for (int k : n.kids)
        if (eval(k, ms, fctx, calls, truth) != 0) return 1;
      return 0;
    case NodeKind::kAdd: {
      double s = 0;
      for (int k : n.kids) s += eval(k, ms, fctx, calls, truth);
      return s;
    }
    case NodeKind::kCmp: {
      const double a = eval(n.kids[0], ms, fctx, calls, truth);
      const double b = eval(n.kids[1], ms, fctx, calls, truth);
      switch (n.cmp) {
        case lang::Cmp::kLt: return a < b ? 1 : 0;
        case lang::Cmp::kLe: return a <= b ? 1 : 0;
        case lang::Cmp::kGt: return a > b ? 1 : 0;
        case lang::Cmp::kGe: return a >= b ? 1 : 0;
        case lang::Cmp::kEq: return a == b ? 1 : 0;
        case lang::Cmp::kNe: return a != b ? 1 : 0;
      }
      return 0;
    }
  }
  return 0;
}

// What made a rule true: matched tests (with the text), function values, true references.
void RuleSet::Impl::explain(int node, const MatchState& ms, const std::vector<FnCall>& calls,
                            const std::vector<std::uint8_t>& truth, std::vector<std::string>& items,
                            std::size_t depth) const {
  if (items.size() >= kMaxDetailItems || depth > 8) return;
  const lang::Node& n = parsed.nodes[static_cast<std::size_t>(node)];
  switch (n.kind) {
    case NodeKind::kTest: {
      const auto i = static_cast<std::size_t>(n.ref);
      if (!ms.matched[i] || n.negate) return;
      const lang::Pattern& p = parsed.patterns[i];
      const MatchLoc& l = ms.loc[i];
      const std::size_t end = std::min(l.end, l.text.size());
      const std::size_t begin = end > 60 ? end - 60 : 0;
      std::string where(lang::target_name(p.target));
      if (p.target == Target::kBody && !ms.attachment_text.empty() && l.text.data() == ms.attachment_text.data())
        where = "attachment text";
      if (!p.header.empty()) where += " " + p.header;
      std::string_view piece = l.text.substr(begin, end - begin);
      // Start on a character boundary.
      while (!piece.empty() && (static_cast<unsigned char>(piece.front()) & 0xC0) == 0x80) piece.remove_prefix(1);
      items.push_back(where + ": \"" + (begin > 0 ? "..." : "") + util::snippet(piece, 60) + "\"");
      return;
    }
    case NodeKind::kFunc:
      for (const FnCall& c : calls)
        if (static_cast<int>(c.fn) == n.ref && c.arg == n.name) {
          items.push_back(FnContext::detail(c.fn, c.arg, c.value, c.note));
          return;
        }
      return;
    case NodeKind::kRule: {
      const auto r = static_cast<std::size_t>(n.ref);
      if (!truth[r]) return;
      const lang::RuleDef& d = parsed.rules[r];
      if (d.name.starts_with("__") && d.root >= 0) explain(d.root, ms, calls, truth, items, depth + 1);
      else items.push_back(d.name);
      return;
    }
    case NodeKind::kNot:
    case NodeKind::kNum:
      return;
    default:
      for (int k : n.kids) explain(k, ms, calls, truth, items, depth + 1);
  }
}

std::vector<RuleHit> RuleSet::evaluate(const mime::Message& m, std::string_view recipient_domain) const {
  const Impl& im = *impl_;
  const lang::Parsed& p = im.parsed;
  MatchState ms;
  ms.matched.assign(p.patterns.size(), 0);
  ms.loc.resize(p.patterns.size());
  std::deque<std::string> storage;

  hs_scratch* s = im.scratch.acquire();
  im.scan_all(m, ms, storage, s);
  im.scratch.release(s);

  BuiltinResult br;
  im.urls->analyze(m, recipient_domain, br);

  FnContext fctx(m);
  std::vector<FnCall> calls;
  std::vector<std::uint8_t> truth(p.rules.size(), 0);
  for (int r : im.order) {
    const lang::RuleDef& d = p.rules[static_cast<std::size_t>(r)];
    if (d.builtin) {
      truth[static_cast<std::size_t>(r)] = br.hit[static_cast<std::size_t>(r)] ? 1 : 0;
      continue;
    }
    truth[static_cast<std::size_t>(r)] = im.eval(d.root, ms, fctx, calls, truth) != 0 ? 1 : 0;
  }

  const std::vector<std::pair<int, double>>* overrides = nullptr;
  if (!recipient_domain.empty() && !im.domain_scores.empty()) {
    auto it = im.domain_scores.find(util::lower_ascii(recipient_domain));
    if (it != im.domain_scores.end()) overrides = &it->second;
  }
  std::vector<RuleHit> hits;
  for (std::size_t r = 0; r < p.rules.size(); ++r) {
    if (!truth[r]) continue;
    const lang::RuleDef& d = p.rules[r];
    if (d.name.starts_with("__")) continue;
    double score = im.base_score[r];
    if (overrides)
      for (const auto& [rule, sc] : *overrides)
        if (static_cast<std::size_t>(rule) == r) score = sc;
    if (score == 0) continue;
    RuleHit h{d.name, score, {}, d.group, d.description};
    if (d.builtin) {
      h.detail = br.detail[r];
    } else {
      std::vector<std::string> items;
      im.explain(d.root, ms, calls, truth, items, 0);
      for (const std::string& i : items) {
        if (!h.detail.empty()) h.detail += "; ";
        h.detail += i;
      }
    }
    hits.push_back(std::move(h));
  }
  return hits;
}

}  // namespace bulwark::rules
