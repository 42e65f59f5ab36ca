// GMime as the reference reader, for the differential corpus test and the benchmark.
// Only tests and benchmarks include this: GMime is never linked into the product.
//   std::vector<GmimeLeaf> leaves = gmime_leaves(raw);   // leaves in document order
//   GmimeCount c = gmime_parse(raw, /*decode=*/true);    // for timing
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::testing {

// One GMimePart (a leaf) of the tree GMime builds.
struct GmimeLeaf {
  std::string content_type;  // lower-case "type/subtype"
  std::string encoding;      // Content-Transfer-Encoding as GMime understood it
  std::size_t size = 0;      // decoded payload bytes
  std::string sha256;        // of the decoded payload, lower-case hex
  std::string payload;       // the decoded payload itself (for diagnostics)
};

// g_mime_init, once per process (thread-safe).
void gmime_init_once();

// The GMime library version in use, "3.2.13".
std::string gmime_version();

// Parses `raw` as one message (g_mime_parser_construct_message) and returns its leaves in
// depth-first order, descending into multiparts and into message/rfc822 parts' messages.
// Each payload is decoded from its transfer encoding (not converted from its charset).
std::vector<GmimeLeaf> gmime_leaves(std::string_view raw);

struct GmimeCount {
  std::size_t leaves = 0;
  std::size_t decoded_bytes = 0;  // 0 unless decoding was asked for
};

// For timing: parse `raw` and walk the tree; with `decode`, also decode every leaf's
// payload into a memory stream (no hashing). Returns counts so the work cannot be elided.
GmimeCount gmime_parse(std::string_view raw, bool decode);

}  // namespace bulwark::testing
