// Threat inspection: every leaf of a message (views included), every archive member and
// every embedded object, recursively, through one chain of analysers.
//
// The chain (Inspector::inspect_blob): true file type (libmagic + our own sniffing), name
// checks (exploit syntax, traversal, bidi tricks, double extensions), antivirus and YARA
// engines, then the analyser for the type (archives, OLE2, OOXML, RTF, PDF, HTML), which
// may hand members back to the chain. Everything happens in memory: nothing an archive
// contains is written to disk or passed to another program. Every limit in InspectLimits
// is enforced; a hit limit is a symbol, never a silent pass.
//   Inspector insp(engines, limits);
//   insp.inspect_blob(Blob{payload, "2", {"invoice.zip"}, "application/zip", 0});
//   for (auto& t : insp.results().threats) ...
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace bulwark::inspect {

class Engines;  // engines.h: libmagic, ClamAV, YARA, loaded once before workers fork

// One thing to inspect: a MIME leaf, an archive member, an object inside a document.
struct Blob {
  std::string_view bytes;           // must outlive the inspect_blob call
  std::string location;             // "2/invoice.zip/docs.tar/run.exe"
  std::vector<std::string> names;   // every file name any reader could use for it
  std::string declared_type;        // the MIME Content-Type, or "" inside containers
  std::size_t depth = 0;            // containers above it (0 for a MIME leaf)
};

struct Finding {
  std::string symbol;    // UPPER_SNAKE, declared in src/scan/scoring.cc
  std::string detail;    // escaped for display by the caller
  std::string location;  // the blob it was found in
};

struct ThreatFinding {
  std::string kind;      // "virus", "exploit", "malware"
  std::string name;      // signature or rule name
  std::string location;
};

struct Results {
  std::vector<Finding> symbols;
  std::vector<ThreatFinding> threats;
  std::size_t blobs = 0;           // blobs inspected (leaves + members + objects)
  std::size_t expanded_bytes = 0;  // bytes produced by unpacking
  std::vector<std::string> urls;   // links read out of blobs (QR codes, PDF link actions)
  std::string text;                // what documents say (PDF pages, Word text), for the rules
};

// Document text kept per message (Results::text): the lure is in the first pages.
constexpr std::size_t kMaxDocumentText = 256u << 10;

class Inspector {
 public:
  Inspector(const Engines& engines, const InspectLimits& limits);

  // Inspects one blob and everything inside it.
  void inspect_blob(const Blob& blob);

  // ---- for analysers ----
  void symbol(const Blob& where, std::string_view name, std::string detail);
  void threat(const Blob& where, std::string_view kind, std::string name);
  // Text a document shows a reader (UTF-8), appended to Results::text up to kMaxDocumentText.
  void add_text(const Blob& where, std::string_view text);
  // Bytes produced by unpacking live as long as the Inspector (members of nested archives
  // are inspected while their parents are open, so views into them stay valid).
  std::string& keep(std::string bytes);
  // Accounts for unpacked bytes and checks the time budget; false once a budget is spent
  // (the limit symbol has then been raised once, and callers stop unpacking).
  bool charge(const Blob& where, std::size_t expanded_bytes);
  bool out_of_time(const Blob& where);
  // Counts one archive member; false after limits.max_members (INSPECT_LIMIT_MEMBERS once).
  bool count_member(const Blob& where);
  // Candidate passwords for encrypted archives, found in the message text.
  void set_passwords(std::vector<std::string> p) { passwords_ = std::move(p); }
  const std::vector<std::string>& passwords() const { return passwords_; }
  // Pictures that may still be read as text (OCR) in this message; take_ocr() uses one.
  void allow_ocr(std::size_t n) { ocr_left_ = n; }
  bool ocr_allowed() const { return ocr_left_ > 0; }
  bool take_ocr() {
    if (ocr_left_ == 0) return false;
    --ocr_left_;
    return true;
  }
  const InspectLimits& limits() const { return limits_; }
  const Engines& engines() const { return engines_; }
  Results& results() { return results_; }

 private:
  const Engines& engines_;
  const InspectLimits& limits_;
  Results results_;
  std::deque<std::string> kept_;
  std::chrono::steady_clock::time_point deadline_;
  bool budget_spent_ = false;
  bool time_spent_ = false;
  bool members_spent_ = false;
  std::size_t members_ = 0;
  std::vector<std::string> passwords_;
  std::size_t ocr_left_ = 0;
};

// A child location: "2" + "invoice.zip" -> "2/invoice.zip". Member names are kept as
// written (escaped only for display), so a location names exactly what the archive says.
std::string child_location(std::string_view parent, std::string_view name);

}  // namespace bulwark::inspect
