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

// InspectLimits: the bounds on unpacking archives and documents (settings under
// [inspect] in bulwark.toml). A hit limit raises an INSPECT_LIMIT_* or ARCHIVE_BOMB_*
// symbol and policy decides; nothing is passed as clean because a limit stopped the look.
struct InspectLimits {
  std::size_t max_depth = 8;                      // containers inside a MIME leaf
  std::size_t max_members = 10000;                // archive members per message
  std::size_t max_expanded_bytes = 512u << 20;    // unpacked bytes per message
  std::size_t max_member_bytes = 128u << 20;      // one unpacked member
  std::uint32_t max_ratio = 200;                  // unpacked / packed size of one member
  std::uint32_t max_time_ms = 20000;              // wall time for one message's inspection
  std::size_t max_name_length = 255;              // longer file names are a symbol
  std::size_t max_passwords = 16;                 // candidates tried on encrypted archives
  std::size_t max_image_pixels = 16u << 20;       // one image decoded to read QR codes
  std::size_t ocr_images = 2;                     // pictures read as text per message (0: off)
};

}  // namespace bulwark
