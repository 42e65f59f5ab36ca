// The rule language's parsed form (internal to src/rules/): rules, expression nodes in one
// flat vector, regular-expression tests, and score lines. See docs/rules.md for the syntax.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bulwark::rules::lang {

// What a regular-expression test reads.
enum class Target : std::uint8_t {
  kHeader,       // header NAME: each field decoded (RFC 2047), unfolded; NAME "ALL": every field
  kRawHeader,    // header NAME:raw / rawheader NAME: as written, folding included
  kHeaderAddr,   // header NAME:addr: each address (local@domain) of an address list
  kHeaderName,   // header NAME:name: each display name of an address list
  kBody,         // decoded text of all text parts (HTML rendered), joined
  kRawBody,      // the message body as received (after the top header block)
  kHtml,         // HTML source of text/html parts (transfer-decoded)
  kUri,          // each URL, as found
  kUriHost,      // each URL's host, lower-case, IDNA ASCII form
  kFilename,     // each attachment name any client could use
  kContentType,  // each part's content type, "type/subtype"
};
std::string_view target_name(Target t);

struct Pattern {
  Target target = Target::kBody;
  std::string header;  // lower-case field name, or "all"; for header targets only
  std::string regex;
  bool caseless = false;
  bool dotall = false;
  bool multiline = false;
  bool disguised = false;  // `o`: `regex` is already rewritten (rules/disguise.h)
  std::string where;  // "file:line"
};

enum class NodeKind : std::uint8_t { kNum, kRule, kTest, kFunc, kNot, kAnd, kOr, kAdd, kCmp };
enum class Cmp : std::uint8_t { kLt, kLe, kGt, kGe, kEq, kNe };

struct Node {
  NodeKind kind = NodeKind::kNum;
  Cmp cmp = Cmp::kEq;
  bool negate = false;  // kTest: "!~"
  double num = 0;       // kNum
  int ref = -1;         // kRule: rule index; kTest: pattern index; kFunc: function id
  std::string name;     // kRule before resolution: the referenced name; kFunc: string argument
  std::vector<int> kids;
};

struct RuleDef {
  std::string name;
  std::string where;
  int root = -1;  // node index; -1 for built-in symbols
  double score = 0;
  bool has_score = false;
  std::string group;
  std::string description;
  bool builtin = false;
};

struct ScoreLine {
  std::string rule;
  double score = 0;
  std::string domain;  // "" for every domain
  std::string where;
};

struct Parsed {
  std::vector<RuleDef> rules;
  std::vector<Node> nodes;
  std::vector<Pattern> patterns;
  std::vector<ScoreLine> scores;
};

// Parses one file's text into `out` (appending). `domain` non-empty: a per-domain file.
// Rule references stay unresolved (by name) until resolve().
Result<bool> parse_file(Parsed& out, std::string_view text, std::string_view file, std::string_view domain);

// Resolves rule references, checks for cycles, unknown names and missing attributes, and
// returns the evaluation order (every rule after the rules it references).
Result<std::vector<int>> resolve(Parsed& p);

// The constructs neither engine supports, as a readable reason; empty when fine.
std::string unsupported_construct(std::string_view regex);

bool valid_rule_name(std::string_view name);

}  // namespace bulwark::rules::lang
