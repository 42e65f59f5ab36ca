#include "scan/pipeline.h"

#include <strings.h>

#include <algorithm>
#include <chrono>

#include "classify/classifier.h"
#include "classify/tokenizer.h"
#include "rules/rules.h"
#include "core/hash.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"
#include "inspect/ocr.h"
#include "inspect/passwords.h"
#include "mime/decode.h"
#include "mime/parser.h"
#include "scan/scoring.h"

namespace bulwark::scan {

namespace {

// URLs kept per message, as many as the MIME layer keeps from the text.
constexpr std::size_t kMaxMessageUrls = 10000;
// Inline data: pictures inspected per HTML part.
constexpr std::size_t kMaxDataUris = 64;

std::string_view origin_label(mime::Origin o) {
  switch (o) {
    case mime::Origin::kMime: return "";
    case mime::Origin::kEmbedded: return "embedded";
    case mime::Origin::kView: return "view";
    case mime::Origin::kPreamble: return "preamble";
    case mime::Origin::kEpilogue: return "epilogue";
  }
  return "";
}

// Runs every leaf (views, embedded files, preambles included) through inspection.
// Pictures written into the HTML itself (<img src="data:image/png;base64,...">) are blobs
// like attachments: a QR code drawn that way is read the same. Bounded by the part's size.
void inspect_data_uris(const mime::Part& p, inspect::Inspector& insp) {
  std::size_t n = 0;
  for (const mime::Link& l : p.links) {
    const std::string_view url = l.url;
    if (url.size() < 16 || strncasecmp(url.data(), "data:image/", 11) != 0) continue;
    const std::size_t comma = url.find(',');
    if (comma == std::string_view::npos || comma < 7 || strncasecmp(url.data() + comma - 7, ";base64", 7) != 0)
      continue;
    if (++n > kMaxDataUris) break;
    std::string bytes;
    mime::DecodeStats st;
    mime::decode_base64(url.substr(comma + 1), mime::Base64Mode::kContinue, url.size(), bytes, st);
    const std::string& kept = insp.keep(std::move(bytes));
    insp.inspect_blob(inspect::Blob{kept, p.path + "#data-uri-" + std::to_string(n), {}, "", 1});
  }
}

// Words of the message's own text (text parts that are not attachments), counted up to
// the OCR threshold.
std::size_t body_words(const mime::Message& m) {
  std::size_t n = 0;
  for (const mime::Part& p : m.parts) {
    if (!p.is_leaf() || !p.is_text() || p.disposition == "attachment") continue;
    bool in_word = false;
    for (char c : p.text) {
      const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
      if (!space && !in_word && ++n >= inspect::kOcrMaxBodyWords) return n;
      in_word = !space;
    }
  }
  return n;
}

// Inspection's symbols join the message's (so rules can combine them: symbol(NAME)), and
// links it read out of attachments (QR codes in images, PDF link actions) join the message's URLs, so the
// URL checks, `uri` rules and the classifier treat them like links in the text.
void inspect_message(mime::Message& m, const inspect::Engines& engines, const InspectLimits& limits,
                     Verdict& v) {
  inspect::Inspector insp(engines, limits);
  std::vector<std::string> passwords;
  for (const mime::Part& p : m.parts) {
    if (!p.is_leaf() || !p.is_text() || passwords.size() >= limits.max_passwords) continue;
    for (auto& pw : inspect::find_passwords(p.text, limits.max_passwords - passwords.size()))
      passwords.push_back(std::move(pw));
  }
  insp.set_passwords(std::move(passwords));
  // A message that says little in text may say it in pictures: those are read (OCR).
  if (body_words(m) < inspect::kOcrMaxBodyWords) insp.allow_ocr(limits.ocr_images);
  for (const mime::Part& p : m.parts) {
    // An attached invitation's description is what the invitee reads (calendar phishing:
    // "your account will be closed, call ..." in a meeting request).
    if (p.is_leaf() && p.content_type == "text/calendar" && p.disposition == "attachment")
      insp.add_text(inspect::Blob{{}, p.path, {}, "", 0}, p.text);
  }
  for (const mime::Part& p : m.parts) {
    if (!p.is_leaf()) continue;
    // "2/invoice.zip": the part and the name it travels under, so that members read
    // "2/invoice.zip/docs.tar/run.exe".
    std::string location = p.filename.empty() ? p.path : inspect::child_location(p.path, p.filename);
    insp.inspect_blob(inspect::Blob{p.payload, std::move(location), p.names, p.content_type, 0});
    inspect_data_uris(p, insp);
  }
  for (auto& f : insp.results().symbols)
    m.symbols.add(f.symbol, f.location + (f.detail.empty() ? "" : ": " + f.detail));
  m.attachment_text = std::move(insp.results().text);
  for (auto& u : insp.results().urls)
    if (m.urls.size() < kMaxMessageUrls && std::find(m.urls.begin(), m.urls.end(), u) == m.urls.end())
      m.urls.push_back(std::move(u));
  for (auto& t : insp.results().threats)
    v.threats.push_back(Threat{std::move(t.kind), std::move(t.name), std::move(t.location)});
}

}  // namespace

Scanner::Scanner(Config config) : config_(std::move(config)) {
  auto e = inspect::Engines::load(config_.inspect);
  if (e) {
    engines_ = std::move(e).value();
  } else {
    load_error_ = e.error().message;
  }
  if (config_.rules.enabled && load_error_.empty()) {
    rules::RulesOptions ro;
    ro.protected_domains = config_.rules.protected_domains;
    ro.own_domains = config_.rules.own_domains;
    ro.executives = config_.rules.executives;
    auto rs = rules::RuleSet::load_with_builtin(config_.rules.directories, ro);
    if (rs) rules_ = std::move(rs).value();
    else load_error_ = rs.error().message;
  }
  if (config_.classify.enabled) {
    const std::string path = classify::model_path(config_);
    auto m = classify::Model::load(path);
    if (!m) {
      classifier_note_ = m.error().message;
    } else if (m.value() && !m.value()->ready(config_.classify.min_train)) {
      classifier_note_ = "classifier model " + path + ": " + std::to_string(m.value()->spam_messages()) +
                         " spam and " + std::to_string(m.value()->ham_messages()) +
                         " ham learned; classify.min_train is " + std::to_string(config_.classify.min_train);
    } else {
      model_ = std::move(m).value();
    }
  }
}

Scanner::~Scanner() = default;

void Scanner::prepare_scanning_process() const {
  if (engines_ && engines_->ocr()) engines_->ocr()->prepare_process();
}

std::string Scanner::describe_engines() const {
  std::string out = engines_ ? engines_->describe() : "engines not loaded: " + load_error_;
  if (model_) {
    out += "; classifier: " + std::to_string(model_->spam_messages()) + " spam, " +
           std::to_string(model_->ham_messages()) + " ham, " + std::to_string(model_->token_count()) + " tokens";
  } else {
    out += "; classifier: " + (classifier_note_.empty() ? std::string("no model") : classifier_note_);
  }
  out += "; rules: " + (rules_ ? rules_->describe() : std::string("off"));
  return out;
}

void Scanner::rescore(Verdict& v) const {
  for (auto& s : v.symbols) {
    if (find_symbol(s.name)) continue;  // table symbols are scored by finalize()
    s.score = 0.0;
    if (!rules_) continue;
    const auto& all = rules_->rules();
    auto it = std::lower_bound(all.begin(), all.end(), s.name,
                               [](const rules::RuleInfo& r, const std::string& n) { return r.name < n; });
    if (it != all.end() && it->name == s.name) s.score = it->score;
  }
}

ScanResult Scanner::scan(std::string raw, std::string_view origin) const {
  const auto t0 = std::chrono::steady_clock::now();
  ScanResult r;
  r.message = mime::parse_message(std::move(raw), config_.limits, config_.mime);
  mime::Message& m = r.message;
  Verdict& v = r.verdict;
  v.file = std::string(origin);
  v.message_id = m.message_id;
  v.subject = m.subject;
  for (const mime::Part& p : m.parts) {
    if (!p.is_leaf()) continue;
    v.parts.push_back(PartInfo{p.path, p.content_type, p.filename, p.payload.size(),
                               sha256_hex(p.payload), std::string(origin_label(p.origin))});
  }
  if (engines_) {
    inspect_message(m, *engines_, config_.inspect.limits, v);
  } else {
    // Never pass a message as clean because an engine is missing.
    m.symbols.add("AV_ERROR", "inspection engines not loaded: " + load_error_);
  }
  SymbolSet symbols = m.symbols;
  if (model_ || (config_.classify.enabled && config_.classify.autolearn)) {
    std::vector<std::uint64_t> tokens = classify::token_hashes(m);
    if (model_) {
      // One symbol, graded by the probability, so the explanation stays one line.
      const double p = model_->spam_probability(tokens);
      symbols.add(classify::bayes_symbol(p), classify::probability_detail(p));
      v.spam_probability = p;
    }
    // The supervisor learns from confident verdicts; it never parses the message itself.
    if (config_.classify.autolearn) v.tokens = std::move(tokens);
  }
  v.symbols = symbols.all();
  if (rules_) {
    // Rule symbols carry their own scores (rule files, per-domain overrides).
    for (auto& h : rules_->evaluate(m))
      v.symbols.push_back(Symbol{std::move(h.name), std::move(h.detail), h.score});
  }
  finalize(v, config_.policy);
  v.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace bulwark::scan
