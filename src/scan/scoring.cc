#include "scan/scoring.h"

#include <algorithm>

namespace bulwark::scan {

// Scores weigh how rarely legitimate mail shows a trait against how often evasive mail
// does. Ambiguity that changes the structure (two readings of one part) is never needed by
// a legitimate sender and appears in none of the 4,150 ham messages of the SpamAssassin
// corpus, so on its own it reaches the tag threshold; sloppiness that old mailers produce
// scores low. Limits score 0: their
// action comes from policy.limit_action.
const std::vector<SymbolInfo>& all_symbols() {
  static const std::vector<SymbolInfo> table = {
      // Ambiguity: clients would read the part differently.
      {"MIME_DUP_CONTENT_TYPE", 5.0, "mime", "Two Content-Type fields that disagree."},
      {"MIME_DUP_CTE", 5.0, "mime", "Two Content-Transfer-Encoding fields that disagree."},
      {"MIME_DUP_BOUNDARY", 5.0, "mime", "A multipart names more than one boundary."},
      {"MIME_PARAM_2231_CONFLICT", 4.0, "mime", "A parameter given plainly and in RFC 2231 form with different values."},
      {"MIME_DUP_PARAM", 1.5, "mime", "A parameter given twice in one field."},
      {"MIME_DUP_DISPOSITION", 1.0, "mime", "Two Content-Disposition fields that disagree."},
      {"MIME_DUP_FILENAME", 2.0, "mime", "Different filename values for one part."},
      {"MIME_NAME_MISMATCH", 2.0, "mime", "Content-Type name and Content-Disposition filename differ."},
      {"MIME_DUP_HEADER", 2.0, "mime", "From, Subject, Date, Message-ID, To, Reply-To or Sender given twice."},
      {"MIME_BOUNDARY_PREFIX", 2.0, "mime", "A line starts with a delimiter and goes on: prefix-matching clients split there."},
      {"MIME_BOUNDARY_WHITESPACE", 1.0, "mime", "The boundary parameter ends in whitespace."},
      {"MIME_HEADER_BARE_CR", 5.0, "mime", "A bare CR inside a header block can hide fields from some readers."},
      {"MIME_BOUNDARY_BARE_CR", 5.0, "mime", "A delimiter follows a bare CR: readers that break lines on CR see another part."},
      {"MIME_MIXED_LINE_ENDINGS", 1.0, "mime", "Bare LF line ends in the header block of a CRLF message."},
      {"MIME_BOUNDARY_BARE_LF", 1.0, "mime", "A delimiter follows a bare LF in a CRLF message."},
      {"MIME_CTE_NONSTANDARD", 2.0, "mime", "A transfer encoding label that only lenient clients decode."},
      {"MIME_CTE_UNKNOWN", 1.0, "mime", "An unknown transfer encoding: the part is opaque."},
      {"MIME_CTE_ON_MULTIPART", 2.0, "mime", "A multipart declares a transfer encoding, which RFC 2045 forbids."},
      {"MIME_MESSAGE_ENCODED", 1.0, "mime", "A message/rfc822 part is base64 or QP encoded, which RFC 2046 forbids."},
      {"MIME_BASE64_UNDECLARED", 2.0, "mime", "An attachment body is base64 but not declared so."},
      {"MIME_BASE64_PADDING_MIDDLE", 2.0, "mime", "Base64 data continues after '=' padding: decoders disagree (a view decodes the rest)."},
      {"MIME_MULTIPART_NO_BOUNDARY", 2.0, "mime", "A multipart without a boundary parameter."},
      {"MIME_EPILOGUE_CONTENT", 0.5, "mime", "Content after the close delimiter."},
      // Sloppiness: broken, but common in old or careless mailers.
      {"MIME_BASE64_JUNK", 1.0, "mime", "Base64 with bytes outside its alphabet."},
      {"MIME_BASE64_BAD_PADDING", 0.2, "mime", "Base64 whose last group lacks its '=' padding, or has too much."},
      {"MIME_QP_BROKEN_ESCAPE", 0.1, "mime", "Quoted-printable '=' not followed by two hex digits."},
      {"MIME_MISSING_CLOSE_BOUNDARY", 0.5, "mime", "A multipart without its close delimiter."},
      {"MIME_MULTIPART_NO_PARTS", 1.0, "mime", "A multipart whose body has no delimiter line."},
      {"MIME_BAD_CONTENT_TYPE", 1.0, "mime", "A Content-Type that cannot be parsed; text/plain is assumed."},
      {"MIME_BAD_PARAMS", 0.5, "mime", "Malformed parameters in Content-Type or Content-Disposition."},
      {"MIME_HEADER_JUNK", 0.5, "mime", "A header block that ends without a blank line or starts with a continuation."},
      {"MIME_BOUNDARY_LONG", 0.5, "mime", "A boundary longer than the 70 characters RFC 2046 allows."},
      {"MIME_RFC2231_OUT_OF_ORDER", 1.0, "mime", "RFC 2231 continuation segments out of order."},
      {"MIME_RFC2231_GAP", 1.0, "mime", "RFC 2231 continuation with a missing segment."},
      {"MIME_RFC2231_DUP_SEGMENT", 1.5, "mime", "RFC 2231 continuation segment given twice."},
      {"MIME_ENCODED_WORD_IN_PARAM", 0.1, "mime", "RFC 2047 encoded-word inside a parameter value."},
      {"MIME_ENCODED_WORD_UNSEPARATED", 0.5, "mime", "RFC 2047 encoded-word glued to other text."},
      {"MIME_ENCODED_WORD_BAD", 0.5, "mime", "A malformed RFC 2047 encoded-word."},
      {"MIME_HEADER_8BIT", 0.2, "mime", "Raw 8-bit bytes in a header that are not UTF-8."},
      {"MIME_ADDRESS_BAD", 0.5, "mime", "An address list that does not parse cleanly."},
      {"MIME_CHARSET_UNKNOWN", 0.5, "mime", "A charset label no converter knows."},
      {"MIME_CHARSET_MISSING_8BIT", 0.1, "mime", "8-bit text without a charset label."},
      {"MIME_CHARSET_WRONG", 0.5, "mime", "Text whose bytes do not match its charset label."},
      {"MIME_DECODE_BAD_CHECKSUM", 0.5, "mime", "A yEnc or BinHex block whose checksum does not match."},
      {"MIME_DECODE_INCOMPLETE", 0.5, "mime", "A uuencode, yEnc or BinHex block without its end."},
      {"MIME_EMBEDDED_UUENCODE", 1.0, "mime", "A uuencoded file inside a text body."},
      {"MIME_EMBEDDED_YENC", 0.5, "mime", "A yEnc file inside a text body."},
      {"MIME_EMBEDDED_BINHEX", 1.0, "mime", "A BinHex file inside a text body."},
      // HTML.
      {"HTML_HIDDEN_TEXT", 1.0, "html", "HTML text a reader cannot see (display:none, zero size, same colour)."},
      {"HTML_PASSWORD_FORM", 3.0, "html", "An HTML form asking for a password inside a mail."},
      {"HTML_SCRIPT", 1.0, "html", "Script elements in an HTML mail part."},
      // Limits: the action comes from policy.limit_action.
      {"MIME_LIMIT_MESSAGE_BYTES", 0.0, "limit", "Message larger than limits.max_message_bytes."},
      {"MIME_LIMIT_HEADER_BYTES", 0.0, "limit", "Header block larger than limits.max_header_bytes."},
      {"MIME_LIMIT_LINE_LENGTH", 0.0, "limit", "A line longer than limits.max_line_length."},
      {"MIME_LIMIT_HEADERS", 0.0, "limit", "More header fields than limits.max_headers."},
      {"MIME_LIMIT_DEPTH", 0.0, "limit", "Nesting deeper than limits.max_depth."},
      {"MIME_LIMIT_PARTS", 0.0, "limit", "More parts than limits.max_parts."},
      {"MIME_LIMIT_DECODED_BYTES", 0.0, "limit", "More decoded bytes than limits.max_decoded_bytes."},
      {"MIME_LIMIT_TIME", 0.0, "limit", "Parsing took longer than limits.max_time_ms."},
      {"MIME_LIMIT_VIEWS", 0.0, "limit", "More alternative readings than limits.max_alternative_views."},
      // Sandbox: the action comes from policy.unscannable_action.
      {"SANDBOX_UNSCANNABLE", 0.0, "sandbox", "No worker could scan the message (crash, timeout, bad reply) twice."},
  };
  return table;
}

const SymbolInfo* find_symbol(std::string_view name) {
  for (const auto& s : all_symbols())
    if (s.name == name) return &s;
  return nullptr;
}

double score_symbols(std::vector<Symbol>& symbols) {
  double total = 0;
  for (auto& s : symbols) {
    const SymbolInfo* info = find_symbol(s.name);
    s.score = info ? info->score : 0.0;
    total += s.score;
  }
  return total;
}

Action decide(double score, bool limit_hit, bool has_threats, const PolicyConfig& policy) {
  Action a = Action::kAccept;
  if (score >= policy.reject_score) a = Action::kReject;
  else if (score >= policy.quarantine_score) a = Action::kQuarantine;
  else if (score >= policy.tag_score) a = Action::kTag;
  if (limit_hit) a = std::max(a, policy.limit_action);
  if (has_threats) a = Action::kReject;
  return a;
}

void finalize(Verdict& v, const PolicyConfig& policy) {
  v.score = score_symbols(v.symbols);
  bool limit_hit = false;
  for (const auto& s : v.symbols) {
    const SymbolInfo* info = find_symbol(s.name);
    limit_hit |= info && info->group == "limit";
  }
  v.action = decide(v.score, limit_hit, !v.threats.empty(), policy);
}

}  // namespace bulwark::scan
