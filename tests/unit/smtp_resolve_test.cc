// Resolver against a real DNS server: dnsmasq, started by the test on 127.0.0.1 with fixed
// records (spawning peers is allowed in tests only; src/ never starts a process).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "smtp/resolve.h"

using namespace bulwark;
using smtp::Resolver;
using smtp::ResolverOptions;

namespace {

const char* kDnsmasq = "/usr/sbin/dnsmasq";

// A port free for both UDP and TCP on 127.0.0.1 (the kernel picks it; we release it).
std::uint16_t free_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
    const int t = ::socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free = ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(t);
    ::close(u);
    if (tcp_free) return ntohs(a.sin_port);
  }
  return 0;
}

bool tcp_accepts(std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(s);
  return ok;
}

class Dnsmasq {
 public:
  explicit Dnsmasq(const std::vector<std::string>& records) : port_(free_port()) {
    std::vector<std::string> args = {kDnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=",
                                     "--port=" + std::to_string(port_), "--listen-address=127.0.0.1",
                                     "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/"};
    if (::geteuid() == 0) args.push_back("--user=root");
    args.insert(args.end(), records.begin(), records.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(kDnsmasq, argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !tcp_accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~Dnsmasq() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string servers() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

class ResolverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::access(kDnsmasq, X_OK) != 0) return;
    dns_ = new Dnsmasq({
        "--mx-host=example.test,mx1.example.test,10",
        "--mx-host=example.test,mx2.example.test,20",
        "--mx-host=example.test,mx3.example.test,20",
        "--host-record=mx1.example.test,127.0.0.1",
        "--host-record=mx2.example.test,127.0.0.1,::1",
        "--host-record=mx3.example.test,127.0.0.1",
        "--host-record=nomx.test,127.0.0.1",
        "--mx-host=nullmx.test,.,0",
        "--mx-host=dangling.test,gone.test,10",
        "--mx-host=half.test,gone.test,5",
        "--mx-host=half.test,mx1.example.test,10",
    });
  }
  static void TearDownTestSuite() {
    delete dns_;
    dns_ = nullptr;
  }
  void SetUp() override {
    if (dns_ == nullptr) GTEST_SKIP() << "dnsmasq not installed";
  }
  Resolver resolver() const { return Resolver(ResolverOptions{dns_->servers(), 3000}); }

  static Dnsmasq* dns_;
};

Dnsmasq* ResolverTest::dns_ = nullptr;

TEST_F(ResolverTest, MxHostsOrderedByPreference) {
  auto r = resolver().mail_hosts("example.test");
  ASSERT_TRUE(r) << r.error().message;
  const auto& hosts = r.value();
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[0].name, "mx1.example.test");
  EXPECT_EQ(hosts[0].preference, 10);
  EXPECT_EQ(hosts[0].addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(hosts[1].preference, 20);
  EXPECT_EQ(hosts[2].preference, 20);
  for (const auto& h : hosts) {
    if (h.name == "mx2.example.test") {
      const std::set<std::string> got(h.addresses.begin(), h.addresses.end());
      EXPECT_EQ(got, (std::set<std::string>{"127.0.0.1", "::1"}));
    }
  }
}

TEST_F(ResolverTest, EqualPreferencesAreShuffled) {
  std::set<std::string> seen_second;
  for (int i = 0; i < 40 && seen_second.size() < 2; ++i) {
    auto r = resolver().mail_hosts("example.test");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r.value().size(), 3u);
    EXPECT_EQ(r.value()[0].name, "mx1.example.test");  // the lower preference always first
    seen_second.insert(r.value()[1].name);
  }
  EXPECT_EQ(seen_second, (std::set<std::string>{"mx2.example.test", "mx3.example.test"}));
}

TEST_F(ResolverTest, NoMxMeansTheDomainItself) {
  auto r = resolver().mail_hosts("NoMX.test.");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r.value().size(), 1u);
  EXPECT_EQ(r.value()[0].name, "nomx.test");
  EXPECT_EQ(r.value()[0].preference, 0);
  EXPECT_EQ(r.value()[0].addresses, std::vector<std::string>{"127.0.0.1"});
}

TEST_F(ResolverTest, NullMx) {
  auto r = resolver().mail_hosts("nullmx.test");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("null MX")) << r.error().message;
}

TEST_F(ResolverTest, NxDomain) {
  auto r = resolver().mail_hosts("nope.test");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("no such domain")) << r.error().message;
  auto a = resolver().addresses("nope.test");
  ASSERT_FALSE(a);
  EXPECT_TRUE(a.error().message.starts_with("no such domain")) << a.error().message;
}

TEST_F(ResolverTest, MxWithoutAddresses) {
  auto r = resolver().mail_hosts("dangling.test");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("no such domain")) << r.error().message;
  // One dead MX among good ones is skipped.
  auto h = resolver().mail_hosts("half.test");
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_EQ(h.value().size(), 1u);
  EXPECT_EQ(h.value()[0].name, "mx1.example.test");
}

TEST_F(ResolverTest, Addresses) {
  auto r = resolver().addresses("mx1.example.test");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value(), std::vector<std::string>{"127.0.0.1"});
  auto lit = resolver().addresses("127.0.0.1");
  ASSERT_TRUE(lit);
  EXPECT_EQ(lit.value(), std::vector<std::string>{"127.0.0.1"});
  auto lit6 = resolver().addresses("[::1]");
  ASSERT_TRUE(lit6);
  EXPECT_EQ(lit6.value(), std::vector<std::string>{"::1"});
}

TEST_F(ResolverTest, InvalidNamesNeverReachTheServer) {
  for (const char* bad : {"", "a..b", "bad name.test", "x\n.test"}) {
    auto r = resolver().mail_hosts(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().message.starts_with("no such domain")) << r.error().message;
  }
}

// A server that never answers: the lookup ends at the deadline, as a temporary failure.
TEST(ResolverTimeout, SilentServerIsTemporaryAndBounded) {
  const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  Resolver r(ResolverOptions{"127.0.0.1:" + std::to_string(ntohs(a.sin_port)), 700});
  const auto start = std::chrono::steady_clock::now();
  auto mx = r.mail_hosts("example.test");
  auto addr = r.addresses("host.example.test");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(silent);
  ASSERT_FALSE(mx);
  EXPECT_TRUE(mx.error().message.starts_with("temporary")) << mx.error().message;
  ASSERT_FALSE(addr);
  EXPECT_TRUE(addr.error().message.starts_with("temporary")) << addr.error().message;
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));
}

}  // namespace
