// BinHex 4.0 decoder (RFC 1741): 6-bit text, 0x90 run-length coding, header and two forks
// each followed by a CRC-16/XMODEM. Only the data fork is returned.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

constexpr std::string_view kBanner = "(This file must be converted with BinHex";

constexpr std::uint8_t kSpace = 64;
constexpr std::uint8_t kColon = 65;
constexpr std::uint8_t kJunk = 66;

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kJunk;
  constexpr std::string_view kAlphabet =
      "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  for (unsigned char c : {'\r', '\n', ' ', '\t'}) t[c] = kSpace;
  t[static_cast<unsigned char>(':')] = kColon;
  return t;
}
constexpr std::array<std::uint8_t, 256> kClass = make_classes();

// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
constexpr std::array<std::uint16_t, 256> make_crc_table() {
  std::array<std::uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    unsigned r = i << 8;
    for (int k = 0; k < 8; ++k) r = (r & 0x8000u) ? ((r << 1) ^ 0x1021u) : (r << 1);
    t[i] = static_cast<std::uint16_t>(r);
  }
  return t;
}
constexpr std::array<std::uint16_t, 256> kCrc = make_crc_table();

std::uint16_t crc_step(std::uint16_t crc, unsigned char b) {
  return static_cast<std::uint16_t>((crc << 8) ^ kCrc[((crc >> 8) ^ b) & 0xffu]);
}

std::uint32_t be32(const unsigned char* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
}

// Consumes the run-length-expanded byte stream: header, data fork, resource fork.
class Forks {
 public:
  Forks(std::string& out, std::size_t max_out, std::string& name, DecodeStats& stats)
      : out_(out),
        base_(out.size()),
        max_out_(max_out),
        limit_(max_out > SIZE_MAX - base_ ? SIZE_MAX : base_ + max_out),
        name_(name),
        stats_(stats) {}

  // False once no more bytes are wanted (finished, truncated, or over budget).
  bool feed(unsigned char b) {
    switch (stage_) {
      case Stage::kHeader:
        hdr_[hdr_len_++] = b;
        if (hdr_len_ == 1) hdr_need_ = 22 + std::size_t{b};
        if (hdr_len_ == hdr_need_) end_header();
        return true;
      case Stage::kData:
        if (out_.size() - base_ >= max_out_) {
          stats_.truncated = truncated_ = true;
          return false;
        }
        if (out_.size() == out_.capacity()) {
          // Grow by doubling, but never past max_out: std::string alone could overshoot.
          const std::size_t want = std::max(out_.capacity() * 2, out_.size() + 4096);
          out_.reserve(std::min(want, limit_));
        }
        out_.push_back(static_cast<char>(b));
        crc_ = crc_step(crc_, b);
        if (++count_ == dlen_) start_crc(Stage::kDataCrc);
        return true;
      case Stage::kRsrc:
        // Not returned, but checked while the data fork and it fit in max_out together,
        // so that run-length expansion stays bounded by max_out.
        if (out_.size() - base_ + count_ >= max_out_) {
          over_budget_ = true;
          return false;
        }
        crc_ = crc_step(crc_, b);
        if (++count_ == rlen_) start_crc(Stage::kRsrcCrc);
        return true;
      case Stage::kDataCrc:
      case Stage::kRsrcCrc:
        got_ = static_cast<std::uint16_t>((got_ << 8) | b);
        if (++crc_bytes_ == 2) {
          if (got_ != crc_) stats_.bad_checksum = true;
          if (stage_ == Stage::kDataCrc) {
            start_fork(Stage::kRsrc, rlen_, Stage::kRsrcCrc);
          } else {
            stage_ = Stage::kDone;
            return false;
          }
        }
        return true;
      case Stage::kDone:
        break;
    }
    return false;
  }

  bool done() const { return stage_ == Stage::kDone; }
  bool truncated() const { return truncated_; }
  bool over_budget() const { return over_budget_; }

 private:
  enum class Stage { kHeader, kData, kDataCrc, kRsrc, kRsrcCrc, kDone };

  void end_header() {
    const std::size_t n = hdr_[0];
    // name, version byte, type(4), creator(4), flags(2), data len(4), rsrc len(4), crc(2)
    name_.assign(reinterpret_cast<const char*>(&hdr_[1]), n);
    const unsigned char* const tail = &hdr_[2 + n];
    dlen_ = be32(tail + 10);
    rlen_ = be32(tail + 14);
    std::uint16_t crc = 0;
    for (std::size_t i = 0; i < 20 + n; ++i) crc = crc_step(crc, hdr_[i]);
    const auto stored = static_cast<std::uint16_t>((tail[18] << 8) | tail[19]);
    if (crc != stored) stats_.bad_checksum = true;
    start_fork(Stage::kData, dlen_, Stage::kDataCrc);
  }

  void start_fork(Stage fork, std::uint64_t len, Stage crc_stage) {
    count_ = 0;
    crc_ = 0;
    if (len == 0)
      start_crc(crc_stage);
    else
      stage_ = fork;
  }

  void start_crc(Stage s) {
    stage_ = s;
    got_ = 0;
    crc_bytes_ = 0;
  }

  std::string& out_;
  const std::size_t base_;
  const std::size_t max_out_;
  const std::size_t limit_;  // base_ + max_out_, saturated
  std::string& name_;
  DecodeStats& stats_;
  Stage stage_ = Stage::kHeader;
  std::array<unsigned char, 1 + 255 + 20 + 2> hdr_{};
  std::size_t hdr_len_ = 0;
  std::size_t hdr_need_ = 1;
  std::uint64_t dlen_ = 0;
  std::uint64_t rlen_ = 0;
  std::uint64_t count_ = 0;
  std::uint16_t crc_ = 0;
  std::uint16_t got_ = 0;
  int crc_bytes_ = 0;
  bool truncated_ = false;
  bool over_budget_ = false;
};

// Where the encoded data starts: just past the ':' after the banner. Without a banner (a
// bare application/mac-binhex40 body), the first line that starts with ':'.
std::size_t find_start(std::string_view in) {
  const std::size_t banner = in.find(kBanner);
  if (banner != std::string_view::npos) {
    const std::size_t colon = in.find(':', banner + kBanner.size());
    return colon == std::string_view::npos ? colon : colon + 1;
  }
  bool line_start = true;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == ':' && line_start) return i + 1;
    const bool blank = c == ' ' || c == '\t' || c == '\r';
    line_start = c == '\n' || (line_start && blank);
  }
  return std::string_view::npos;
}

}  // namespace

void decode_binhex(std::string_view in, std::size_t max_out, std::string& out, std::string& name,
                   DecodeStats& stats) {
  const std::size_t start = find_start(in);
  if (start == std::string_view::npos) {
    stats.incomplete = true;
    return;
  }
  out.reserve(out.size() + std::min(max_out, in.size()));
  Forks forks(out, max_out, name, stats);

  std::uint32_t acc = 0;  // pending bits of the 6-bit to 8-bit conversion
  int bits = 0;
  int prev = -1;        // last expanded byte, for runs
  bool marker = false;  // a 0x90 was seen; its count byte comes next
  bool wanting = true;  // Forks still wants bytes
  bool closed = false;  // saw the closing ':'
  std::size_t i = start;
  for (; i < in.size() && wanting; ++i) {
    const std::uint8_t v = kClass[static_cast<unsigned char>(in[i])];
    if (v < 64) {
      acc = (acc << 6) | v;
      bits += 6;
      if (bits < 8) continue;
      bits -= 8;
      const auto b = static_cast<unsigned char>(acc >> bits);
      acc &= (1u << bits) - 1;
      if (marker) {
        marker = false;
        if (b == 0) {
          prev = 0x90;
          wanting = forks.feed(0x90);
        } else if (prev >= 0) {
          // 0x90 n: the previous byte n times in all, i.e. n - 1 more.
          for (unsigned k = 1; k < b && wanting; ++k)
            wanting = forks.feed(static_cast<unsigned char>(prev));
        }
      } else if (b == 0x90) {
        marker = true;
      } else {
        prev = b;
        wanting = forks.feed(b);
      }
    } else if (v == kColon) {
      closed = true;
      break;
    } else if (v == kJunk) {
      ++stats.junk_bytes;
    }
  }
  if (forks.truncated() || forks.over_budget()) return;
  if (!forks.done()) {
    stats.incomplete = true;
  } else if (!closed && std::memchr(in.data() + i, ':', in.size() - i) == nullptr) {
    stats.incomplete = true;  // the forks are all there, but the closing ':' is not
  }
}

}  // namespace bulwark::mime
