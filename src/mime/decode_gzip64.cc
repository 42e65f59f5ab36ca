// x-gzip64: base64 text of a gzip (or zlib) stream. Both stages stream through small
// buffers, so memory stays at max_out plus a constant whatever the input or the ratio.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "mime/decode.h"

namespace bulwark::mime {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Base64 value of a byte, 64 for whitespace, 65 for '=', 66 for junk. Same leniency as
// decode_base64 in kContinue mode, one byte at a time so it can feed zlib in chunks.
constexpr std::array<std::uint8_t, 256> make_b64() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 66;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  for (unsigned char c : {'\r', '\n', ' ', '\t'}) t[c] = 64;
  t[static_cast<unsigned char>('=')] = 65;
  return t;
}
constexpr std::array<std::uint8_t, 256> kB64 = make_b64();

class Inflater {
 public:
  Inflater(std::string& out, std::size_t max_out, DecodeStats& stats)
      : out_(out),
        base_(out.size()),
        max_out_(max_out),
        limit_(max_out > SIZE_MAX - base_ ? SIZE_MAX : base_ + max_out),
        stats_(stats) {
    std::memset(&zs_, 0, sizeof zs_);
    // 15 + 32: a 32 KiB window, and detect a gzip or zlib header by itself.
    ok_ = inflateInit2(&zs_, 15 + 32) == Z_OK;
    if (!ok_) stats_.incomplete = true;
  }
  ~Inflater() {
    if (ok_) inflateEnd(&zs_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Feeds compressed bytes; false once decoding has stopped (error, or max_out reached).
  bool feed(const unsigned char* data, std::size_t n) {
    if (!running()) return false;
    zs_.next_in = const_cast<Bytef*>(data);  // zlib's API is not const-correct
    zs_.avail_in = static_cast<uInt>(n);
    while (running()) {
      if (zs_.avail_in == 0 && !output_pending_) return true;
      if (ended_) {
        // gzip(1) decodes concatenated members, so a second member must not hide a payload.
        if (inflateReset(&zs_) != Z_OK) return fail();
        ended_ = false;
      }
      const std::size_t have = out_.size() - base_;
      const std::size_t room = max_out_ - have;
      if (room == 0) {
        if (!probe()) return false;
        continue;
      }
      const std::size_t step = std::min(room, kChunk);
      if (base_ + have + step > out_.capacity()) {
        // Grow by doubling, but never past max_out: std::string alone could overshoot.
        const std::size_t want = std::max(out_.capacity() * 2, base_ + have + step);
        out_.reserve(std::min(want, limit_));
      }
      out_.resize(base_ + have + step);
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data() + base_ + have);
      zs_.avail_out = static_cast<uInt>(step);
      const uInt in_before = zs_.avail_in;
      const int ret = inflate(&zs_, Z_NO_FLUSH);
      out_.resize(base_ + have + (step - zs_.avail_out));
      output_pending_ = zs_.avail_out == 0;  // more may be buffered inside zlib
      if (!handle(ret)) return false;
      // zlib promises progress while it has input and room; never spin if it does not.
      if (ret != Z_STREAM_END && zs_.avail_in == in_before && zs_.avail_out == step) {
        if (zs_.avail_in == 0) return true;
        stats_.incomplete = true;
        return fail();
      }
    }
    return false;
  }

  // End of the compressed input: a stream cut short is incomplete.
  void finish() {
    if (!running()) return;
    if (!ended_) stats_.incomplete = true;
  }

 private:
  bool running() const { return ok_ && !stopped_; }

  // True to keep going.
  bool handle(int ret) {
    switch (ret) {
      case Z_STREAM_END:
        ended_ = true;
        ++members_;
        output_pending_ = false;
        return true;
      case Z_OK:
        return true;
      case Z_BUF_ERROR:  // no progress possible: needs more input
        output_pending_ = false;
        return true;
      case Z_DATA_ERROR:
        // Bytes after a complete member that do not start another one: gzip(1) ignores
        // such trailing garbage, and there is nothing in it to decode.
        if (members_ > 0 && zs_.total_out == 0 && zs_.msg != nullptr &&
            (std::strcmp(zs_.msg, "incorrect header check") == 0 ||
             std::strcmp(zs_.msg, "unknown compression method") == 0))
          return fail();
        // A failed gzip/zlib trailer check is a checksum error; other data errors mean
        // the stream could not be decoded to its end.
        if (zs_.msg != nullptr && (std::strcmp(zs_.msg, "incorrect data check") == 0 ||
                                   std::strcmp(zs_.msg, "incorrect length check") == 0))
          stats_.bad_checksum = true;
        else
          stats_.incomplete = true;
        return fail();
      default:  // Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR
        stats_.incomplete = true;
        return fail();
    }
  }

  // Out of room: decode one more byte into scratch to learn whether anything was cut off.
  bool probe() {
    unsigned char scratch;
    zs_.next_out = &scratch;
    zs_.avail_out = 1;
    const uInt in_before = zs_.avail_in;
    const int ret = inflate(&zs_, Z_NO_FLUSH);
    if (zs_.avail_out == 0) {
      stats_.truncated = true;
      return fail();
    }
    output_pending_ = false;
    if (!handle(ret)) return false;
    if (ret != Z_STREAM_END && zs_.avail_in == in_before && zs_.avail_in > 0) {
      stats_.incomplete = true;  // no progress with input and room: never spin
      return fail();
    }
    return true;
  }

  bool fail() {
    stopped_ = true;
    return false;
  }

  std::string& out_;
  const std::size_t base_;
  const std::size_t max_out_;
  const std::size_t limit_;  // base_ + max_out_, saturated
  DecodeStats& stats_;
  z_stream zs_;
  bool ok_ = false;
  bool stopped_ = false;
  bool ended_ = false;           // the current member is complete
  int members_ = 0;              // complete members so far
  bool output_pending_ = false;  // the last inflate filled its output buffer
};

}  // namespace

void decode_gzip64(std::string_view in, std::size_t max_out, std::string& out, DecodeStats& stats) {
  Inflater inflater(out, max_out, stats);
  std::array<unsigned char, kChunk> buf;
  std::size_t fill = 0;
  std::uint32_t quantum = 0;
  int n = 0;
  bool in_pad = false;
  bool more = true;
  for (std::size_t i = 0; i < in.size() && more; ++i) {
    const std::uint8_t v = kB64[static_cast<unsigned char>(in[i])];
    if (v < 64) {
      if (in_pad) {
        stats.padding_in_middle = true;
        in_pad = false;
      }
      quantum = (quantum << 6) | v;
      if (++n < 4) continue;
      buf[fill++] = static_cast<unsigned char>(quantum >> 16);
      buf[fill++] = static_cast<unsigned char>(quantum >> 8);
      buf[fill++] = static_cast<unsigned char>(quantum);
      n = 0;
      quantum = 0;
    } else if (v == 65) {
      // A short quantum ends here: keep its whole bytes, then start afresh.
      if (n == 2) buf[fill++] = static_cast<unsigned char>(quantum >> 4);
      if (n == 3) {
        buf[fill++] = static_cast<unsigned char>(quantum >> 10);
        buf[fill++] = static_cast<unsigned char>(quantum >> 2);
      }
      if (n == 1) stats.bad_padding = true;
      n = 0;
      quantum = 0;
      in_pad = true;
    } else if (v == 66) {
      ++stats.junk_bytes;
    }
    if (fill > kChunk - 3) {
      more = inflater.feed(buf.data(), fill);
      fill = 0;
    }
  }
  if (!more) return;
  if (n >= 2) {
    stats.bad_padding = true;
    buf[fill++] = static_cast<unsigned char>(n == 2 ? quantum >> 4 : quantum >> 10);
    if (n == 3) buf[fill++] = static_cast<unsigned char>(quantum >> 2);
  } else if (n == 1) {
    stats.bad_padding = true;
  }
  if (fill > 0 && !inflater.feed(buf.data(), fill)) return;
  inflater.finish();
}

}  // namespace bulwark::mime
