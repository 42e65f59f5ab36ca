// MimeLimits: every bound the MIME engine enforces on attacker bytes.
//
// Each field is a documented setting under [limits] in bulwark.toml (docs/configuration.md).
// A limit that is hit never crashes or silently accepts: parsing stops at the bound, a
// MIME_LIMIT_* symbol is raised, and policy decides (default: quarantine).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bulwark {

struct MimeLimits {
  std::size_t max_message_bytes = 64u << 20;   // whole message
  std::size_t max_header_bytes = 1u << 20;     // one header block (all fields of one part)
  std::size_t max_line_length = 1u << 20;      // one physical line, headers or multipart body
  std::size_t max_headers = 4096;              // fields in one header block
  std::size_t max_depth = 32;                  // multipart / message nesting
  std::size_t max_parts = 10000;               // parts in the whole tree, views included
  std::size_t max_decoded_bytes = 256u << 20;  // decoded payload, all parts together
  std::uint32_t max_time_ms = 5000;            // wall time for one message's parse
  std::size_t max_alternative_views = 64;      // ambiguity views per message
};

}  // namespace bulwark
