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
      // Files: true type and names (src/inspect/inspect.cc, names.cc).
      {"FILE_DANGEROUS_TYPE", 6.0, "dangerous", "An executable, script, shortcut, disk image or OneNote file, found by its content."},
      {"FILE_DANGEROUS_EXT", 4.0, "dangerous", "A file name with an extension that runs code when opened."},
      {"FILE_TYPE_MISMATCH", 5.0, "file", "A file whose content contradicts its name (an executable named .pdf)."},
      {"FILE_NAME_DOUBLE_EXT", 4.0, "file", "A file name with a harmless extension before the real one (invoice.pdf.exe)."},
      {"FILE_NAME_BIDI", 6.0, "file", "A file name with bidirectional controls (RTLO) that reorder what the reader sees."},
      {"FILE_NAME_LONG", 1.0, "file", "A file name longer than inspect.max_name_length."},
      {"FILE_NAME_CONTROL", 3.0, "file", "Control characters in a file name."},
      {"FILE_NAME_UNICODE_TRICK", 4.0, "file", "Look-alike dots or mixed scripts around a file name's extension."},
      {"FILE_SYMLINK", 2.0, "file", "An archive member that is a symbolic or hard link."},
      {"FILE_APPENDED_ARCHIVE", 2.0, "file", "An archive appended to another file (polyglot)."},
      // Archives (src/inspect/archive.cc).
      {"ARCHIVE_ENCRYPTED", 3.0, "encrypted", "An encrypted archive no candidate password opened."},
      {"ARCHIVE_PASSWORD_FOUND", 3.0, "archive", "An encrypted archive opened with a password found in the message, as campaigns send them."},
      {"ARCHIVE_BOMB_RATIO", 5.0, "bomb", "A member that expands more than inspect.max_ratio times."},
      {"ARCHIVE_BOMB_SIZE", 5.0, "bomb", "A member larger than inspect.max_member_bytes."},
      {"ARCHIVE_BOMB_NESTED", 5.0, "bomb", "Archives nested deeper than inspect.max_depth (42.zip style)."},
      {"ARCHIVE_BOMB_OVERLAP", 5.0, "bomb", "Zip entries that overlap: one compressed block counted many times."},
      {"ARCHIVE_CORRUPT", 1.0, "archive", "An archive that does not unpack cleanly."},
      {"ARCHIVE_NAME_MISMATCH", 4.0, "archive", "Zip local and central directory disagree on names or sizes."},
      {"ARCHIVE_TRAILING_DATA", 2.0, "archive", "Data after the end of an archive (concatenated archives)."},
      // Documents (src/inspect/ole.cc, ooxml.cc, rtf.cc, pdf.cc, html_doc.cc).
      {"DOC_VBA_MACRO", 4.0, "document", "A document with a VBA macro project."},
      {"DOC_VBA_AUTOEXEC", 4.0, "document", "A VBA macro that runs when the document opens."},
      {"DOC_VBA_SUSPICIOUS", 4.0, "document", "A VBA macro that runs programs, downloads or creates objects."},
      {"DOC_XLM_MACRO", 6.0, "document", "An Excel 4.0 macro sheet."},
      {"DOC_EMBEDDED_PACKAGE", 4.0, "document", "A file packaged inside a document (OLE Package)."},
      {"DOC_ENCRYPTED", 3.0, "encrypted", "An encrypted document that cannot be inspected."},
      {"DOC_PASSWORD_FOUND", 3.0, "document", "An encrypted document opened with a password found in the message, as campaigns send them."},
      {"DOC_EQUATION_EDITOR", 8.0, "document", "An Equation Editor 3.0 object (CVE-2017-11882 family)."},
      {"DOC_EXTERNAL_TEMPLATE", 6.0, "document", "A document that loads a remote template when opened."},
      {"DOC_EXTERNAL_OLE_LINK", 6.0, "document", "A document with an external OLE object link."},
      {"DOC_EXTERNAL_REFERENCE", 3.0, "document", "A document with an external frame or sub-document."},
      {"DOC_DDE", 8.0, "document", "A DDE field that runs a command when the document updates."},
      {"DOC_MACRO_ENABLED", 2.0, "document", "A macro-enabled OOXML document."},
      {"DOC_RTF_OBFUSCATED", 5.0, "document", "RTF structured to confuse parsers (deep groups, control words inside object data)."},
      {"DOC_RTF_OBJUPDATE", 4.0, "document", "An RTF object that updates itself on open."},
      {"DOC_RTF_OBJECT", 2.0, "document", "An OLE object embedded in RTF."},
      {"PDF_JAVASCRIPT", 3.0, "document", "JavaScript in a PDF."},
      {"PDF_OBFUSCATED_NAME", 5.0, "document", "PDF names hidden with #xx escapes."},
      {"PDF_OPEN_ACTION", 1.0, "document", "A PDF action run when it opens."},
      {"PDF_AUTO_ACTION", 2.0, "document", "PDF additional actions (/AA)."},
      {"PDF_LAUNCH", 8.0, "document", "A PDF /Launch action that starts a program."},
      {"PDF_EMBEDDED_FILE", 2.0, "document", "A file embedded in a PDF."},
      {"PDF_SUBMIT_FORM", 3.0, "document", "A PDF form that submits data."},
      {"PDF_XFA", 2.0, "document", "An XFA form in a PDF."},
      {"PDF_RICHMEDIA", 3.0, "document", "Rich media (Flash, 3D) in a PDF."},
      {"PDF_URI", 0.5, "document", "Link actions in a PDF."},
      {"PDF_ENCRYPTED_NO_PASSWORD", 0.5, "document", "A PDF encrypted with an empty password: it opens without a prompt, yet scanners that do not decrypt see none of it (decrypted and read here)."},
      {"HTML_ATTACH_SCRIPT", 3.0, "document", "Script in an HTML attachment."},
      {"HTML_ATTACH_CREDENTIAL_FORM", 6.0, "document", "An HTML attachment with a form that sends credentials."},
      {"HTML_ATTACH_REDIRECT", 4.0, "document", "An HTML or SVG attachment that sends the browser to another page as it opens (script or meta refresh; detail: where)."},
      {"HTML_SMUGGLING", 8.0, "document", "An HTML attachment that assembles a file download from script (HTML smuggling)."},
      // Images (src/inspect/image_*.cc, ocr.cc).
      {"IMAGE_TEXT", 0.0, "image", "Text read in a picture (OCR) of a message that says little in text; the rules read it as attachment text."},
      {"IMAGE_QR_URL", 1.5, "document", "An image holds a QR or other 2D code linking to a URL (checked like any link; detail: the URL)."},
      {"IMAGE_NOT_READ", 0.5, "document", "An image larger than inspect.max_image_pixels was not read for QR codes."},
      // Engines (src/inspect/av_clamav.cc, av_yara.cc).
      {"AV_HEURISTIC", 10.0, "av", "A ClamAV heuristic alert (encrypted content, limits exceeded, broken executable)."},
      {"AV_ERROR", 0.0, "unscannable", "The antivirus engine failed on this content: it is not passed as clean."},
      {"YARA_SUSPICIOUS", 4.0, "yara", "A YARA rule tagged suspicious matched."},
      // Inspection limits.
      {"INSPECT_LIMIT_DEPTH", 0.0, "limit", "A container deeper than inspect.max_depth was not opened."},
      {"INSPECT_LIMIT_MEMBERS", 0.0, "limit", "More archive members than inspect.max_members."},
      {"INSPECT_LIMIT_EXPANDED_BYTES", 0.0, "limit", "More unpacked bytes than inspect.max_expanded_bytes."},
      {"INSPECT_LIMIT_TIME", 0.0, "limit", "Inspection took longer than inspect.max_time_ms."},
      // Statistical classifier (src/classify/, docs/classifier.md): one per message, by p.
      {"BAYES_SPAM_999", 7.0, "bayes", "The classifier's spam probability is at least 0.999."},
      {"BAYES_SPAM_99", 5.5, "bayes", "The classifier's spam probability is at least 0.99."},
      {"BAYES_SPAM_95", 4.0, "bayes", "The classifier's spam probability is at least 0.95."},
      {"BAYES_SPAM_80", 2.0, "bayes", "The classifier's spam probability is at least 0.80."},
      {"BAYES_UNSURE", 0.0, "bayes", "The classifier cannot tell (spam probability between 0.20 and 0.80)."},
      {"BAYES_HAM", -1.0, "bayes", "The classifier's spam probability is at most 0.20."},
      {"BAYES_HAM_99", -2.0, "bayes", "The classifier's spam probability is at most 0.01."},
      // Sandbox: the action comes from policy.unscannable_action.
      {"SANDBOX_UNSCANNABLE", 0.0, "unscannable", "No worker could scan the message (crash, timeout, bad reply) twice."},
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
    // Symbols of the table get its score; rule-engine symbols keep the score they came with.
    if (const SymbolInfo* info = find_symbol(s.name)) s.score = info->score;
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

bool limit_hit(const std::vector<Symbol>& symbols) {
  return std::any_of(symbols.begin(), symbols.end(), [](const Symbol& s) {
    const SymbolInfo* info = find_symbol(s.name);
    return info != nullptr && info->group == "limit";
  });
}

void finalize(Verdict& v, const PolicyConfig& policy) {
  v.score = score_symbols(v.symbols);
  Action floor = Action::kAccept;
  for (const auto& s : v.symbols) {
    const SymbolInfo* info = find_symbol(s.name);
    if (!info) continue;
    // Classes of symbols whose action the administrator sets directly, whatever the score.
    if (info->group == "encrypted") floor = std::max(floor, policy.encrypted_action);
    else if (info->group == "dangerous") floor = std::max(floor, policy.dangerous_file_action);
    else if (info->group == "bomb") floor = std::max(floor, policy.bomb_action);
    else if (info->group == "unscannable") floor = std::max(floor, policy.unscannable_action);
  }
  v.action = std::max(decide(v.score, limit_hit(v.symbols), !v.threats.empty(), policy), floor);
}

}  // namespace bulwark::scan
