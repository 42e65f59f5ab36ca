#include "sandbox/pool.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <mutex>
#include <thread>

#include "scan/scoring.h"

namespace bulwark::sandbox {

struct WorkerPool::Counters {
  std::atomic<std::size_t> started{0}, recycled{0}, crashes{0}, seccomp_kills{0}, timeouts{0},
      bad_frames{0}, out_of_memory{0}, retries{0}, unscannable{0};
  std::mutex fork_mutex;  // one fork at a time keeps the children's inherited state sane
};

std::string SandboxStats::summary() const {
  return "workers started " + std::to_string(started) + ", recycled " + std::to_string(recycled) +
         ", crashed " + std::to_string(crashes) + ", killed by seccomp " +
         std::to_string(seccomp_kills) + ", timed out " + std::to_string(timeouts) +
         ", bad frames " + std::to_string(bad_frames) + ", out of memory " +
         std::to_string(out_of_memory) + "; messages retried " + std::to_string(retries) +
         ", unscannable " + std::to_string(unscannable);
}

WorkerPool::WorkerPool(const scan::Scanner& scanner, PoolOptions options)
    : scanner_(scanner), options_(std::move(options)), counters_(std::make_unique<Counters>()) {
  std::size_t n = options_.workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  if (options_.worker.max_request_bytes == 0)
    options_.worker.max_request_bytes = scanner_.config().limits.max_message_bytes + 1;
  lanes_.resize(n);
  for (auto& lane : lanes_) spawn(lane);
}

WorkerPool::~WorkerPool() {
  for (auto& lane : lanes_) {
    if (lane.pid < 0) continue;
    ::close(lane.fd);  // the worker reads end-of-stream and exits
    ::kill(lane.pid, SIGKILL);
    int st = 0;
    ::waitpid(lane.pid, &st, 0);
  }
}

bool WorkerPool::spawn(Lane& lane) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return false;
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(counters_->fork_mutex);
    pid = ::fork();
  }
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    return false;
  }
  if (pid == 0) {
    ::close(sv[0]);
    run_worker(sv[1], scanner_, options_.worker);
  }
  ::close(sv[1]);
  lane.pid = pid;
  lane.fd = sv[0];
  lane.handled = 0;
  ++counters_->started;
  return true;
}

std::string WorkerPool::retire(Lane& lane, Fate fate) {
  if (lane.pid < 0) return "";
  ::close(lane.fd);
  lane.fd = -1;
  int st = 0;
  pid_t r = 0;
  if (fate == Fate::kRecycle) {
    // It exits on end-of-stream; give it a moment, then make sure.
    for (int i = 0; i < 100 && (r = ::waitpid(lane.pid, &st, WNOHANG)) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } else if (fate == Fate::kCrash) {
    // It hung up on us: it is dying or dead. Its exit status tells how.
    for (int i = 0; i < 1000 && (r = ::waitpid(lane.pid, &st, WNOHANG)) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (r == lane.pid && ((WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) ||
                          (WIFEXITED(st) && WEXITSTATUS(st) == kForbiddenSyscallExit)))
      fate = Fate::kSeccomp;
  }
  // How it died, for the administrator's log: a signal points at a crash in a parser, an
  // exit status at a refusal the worker reported itself.
  std::string how;
  if (r == lane.pid && WIFSIGNALED(st)) {
    const char* name = ::sigabbrev_np(WTERMSIG(st));
    how = std::string("signal ") + (name ? std::string("SIG") + name : std::to_string(WTERMSIG(st)));
  } else if (r == lane.pid && WIFEXITED(st)) {
    how = "exit status " + std::to_string(WEXITSTATUS(st));
  }
  if (r == 0) {
    ::kill(lane.pid, SIGKILL);
    ::waitpid(lane.pid, &st, 0);
  }
  switch (fate) {
    case Fate::kCrash: ++counters_->crashes; break;
    case Fate::kSeccomp: ++counters_->seccomp_kills; break;
    case Fate::kTimeout: ++counters_->timeouts; break;
    case Fate::kBadFrame: ++counters_->bad_frames; break;
    case Fate::kOom: ++counters_->out_of_memory; break;
    case Fate::kRecycle: ++counters_->recycled; break;
  }
  lane.pid = -1;
  return how;
}

Outcome WorkerPool::scan(std::size_t lane, const std::string& bytes, bool explain,
                         const std::string& origin) {
  return std::move(scan_many(lane, {Job{&bytes, origin, explain}}).front());
}

void WorkerPool::scan_alone(Lane& lane, const std::vector<Job>& jobs, std::size_t k,
                            std::vector<Outcome>& out) {
  std::size_t sent = 0;
  if (pipeline(lane, jobs, k, k + 1, out, sent) == k + 1) return;
  ++counters_->retries;
  if (pipeline(lane, jobs, k, k + 1, out, sent) == k + 1) return;
  ++counters_->unscannable;
}

std::vector<Outcome> WorkerPool::scan_many(std::size_t lane_index, const std::vector<Job>& jobs) {
  Lane& lane = lanes_.at(lane_index);
  std::vector<Outcome> out(jobs.size());
  if (jobs.size() == 1) {
    scan_alone(lane, jobs, 0, out);
    return out;
  }
  for (std::size_t i = 0; i < jobs.size();) {
    std::size_t sent = 0;
    const std::size_t failed = pipeline(lane, jobs, i, jobs.size(), out, sent);
    if (failed == jobs.size()) break;
    // The worker died with messages [failed, sent) unanswered; which one killed it is not
    // known (replies are coalesced). Each is scanned alone, with the usual single retry:
    // the innocent pass, the culprit ends unscannable.
    for (std::size_t k = failed; k < std::max(sent, failed + 1); ++k) scan_alone(lane, jobs, k, out);
    i = std::max(sent, failed + 1);
  }
  return out;
}

std::size_t WorkerPool::pipeline(Lane& lane, const std::vector<Job>& jobs, std::size_t from,
                                 std::size_t to, std::vector<Outcome>& out, std::size_t& sent) {
  // Requests in flight are bounded so the worker's socket buffer, not the supervisor's
  // memory, absorbs the backlog.
  constexpr std::size_t kMaxInFlight = 16;
  constexpr std::size_t kMaxInFlightBytes = 16u << 20;
  while (from < to) {
    if (lane.pid < 0 && !spawn(lane)) {
      out[from].failure = "cannot start a worker";
      sent = from + 1;
      return from;
    }
    // Never send a worker more than it may still handle before recycling.
    const std::size_t end =
        std::min(to, from + (options_.max_messages_per_worker - lane.handled));
    std::size_t next_send = from, next_recv = from;
    std::string sendbuf, inbuf;
    std::size_t sendoff = 0, inpos = 0, in_flight_bytes = 0;
    std::vector<std::size_t> sizes(end - from);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    auto fail = [&](Fate fate, std::string why) {
      sent = next_send;
      const std::string how = retire(lane, fate);
      out[next_recv].failure = how.empty() || fate == Fate::kTimeout ? std::move(why) : why + " (" + how + ")";
      return next_recv;
    };
    while (next_recv < end) {
      if (sendoff == sendbuf.size() && next_send < end &&
          (next_send == next_recv ||
           (next_send - next_recv < kMaxInFlight && in_flight_bytes < kMaxInFlightBytes))) {
        const Job& j = jobs[next_send];
        sendbuf = encode_frame(FrameType::kScanRequest,
                               encode_request(ScanRequest{j.explain, j.origin, *j.bytes}));
        sendoff = 0;
        sizes[next_send - from] = sendbuf.size();
        in_flight_bytes += sendbuf.size();
        ++next_send;
      }
      pollfd p{lane.fd, static_cast<short>(POLLIN | (sendoff < sendbuf.size() ? POLLOUT : 0)), 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      const int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, std::min<long long>(left, 1 << 30))));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0)
        return fail(Fate::kTimeout,
                    "worker timed out after " + std::to_string(options_.timeout_ms) + " ms");
      if (r < 0) return fail(Fate::kCrash, "poll failed");
      if (p.revents & POLLOUT) {
        const ssize_t k = ::send(lane.fd, sendbuf.data() + sendoff, sendbuf.size() - sendoff,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) sendoff += static_cast<std::size_t>(k);
        else if (k < 0 && errno != EAGAIN && errno != EINTR) return fail(Fate::kCrash, "worker died");
      }
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[1 << 16];
      const ssize_t k = ::recv(lane.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (k <= 0) return fail(Fate::kCrash, "worker died");
      inbuf.append(buf, static_cast<std::size_t>(k));
      for (;;) {
        Frame f;
        std::string error;
        // A reply holds a verdict and maybe an explanation: bounded by the message's own
        // size several times over, plus room for many symbols.
        const std::size_t max_reply = 8 * jobs[next_recv].bytes->size() + (16u << 20);
        const Take t = take_frame(inbuf, inpos, max_reply, f, error);
        if (t == Take::kMore) break;
        if (t == Take::kError) return fail(Fate::kBadFrame, "bad frame from worker: " + error);
        if (f.type == FrameType::kScanError) return fail(Fate::kOom, "worker ran out of memory");
        auto reply = f.type == FrameType::kScanReply ? decode_reply(f.payload)
                                                     : Result<ScanReply>(Error{"unexpected frame type"});
        if (!reply) return fail(Fate::kBadFrame, "bad reply from worker: " + reply.error().message);
        Outcome& o = out[next_recv];
        o.ok = true;
        o.failure.clear();
        o.reply = std::move(reply).value();
        // The worker's arithmetic is not trusted: score and action are recomputed here,
        // rule symbols re-scored from the supervisor's own copy of the rules.
        scanner_.rescore(o.reply.verdict);
        scan::finalize(o.reply.verdict, scanner_.config().policy);
        in_flight_bytes -= sizes[next_recv - from];
        ++lane.handled;
        ++next_recv;
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
        if (next_recv == end) break;
      }
      if (inpos > (1u << 20)) {  // keep the buffer from growing with consumed bytes
        inbuf.erase(0, inpos);
        inpos = 0;
      }
    }
    if (lane.handled >= options_.max_messages_per_worker) retire(lane, Fate::kRecycle);
    from = end;
  }
  return to;
}

SandboxStats WorkerPool::stats() const {
  SandboxStats s;
  s.started = counters_->started;
  s.recycled = counters_->recycled;
  s.crashes = counters_->crashes;
  s.seccomp_kills = counters_->seccomp_kills;
  s.timeouts = counters_->timeouts;
  s.bad_frames = counters_->bad_frames;
  s.out_of_memory = counters_->out_of_memory;
  s.retries = counters_->retries;
  s.unscannable = counters_->unscannable;
  return s;
}

pid_t WorkerPool::worker_pid(std::size_t lane) const { return lanes_.at(lane).pid; }

scan::Verdict unscannable_verdict(const std::string& failure, const PolicyConfig& policy) {
  scan::Verdict v;
  v.symbols.push_back(Symbol{"SANDBOX_UNSCANNABLE", failure, 0.0});
  scan::finalize(v, policy);
  v.action = std::max(v.action, policy.unscannable_action);
  return v;
}

}  // namespace bulwark::sandbox
