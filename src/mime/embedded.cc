// Finds uuencode, yEnc and BinHex blocks inside text bodies, in one pass over the lines.
#include <cstring>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

constexpr std::string_view kBinHexBanner = "(This file must be converted with BinHex";

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// "begin " + 3 or 4 octal digits + " " + a name. Stricter than the decoder on purpose:
// prose lines that start with "begin" must not become attachments.
bool is_uu_begin(std::string_view line) {
  if (!line.starts_with("begin ")) return false;
  std::size_t i = 6;
  while (i < line.size() && is_octal(line[i])) ++i;
  const std::size_t digits = i - 6;
  if (digits < 3 || digits > 4 || i >= line.size() || line[i] != ' ') return false;
  return !trim(line.substr(i + 1)).empty();
}

}  // namespace

std::vector<EmbeddedBlock> find_embedded_blocks(std::string_view text, std::size_t max_blocks) {
  std::vector<EmbeddedBlock> blocks;
  if (max_blocks == 0) return blocks;
  enum class State { kSearch, kUu, kYenc, kBinHex };
  State state = State::kSearch;
  EmbeddedBlock cur{EmbeddedBlock::Kind::kUuencode, 0, 0};
  int colons = 0;  // BinHex: the data lies between the first and the second ':'

  auto close = [&](std::size_t end) {
    cur.end = end;
    blocks.push_back(cur);
    state = State::kSearch;
  };
  // Counts ':' in text[from, to) and closes the BinHex block at `next` on the second one.
  auto scan_colons = [&](std::size_t from, std::size_t to, std::size_t next) {
    while (from < to) {
      const auto* c = static_cast<const char*>(std::memchr(text.data() + from, ':', to - from));
      if (c == nullptr) return;
      from = static_cast<std::size_t>(c - text.data()) + 1;
      if (++colons == 2) {
        close(next);
        return;
      }
    }
  };

  std::size_t pos = 0;
  while (pos < text.size() && blocks.size() < max_blocks) {
    const char* start = text.data() + pos;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', text.size() - pos));
    const std::size_t line_end = nl ? static_cast<std::size_t>(nl - text.data()) : text.size();
    const std::size_t next = nl ? line_end + 1 : text.size();
    std::string_view line = text.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    switch (state) {
      case State::kSearch:
        if (is_uu_begin(line)) {
          cur = {EmbeddedBlock::Kind::kUuencode, pos, 0};
          state = State::kUu;
        } else if (line.starts_with("=ybegin ")) {
          cur = {EmbeddedBlock::Kind::kYenc, pos, 0};
          state = State::kYenc;
        } else if (const std::size_t b = line.find(kBinHexBanner); b != std::string_view::npos) {
          cur = {EmbeddedBlock::Kind::kBinHex, pos, 0};
          state = State::kBinHex;
          colons = 0;
          scan_colons(pos + b + kBinHexBanner.size(), line_end, next);
        }
        break;
      case State::kUu:
        if (trim(line) == "end") close(next);
        break;
      case State::kYenc:
        if (line.starts_with("=yend")) close(next);
        break;
      case State::kBinHex:
        scan_colons(pos, line_end, next);
        break;
    }
    pos = next;
  }
  // A block without its end line runs to the end of the text.
  if (state != State::kSearch && blocks.size() < max_blocks) close(text.size());
  return blocks;
}

}  // namespace bulwark::mime
