// The antivirus and YARA engines: loaded and compiled once, before workers fork; each
// blob is scanned from memory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "inspect/inspect.h"

namespace bulwark::inspect {

// ClamAV through libclamav. `database` is a directory of signature files (.cvd/.cld,
// .hdb, .ndb, .ldb, ...). Heuristic alerts that ClamAV reports as clean by default (limit
// exceeded, encrypted archive/document) are on, and their results are findings.
class ClamAv;
struct ClamAvDeleter {
  void operator()(ClamAv* av) const;
};
using ClamAvPtr = std::unique_ptr<ClamAv, ClamAvDeleter>;
Result<ClamAvPtr> load_clamav(const std::string& database);
std::string clamav_describe(const ClamAv& av);  // "ClamAV 1.4.6, N signatures"
// Threat kind "virus" named after the signature (or the symbol AV_HEURISTIC, detail = the
// "Heuristics.*" name, for heuristic alerts; AV_ERROR when the engine fails, including
// failures libclamav itself reports as clean: never "clean" on error). Empty blobs are
// not scanned.
void scan_clamav(const ClamAv& av, const Blob& blob, Inspector& insp);

// YARA through libyara: the rules shipped in rules/yara/ (built into the binary) plus any
// *.yar files in `extra_dir`.
class YaraRules;
struct YaraRulesDeleter {
  void operator()(YaraRules* y) const;
};
using YaraRulesPtr = std::unique_ptr<YaraRules, YaraRulesDeleter>;
Result<YaraRulesPtr> load_yara(const std::string& extra_dir);
std::string yara_describe(const YaraRules& y);
// Threat kind "malware" with the rule name; rules tagged `suspicious` raise the symbol
// YARA_SUSPICIOUS (detail = the rule name) instead. At most 16 rules per blob; a failed
// scan (timeout, memory) is AV_ERROR with a "yara: " detail.
void scan_yara(const YaraRules& y, const Blob& blob, Inspector& insp);

}  // namespace bulwark::inspect
