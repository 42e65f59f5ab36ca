#include "sandbox/service.h"

#include <algorithm>

namespace bulwark::sandbox {

namespace {
constexpr std::size_t kRun = 16;  // requests kept in flight per worker
}

PoolOptions pool_options(const Config& config) {
  PoolOptions po;
  po.workers = config.sandbox.workers;
  po.max_messages_per_worker = config.sandbox.max_messages_per_worker;
  po.timeout_ms = config.sandbox.timeout_ms;
  po.worker.lockdown.address_space_bytes = std::uint64_t{config.sandbox.memory_limit_mb} << 20;
  po.worker.lockdown.cpu_seconds = config.sandbox.cpu_limit_seconds;
  // The SMTP limit may exceed the parser's: such a message still reaches a worker, which
  // parses its first limits.max_message_bytes and raises MIME_LIMIT_MESSAGE_BYTES.
  po.worker.max_request_bytes =
      std::max(config.limits.max_message_bytes, config.smtp.max_message_bytes) + 1;
  return po;
}

ScanService::ScanService(WorkerPool& pool) : pool_(pool) {
  for (std::size_t lane = 0; lane < pool_.lanes(); ++lane)
    threads_.emplace_back([this, lane] { lane_loop(lane); });
}

ScanService::~ScanService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ScanService::submit(std::shared_ptr<const std::string> bytes, std::string origin, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::move(bytes), std::move(origin), std::move(done)});
  }
  cv_.notify_one();
}

std::size_t ScanService::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void ScanService::lane_loop(std::size_t lane) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::vector<Item> run;
    while (!queue_.empty() && run.size() < kRun) {
      run.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    std::vector<Job> jobs;
    for (const auto& it : run) jobs.push_back(Job{it.bytes.get(), it.origin, false});
    std::vector<Outcome> outcomes = pool_.scan_many(lane, jobs);
    for (std::size_t i = 0; i < run.size(); ++i) run[i].done(std::move(outcomes[i]));
    lock.lock();
  }
}

}  // namespace bulwark::sandbox
