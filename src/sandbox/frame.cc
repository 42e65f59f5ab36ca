#include "sandbox/frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bulwark::sandbox {

namespace {

constexpr std::uint32_t kMagic = 0x4B57'4C42;  // "BLWK"
constexpr std::size_t kHeaderBytes = 16;

// Bounds on what a reply may claim, far above anything real; a worker that claims more is
// hostile or broken.
constexpr std::uint32_t kMaxItems = 1u << 20;
constexpr std::uint32_t kMaxString = 64u << 20;

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}
void put_double(std::string& out, double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  put_u64(out, bits);
}

// Reads fields from a payload; the first short read or bad value sets `bad` and every
// later read returns zero/empty.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool bad() const { return bad_; }
  bool done() const { return !bad_ && pos_ == s_.size(); }

  std::uint64_t u(int bytes) {
    if (bad_ || s_.size() - pos_ < static_cast<std::size_t>(bytes)) return fail();
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s_[pos_ + static_cast<std::size_t>(i)])) << (8 * i);
    pos_ += static_cast<std::size_t>(bytes);
    return v;
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u(4)); }
  std::uint64_t u64() { return u(8); }
  double f64() {
    const std::uint64_t bits = u64();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  std::string str() {
    const std::uint32_t n = u32();
    if (bad_ || n > kMaxString || s_.size() - pos_ < n) return fail(), std::string();
    std::string out(s_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  std::uint32_t count() {
    const std::uint32_t n = u32();
    // Each item takes at least 4 bytes, so a count the payload cannot hold is a lie.
    if (n > kMaxItems || n > (s_.size() - pos_) / 4) return static_cast<std::uint32_t>(fail());
    return n;
  }

 private:
  std::uint64_t fail() {
    bad_ = true;
    return 0;
  }
  std::string_view s_;
  std::size_t pos_ = 0;
  bool bad_ = false;
};

int ms_left(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

// Reads exactly n bytes before the deadline; an error message or "".
std::string read_exact(int fd, char* buf, std::size_t n, Deadline deadline) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    const int left = ms_left(deadline);
    const int r = ::poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return std::string("poll: ") + std::strerror(errno);
    if (r == 0) return "timeout";
    const ssize_t k = ::read(fd, buf + got, n - got);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k < 0) return std::string("read: ") + std::strerror(errno);
    if (k == 0) return "end of stream";
    got += static_cast<std::size_t>(k);
  }
  return "";
}

}  // namespace

bool write_frame(int fd, FrameType type, std::string_view payload) {
  std::string header;
  put_u32(header, kMagic);
  put_u32(header, static_cast<std::uint32_t>(type));
  put_u64(header, payload.size());
  for (std::string_view part : {std::string_view(header), payload}) {
    std::size_t sent = 0;
    while (sent < part.size()) {
      const ssize_t k = ::send(fd, part.data() + sent, part.size() - sent, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      sent += static_cast<std::size_t>(k);
    }
  }
  return true;
}

std::string encode_frame(FrameType type, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderBytes + payload.size());
  put_u32(out, kMagic);
  put_u32(out, static_cast<std::uint32_t>(type));
  put_u64(out, payload.size());
  out.append(payload);
  return out;
}

Take take_frame(const std::string& buf, std::size_t& pos, std::size_t max_payload, Frame& out,
                std::string& error) {
  if (buf.size() - pos < kHeaderBytes) return Take::kMore;
  Reader r(std::string_view(buf).substr(pos, kHeaderBytes));
  const std::uint32_t magic = r.u32();
  const std::uint32_t type = r.u32();
  const std::uint64_t length = r.u64();
  if (magic != kMagic) return error = "bad frame magic", Take::kError;
  if (type < 1 || type > 3) return error = "unknown frame type " + std::to_string(type), Take::kError;
  if (length > max_payload)
    return error = "frame of " + std::to_string(length) + " bytes over the limit", Take::kError;
  if (buf.size() - pos - kHeaderBytes < length) return Take::kMore;
  out.type = static_cast<FrameType>(type);
  out.payload.assign(buf, pos + kHeaderBytes, static_cast<std::size_t>(length));
  pos += kHeaderBytes + static_cast<std::size_t>(length);
  return Take::kFrame;
}

Result<Frame> read_frame(int fd, std::size_t max_payload, Deadline deadline) {
  char header[kHeaderBytes];
  if (std::string e = read_exact(fd, header, kHeaderBytes, deadline); !e.empty()) return Error{e};
  Reader r(std::string_view(header, kHeaderBytes));
  const std::uint32_t magic = r.u32();
  const std::uint32_t type = r.u32();
  const std::uint64_t length = r.u64();
  if (magic != kMagic) return Error{"bad frame magic"};
  if (type < 1 || type > 3) return Error{"unknown frame type " + std::to_string(type)};
  if (length > max_payload) return Error{"frame of " + std::to_string(length) + " bytes over the limit"};
  Frame f{static_cast<FrameType>(type), std::string(static_cast<std::size_t>(length), '\0')};
  if (std::string e = read_exact(fd, f.payload.data(), f.payload.size(), deadline); !e.empty())
    return Error{e};
  return f;
}

std::string encode_request(const ScanRequest& r) {
  std::string out;
  out.reserve(r.bytes.size() + 8);
  put_u32(out, r.explain ? 1 : 0);
  put_str(out, r.origin);
  put_str(out, r.bytes);
  return out;
}

Result<ScanRequest> decode_request(std::string_view payload) {
  Reader r(payload);
  ScanRequest req;
  const std::uint32_t flags = r.u32();
  req.explain = flags & 1;
  req.origin = r.str();
  req.bytes = r.str();
  if (!r.done() || flags > 1) return Error{"malformed scan request"};
  return req;
}

std::string encode_reply(const ScanReply& rep) {
  const scan::Verdict& v = rep.verdict;
  std::string out;
  put_str(out, v.message_id);
  put_str(out, v.subject);
  put_u32(out, static_cast<std::uint32_t>(v.action));
  put_double(out, v.score);
  put_u32(out, static_cast<std::uint32_t>(v.symbols.size()));
  for (const auto& s : v.symbols) {
    put_str(out, s.name);
    put_str(out, s.detail);
    put_double(out, s.score);
  }
  put_u32(out, static_cast<std::uint32_t>(v.threats.size()));
  for (const auto& t : v.threats) {
    put_str(out, t.kind);
    put_str(out, t.name);
    put_str(out, t.location);
  }
  put_u32(out, static_cast<std::uint32_t>(v.parts.size()));
  for (const auto& p : v.parts) {
    put_str(out, p.path);
    put_str(out, p.content_type);
    put_str(out, p.filename);
    put_u64(out, p.size);
    put_str(out, p.sha256);
    put_str(out, p.origin);
  }
  put_double(out, v.elapsed_ms);
  put_str(out, rep.explain);
  put_double(out, v.spam_probability);
  put_u32(out, static_cast<std::uint32_t>(v.tokens.size()));
  for (std::uint64_t t : v.tokens) put_u64(out, t);
  return out;
}

Result<ScanReply> decode_reply(std::string_view payload) {
  Reader r(payload);
  ScanReply rep;
  scan::Verdict& v = rep.verdict;
  v.message_id = r.str();
  v.subject = r.str();
  const std::uint32_t action = r.u32();
  if (action > static_cast<std::uint32_t>(Action::kReject)) return Error{"bad action in reply"};
  v.action = static_cast<Action>(action);
  v.score = r.f64();
  for (std::uint32_t i = 0, n = r.count(); i < n && !r.bad(); ++i) {
    Symbol s;
    s.name = r.str();
    s.detail = r.str();
    s.score = r.f64();
    v.symbols.push_back(std::move(s));
  }
  for (std::uint32_t i = 0, n = r.count(); i < n && !r.bad(); ++i) {
    scan::Threat t;
    t.kind = r.str();
    t.name = r.str();
    t.location = r.str();
    v.threats.push_back(std::move(t));
  }
  for (std::uint32_t i = 0, n = r.count(); i < n && !r.bad(); ++i) {
    scan::PartInfo p;
    p.path = r.str();
    p.content_type = r.str();
    p.filename = r.str();
    p.size = static_cast<std::size_t>(r.u64());
    p.sha256 = r.str();
    p.origin = r.str();
    v.parts.push_back(std::move(p));
  }
  v.elapsed_ms = r.f64();
  rep.explain = r.str();
  v.spam_probability = r.f64();
  for (std::uint32_t i = 0, n = r.count(); i < n && !r.bad(); ++i) v.tokens.push_back(r.u64());
  if (!r.done()) return Error{"malformed scan reply"};
  if (!(v.spam_probability == v.spam_probability) || v.spam_probability > 1.0)
    return Error{"bad spam probability in scan reply"};
  if (!(v.score == v.score) || !(v.elapsed_ms == v.elapsed_ms)) return Error{"NaN in scan reply"};
  return rep;
}

}  // namespace bulwark::sandbox
