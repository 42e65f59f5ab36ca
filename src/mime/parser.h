// parse_message: bytes in, a Message out (structure, decoded payloads, and the text stage
// of mime/text.h). Never fails, never throws, always bounded.
//
// Streaming in the sense that matters here: one pass over each byte per nesting level,
// views into the input instead of copies, memchr/memmem for every search. Every limit in
// MimeLimits is enforced; a hit limit stops that part of the work and raises MIME_LIMIT_*.
//   Message m = parse_message(std::move(raw), config.limits, config.mime);
#pragma once

#include <string>

#include "core/config.h"
#include "mime/message.h"

namespace bulwark::mime {

Message parse_message(std::string raw, const MimeLimits& limits, const MimeConfig& options);

// Structure and transfer decoding only (no charset conversion, HTML or URLs): what a
// MIME library such as GMime does when it parses; the text stage is mime/text.h.
Message parse_structure(std::string raw, const MimeLimits& limits, const MimeConfig& options);

// Dumps the tree as stable text (paths, types, encodings, names, sizes, payload hashes,
// views and symbols), for golden tests and `bulwark scan --explain`.
std::string dump_tree(const Message& m);

}  // namespace bulwark::mime
