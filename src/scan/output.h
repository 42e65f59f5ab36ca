// Rendering of verdicts: JSON Lines (the machine contract) and readable text.
#pragma once

#include <string>

#include "scan/pipeline.h"

namespace bulwark::scan {

// One JSON object, no trailing newline. Message-derived strings are JSON-escaped; invalid
// UTF-8 is replaced so the line is always valid JSON.
std::string to_json(const Verdict& v);

// One line: "FILE: ACTION score=S SYMBOL,SYMBOL". Message-derived text is escaped.
std::string to_text(const Verdict& v);

// The --explain view: the verdict, the MIME tree with every part, and every symbol with
// its score and description.
std::string to_explain(const ScanResult& r);

}  // namespace bulwark::scan
