// WorkerPool: the supervisor side. Owns N locked-down scan workers ("lanes"), feeds them
// messages over length-checked frames, and treats them as hostile.
//
// A crash, a timeout, a bad frame, a seccomp kill or an out-of-memory report retries the
// message once in a fresh worker; a second failure makes the message unscannable, which the
// caller answers by policy (never "clean"). Every such event is counted. Workers are
// recycled after `max_messages_per_worker` messages.
//   WorkerPool pool(scanner, options);
//   Outcome o = pool.scan(lane, bytes, /*explain=*/false);   // one thread per lane
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/frame.h"
#include "sandbox/worker.h"
#include "scan/pipeline.h"

namespace bulwark::sandbox {

struct PoolOptions {
  std::size_t workers = 0;  // 0: one per CPU
  std::size_t max_messages_per_worker = 1000;
  std::uint32_t timeout_ms = 30000;  // per message, wall clock
  WorkerOptions worker;
};

struct SandboxStats {
  std::size_t started = 0;        // workers forked
  std::size_t recycled = 0;       // retired after max_messages_per_worker
  std::size_t crashes = 0;        // died by a signal other than SIGSYS, or exited
  std::size_t seccomp_kills = 0;  // died by SIGSYS: a forbidden system call
  std::size_t timeouts = 0;       // no reply before timeout_ms; killed
  std::size_t bad_frames = 0;     // a reply that failed the frame or payload checks
  std::size_t out_of_memory = 0;  // reported running out of its address-space limit
  std::size_t retries = 0;        // messages retried alone in a fresh worker
  std::size_t unscannable = 0;    // messages that failed twice

  std::size_t failures() const {
    return crashes + seccomp_kills + timeouts + bad_frames + out_of_memory;
  }
  std::string summary() const;
};

struct Outcome {
  bool ok = false;
  ScanReply reply;      // when ok
  std::string failure;  // when not: what happened on the last attempt
};

struct Job {
  const std::string* bytes = nullptr;  // the message; must outlive the call
  std::string origin;                  // where it came from, for the explanation
  bool explain = false;
};

class WorkerPool {
 public:
  WorkerPool(const scan::Scanner& scanner, PoolOptions options);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::size_t lanes() const { return lanes_.size(); }

  // Scans in lane `lane`. Safe to call concurrently for distinct lanes.
  Outcome scan(std::size_t lane, const std::string& bytes, bool explain,
               const std::string& origin = {});

  // Scans several messages in lane `lane`, in order, keeping requests in flight so the
  // worker never waits for the supervisor between messages (one wake-up per message is
  // what makes a synchronous sandbox expensive). Each message keeps its own deadline and
  // its own single retry.
  std::vector<Outcome> scan_many(std::size_t lane, const std::vector<Job>& jobs);

  SandboxStats stats() const;
  pid_t worker_pid(std::size_t lane) const;  // for tests and diagnostics; -1 if none

 private:
  struct Lane {
    pid_t pid = -1;
    int fd = -1;
    std::size_t handled = 0;
  };
  enum class Fate { kCrash, kSeccomp, kTimeout, kBadFrame, kOom, kRecycle };

  bool spawn(Lane& lane);
  // Ends the lane's worker; returns how it ended ("signal SIGSEGV", "exit status 3"), if known.
  std::string retire(Lane& lane, Fate fate);
  // Runs jobs [from, to) through the lane's worker; returns the index of the first job
  // left unanswered when the worker failed (its failure recorded, the worker retired, and
  // `sent` set past the last job it had been sent), or `to`.
  std::size_t pipeline(Lane& lane, const std::vector<Job>& jobs, std::size_t from,
                       std::size_t to, std::vector<Outcome>& out, std::size_t& sent);
  // Scans job k alone: one attempt and, on failure, one retry in a fresh worker.
  void scan_alone(Lane& lane, const std::vector<Job>& jobs, std::size_t k,
                  std::vector<Outcome>& out);

  const scan::Scanner& scanner_;
  PoolOptions options_;
  std::vector<Lane> lanes_;
  struct Counters;
  std::unique_ptr<Counters> counters_;
};

// The verdict for a message no worker could scan: symbol SANDBOX_UNSCANNABLE and the
// policy's unscannable action.
scan::Verdict unscannable_verdict(const std::string& failure, const PolicyConfig& policy);

}  // namespace bulwark::sandbox
