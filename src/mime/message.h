// The parsed message: one owner for every byte and every part.
//
// A Message owns its raw bytes and an arena of decoded buffers; parts, header fields and
// payloads are views into those, valid as long as the Message lives. Parts sit in one flat
// vector; parts[0] is the whole message. A part is one of:
//   - a container (multipart/*, message/rfc822, message/global) with children, or
//   - a leaf with a decoded payload (and UTF-8 text when it is text).
// Where mail clients would disagree about a part, the parser keeps its primary reading
// (the RFC's) and adds each other plausible reading as a *view*: an extra part (with its own
// subtree) listed in `views` of the part it reinterprets, with a path like "2~1". Inspection
// walks every leaf, views included, so a payload cannot hide in the reading we skipped.
//   Message m = parse_message(std::move(bytes), config);
//   for (const Part& p : m.parts) if (p.is_leaf()) inspect(p.path, p.payload);
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/symbol.h"
#include "mime/header_value.h"
#include "mime/html.h"

namespace bulwark::mime {

struct HeaderField {
  std::string_view name;  // as written
  std::string_view raw;   // value as written after the colon, folding included
};

enum class Encoding : std::uint8_t {
  kNone,  // 7bit, 8bit, binary, or absent
  kBase64,
  kQuotedPrintable,
  kUuencode,
  kYenc,
  kBinHex,
  kGzip64,
};
std::string_view encoding_name(Encoding e);

// How a part came to be.
enum class Origin : std::uint8_t {
  kMime,      // a MIME entity
  kEmbedded,  // uuencode / yEnc / BinHex block found inside a text body
  kView,      // an alternative reading of an ambiguous part (see `view_reason`)
  kPreamble,  // non-blank text before a multipart's first delimiter
  kEpilogue,  // non-blank text after a multipart's close delimiter
};

struct Part {
  std::string path;        // "" for the message, "1", "2.1", views "2~1", "2~1.1"
  int parent = -1;         // index in Message::parts
  std::uint16_t depth = 0;
  Origin origin = Origin::kMime;
  std::string view_reason;  // for views: which ambiguity this reading resolves differently

  std::vector<HeaderField> headers;
  std::string content_type = "text/plain";  // lower-case "type/subtype" in effect
  std::string charset;                       // charset parameter, lower-case
  std::string disposition;                   // "attachment", "inline", or ""
  std::string filename;                      // best name: disposition filename, else name
  std::vector<std::string> names;            // every distinct name any client could use
  Encoding encoding = Encoding::kNone;
  std::string encoding_label;                // Content-Transfer-Encoding as written

  std::string_view body;     // undecoded body bytes (everything after the header block)
  std::string_view payload;  // decoded payload of a leaf
  std::vector<int> children;
  std::vector<int> views;

  // Text of text/* leaves (HTML rendered when enabled), UTF-8, and what it links to.
  std::string text;
  std::string text_charset;
  std::vector<Link> links;

  bool is_container() const { return !children.empty() || is_multipart() || is_message(); }
  bool is_leaf() const { return children.empty() && !is_multipart() && !is_message(); }
  bool is_multipart() const { return content_type.starts_with("multipart/"); }
  bool is_message() const {
    return content_type == "message/rfc822" || content_type == "message/global";
  }
  bool is_text() const { return content_type.starts_with("text/"); }

  // First header field with this name (case-insensitive), or nullptr; and every one.
  const HeaderField* header(std::string_view name) const;
  std::vector<const HeaderField*> all_headers(std::string_view name) const;
};

struct Message {
  std::string raw;              // the bytes as received
  std::vector<Part> parts;      // parts[0] is the whole message
  std::deque<std::string> arena;  // decoded buffers; deque keeps views stable
  SymbolSet symbols;            // every anomaly and limit hit, with the part it was in
  bool limit_hit = false;       // a MIME_LIMIT_* symbol was raised
  std::size_t decoded_bytes = 0;

  // Decoded top-level fields, for display and rules.
  std::string subject;
  std::string message_id;
  std::vector<Address> from;
  std::vector<std::string> urls;  // from text parts (plain-text URLs and HTML links); the scan
                                  // adds links read from attachments (QR codes, PDFs)
  std::string attachment_text;    // what attached documents say (PDF pages, Word text): the
                                  // scan fills it, the body rules read it after the text parts

  const Part& root() const { return parts.front(); }
};

}  // namespace bulwark::mime
