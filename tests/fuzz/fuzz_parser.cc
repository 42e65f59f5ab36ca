// Fuzzes the whole MIME engine: structure, views, decoders, charsets, HTML, and the dump.
// Limits are small so that the fuzzer reaches every limit path quickly.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mime/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bulwark::MimeLimits limits;
  limits.max_parts = 200;
  limits.max_depth = 12;
  limits.max_decoded_bytes = 1 << 20;
  limits.max_header_bytes = 64 << 10;
  limits.max_alternative_views = 16;
  bulwark::MimeConfig options;
  std::string raw(reinterpret_cast<const char*>(data), size);
  bulwark::mime::Message m = bulwark::mime::parse_message(std::move(raw), limits, options);
  if (m.parts.empty() || m.parts.size() > limits.max_parts) __builtin_trap();
  if (m.decoded_bytes > limits.max_decoded_bytes + (1 << 16)) __builtin_trap();
  for (const auto& p : m.parts) {
    // Every payload view must lie inside the message or one of its arena buffers.
    volatile std::size_t sink = p.payload.size() ? static_cast<unsigned char>(p.payload.back()) : 0;
    (void)sink;
  }
  std::string dump = bulwark::mime::dump_tree(m);
  return dump.empty() ? -1 : 0;
}
