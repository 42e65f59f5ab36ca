#include "sandbox/worker.h"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <new>

#include "mime/html.h"
#include "sandbox/frame.h"
#include "scan/output.h"

namespace bulwark::sandbox {

namespace {

// Exercises every engine once before lockdown, so that lazy initialisation (ICU converter
// data, OpenSSL's digest tables, gumbo) happens while it may still touch the system.
constexpr std::string_view kWarmup =
    "From: =?utf-8?q?W=C3=A4rm?= <warm@example.com>\r\n"
    "Subject: =?iso-8859-1?b?d+RybQ==?=\r\n"
    "Content-Type: multipart/mixed; boundary=\"w\"\r\n\r\n"
    "--w\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nw=E4rm http://example.com/\r\n"
    "--w\r\nContent-Type: text/html; charset=windows-1252\r\n\r\n<p><a href=\"http://x.example/\">x</a></p>\r\n"
    "--w\r\nContent-Type: text/plain\r\n\r\n\xe4\xf6\xfc ohne Zeichensatz\r\n"
    "--w\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
    // A zip with a non-ASCII member name: libarchive loads its locale on first use.
    "--w\r\nContent-Type: application/zip; name=\"w.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "UEsDBBQAAAgIAHqud12/4LOwBgAAAAQAAAAJAAAAd8Okcm0udHh0K08sygUAUEsBAhQDFAAACAgAeq53Xb/gs7AGAAAABAAA"
    "AAkAAAAAAAAAAAAAAIABAAAAAHfDpHJtLnR4dFBLBQYAAAAAAQABADcAAAAtAAAAAAA=\r\n"
    "--w--\r\n";

void fail(const std::string& why) {
  std::fprintf(stderr, "bulwark worker %d: %s\n", static_cast<int>(::getpid()), why.c_str());
  ::_exit(70);
}

}  // namespace

void run_worker(int fd, const scan::Scanner& scanner, const WorkerOptions& o) {
  // Die with the supervisor; keep only the socket and stderr (for diagnostics).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (fd != 3) {
    if (::dup2(fd, 3) < 0) fail("dup2");
    fd = 3;
  }
  ::close(0);
  ::close(1);
  ::close_range(4, std::numeric_limits<unsigned>::max(), 0);
  // Libraries set up for this process and thread (/dev/null for their notes, no OpenMP
  // threads) while opening files is still allowed.
  scanner.prepare_scanning_process();

  // A worker forked from a supervisor thread allocates from that thread's malloc arena,
  // and glibc shrinking such an arena reads /proc/sys/vm/overcommit_memory: a file open
  // the sandbox forbids. Never trimming keeps glibc away from it; the memory goes back to
  // the system when the worker is recycled.
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // libmagic formats timestamps of some file types with localtime(), which loads the
  // time zone file on first use: load it now.
  ::tzset();
  const std::time_t epoch = 0;
  (void)std::localtime(&epoch);
  mime::prepare_html_engine();
  (void)scanner.scan(std::string(kWarmup), "warmup");
  if (std::string e = lock_down(o.lockdown); !e.empty()) fail("lockdown: " + e);

  // Replies are coalesced while more requests wait in the socket, so the supervisor
  // wakes once per handful of messages rather than once per message. They are flushed when
  // no request is waiting (before this worker would block), after kMaxCoalesced replies,
  // or after kMaxHold, so a slow run of messages never looks like a hang.
  constexpr std::size_t kMaxCoalesced = 8;
  constexpr auto kMaxHold = std::chrono::milliseconds(50);
  std::string pending;
  std::size_t pending_count = 0;
  auto held_since = std::chrono::steady_clock::now();
  auto flush = [&] {
    std::size_t sent = 0;
    while (sent < pending.size()) {
      const ssize_t k = ::send(fd, pending.data() + sent, pending.size() - sent, MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) ::_exit(0);  // the supervisor is gone
      sent += static_cast<std::size_t>(k);
    }
    pending.clear();
    pending_count = 0;
  };
  const auto forever = Deadline::max();
  for (;;) {
    if (pending_count > 0) {
      pollfd p{fd, POLLIN, 0};
      const bool more_waiting = ::poll(&p, 1, 0) > 0;
      if (!more_waiting || pending_count >= kMaxCoalesced ||
          std::chrono::steady_clock::now() - held_since > kMaxHold)
        flush();
    }
    auto frame = read_frame(fd, o.max_request_bytes + (64u << 10), forever);
    if (!frame) ::_exit(0);  // the supervisor closed the socket: recycle or shutdown
    if (frame.value().type != FrameType::kScanRequest) ::_exit(65);
    auto req = decode_request(frame.value().payload);
    if (!req) ::_exit(65);
    ScanRequest& r = req.value();
    try {
      if (o.test_hook) o.test_hook(r.bytes);
      scan::ScanResult result = scanner.scan(std::move(r.bytes), r.origin);
      ScanReply reply;
      if (r.explain) reply.explain = scan::to_explain(result);
      reply.verdict = std::move(result.verdict);
      if (pending_count == 0) held_since = std::chrono::steady_clock::now();
      pending += encode_frame(FrameType::kScanReply, encode_reply(reply));
      ++pending_count;
    } catch (const std::bad_alloc&) {
      // Over RLIMIT_AS: deliver what is done, say so, then die; the supervisor retries
      // this message in a fresh worker.
      flush();
      write_frame(fd, FrameType::kScanError, "out of memory");
      ::_exit(71);
    }
  }
}

}  // namespace bulwark::sandbox
