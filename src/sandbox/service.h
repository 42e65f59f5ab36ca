// ScanService: the asynchronous face of the WorkerPool for servers. Any thread submits a
// message with a completion; one thread per lane takes queued messages in runs of up to
// 16 and pipelines them through its worker (scan_many), so concurrent SMTP sessions keep
// every worker busy without a wake-up per message.
//   ScanService s(pool);
//   s.submit(bytes, id, [](sandbox::Outcome o) { ... });   // runs on a lane thread
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/pool.h"

namespace bulwark::sandbox {

class ScanService {
 public:
  using Done = std::function<void(Outcome)>;
  explicit ScanService(WorkerPool& pool);
  ~ScanService();  // finishes what was submitted, then joins
  ScanService(const ScanService&) = delete;
  ScanService& operator=(const ScanService&) = delete;

  void submit(std::shared_ptr<const std::string> bytes, std::string origin, Done done);
  std::size_t queued() const;

 private:
  struct Item {
    std::shared_ptr<const std::string> bytes;
    std::string origin;
    Done done;
  };
  void lane_loop(std::size_t lane);

  WorkerPool& pool_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The pool settings of a configuration (sandbox.* and the largest message).
PoolOptions pool_options(const Config& config);

}  // namespace bulwark::sandbox
