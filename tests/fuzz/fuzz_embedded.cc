// libFuzzer target: find_embedded_blocks, then each block through its decoder.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mime/decode.h"

namespace {
using bulwark::mime::DecodeStats;
using bulwark::mime::EmbeddedBlock;
constexpr std::size_t kMaxOut = 1 << 20;

void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<EmbeddedBlock> all = bulwark::mime::find_embedded_blocks(text, 1000);
  check(all.size() <= 1000);
  std::size_t last_end = 0;
  for (const EmbeddedBlock& b : all) {
    // In order, not overlapping, non-empty, starting at a line start.
    check(b.begin >= last_end && b.begin < b.end && b.end <= size);
    check(b.begin == 0 || text[b.begin - 1] == '\n');
    const std::string_view block = text.substr(b.begin, b.end - b.begin);
    switch (b.kind) {
      case EmbeddedBlock::Kind::kUuencode:
        check(block.starts_with("begin "));
        break;
      case EmbeddedBlock::Kind::kYenc:
        check(block.starts_with("=ybegin "));
        break;
      case EmbeddedBlock::Kind::kBinHex:
        check(block.find("(This file must be converted with BinHex") != std::string_view::npos);
        break;
    }
    last_end = b.end;

    std::string out, name;
    DecodeStats st;
    switch (b.kind) {
      case EmbeddedBlock::Kind::kUuencode:
        bulwark::mime::decode_uuencode(block, kMaxOut, out, name, st);
        break;
      case EmbeddedBlock::Kind::kYenc:
        bulwark::mime::decode_yenc(block, kMaxOut, out, name, st);
        break;
      case EmbeddedBlock::Kind::kBinHex:
        bulwark::mime::decode_binhex(block, kMaxOut, out, name, st);
        break;
    }
    check(out.size() <= kMaxOut);
  }
  // A lower limit returns a prefix of the same blocks.
  const std::size_t limit = size % 4;
  const std::vector<EmbeddedBlock> some = bulwark::mime::find_embedded_blocks(text, limit);
  check(some.size() <= limit && some.size() <= all.size());
  for (std::size_t i = 0; i < some.size(); ++i)
    check(some[i].kind == all[i].kind && some[i].begin == all[i].begin &&
          some[i].end == all[i].end);
  return 0;
}
