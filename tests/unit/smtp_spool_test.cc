// The spool: durable commits (grouped), recovery after a crash, torn files refused, delivery
// state round trip; and the gateway's header helpers and client networks / PROXY v2.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "smtp/gateway.h"
#include "smtp/network.h"
#include "smtp/spool.h"

namespace bulwark::smtp {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/bulwark-spool-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "";
}

Envelope envelope(const std::string& id) {
  Envelope e;
  e.id = id;
  e.mail_from = "a@sender.test";
  e.recipients.push_back({"b@example.com", "SUCCESS,FAILURE", "rfc822;b@example.com"});
  e.client_ip = "192.0.2.1";
  e.client_helo = "client.test";
  e.received_at = 1700000000;
  return e;
}

TEST(Spool, CommitIsReadableAndExact) {
  const std::string dir = temp_dir();
  auto s = Spool::open(dir);
  ASSERT_TRUE(s) << s.error().message;
  const std::string data = "Subject: x\r\n\r\nbinary \x01\xff body\r\n";
  ASSERT_TRUE(s.value()->commit_sync(envelope("00aa"), data));
  auto ids = s.value()->ids();
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids.value(), std::vector<std::string>{"00aa"});
  auto env = s.value()->envelope("00aa");
  ASSERT_TRUE(env);
  EXPECT_EQ(env.value().mail_from, "a@sender.test");
  EXPECT_EQ(env.value().recipients[0].notify, "SUCCESS,FAILURE");
  EXPECT_EQ(env.value().recipients[0].orcpt, "rfc822;b@example.com");
  auto back = s.value()->data("00aa");
  ASSERT_TRUE(back);
  EXPECT_EQ(back.value(), data);
}

TEST(Spool, ConcurrentCommitsAreGroupedAndAllDurable) {
  const std::string dir = temp_dir();
  auto s = Spool::open(dir);
  ASSERT_TRUE(s);
  constexpr int kN = 200;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kN; i += 8) {
        char id[16];
        std::snprintf(id, sizeof id, "%08x", i);
        s.value()->commit(envelope(id), "message " + std::to_string(i) + "\r\n", [&](const std::string& err) {
          std::lock_guard<std::mutex> lock(mu);
          ++done;
          if (!err.empty()) ++failed;
          cv.notify_all();
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == kN; }));
  EXPECT_EQ(failed, 0);
  auto ids = s.value()->ids();
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids.value().size(), static_cast<std::size_t>(kN));
  EXPECT_EQ(s.value()->data("0000002a").value(), "message 42\r\n");
}

TEST(Spool, RecoveryRemovesUnacknowledgedPartialWrites) {
  const std::string dir = temp_dir();
  {
    auto s = Spool::open(dir);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s.value()->commit_sync(envelope("01"), "kept\r\n"));
  }
  { std::ofstream(dir + "/tmp/02") << "half a mess"; }  // a crash mid-write
  auto cli = Spool::open(dir, /*recover=*/false);      // the CLI must not touch tmp/
  ASSERT_TRUE(cli);
  EXPECT_EQ(::access((dir + "/tmp/02").c_str(), F_OK), 0);
  cli.value().reset();
  auto s = Spool::open(dir);  // the server does
  ASSERT_TRUE(s);
  EXPECT_NE(::access((dir + "/tmp/02").c_str(), F_OK), 0);
  EXPECT_EQ(s.value()->ids().value(), std::vector<std::string>{"01"});
}

TEST(Spool, TornOrForeignFilesAreRefusedNotGuessed) {
  const std::string file = spool_file(envelope("03"), "0123456789");
  EXPECT_TRUE(parse_spool_file(file));
  EXPECT_FALSE(parse_spool_file(file.substr(0, file.size() - 1)));  // truncated data
  EXPECT_FALSE(parse_spool_file(file + "x"));                        // trailing bytes
  EXPECT_FALSE(parse_spool_file(file.substr(0, 30)));                // truncated envelope
  EXPECT_FALSE(parse_spool_file("From: x\r\n\r\nbody"));
}

TEST(Spool, DeliveryStateRoundTripAndRemove) {
  const std::string dir = temp_dir();
  auto s = Spool::open(dir);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s.value()->commit_sync(envelope("04"), "x\r\n"));
  DeliveryState st;
  st.attempts = 3;
  st.next_attempt = 1700000600;
  st.settled = {"b@example.com"};
  st.last_error = "451 4.3.0 try later\r\nsecond line";
  ASSERT_TRUE(s.value()->save_state("04", st));
  const DeliveryState back = s.value()->state("04");
  EXPECT_EQ(back.attempts, 3u);
  EXPECT_EQ(back.next_attempt, 1700000600);
  EXPECT_EQ(back.settled, std::vector<std::string>{"b@example.com"});
  EXPECT_EQ(back.last_error, "451 4.3.0 try later  second line");
  ASSERT_TRUE(s.value()->remove("04"));
  EXPECT_TRUE(s.value()->ids().value().empty());
  EXPECT_NE(::access((dir + "/queue/04.state").c_str(), F_OK), 0);
}

TEST(Spool, HostileIdsNeverBecomePaths) {
  const std::string dir = temp_dir();
  auto s = Spool::open(dir);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s.value()->commit_sync(envelope("../../etc/x"), "x"));
  EXPECT_FALSE(s.value()->envelope("../queue/01"));
  EXPECT_FALSE(s.value()->remove("/etc/passwd"));
  EXPECT_FALSE(Spool::valid_id("ABC"));
  EXPECT_TRUE(Spool::valid_id("0123abcd"));
}

TEST(GatewayHeaders, ForgedVerdictHeadersAreStripped) {
  const std::string m =
      "X-Bulwark-Score: -999\r\n\tcontinued\r\nSubject: hi\r\nx-bulwark-action: accept\r\n\r\n"
      "X-Bulwark-Score: in the body stays\r\n";
  EXPECT_EQ(strip_header_fields(m, "X-Bulwark-"), "Subject: hi\r\n\r\nX-Bulwark-Score: in the body stays\r\n");
}

TEST(GatewayHeaders, ReceivedLineNamesTheQueueIdAndProtocol) {
  Envelope e = envelope("0005f3c2a1b4c00a1b2c");
  e.tls = true;
  e.client_helo = "evil\r\nInjected: yes";
  const std::string h = received_header(e, "gw.test", 1700000000);
  EXPECT_EQ(h,
            "Received: from evil  Injected: yes ([192.0.2.1])\r\n\tby gw.test (Bulwark) with ESMTPS id "
            "0005f3c2a1b4c00a1b2c\r\n\tfor <b@example.com>; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST(GatewayHeaders, VerdictHeadersAreFolded) {
  scan::Verdict v;
  v.action = Action::kTag;
  v.score = 6.5;
  for (int i = 0; i < 8; ++i) v.symbols.push_back(Symbol{"SOME_LONG_SYMBOL_NAME_" + std::to_string(i), "", 0.5});
  const std::string h = verdict_headers(v);
  EXPECT_TRUE(h.starts_with("X-Bulwark-Action: tag\r\nX-Bulwark-Score: 6.50\r\nX-Bulwark-Symbols: SOME_LONG_SYMBOL_NAME_0(0.50),"));
  std::size_t start = 0;
  while (start < h.size()) {
    const std::size_t end = h.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 78u) << h.substr(start, end - start);
    start = end + 2;
  }
}

TEST(Networks, Cidr) {
  NetworkList n({"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1/128"});
  EXPECT_TRUE(n.contains("10.1.2.3"));
  EXPECT_FALSE(n.contains("11.0.0.1"));
  EXPECT_TRUE(n.contains("192.0.2.7"));
  EXPECT_FALSE(n.contains("192.0.2.8"));
  EXPECT_TRUE(n.contains("2001:db8:1::5"));
  EXPECT_TRUE(n.contains("::1"));
  EXPECT_TRUE(n.contains("::ffff:10.9.9.9"));  // IPv4-mapped matches the IPv4 network
  EXPECT_FALSE(n.contains("not an ip"));
  std::string errors;
  NetworkList bad({"10.0.0.0/33", "nonsense"}, &errors);
  EXPECT_TRUE(bad.empty());
  EXPECT_NE(errors.find("10.0.0.0/33"), std::string::npos);
}

TEST(Networks, ProxyV2Header) {
  std::string h = std::string("\r\n\r\n\0\r\nQUIT\n", 12);
  h += '\x21';  // v2, PROXY
  h += '\x11';  // TCP over IPv4
  h += std::string("\x00\x0c", 2);
  const std::string block = std::string("\xc6\x33\x64\x07\x7f\x00\x00\x01\x30\x39\x00\x19", 12);
  auto len = proxy_v2_length(reinterpret_cast<const unsigned char*>(h.data()));
  ASSERT_TRUE(len);
  EXPECT_EQ(*len, 12u);
  auto src = proxy_v2_source(reinterpret_cast<const unsigned char*>(h.data()), block);
  ASSERT_TRUE(src);
  EXPECT_EQ(*src, "198.51.100.7");
  // LOCAL (health check): keep the real peer.
  std::string local = h;
  local[12] = '\x20';
  EXPECT_EQ(*proxy_v2_source(reinterpret_cast<const unsigned char*>(local.data()), block), "");
  // Not PROXY v2, or too long, or truncated.
  EXPECT_FALSE(proxy_v2_length(reinterpret_cast<const unsigned char*>("EHLO example.test\r\n")));
  std::string huge = h;
  huge[14] = '\x7f';
  EXPECT_FALSE(proxy_v2_length(reinterpret_cast<const unsigned char*>(huge.data())));
  EXPECT_FALSE(proxy_v2_source(reinterpret_cast<const unsigned char*>(h.data()), block.substr(0, 5)));
}

}  // namespace
}  // namespace bulwark::smtp
