// The sandbox against a hostile worker: crashes, hangs, huge allocations, forbidden system
// calls and bad frames must each be contained, counted, retried once in a fresh worker,
// and end as "unscannable" (never "clean"); the next message must be scanned normally.
// Triggers live here, in test code, passed in as WorkerOptions::test_hook: the product
// binary contains none of them.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <thread>

#include "sandbox/frame.h"
#include "sandbox/pool.h"

using namespace bulwark;
using sandbox::PoolOptions;
using sandbox::WorkerPool;

namespace {

const std::string kClean =
    "From: a@example.com\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
const std::string kEvasive =
    "From: a@example.com\r\nSubject: two\r\nContent-Type: text/plain\r\n"
    "Content-Type: text/html\r\n\r\n<b>x</b>\r\n";

void trigger(std::string_view msg) {
  if (msg.find("TRIGGER:crash") != std::string_view::npos) __builtin_trap();
  if (msg.find("TRIGGER:abort") != std::string_view::npos) std::abort();
  if (msg.find("TRIGGER:hang") != std::string_view::npos) {
    volatile unsigned spin = 0;
    for (;;) spin = spin + 1u;
  }
  if (msg.find("TRIGGER:alloc") != std::string_view::npos) {
    std::string* big = new std::string(std::size_t{64} << 30, 'x');  // 64 GiB
    std::abort();  // not reached: the allocation fails first
    delete big;
  }
  if (msg.find("TRIGGER:open") != std::string_view::npos) {
    // Must be refused: a file that opens is a sandbox failure, made loud.
    if (::syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY) >= 0) __builtin_trap();
    if (::syscall(SYS_openat, AT_FDCWD, "/tmp/bulwark-escape", O_WRONLY | O_CREAT, 0600) >= 0)
      __builtin_trap();
  }
  if (msg.find("TRIGGER:fork") != std::string_view::npos) ::syscall(SYS_fork);
  if (msg.find("TRIGGER:ptrace") != std::string_view::npos) ::syscall(SYS_ptrace, 0, 1, 0, 0);
  if (msg.find("TRIGGER:socket") != std::string_view::npos) ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
  if (msg.find("TRIGGER:execve") != std::string_view::npos) {
    const char* argv[] = {"/bin/sh", nullptr};
    ::syscall(SYS_execve, "/bin/sh", argv, nullptr);
  }
  if (msg.find("TRIGGER:stderr") != std::string_view::npos) {
    // What libraries do (Tesseract's "Empty page!!"): a note to stderr, unbuffered.
    const char note[] = "a library's note\n";
    (void)!::write(2, note, sizeof note - 1);
  }
  if (msg.find("TRIGGER:badframe") != std::string_view::npos) {
    const char junk[16] = "not a frame!!!!";
    (void)!::write(3, junk, sizeof junk);
  }
}

PoolOptions options(std::size_t workers = 1) {
  PoolOptions o;
  o.workers = workers;
  o.timeout_ms = 1500;
  o.worker.lockdown.address_space_bytes = std::uint64_t{2} << 30;
  o.worker.test_hook = trigger;
  return o;
}

std::string proc_status(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string field(const std::string& status, const std::string& name) {
  const auto at = status.find("\n" + name + ":");
  if (at == std::string::npos) return "";
  const auto start = status.find_first_not_of(" \t", at + name.size() + 2);
  return status.substr(start, status.find('\n', start) - start);
}

}  // namespace

TEST(Sandbox, ScansLikeInProcess) {
  const scan::Scanner scanner(default_config());
  WorkerPool pool(scanner, options(2));
  ASSERT_EQ(pool.lanes(), 2u);
  for (std::size_t lane = 0; lane < 2; ++lane) {
    auto o = pool.scan(lane, kEvasive, true);
    ASSERT_TRUE(o.ok) << o.failure;
    const scan::Verdict direct = scanner.scan(kEvasive, "").verdict;
    EXPECT_EQ(o.reply.verdict.action, direct.action);
    EXPECT_DOUBLE_EQ(o.reply.verdict.score, direct.score);
    ASSERT_EQ(o.reply.verdict.symbols.size(), direct.symbols.size());
    EXPECT_EQ(o.reply.verdict.symbols[0].name, "MIME_DUP_CONTENT_TYPE");
    EXPECT_EQ(o.reply.verdict.subject, "two");
    EXPECT_NE(o.reply.explain.find("MIME tree:"), std::string::npos);
  }
  EXPECT_EQ(pool.stats().failures(), 0u);
}

TEST(Sandbox, WorkersAreLockedDown) {
  const scan::Scanner scanner(default_config());
  WorkerPool pool(scanner, options(1));
  ASSERT_TRUE(pool.scan(0, kClean, false).ok);  // lockdown happens before the first read
  const std::string st = proc_status(pool.worker_pid(0));
  ASSERT_FALSE(st.empty());
  EXPECT_EQ(field(st, "Seccomp"), "2");  // filter mode
  EXPECT_EQ(field(st, "NoNewPrivs"), "1");
  EXPECT_EQ(field(st, "CapEff"), "0000000000000000");
  EXPECT_EQ(field(st, "CapPrm"), "0000000000000000");
  if (::geteuid() == 0) {
    EXPECT_EQ(field(st, "Uid").substr(0, 5), "65534");
  }
}

struct Trigger {
  const char* name;
  std::size_t sandbox::SandboxStats::*counter;
};

class Hostile : public testing::TestWithParam<Trigger> {};

TEST_P(Hostile, ContainedCountedRetriedThenUnscannable) {
  const Trigger t = GetParam();
  const scan::Scanner scanner(default_config());
  WorkerPool pool(scanner, options(1));
  const pid_t first = pool.worker_pid(0);
  auto bad = pool.scan(0, kClean + "TRIGGER:" + t.name + "\r\n", false);
  EXPECT_FALSE(bad.ok);
  EXPECT_FALSE(bad.failure.empty());
  const auto s = pool.stats();
  // Without ASan the allocation fails cleanly (out of memory). Under ASan its allocator
  // reports the failed allocation instead, and its report (symbolising, reading
  // /proc/self/maps) is itself a forbidden system call.
#ifdef BULWARK_SANITIZED
  const std::size_t alloc_counted = s.out_of_memory + s.crashes + s.seccomp_kills;
#else
  const std::size_t alloc_counted = s.out_of_memory;
#endif
  const std::size_t counted = std::string(t.name) == "alloc" ? alloc_counted : s.*t.counter;
  EXPECT_EQ(counted, 2u) << s.summary();
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.unscannable, 1u);
  // The verdict for it is never "accept".
  const auto v = sandbox::unscannable_verdict(bad.failure, default_config().policy);
  EXPECT_EQ(v.action, Action::kQuarantine);
  EXPECT_EQ(v.symbols.at(0).name, "SANDBOX_UNSCANNABLE");
  // A fresh worker handles the next message.
  auto good = pool.scan(0, kClean, false);
  ASSERT_TRUE(good.ok) << good.failure;
  EXPECT_EQ(good.reply.verdict.action, Action::kAccept);
  EXPECT_NE(pool.worker_pid(0), first);
}

INSTANTIATE_TEST_SUITE_P(
    Triggers, Hostile,
    testing::Values(Trigger{"crash", &sandbox::SandboxStats::crashes},
                    Trigger{"abort", &sandbox::SandboxStats::crashes},
                    Trigger{"hang", &sandbox::SandboxStats::timeouts},
                    Trigger{"alloc", &sandbox::SandboxStats::out_of_memory},
                    Trigger{"fork", &sandbox::SandboxStats::seccomp_kills},
                    Trigger{"ptrace", &sandbox::SandboxStats::seccomp_kills},
                    Trigger{"socket", &sandbox::SandboxStats::seccomp_kills},
                    Trigger{"execve", &sandbox::SandboxStats::seccomp_kills},
                    Trigger{"badframe", &sandbox::SandboxStats::bad_frames}),
    [](const testing::TestParamInfo<Trigger>& i) { return std::string(i.param.name); });

// Pipelined: a hostile message among clean ones fails alone; the clean ones around it,
// before and after, are scanned, and in order.
TEST(Sandbox, HostileMessageInAPipelinedRun) {
  const scan::Scanner scanner(default_config());
  WorkerPool pool(scanner, options(1));
  const std::string crash = kClean + "TRIGGER:crash\r\n";
  std::vector<std::string> msgs = {kClean, kEvasive, crash, kEvasive, kClean, kClean};
  std::vector<sandbox::Job> jobs;
  for (const auto& m : msgs) jobs.push_back(sandbox::Job{&m, "m", false});
  const auto out = pool.scan_many(0, jobs);
  ASSERT_EQ(out.size(), msgs.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].ok, i != 2) << i << ": " << out[i].failure;
    if (i != 2 && out[i].ok) {
      EXPECT_EQ(out[i].reply.verdict.action, msgs[i] == kEvasive ? Action::kTag : Action::kAccept) << i;
    }
  }
  const auto s = pool.stats();
  // One crash in the pipelined run, then the unanswered messages alone: the culprit
  // crashes again, and once more on its retry.
  EXPECT_EQ(s.unscannable, 1u) << s.summary();
  EXPECT_EQ(s.crashes, 3u) << s.summary();
}

// Files are out of reach: opening to read or to create fails, and the worker goes on.
TEST(Sandbox, FilesCannotBeOpened) {
  const scan::Scanner scanner(default_config());
  WorkerPool pool(scanner, options(1));
  auto o = pool.scan(0, kClean + "TRIGGER:open\r\n", false);
  EXPECT_TRUE(o.ok) << o.failure;
  EXPECT_EQ(pool.stats().failures(), 0u);
  EXPECT_FALSE(std::filesystem::exists("/tmp/bulwark-escape"));
}

// A library's note on stderr, when stderr is a regular file (a daemon's log): the file
// may not grow in a worker (RLIMIT_FSIZE 0), and the write must fail quietly rather than
// kill the worker with SIGXFSZ (found on real phishing, where Tesseract writes notes).
TEST(Sandbox, ANoteToStderrInAFileDoesNotKillTheWorker) {
  const std::filesystem::path log =
      std::filesystem::temp_directory_path() / ("bulwark-stderr-" + std::to_string(::getpid()));
  const int saved = ::dup(2);
  const int file = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  ASSERT_EQ(::dup2(file, 2), 2);
  ::close(file);
  {
    const scan::Scanner scanner(default_config());
    WorkerPool pool(scanner, options(1));
    auto o = pool.scan(0, kClean + "TRIGGER:stderr\r\n", false);
    EXPECT_TRUE(o.ok) << o.failure;
    EXPECT_EQ(pool.stats().failures(), 0u) << pool.stats().summary();
    // A worker that does die says how.
    auto crash = pool.scan(0, kClean + "TRIGGER:crash\r\n", false);
    EXPECT_EQ(crash.failure, "worker died (signal SIGILL)");
  }
  ::dup2(saved, 2);
  ::close(saved);
  EXPECT_EQ(std::filesystem::file_size(log), 0u);
  std::filesystem::remove(log);
}

TEST(Sandbox, WorkersAreRecycled) {
  const scan::Scanner scanner(default_config());
  PoolOptions o = options(1);
  o.max_messages_per_worker = 3;
  WorkerPool pool(scanner, o);
  // Pipelined runs also stop at the recycling point.
  std::vector<std::string> many(7, kClean);
  std::vector<sandbox::Job> jobs;
  for (const auto& m : many) jobs.push_back(sandbox::Job{&m, "", false});
  for (const auto& r : pool.scan_many(0, jobs)) EXPECT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(pool.stats().recycled, 2u);
  std::set<pid_t> pids;
  for (int i = 0; i < 7; ++i) {
    pids.insert(pool.worker_pid(0));
    ASSERT_TRUE(pool.scan(0, kClean, false).ok);
  }
  EXPECT_EQ(pool.stats().recycled, 4u);
  pids.erase(-1);  // between a retirement and the next scan the lane has no worker
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_EQ(pool.stats().failures(), 0u);
}

TEST(Sandbox, LanesWorkConcurrently) {
  const scan::Scanner scanner(default_config());
  WorkerPool pool(scanner, options(2));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (std::size_t lane = 0; lane < 2; ++lane)
    threads.emplace_back([&, lane] {
      for (int i = 0; i < 20; ++i) ok += pool.scan(lane, kEvasive, false).ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 40);
}

// ---- frames --------------------------------------------------------------------------

TEST(Frames, ReplyRoundTrip) {
  sandbox::ScanReply r;
  r.verdict.message_id = "<id@x>";
  r.verdict.subject = "s\xff";
  r.verdict.action = Action::kTag;
  r.verdict.score = 5.5;
  r.verdict.symbols.push_back(Symbol{"MIME_DUP_CTE", "part 1", 3.0});
  r.verdict.threats.push_back(scan::Threat{"exploit", "TAR_SHELL_NAME", "2/a.tar/`x`"});
  r.verdict.parts.push_back(scan::PartInfo{"1", "text/plain", "a.txt", 42, "ab", "view"});
  r.explain = "tree";
  r.verdict.spam_probability = 0.25;
  r.verdict.tokens = {1, 0xffffffffffffffffULL, 42};
  auto d = sandbox::decode_reply(sandbox::encode_reply(r));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().verdict.subject, "s\xff");
  EXPECT_EQ(d.value().verdict.symbols.at(0).detail, "part 1");
  EXPECT_EQ(d.value().verdict.threats.at(0).location, "2/a.tar/`x`");
  EXPECT_EQ(d.value().verdict.parts.at(0).size, 42u);
  EXPECT_EQ(d.value().explain, "tree");
  EXPECT_EQ(d.value().verdict.spam_probability, 0.25);
  EXPECT_EQ(d.value().verdict.tokens, r.verdict.tokens);
  r.verdict.spam_probability = 1.5;  // a worker cannot claim an impossible probability
  EXPECT_FALSE(sandbox::decode_reply(sandbox::encode_reply(r)).ok());
}

TEST(Frames, TruncatedOrInflatedRepliesAreRejected) {
  sandbox::ScanReply r;
  r.verdict.symbols.push_back(Symbol{"A_B", "d", 1.0});
  const std::string good = sandbox::encode_reply(r);
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    EXPECT_FALSE(sandbox::decode_reply(good.substr(0, cut)).ok()) << cut;
  EXPECT_FALSE(sandbox::decode_reply(good + "x").ok());
  std::string inflated = good;
  // message_id and subject are empty (4 + 4 bytes), action (4), score (8): count at 20.
  inflated[20] = '\xff';
  inflated[21] = '\xff';
  inflated[22] = '\xff';
  inflated[23] = '\x7f';
  EXPECT_FALSE(sandbox::decode_reply(inflated).ok());
}

TEST(Frames, ReaderChecksHeaderAndLimit) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  ASSERT_TRUE(sandbox::write_frame(sv[0], sandbox::FrameType::kScanReply, std::string(100, 'x')));
  auto big = sandbox::read_frame(sv[1], 99, soon);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "frame of 100 bytes over the limit");
  ::close(sv[0]);
  ::close(sv[1]);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_EQ(::write(sv[0], "0123456789abcdef", 16), 16);
  EXPECT_EQ(sandbox::read_frame(sv[1], 1000, soon).error().message, "bad frame magic");
  auto timeout = sandbox::read_frame(sv[1], 1000, std::chrono::steady_clock::now());
  EXPECT_EQ(timeout.error().message, "timeout");
  ::close(sv[0]);
  EXPECT_EQ(sandbox::read_frame(sv[1], 1000, soon).error().message, "end of stream");
  ::close(sv[1]);
}
