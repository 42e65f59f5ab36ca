#include "sandbox/pool.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

void WorkerPool::retire(Lane& lane, Fate fate) {
  if (lane.pid < 0) return;
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
    if (r == lane.pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) fate = Fate::kSeccomp;
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
}

Outcome WorkerPool::scan(std::size_t lane_index, const std::string& bytes, bool explain,
                         const std::string& origin) {
  Lane& lane = lanes_.at(lane_index);
  Outcome out;
  const std::string request = encode_request(ScanRequest{explain, origin, bytes});
  // A reply holds a verdict and maybe an explanation: bounded by the message's own size
  // several times over, plus room for many symbols.
  const std::size_t max_reply = 8 * bytes.size() + (16u << 20);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1) ++counters_->retries;
    if (lane.pid < 0 && !spawn(lane)) {
      out.failure = "cannot start a worker";
      continue;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    if (!write_frame(lane.fd, FrameType::kScanRequest, request)) {
      out.failure = "worker hung up before the request was sent";
      retire(lane, Fate::kCrash);
      continue;
    }
    auto frame = read_frame(lane.fd, max_reply, deadline);
    if (!frame) {
      const std::string& e = frame.error().message;
      if (e == "timeout") {
        out.failure = "worker timed out after " + std::to_string(options_.timeout_ms) + " ms";
        retire(lane, Fate::kTimeout);
      } else if (e == "end of stream" || e.starts_with("read:")) {
        out.failure = "worker died";
        retire(lane, Fate::kCrash);
      } else {
        out.failure = "bad frame from worker: " + e;
        retire(lane, Fate::kBadFrame);
      }
      continue;
    }
    if (frame.value().type == FrameType::kScanError) {
      out.failure = "worker ran out of memory";
      retire(lane, Fate::kOom);
      continue;
    }
    auto reply = frame.value().type == FrameType::kScanReply
                     ? decode_reply(frame.value().payload)
                     : Result<ScanReply>(Error{"unexpected frame type"});
    if (!reply) {
      out.failure = "bad reply from worker: " + reply.error().message;
      retire(lane, Fate::kBadFrame);
      continue;
    }
    out.ok = true;
    out.reply = std::move(reply).value();
    // The worker's arithmetic is not trusted: score and action are recomputed here.
    scan::finalize(out.reply.verdict, scanner_.config().policy);
    if (++lane.handled >= options_.max_messages_per_worker) retire(lane, Fate::kRecycle);
    return out;
  }
  ++counters_->unscannable;
  return out;
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
