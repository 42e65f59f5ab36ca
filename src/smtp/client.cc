#include "smtp/client.h"

#include <netdb.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>
#include <utility>

#include "core/ascii.h"
#include "smtp/resolve.h"

namespace bulwark::smtp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxLine = 2048;          // one reply line, CRLF excluded
constexpr std::size_t kMaxReply = 64 * 1024;    // all lines of one reply
constexpr std::size_t kWriteChunk = 64 * 1024;  // body bytes per write while sending DATA
constexpr std::size_t kMaxPath = 512;           // longer than any legal RFC 5321 path
constexpr std::uint32_t kQuitTimeoutMs = 5000;  // a polite QUIT never holds a worker long

Clock::time_point after(std::uint32_t ms) { return Clock::now() + std::chrono::milliseconds(ms); }

int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// ---- A BIO over the non-blocking socket that writes with MSG_NOSIGNAL: a server that
// closes mid-write must cost us an error, not a SIGPIPE.

int bio_write(BIO* b, const char* data, std::size_t len, std::size_t* written) {
  BIO_clear_retry_flags(b);
  const int fd = *static_cast<int*>(BIO_get_data(b));
  const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
  if (n >= 0) {
    *written = static_cast<std::size_t>(n);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(b);
  return 0;
}

int bio_read(BIO* b, char* data, std::size_t len, std::size_t* got) {
  BIO_clear_retry_flags(b);
  const int fd = *static_cast<int*>(BIO_get_data(b));
  const ssize_t n = ::recv(fd, data, len, 0);
  if (n > 0) {
    *got = static_cast<std::size_t>(n);
    return 1;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return 0;
}

long bio_ctrl(BIO* /*b*/, int cmd, long /*num*/, void* /*ptr*/) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bulwark-smtp-socket");
    BIO_meth_set_write_ex(m, bio_write);
    BIO_meth_set_read_ex(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

bool is_ip_literal(const std::string& s) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  const bool ok = ::getaddrinfo(s.c_str(), nullptr, &hints, &res) == 0;
  if (res != nullptr) ::freeaddrinfo(res);
  return ok;
}

// ---- Link: one TCP connection, optionally inside TLS, with a buffered line reader. Every
// wait goes through poll() against a deadline.
class Link {
 public:
  Link() = default;
  ~Link() { close(); }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  enum class Line { kOk, kTooLong, kFailed };

  bool connect(const std::string& ip, std::uint16_t port, Clock::time_point deadline);
  bool write(std::string_view data, Clock::time_point deadline);
  Line read_line(std::string& line, Clock::time_point deadline);
  bool start_tls(const Hop& hop, Clock::time_point deadline);
  bool has_buffered_input() const { return pos_ < in_.size(); }
  const std::string& error() const { return error_; }

  void close() {
    if (ssl_ != nullptr) SSL_free(ssl_);  // frees the BIO too
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
    ssl_ = nullptr;
    ctx_ = nullptr;
    fd_ = -1;
  }

 private:
  bool wait(short events, Clock::time_point deadline);
  bool fill(Clock::time_point deadline);
  // After an SSL call failed: waits for what it needs, or records the error.
  bool ssl_retry(int rc, const char* what, Clock::time_point deadline);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string in_;
  std::size_t pos_ = 0;
  std::string error_;
};

bool Link::wait(short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, events, 0};
    const int rc = ::poll(&p, 1, ms_left(deadline));
    if (rc > 0) return true;
    if (rc == 0) {
      error_ = "timeout";
      return false;
    }
    if (errno != EINTR) {
      error_ = std::string("poll: ") + std::strerror(errno);
      return false;
    }
  }
}

bool Link::connect(const std::string& ip, std::uint16_t port, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(ip.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    error_ = "not an IP address";
    return false;
  }
  fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd_ < 0 ? -1 : ::connect(fd_, res->ai_addr, res->ai_addrlen);
  const int saved = errno;
  ::freeaddrinfo(res);
  if (fd_ < 0 || (rc != 0 && saved != EINPROGRESS)) {
    error_ = std::strerror(saved);
    return false;
  }
  if (rc != 0) {
    if (!wait(POLLOUT, deadline)) return false;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      error_ = std::strerror(err);
      return false;
    }
  }
  return true;
}

bool Link::ssl_retry(int rc, const char* what, Clock::time_point deadline) {
  const int e = SSL_get_error(ssl_, rc);
  if (e == SSL_ERROR_WANT_READ) return wait(POLLIN, deadline);
  if (e == SSL_ERROR_WANT_WRITE) return wait(POLLOUT, deadline);
  if (e == SSL_ERROR_ZERO_RETURN) error_ = "connection closed by server";
  else error_ = std::string(what) + ": " + openssl_error();
  ERR_clear_error();
  return false;
}

bool Link::write(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      std::size_t n = 0;
      const int rc = SSL_write_ex(ssl_, data.data(), data.size(), &n);
      if (rc == 1) data.remove_prefix(n);
      else if (!ssl_retry(rc, "TLS write", deadline)) return false;
      continue;
    }
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (!wait(POLLOUT, deadline)) return false;
    } else {
      error_ = std::string("write: ") + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool Link::fill(Clock::time_point deadline) {
  if (pos_ == in_.size()) {
    in_.clear();
    pos_ = 0;
  }
  char buf[16384];
  for (;;) {
    if (ssl_ != nullptr) {
      std::size_t n = 0;
      const int rc = SSL_read_ex(ssl_, buf, sizeof(buf), &n);
      if (rc == 1) {
        in_.append(buf, n);
        return true;
      }
      if (!ssl_retry(rc, "TLS read", deadline)) return false;
      continue;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      error_ = "connection closed by server";
      return false;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      error_ = std::string("read: ") + std::strerror(errno);
      return false;
    }
    if (!wait(POLLIN, deadline)) return false;
  }
}

Link::Line Link::read_line(std::string& line, Clock::time_point deadline) {
  for (;;) {
    const auto nl = in_.find('\n', pos_);
    if (nl != std::string::npos) {
      std::size_t end = nl;
      if (end > pos_ && in_[end - 1] == '\r') --end;
      if (end - pos_ > kMaxLine) {
        error_ = "reply line too long";
        return Line::kTooLong;
      }
      line.assign(in_, pos_, end - pos_);
      pos_ = nl + 1;
      return Line::kOk;
    }
    if (in_.size() - pos_ > kMaxLine + 1) {
      error_ = "reply line too long";
      return Line::kTooLong;
    }
    if (!fill(deadline)) return Line::kFailed;
  }
}

bool Link::start_tls(const Hop& hop, Clock::time_point deadline) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) {
    error_ = "TLS context: " + openssl_error();
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const bool verify = hop.tls == TlsMode::kRequired && hop.verify_certificate;
  if (verify) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    const bool loaded = hop.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                                            : SSL_CTX_load_verify_locations(ctx_, hop.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      error_ = "loading trust anchors: " + openssl_error();
      return false;
    }
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // opportunistic: encryption only
  }
  ssl_ = SSL_new(ctx_);
  BIO* bio = ssl_ != nullptr ? BIO_new(socket_bio_method()) : nullptr;
  if (bio == nullptr) {
    error_ = "TLS setup: " + openssl_error();
    return false;
  }
  BIO_set_data(bio, &fd_);
  SSL_set_bio(ssl_, bio, bio);
  const bool literal = is_ip_literal(hop.host);
  // SNI; SSL_set_tlsext_host_name() is a macro with a C cast, so its expansion is spelled out.
  if (!literal)
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(hop.host.c_str()));
  if (verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    const int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, hop.host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, hop.host.c_str(), 0);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (ok != 1) {
      error_ = "TLS setup: bad peer name";
      return false;
    }
  }
  for (;;) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) break;
    if (!ssl_retry(rc, "TLS handshake", deadline)) {
      const long v = SSL_get_verify_result(ssl_);
      if (verify && v != X509_V_OK)
        error_ = std::string("certificate verification failed: ") + X509_verify_cert_error_string(v);
      return false;
    }
  }
  return true;
}

// ---- Replies

// Server text is hostile input bound for logs and DSN fields: no control bytes.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

// Length of a leading RFC 3463 enhanced status ("5.1.1 ") of class `klass`, or 0.
std::size_t enhanced_length(std::string_view t, char klass) {
  if (t.size() < 5 || t[0] != klass || t[1] != '.') return 0;
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    std::size_t digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9' && digits < 4) ++i, ++digits;
    if (digits == 0 || digits > 3) return 0;
    if (part == 0) {
      if (i >= t.size() || t[i] != '.') return 0;
      ++i;
    }
  }
  return (i == t.size() || t[i] == ' ') ? i : 0;
}

Reply broken_reply(const std::string& why) { return Reply{0, "", why}; }

// Reads one complete reply. Anything malformed (mixed codes, bad separators, overlong
// lines or replies) becomes code 0: the stream is out of step and must not be trusted.
// `lines` receives each line's text after the code (for EHLO keywords).
Reply read_reply(Link& link, Clock::time_point deadline, std::vector<std::string>* lines = nullptr) {
  Reply r;
  std::size_t total = 0;
  std::string line;
  std::vector<std::string> texts;
  for (;;) {
    const auto got = link.read_line(line, deadline);
    if (got != Link::Line::kOk) return broken_reply(link.error());
    total += line.size() + 2;
    if (total > kMaxReply) return broken_reply("reply too long");
    const bool digits = line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' &&
                        line[1] <= '9' && line[2] >= '0' && line[2] <= '9';
    if (!digits) return broken_reply("malformed reply: " + printable(line.substr(0, 80)));
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r.code != 0 && code != r.code) return broken_reply("malformed reply: inconsistent codes");
    r.code = code;
    const bool last = line.size() == 3 || line[3] == ' ';
    if (!last && line[3] != '-') return broken_reply("malformed reply: " + printable(line.substr(0, 80)));
    texts.push_back(line.size() > 4 ? line.substr(4) : "");
    if (last) break;
  }
  const char klass = static_cast<char>('0' + r.code / 100);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string_view t = texts[i];
    const std::size_t n = enhanced_length(t, klass);
    if (n > 0) {
      if (r.enhanced.empty()) r.enhanced = std::string(t.substr(0, n));
      t.remove_prefix(std::min(n + 1, t.size()));
    }
    if (i > 0) r.text += "; ";
    r.text += printable(t);
  }
  if (lines != nullptr) *lines = std::move(texts);
  return r;
}

Reply synthesized(int code, const char* enhanced, std::string text) { return Reply{code, enhanced, std::move(text)}; }

// ---- The SMTP session on top of a Link

struct Extensions {
  bool pipelining = false, eightbitmime = false, smtputf8 = false, dsn = false, starttls = false;
  bool enhanced = false, chunking = false;
  std::uint64_t size = 0;  // 0: no limit announced
  bool size_offered = false;
};

Extensions parse_ehlo(const std::vector<std::string>& lines) {
  Extensions e;
  for (std::size_t i = 1; i < lines.size(); ++i) {  // the first line is the greeting name
    std::string_view l = lines[i];
    const auto sp = l.find(' ');
    const std::string kw = ascii::to_lower(l.substr(0, sp));
    const std::string_view arg = sp == std::string_view::npos ? std::string_view{} : l.substr(sp + 1);
    if (kw == "pipelining") e.pipelining = true;
    else if (kw == "8bitmime") e.eightbitmime = true;
    else if (kw == "smtputf8") e.smtputf8 = true;
    else if (kw == "dsn") e.dsn = true;
    else if (kw == "starttls") e.starttls = true;
    else if (kw == "enhancedstatuscodes") e.enhanced = true;
    else if (kw == "chunking") e.chunking = true;
    else if (kw == "size") {
      e.size_offered = true;
      std::uint64_t n = 0;
      for (char c : arg) {
        if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
          n = 0;  // unparseable: treat as no fixed limit
          break;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      e.size = n;
    }
  }
  return e;
}

struct Session {
  Link link;
  Extensions ext;
  std::string key;     // the hop this connection serves
  std::string remote;  // "host[ip]:port"
  bool tls = false;
  bool broken = false;  // out of step, closed by the server, or after a 421
  std::size_t messages = 0;
};

bool writes(Session& s, std::string_view data, std::uint32_t timeout_ms) {
  if (s.link.write(data, after(timeout_ms))) return true;
  s.broken = true;
  return false;
}

Reply reply(Session& s, std::uint32_t timeout_ms, std::vector<std::string>* lines = nullptr) {
  Reply r = read_reply(s.link, after(timeout_ms), lines);
  if (r.code == 0 || r.code == 421) s.broken = true;  // 421: the server is closing
  return r;
}

Reply command(Session& s, const std::string& line, std::uint32_t timeout_ms,
              std::vector<std::string>* lines = nullptr) {
  if (!writes(s, line + "\r\n", timeout_ms)) return broken_reply(s.link.error());
  return reply(s, timeout_ms, lines);
}

void quit(Session& s) {
  if (!s.broken) (void)command(s, "QUIT", kQuitTimeoutMs);
  s.link.close();
}

std::string hop_key(const Hop& hop) {
  return hop.host + "|" + std::to_string(hop.port) + "|" + std::to_string(static_cast<int>(hop.tls)) + "|" +
         (hop.verify_certificate ? "v" : "") + "|" + hop.ca_file;
}

// Our EHLO name reaches the wire verbatim: one token, nothing that ends the line.
std::string helo_name(const ClientOptions& o) {
  std::string n;
  for (char c : o.helo_name)
    if (static_cast<unsigned char>(c) > 0x20 && c != 0x7f) n.push_back(c);
  return n.empty() ? "localhost" : n;
}

Reply ehlo(Session& s, const ClientOptions& o) {
  std::vector<std::string> lines;
  Reply r = command(s, "EHLO " + helo_name(o), o.command_timeout_ms, &lines);
  if (r.ok()) {
    s.ext = parse_ehlo(lines);
    return r;
  }
  if (!r.permanent()) return r;
  s.ext = Extensions{};  // an old server: plain SMTP
  return command(s, "HELO " + helo_name(o), o.command_timeout_ms);
}

struct Setup {
  Reply reply;                 // 2xx when the session is ready for MAIL
  bool tls_attempt_failed = false;  // worth one more try in the clear (opportunistic only)
};

Setup tls_required_failure(Session& s, const std::string& why) {
  quit(s);
  return Setup{synthesized(451, "4.7.5", "TLS required: " + why), false};
}

// Greeting, EHLO, STARTTLS when wanted and offered, EHLO again inside TLS.
Setup set_up(Session& s, const Hop& hop, const ClientOptions& o, bool try_tls) {
  Reply greeting = reply(s, o.command_timeout_ms);
  if (!greeting.ok()) {
    if (greeting.code != 0) quit(s);
    return Setup{greeting, false};
  }
  Reply r = ehlo(s, o);
  if (!r.ok()) {
    if (r.code != 0) quit(s);
    return Setup{r, false};
  }
  if (hop.tls != TlsMode::kNone && try_tls && s.ext.starttls) {
    Reply st = command(s, "STARTTLS", o.command_timeout_ms);
    if (st.code == 0) return Setup{st, false};
    if (st.code == 220) {
      // Bytes after the 220 were injected before the handshake (CVE-2011-0411 style).
      const bool injected = s.link.has_buffered_input();
      if (injected || !s.link.start_tls(hop, after(o.command_timeout_ms))) {
        const std::string why = injected ? "plaintext injected after STARTTLS" : s.link.error();
        s.broken = true;
        s.link.close();
        if (hop.tls == TlsMode::kRequired) return Setup{synthesized(451, "4.7.5", "TLS handshake failed: " + why), false};
        return Setup{broken_reply("TLS handshake failed: " + why), true};
      }
      s.tls = true;
      r = ehlo(s, o);
      if (!r.ok()) {
        if (r.code != 0) quit(s);
        return Setup{r, false};
      }
    } else if (hop.tls == TlsMode::kRequired) {
      return tls_required_failure(s, "STARTTLS refused: " + std::to_string(st.code) + " " + st.text);
    }
  }
  if (hop.tls == TlsMode::kRequired && !s.tls) return tls_required_failure(s, s.remote + " does not offer STARTTLS");
  return Setup{r, false};
}

// Connects to each address of the hop in turn until one gives a usable session.
std::unique_ptr<Session> open_session(const Hop& hop, const ClientOptions& o, Reply& failure,
                                      std::string& remote) {
  std::string host = hop.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::vector<std::string> addresses;
  if (is_ip_literal(host)) {
    addresses.push_back(host);
  } else {
    auto r = Resolver(ResolverOptions{"", o.connect_timeout_ms}).addresses(host);
    if (!r) {
      failure = broken_reply("cannot resolve " + host + ": " + r.error().message);
      remote = host + ":" + std::to_string(hop.port);
      return nullptr;
    }
    addresses = std::move(r.value());
  }
  failure = broken_reply("no address for " + host);
  for (const auto& ip : addresses) {
    remote = host + "[" + ip + "]:" + std::to_string(hop.port);
    for (bool try_tls : {true, false}) {
      auto s = std::make_unique<Session>();
      s->remote = remote;
      s->key = hop_key(hop);
      if (!s->link.connect(ip, hop.port, after(o.connect_timeout_ms))) {
        failure = broken_reply("connect to " + remote + ": " + s->link.error());
        break;
      }
      Setup setup = set_up(*s, hop, o, try_tls);
      if (setup.reply.ok()) return s;
      failure = setup.reply;
      if (!setup.tls_attempt_failed) break;
    }
  }
  return nullptr;
}

// ---- The transaction

// RFC 3461 xtext: printable ASCII except '+' and '=' as is, everything else "+XX".
std::string xtext(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u <= 0x7e && c != '+' && c != '=') {
      out.push_back(c);
    } else {
      out.push_back('+');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

// A path we can put between <> without ending the command or the brackets.
bool safe_path(std::string_view a) {
  if (a.size() > kMaxPath) return false;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

std::string notify_param(std::string_view notify) {
  std::string out;
  std::string_view rest = notify;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string item = ascii::to_lower(rest.substr(0, comma));
    if (item != "never" && item != "success" && item != "failure" && item != "delay") return "";  // garbage: omit
    if (!out.empty()) out += ",";
    for (char c : item) out.push_back(static_cast<char>(c - 'a' + 'A'));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string orcpt_param(std::string_view orcpt) {
  std::string type = "rfc822";
  const auto semi = orcpt.find(';');
  if (semi != std::string_view::npos && semi > 0) {
    const std::string_view t = orcpt.substr(0, semi);
    const bool atom = std::all_of(t.begin(), t.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    });
    if (atom) {
      type = std::string(t);
      orcpt.remove_prefix(semi + 1);
    }
  }
  return type + ";" + xtext(orcpt);
}

std::string mail_command(const Extensions& ext, const Envelope& env, std::size_t size) {
  std::string cmd = "MAIL FROM:<" + env.mail_from + ">";
  if (ext.size_offered) cmd += " SIZE=" + std::to_string(size);
  if (ext.eightbitmime) {
    if (ascii::iequals(env.body, "7BIT")) cmd += " BODY=7BIT";
    else if (ascii::iequals(env.body, "8BITMIME") || ascii::iequals(env.body, "BINARYMIME")) cmd += " BODY=8BITMIME";
  }
  if (env.smtputf8) cmd += " SMTPUTF8";
  if (ext.dsn) {
    if (ascii::iequals(env.ret, "FULL")) cmd += " RET=FULL";
    else if (ascii::iequals(env.ret, "HDRS")) cmd += " RET=HDRS";
    if (!env.envid.empty()) cmd += " ENVID=" + xtext(env.envid);
  }
  return cmd;
}

std::string rcpt_command(const Extensions& ext, const Recipient& r) {
  std::string cmd = "RCPT TO:<" + r.address + ">";
  if (ext.dsn) {
    const std::string notify = notify_param(r.notify);
    if (!notify.empty()) cmd += " NOTIFY=" + notify;
    if (!r.orcpt.empty()) cmd += " ORCPT=" + orcpt_param(r.orcpt);
  }
  return cmd;
}

// Sends the message as DATA content: CRLF line ends throughout (a bare CR or LF becomes
// CRLF, so no server can read a different end of data than we mean — SMTP smuggling),
// dot-stuffing, a final CRLF when missing, then the terminating ".".
bool send_body(Session& s, std::string_view msg, std::uint32_t timeout_ms) {
  std::string out;
  out.reserve(kWriteChunk + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < msg.size(); ++i) {
    const char c = msg[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < msg.size() && msg[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
    } else {
      if (line_start && c == '.') out += '.';
      out += c;
      line_start = false;
    }
    if (out.size() >= kWriteChunk) {
      if (!writes(s, out, timeout_ms)) return false;
      out.clear();
    }
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return writes(s, out, timeout_ms);
}

struct Transaction {
  Session& s;
  const ClientOptions& o;
  DeliveryResult& res;
  std::vector<bool> sent;      // RCPT issued for this recipient
  std::vector<bool> accepted;  // RCPT got 2xx
};

// The whole attempt ended before any recipient was settled: everyone shares `r`.
void fail_all(DeliveryResult& res, const Reply& r) {
  res.connection_failed = true;
  res.failure = r;
  for (auto& rc : res.recipients) rc.reply = r;
}

// The connection broke mid-transaction: nobody without a definite answer was delivered.
void fail_unsettled(Transaction& t, const Reply& r) {
  bool any_settled = false;
  for (std::size_t i = 0; i < t.res.recipients.size(); ++i) {
    Reply& rr = t.res.recipients[i].reply;
    const bool settled = rr.code != 0 && !t.accepted[i];
    any_settled = any_settled || settled;
    if (!settled) rr = r;
  }
  t.res.failure = r;
  if (!any_settled) t.res.connection_failed = true;
}

std::size_t count_accepted(const Transaction& t) {
  return static_cast<std::size_t>(std::count(t.accepted.begin(), t.accepted.end(), true));
}

void record_rcpt(Transaction& t, std::size_t i, const Reply& r) {
  t.res.recipients[i].reply = r;
  t.accepted[i] = r.ok();
}

// DATA was answered with 354: the content, then the final reply for every accepted recipient.
void send_data(Transaction& t, std::string_view message) {
  if (count_accepted(t) == 0) {
    // A server that says 354 with no recipient gets an empty message (RFC 2920 3.1).
    if (writes(t.s, ".\r\n", t.o.command_timeout_ms)) (void)reply(t.s, t.o.data_timeout_ms);
    return;
  }
  if (!send_body(t.s, message, t.o.command_timeout_ms)) {
    fail_unsettled(t, broken_reply("sending message to " + t.s.remote + ": " + t.s.link.error()));
    return;
  }
  const Reply final_reply = reply(t.s, t.o.data_timeout_ms);
  if (final_reply.code == 0) {
    fail_unsettled(t, final_reply);
    return;
  }
  for (std::size_t i = 0; i < t.accepted.size(); ++i)
    if (t.accepted[i]) t.res.recipients[i].reply = final_reply;
}

void finish_data_reply(Transaction& t, const Reply& data, std::string_view message) {
  if (data.code == 354) {
    send_data(t, message);
  } else if (data.code == 0) {
    fail_unsettled(t, data);
  } else {
    for (std::size_t i = 0; i < t.accepted.size(); ++i)
      if (t.accepted[i]) t.res.recipients[i].reply = data;
  }
}

void run_pipelined(Transaction& t, const std::string& mail, const std::vector<std::string>& rcpts,
                   std::string_view message) {
  std::string batch = mail + "\r\n";
  for (std::size_t i = 0; i < rcpts.size(); ++i)
    if (t.sent[i]) batch += rcpts[i] + "\r\n";
  batch += "DATA\r\n";
  if (!writes(t.s, batch, t.o.command_timeout_ms)) return fail_all(t.res, broken_reply(t.s.link.error()));
  const Reply m = reply(t.s, t.o.command_timeout_ms);
  if (m.code == 0) return fail_all(t.res, m);
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    if (!t.sent[i]) continue;
    const Reply r = reply(t.s, t.o.command_timeout_ms);
    if (r.code == 0) return m.ok() ? fail_unsettled(t, r) : fail_all(t.res, m);
    if (m.ok()) record_rcpt(t, i, r);
  }
  const Reply data = reply(t.s, t.o.command_timeout_ms);
  if (!m.ok()) {
    // Keep the stream in step even if a broken server answered DATA with 354.
    if (data.code == 354 && writes(t.s, ".\r\n", t.o.command_timeout_ms)) (void)reply(t.s, t.o.data_timeout_ms);
    return fail_all(t.res, m);
  }
  finish_data_reply(t, data, message);
}

void run_sequential(Transaction& t, const std::string& mail, const std::vector<std::string>& rcpts,
                    std::string_view message) {
  const Reply m = command(t.s, mail, t.o.command_timeout_ms);
  if (!m.ok()) return fail_all(t.res, m);
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    if (!t.sent[i]) continue;
    const Reply r = command(t.s, rcpts[i], t.o.command_timeout_ms);
    if (r.code == 0) return fail_unsettled(t, r);
    record_rcpt(t, i, r);
  }
  if (count_accepted(t) == 0) {
    (void)command(t.s, "RSET", t.o.command_timeout_ms);
    return;
  }
  finish_data_reply(t, command(t.s, "DATA", t.o.command_timeout_ms), message);
}

void transact(Session& s, const ClientOptions& o, const Envelope& env, std::string_view message,
              DeliveryResult& res) {
  if (env.smtputf8 && !s.ext.smtputf8)
    return fail_all(res, synthesized(550, "5.6.7", "SMTPUTF8 required but not supported by " + s.remote));
  if (!safe_path(env.mail_from)) return fail_all(res, synthesized(550, "5.1.7", "invalid sender address"));
  if (s.ext.size > 0 && message.size() > s.ext.size)
    return fail_all(res, synthesized(552, "5.3.4", "message size " + std::to_string(message.size()) +
                                                       " exceeds the limit of " + s.remote));
  Transaction t{s, o, res, std::vector<bool>(env.recipients.size()), std::vector<bool>(env.recipients.size())};
  std::vector<std::string> rcpts(env.recipients.size());
  for (std::size_t i = 0; i < env.recipients.size(); ++i) {
    if (safe_path(env.recipients[i].address) && !env.recipients[i].address.empty()) {
      rcpts[i] = rcpt_command(s.ext, env.recipients[i]);
      t.sent[i] = true;
    } else {
      res.recipients[i].reply = synthesized(550, "5.1.3", "invalid recipient address");
    }
  }
  if (std::find(t.sent.begin(), t.sent.end(), true) == t.sent.end()) return;
  ++s.messages;
  const std::string mail = mail_command(s.ext, env, message.size());
  if (s.ext.pipelining) run_pipelined(t, mail, rcpts, message);
  else run_sequential(t, mail, rcpts, message);
}

}  // namespace

struct SmtpClient::Connection {
  std::unique_ptr<Session> session;
};

SmtpClient::SmtpClient(ClientOptions options) : options_(std::move(options)) {}

SmtpClient::~SmtpClient() { close(); }

void SmtpClient::close() {
  if (conn_ && conn_->session) quit(*conn_->session);
  conn_.reset();
}

DeliveryResult SmtpClient::deliver(const Hop& hop, const Envelope& envelope, std::string_view message) {
  DeliveryResult res;
  for (const auto& r : envelope.recipients) res.recipients.push_back(RecipientResult{r.address, Reply{}});

  if (conn_) {
    Session& s = *conn_->session;
    bool reuse = s.key == hop_key(hop) && !s.broken && s.messages < options_.max_messages_per_connection;
    // RSET both clears any leftover state and proves the idle connection still works.
    if (reuse) reuse = command(s, "RSET", options_.command_timeout_ms).ok();
    if (!reuse) close();
  }
  if (!conn_) {
    Reply failure;
    auto session = open_session(hop, options_, failure, res.remote);
    if (!session) {
      fail_all(res, failure);
      return res;
    }
    conn_ = std::make_unique<Connection>();
    conn_->session = std::move(session);
  }
  Session& s = *conn_->session;
  res.remote = s.remote;
  res.tls = s.tls;
  transact(s, options_, envelope, message, res);
  if (s.broken) {
    s.link.close();
    conn_.reset();
  } else if (s.messages >= options_.max_messages_per_connection) {
    close();  // no reuse left: free the server's slot now, not at the next delivery
  }
  return res;
}

}  // namespace bulwark::smtp
