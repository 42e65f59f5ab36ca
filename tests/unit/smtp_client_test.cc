// SmtpClient against real peers on 127.0.0.1: Postfix's smtp-sink (started by the test)
// for deliveries, pipelining, rejections and disconnects; and, because smtp-sink has no
// TLS and cannot answer recipients differently, a small scripted server thread written in
// this test (OpenSSL server side with a self-signed certificate generated here) for
// STARTTLS, mixed recipient replies and hostile replies. Spawning peers is for tests only.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "smtp/client.h"

using namespace bulwark;
using namespace bulwark::smtp;
namespace fs = std::filesystem;

namespace {

const char* kSink = "/usr/sbin/smtp-sink";

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

std::uint16_t free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof(a);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool tcp_accepts(std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(s);
  return ok;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// smtp-sink on 127.0.0.1:<free port>, each transaction dumped to its own file under dir.
class SmtpSink {
 public:
  explicit SmtpSink(std::vector<std::string> options) : port_(free_port()) {
    dir_ = fs::temp_directory_path() / ("bulwark-sink-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::all);  // the sink drops privileges before writing
    counters_ = dir_.string() + ".out";
    std::vector<std::string> args = {kSink};
    if (::geteuid() == 0) {
      args.push_back("-u");
      args.push_back(::getpwnam("postfix") != nullptr ? "postfix" : "nobody");
    }
    args.push_back("-d");
    args.push_back((dir_ / "%M.").string());
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("127.0.0.1:" + std::to_string(port_));
    args.push_back("10");
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const int null = ::open("/dev/null", O_RDWR);
      const int out = ::open(counters_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);  // -c output
      ::dup2(out, 1);
      ::dup2(null, 2);
      ::execv(kSink, argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !tcp_accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  ~SmtpSink() {
    stop();
    fs::remove_all(dir_);
    fs::remove(counters_);
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  // With -c: stops the sink and returns the sessions it finished, less the readiness probe.
  int sessions() {
    stop();
    const std::string out = slurp(counters_);
    const auto p = out.rfind("sess=");
    return p == std::string::npos ? -1 : std::atoi(out.c_str() + p + 5) - 1;
  }
  Hop hop(TlsMode tls = TlsMode::kOpportunistic) const { return Hop{"127.0.0.1", port_, tls, false, ""}; }
  std::uint16_t port() const { return port_; }
  // The dumped transactions (waits briefly: the sink writes them asynchronously).
  std::vector<std::string> dumps(std::size_t expect) const {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) {
      out.clear();
      for (const auto& e : fs::directory_iterator(dir_)) out.push_back(slurp(e.path()));
      if (out.size() >= expect && std::all_of(out.begin(), out.end(), [](const std::string& d) {
            return d.ends_with("\n\n");
          }))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }

 private:
  std::uint16_t port_;
  fs::path dir_;
  std::string counters_;
  pid_t pid_ = -1;
};

// The message part of an smtp-sink dump: after its three-line Received: header.
std::string dumped_message(const std::string& dump) {
  const auto rec = dump.find("Received: ");
  if (rec == std::string::npos) return "";
  std::size_t pos = rec;
  for (int i = 0; i < 3; ++i) pos = dump.find('\n', pos) + 1;
  return dump.substr(pos);
}

std::string dump_field(const std::string& dump, const std::string& name) {
  const auto p = dump.find(name + ": ");
  if (p == std::string::npos) return "";
  const auto e = dump.find('\n', p);
  return dump.substr(p + name.size() + 2, e - p - name.size() - 2);
}

Envelope envelope(std::vector<std::string> rcpts) {
  Envelope e;
  e.id = "00000000000000000001";
  e.mail_from = "alice@example.org";
  for (auto& r : rcpts) e.recipients.push_back(Recipient{r, "", ""});
  return e;
}

ClientOptions fast_options() {
  ClientOptions o;
  o.helo_name = "gw.example.org";
  o.connect_timeout_ms = 2000;
  o.command_timeout_ms = 3000;
  o.data_timeout_ms = 3000;
  return o;
}

class SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kSink, X_OK) != 0) GTEST_SKIP() << "smtp-sink not installed";
  }
};

TEST_F(SinkTest, DeliversExactBytesWithDotStuffingAndPipelining) {
  SmtpSink sink({});
  SmtpClient client(fast_options());
  Envelope env = envelope({"bob@example.com", "carol@example.com"});
  env.recipients[0].notify = "SUCCESS,FAILURE";
  env.recipients[0].orcpt = "rfc822;Bob+x=y@example.com";
  env.ret = "HDRS";
  env.envid = "id with space";
  env.body = "8BITMIME";
  // Lines starting with '.', a lone ".", a bare LF and no final line end.
  const std::string msg =
      "Subject: dots\r\n\r\n.leading\r\n..two\r\n.\r\nmid.dle\r\nbare lf\nlast line";
  auto r = client.deliver(sink.hop(), env, msg);
  ASSERT_FALSE(r.connection_failed) << r.failure.text;
  ASSERT_EQ(r.recipients.size(), 2u);
  for (const auto& rc : r.recipients) {
    EXPECT_EQ(rc.reply.code, 250) << rc.reply.text;
    EXPECT_EQ(rc.reply.enhanced, "2.0.0");
  }
  EXPECT_EQ(r.remote, "127.0.0.1[127.0.0.1]:" + std::to_string(sink.port()));
  EXPECT_FALSE(r.tls);
  client.close();

  const auto dumps = sink.dumps(1);
  ASSERT_EQ(dumps.size(), 1u);
  // The sink un-stuffs dots and writes LF line ends; it adds one empty line at the end.
  EXPECT_EQ(dumped_message(dumps[0]),
            "Subject: dots\n\n.leading\n..two\n.\nmid.dle\nbare lf\nlast line\n\n");
  EXPECT_EQ(dump_field(dumps[0], "X-Helo-Args"), "gw.example.org");
  EXPECT_EQ(dump_field(dumps[0], "X-Mail-Args"), "<alice@example.org> BODY=8BITMIME RET=HDRS ENVID=id+20with+20space");
  EXPECT_NE(dumps[0].find("X-Rcpt-Args: <bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx+3Dy@example.com\n"
                          "X-Rcpt-Args: <carol@example.com>\n"),
            std::string::npos)
      << dumps[0];
}

TEST_F(SinkTest, WithoutPipeliningOrDsn) {
  SmtpSink sink({"-p", "-N", "-8"});
  SmtpClient client(fast_options());
  Envelope env = envelope({"bob@example.com"});
  env.recipients[0].notify = "NEVER";
  env.ret = "FULL";
  env.body = "8BITMIME";
  auto r = client.deliver(sink.hop(), env, "Subject: x\r\n\r\nhi\r\n");
  ASSERT_FALSE(r.connection_failed) << r.failure.text;
  EXPECT_EQ(r.recipients[0].reply.code, 250);
  client.close();
  const auto dumps = sink.dumps(1);
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(dump_field(dumps[0], "X-Mail-Args"), "<alice@example.org>");  // no DSN, no 8BITMIME
  EXPECT_EQ(dump_field(dumps[0], "X-Rcpt-Args"), "<bob@example.com>");
  EXPECT_EQ(dumped_message(dumps[0]), "Subject: x\n\nhi\n\n");
}

TEST_F(SinkTest, ReusesTheConnection) {
  SmtpSink sink({"-c"});
  SmtpClient client(fast_options());
  for (int i = 0; i < 3; ++i) {
    auto r = client.deliver(sink.hop(), envelope({"bob@example.com"}), "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n");
    ASSERT_FALSE(r.connection_failed) << i << ": " << r.failure.text;
    EXPECT_EQ(r.recipients[0].reply.code, 250);
  }
  EXPECT_EQ(sink.dumps(3).size(), 3u);
  client.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the sink count the QUIT
  EXPECT_EQ(sink.sessions(), 1);
}

TEST_F(SinkTest, ReconnectsAfterMaxMessages) {
  SmtpSink sink({"-c"});
  ClientOptions o = fast_options();
  o.max_messages_per_connection = 2;
  SmtpClient client(o);
  for (int i = 0; i < 3; ++i) {
    auto r = client.deliver(sink.hop(), envelope({"bob@example.com"}), "x\r\n");
    ASSERT_FALSE(r.connection_failed) << r.failure.text;
    EXPECT_EQ(r.recipients[0].reply.code, 250);
  }
  client.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sink.sessions(), 2);  // two messages on the first connection, one on the second
}

TEST_F(SinkTest, HopChangeOpensANewConnection) {
  SmtpSink a({"-c"});
  SmtpSink b({"-c"});
  SmtpClient client(fast_options());
  EXPECT_EQ(client.deliver(a.hop(), envelope({"x@example.com"}), "x\r\n").recipients[0].reply.code, 250);
  EXPECT_EQ(client.deliver(b.hop(), envelope({"x@example.com"}), "x\r\n").recipients[0].reply.code, 250);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(a.sessions(), 1);  // closed with QUIT when the client moved on to b
  client.close();
}

TEST_F(SinkTest, HardRejectedRecipients) {
  SmtpSink sink({"-f", "RCPT"});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(), envelope({"a@example.com", "b@example.com"}), "x\r\n");
  EXPECT_FALSE(r.connection_failed);
  ASSERT_EQ(r.recipients.size(), 2u);
  for (const auto& rc : r.recipients) {
    EXPECT_EQ(rc.reply.code, 500);
    EXPECT_EQ(rc.reply.enhanced, "5.3.0");
    EXPECT_TRUE(rc.reply.permanent());
    EXPECT_EQ(rc.reply.text, "Error: command failed");
  }
  // The connection is still good for the next message (RSET, then a new transaction).
  auto again = client.deliver(sink.hop(), envelope({"a@example.com"}), "x\r\n");
  EXPECT_EQ(again.recipients[0].reply.code, 500);
  client.close();
  EXPECT_TRUE(sink.dumps(0).empty());
}

TEST_F(SinkTest, SoftRejectedRecipients) {
  SmtpSink sink({"-r", "RCPT"});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(), envelope({"a@example.com"}), "x\r\n");
  EXPECT_FALSE(r.connection_failed);
  EXPECT_EQ(r.recipients[0].reply.code, 450);
  EXPECT_EQ(r.recipients[0].reply.enhanced, "4.3.0");
  EXPECT_FALSE(r.recipients[0].reply.permanent());
}

TEST_F(SinkTest, MailRejectedFailsTheAttempt) {
  SmtpSink sink({"-f", "MAIL"});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(), envelope({"a@example.com", "b@example.com"}), "x\r\n");
  EXPECT_TRUE(r.connection_failed);
  EXPECT_EQ(r.failure.code, 500);
  for (const auto& rc : r.recipients) EXPECT_EQ(rc.reply.code, 500);
}

TEST_F(SinkTest, FinalDotRejected) {
  SmtpSink sink({"-f", "."});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(), envelope({"a@example.com", "b@example.com"}), "x\r\n");
  EXPECT_FALSE(r.connection_failed);
  for (const auto& rc : r.recipients) EXPECT_EQ(rc.reply.code, 500);
}

TEST_F(SinkTest, DisconnectAfterDataIsNoDelivery) {
  SmtpSink sink({"-q", "DATA"});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(), envelope({"a@example.com"}), "x\r\n");
  EXPECT_EQ(r.recipients[0].reply.code, 0);
  EXPECT_FALSE(r.recipients[0].reply.ok());
}

TEST_F(SinkTest, Reply421ClosesAndNextDeliveryReconnects) {
  SmtpSink sink({"-Q", "."});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(), envelope({"a@example.com"}), "x\r\n");
  EXPECT_EQ(r.recipients[0].reply.code, 421);
  auto again = client.deliver(sink.hop(), envelope({"a@example.com"}), "x\r\n");
  EXPECT_FALSE(again.connection_failed) << again.failure.text;
  EXPECT_EQ(again.recipients[0].reply.code, 421);  // a fresh session, same policy
}

TEST_F(SinkTest, StartTlsRequiredButNotOffered) {
  SmtpSink sink({});
  SmtpClient client(fast_options());
  auto r = client.deliver(sink.hop(TlsMode::kRequired), envelope({"a@example.com"}), "x\r\n");
  EXPECT_TRUE(r.connection_failed);
  EXPECT_EQ(r.failure.code, 451);
  EXPECT_EQ(r.failure.enhanced, "4.7.5");
  EXPECT_FALSE(r.failure.permanent());
  EXPECT_FALSE(r.recipients[0].reply.ok());
  EXPECT_TRUE(sink.dumps(0).empty());
  // Opportunistic: the same server gets the message in the clear.
  auto clear = client.deliver(sink.hop(TlsMode::kOpportunistic), envelope({"a@example.com"}), "x\r\n");
  EXPECT_EQ(clear.recipients[0].reply.code, 250);
  EXPECT_FALSE(clear.tls);
}

TEST_F(SinkTest, SmtpUtf8NotOfferedFailsWithoutSending) {
  SmtpSink sink({});
  SmtpClient client(fast_options());
  Envelope env = envelope({"δοκιμή@example.com"});
  env.smtputf8 = true;
  auto r = client.deliver(sink.hop(), env, "x\r\n");
  EXPECT_EQ(r.recipients[0].reply.code, 550);
  EXPECT_EQ(r.recipients[0].reply.enhanced, "5.6.7");
  EXPECT_TRUE(r.recipients[0].reply.permanent());
  client.close();
  EXPECT_TRUE(sink.dumps(0).empty());
}

TEST(Client, ConnectionRefused) {
  const std::uint16_t port = free_port();  // nothing listens there
  SmtpClient client(fast_options());
  auto r = client.deliver(Hop{"127.0.0.1", port, TlsMode::kOpportunistic, false, ""},
                          envelope({"a@example.com", "b@example.com"}), "x\r\n");
  EXPECT_TRUE(r.connection_failed);
  EXPECT_EQ(r.failure.code, 0);
  EXPECT_NE(r.failure.text.find("refused"), std::string::npos) << r.failure.text;
  EXPECT_EQ(r.remote, "127.0.0.1[127.0.0.1]:" + std::to_string(port));
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[1].address, "b@example.com");
  EXPECT_EQ(r.recipients[1].reply.code, 0);
}

// ---- The scripted server (this test's own code; smtp-sink cannot do these).

struct KeyAndCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~KeyAndCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

// A self-signed P-256 certificate whose subjectAltName is `san` ("IP:127.0.0.1").
void make_cert(KeyAndCert& kc, const char* san) {
  kc.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  kc.cert = X509_new();
  X509_set_version(kc.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(kc.cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(kc.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(kc.cert), 3600);
  X509_set_pubkey(kc.cert, kc.key);
  X509_NAME* name = X509_get_subject_name(kc.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("bulwark test"), -1,
                             -1, 0);
  X509_set_issuer_name(kc.cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, kc.cert, kc.cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
  X509_add_ext(kc.cert, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(kc.cert, kc.key, EVP_sha256());
}

// One accepted connection, read and written line by line, optionally switched to TLS.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}
  ~Peer() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }
  void send(const std::string& s) {
    if (ssl_ != nullptr) SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    else (void)::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
  }
  // One line without CRLF; "" with ok=false at EOF.
  std::string line(bool* ok = nullptr) {
    for (;;) {
      const auto nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        if (ok != nullptr) *ok = true;
        return l;
      }
      char tmp[4096];
      const int n = ssl_ != nullptr ? SSL_read(ssl_, tmp, sizeof(tmp))
                                    : static_cast<int>(::recv(fd_, tmp, sizeof(tmp), 0));
      if (n <= 0) {
        if (ok != nullptr) *ok = false;
        return "";
      }
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  // DATA content up to the lone ".", as sent (still dot-stuffed).
  std::string data() {
    std::string out;
    for (bool ok = true; ok;) {
      const std::string l = line(&ok);
      if (!ok || l == ".") break;
      out += l + "\r\n";
    }
    return out;
  }
  bool start_tls(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    return SSL_accept(ssl_) == 1;
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

class ScriptedServer {
 public:
  using Script = std::function<void(Peer&)>;
  explicit ScriptedServer(Script script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof(a);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(listen_fd_, 4);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      Peer peer(fd);
      script(peer);
    });
  }
  ~ScriptedServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept() if the client never came
    thread_.join();
    ::close(listen_fd_);
  }
  Hop hop(TlsMode tls = TlsMode::kOpportunistic) const { return Hop{"127.0.0.1", port_, tls, false, ""}; }

 private:
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(Scripted, MixedRecipientRepliesUnderPipelining) {
  std::vector<std::string> seen;
  std::string content;
  ScriptedServer server([&](Peer& p) {
    p.send("220 fake ESMTP\r\n");
    seen.push_back(p.line());
    p.send("250-fake\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
    for (int i = 0; i < 5; ++i) seen.push_back(p.line());  // MAIL, 3 RCPT, DATA in one batch
    p.send("250 2.1.0 ok\r\n250 2.1.5 ok\r\n550-5.1.1 no such\r\n550 5.1.1 user here\r\n450 4.2.0 later\r\n354 go\r\n");
    content = p.data();
    p.send("250 2.0.0 queued as X\r\n");
    seen.push_back(p.line());
    p.send("221 2.0.0 bye\r\n");
  });
  SmtpClient client(fast_options());
  Envelope env = envelope({"ok@example.com", "nouser@example.com", "later@example.com"});
  env.envid = "a+b=c";
  auto r = client.deliver(server.hop(), env, "Subject: s\r\n\r\n.x\r\n");
  client.close();
  ASSERT_FALSE(r.connection_failed) << r.failure.text;
  ASSERT_EQ(r.recipients.size(), 3u);
  EXPECT_EQ(r.recipients[0].reply.code, 250);
  EXPECT_EQ(r.recipients[0].reply.text, "queued as X");
  EXPECT_EQ(r.recipients[1].reply.code, 550);
  EXPECT_EQ(r.recipients[1].reply.enhanced, "5.1.1");
  EXPECT_EQ(r.recipients[1].reply.text, "no such; user here");
  EXPECT_EQ(r.recipients[2].reply.code, 450);
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[0], "EHLO gw.example.org");
  EXPECT_EQ(seen[1], "MAIL FROM:<alice@example.org> SIZE=18 ENVID=a+2Bb+3Dc");
  EXPECT_EQ(seen[2], "RCPT TO:<ok@example.com>");
  EXPECT_EQ(seen[5], "DATA");
  EXPECT_EQ(seen[6], "QUIT");
  EXPECT_EQ(content, "Subject: s\r\n\r\n..x\r\n");
}

TEST(Scripted, EhloRejectedFallsBackToHelo) {
  std::vector<std::string> seen;
  ScriptedServer server([&](Peer& p) {
    p.send("220 old\r\n");
    seen.push_back(p.line());
    p.send("502 what\r\n");
    seen.push_back(p.line());
    p.send("250 old\r\n");
    for (const char* reply : {"250 ok\r\n", "250 ok\r\n", "354 go\r\n"}) {
      seen.push_back(p.line());
      p.send(reply);
    }
    p.data();
    p.send("250 done\r\n");
    p.line();
    p.send("221 bye\r\n");
  });
  SmtpClient client(fast_options());
  Envelope env = envelope({"a@example.com"});
  env.recipients[0].notify = "FAILURE";  // no DSN extension: must not be sent
  auto r = client.deliver(server.hop(), env, "x\r\n");
  client.close();
  EXPECT_EQ(r.recipients[0].reply.code, 250);
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[1], "HELO gw.example.org");
  EXPECT_EQ(seen[2], "MAIL FROM:<alice@example.org>");
  EXPECT_EQ(seen[3], "RCPT TO:<a@example.com>");
}

// Hostile replies end the attempt with code 0; the client neither crashes nor hangs.
TEST(Scripted, HostileReplies) {
  const std::vector<std::string> greetings = {
      "220-a\r\n221 b\r\n",                    // inconsistent codes
      "220 ok\r\n",                            // (then a bad EHLO reply, below)
      std::string(5000, '2') + "\r\n",         // overlong line
      "2x0 hi\r\n",                            // not a code
      "220x\r\n",                              // bad separator
      "199 low\r\n",                           // out of range
      std::string("220 nul\0byte\r\n", 15),    // NUL in text is fine but sanitised
  };
  for (std::size_t i = 0; i < greetings.size(); ++i) {
    ScriptedServer server([&](Peer& p) {
      p.send(greetings[i]);
      if (i == 1) {
        p.line();
        std::string flood;
        for (int n = 0; n < 40; ++n) flood += "250-" + std::string(2000, 'k') + "\r\n";
        p.send(flood + "250 end\r\n");  // > 64 KiB in one reply
      }
      if (i == 6) {
        p.line();
        p.send("250 x\r\n");
        p.line();
        p.send("550 5.7.1 no\r\n");
      }
      for (bool ok = true; ok;)
        if (p.line(&ok) == "QUIT") p.send("221 bye\r\n");
    });
    SmtpClient client(fast_options());
    auto r = client.deliver(server.hop(), envelope({"a@example.com"}), "x\r\n");
    if (i == 6) {
      // A NUL is no protocol error; it is only kept out of the text. The session went on.
      EXPECT_FALSE(r.recipients[0].reply.ok());
      continue;
    }
    EXPECT_TRUE(r.connection_failed) << i;
    EXPECT_EQ(r.failure.code, 0) << i << ": " << r.failure.text;
  }
}

TEST(Scripted, SilentServerTimesOut) {
  ScriptedServer server([](Peer& p) {
    bool ok = true;
    while (ok) p.line(&ok);  // never greets
  });
  ClientOptions o = fast_options();
  o.command_timeout_ms = 300;
  SmtpClient client(o);
  const auto start = std::chrono::steady_clock::now();
  auto r = client.deliver(server.hop(), envelope({"a@example.com"}), "x\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(r.connection_failed);
  EXPECT_NE(r.failure.text.find("timeout"), std::string::npos) << r.failure.text;
}

// STARTTLS with certificate verification against the test's own trust anchor.
class TlsTest : public ::testing::TestWithParam<const char*> {};

void tls_script(Peer& p, SSL_CTX* ctx, std::string* content, bool* handshake_ok) {
  p.send("220 tls ESMTP\r\n");
  p.line();
  p.send("250-tls\r\n250-STARTTLS\r\n250 PIPELINING\r\n");
  if (p.line() != "STARTTLS") return;
  p.send("220 2.0.0 ready\r\n");
  *handshake_ok = p.start_tls(ctx);
  if (!*handshake_ok) return;
  p.line();  // EHLO again
  p.send("250-tls\r\n250 PIPELINING\r\n");
  for (int i = 0; i < 3; ++i) p.line();
  p.send("250 ok\r\n250 ok\r\n354 go\r\n");
  *content = p.data();
  p.send("250 2.0.0 ok\r\n");
  p.line();
  p.send("221 bye\r\n");
}

TEST_P(TlsTest, StartTls) {
  const std::string san = GetParam();
  const bool name_matches = san == "IP:127.0.0.1";
  KeyAndCert kc;
  make_cert(kc, san.c_str());
  const fs::path ca = fs::temp_directory_path() / ("bulwark-ca-" + std::to_string(::getpid()) + ".pem");
  {
    FILE* f = std::fopen(ca.c_str(), "w");
    PEM_write_X509(f, kc.cert);
    std::fclose(f);
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, kc.cert);
  SSL_CTX_use_PrivateKey(ctx, kc.key);

  for (const bool verify : {false, true}) {
    std::string content;
    bool handshake_ok = false;
    {
      ScriptedServer server([&](Peer& p) { tls_script(p, ctx, &content, &handshake_ok); });
      SmtpClient client(fast_options());
      Hop hop = server.hop(TlsMode::kRequired);
      hop.verify_certificate = verify;
      hop.ca_file = ca.string();
      auto r = client.deliver(hop, envelope({"a@example.com"}), "Subject: tls\r\n\r\nsecret\r\n");
      client.close();
      if (!verify || name_matches) {
        ASSERT_FALSE(r.connection_failed) << r.failure.text;
        EXPECT_TRUE(r.tls);
        EXPECT_EQ(r.recipients[0].reply.code, 250);
        EXPECT_EQ(content, "Subject: tls\r\n\r\nsecret\r\n");
      } else {
        EXPECT_TRUE(r.connection_failed);
        EXPECT_EQ(r.failure.code, 451);
        EXPECT_EQ(r.failure.enhanced, "4.7.5");
        EXPECT_NE(r.failure.text.find("verif"), std::string::npos) << r.failure.text;
        EXPECT_TRUE(content.empty());
      }
    }
  }
  SSL_CTX_free(ctx);
  fs::remove(ca);
}

INSTANTIATE_TEST_SUITE_P(Names, TlsTest, ::testing::Values("IP:127.0.0.1", "DNS:other.test"));

// A broken handshake under opportunistic TLS: the message still goes, in the clear.
TEST(Scripted, OpportunisticFallsBackToClearAfterHandshakeFailure) {
  int connections = 0;
  std::string content;
  auto script = [&](Peer& p) {
    ++connections;
    p.send("220 x ESMTP\r\n");
    p.line();
    p.send("250-x\r\n250 STARTTLS\r\n");
    if (connections == 1) {
      p.line();
      p.send("220 go ahead\r\n");
      p.send("this is not TLS\r\n");
      return;
    }
    for (const char* reply : {"250 ok\r\n", "250 ok\r\n", "354 go\r\n"}) {
      p.line();
      p.send(reply);
    }
    content = p.data();
    p.send("250 ok\r\n");
    p.line();
    p.send("221 bye\r\n");
  };
  // Both connections go to the same listener: accept twice.
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof(a);
  ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(lfd, 4);
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread t([&] {
    for (int i = 0; i < 2; ++i) {
      const int fd = ::accept(lfd, nullptr, nullptr);
      if (fd < 0) return;
      Peer peer(fd);
      script(peer);
    }
  });
  SmtpClient client(fast_options());
  auto r = client.deliver(Hop{"127.0.0.1", ntohs(a.sin_port), TlsMode::kOpportunistic, false, ""},
                          envelope({"a@example.com"}), "m\r\n");
  client.close();
  ::shutdown(lfd, SHUT_RDWR);
  t.join();
  ::close(lfd);
  EXPECT_EQ(connections, 2);
  EXPECT_FALSE(r.tls);
  EXPECT_EQ(r.recipients[0].reply.code, 250) << r.failure.text;
  EXPECT_EQ(content, "m\r\n");
}

}  // namespace
