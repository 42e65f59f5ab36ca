#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/input.h"
#include "core/escape.h"
#include "sandbox/pool.h"
#include "sandbox/service.h"
#include "scan/output.h"
#include "scan/pipeline.h"

namespace bulwark::cli {

namespace {

struct Job {
  std::string origin;
  std::string bytes;
};

struct Done {
  scan::Verdict verdict;
  std::string explain;
  std::string failure;  // the sandbox could not scan it
};

// Messages are scanned in batches: each lane (one worker) takes the next job, and results
// are printed in input order.
constexpr std::size_t kJobsPerLane = 32;
constexpr std::size_t kMaxBatchBytes = 256u << 20;

}  // namespace

int run_scan(const ScanOptions& options) {
  Config config = default_config();
  if (!options.config_path.empty()) {
    auto loaded = load_config_file(options.config_path);
    if (!loaded) {
      std::cerr << loaded.error().message << "\n";
      return 2;
    }
    config = std::move(loaded).value();
  }
  if (options.workers >= 0) config.sandbox.workers = static_cast<std::size_t>(options.workers);
  const scan::Scanner scanner(config);
  if (!scanner.load_error().empty()) {
    std::cerr << "bulwark scan: " << scanner.load_error() << "\n";
    return 2;
  }
  std::unique_ptr<sandbox::WorkerPool> pool;
  if (options.sandbox) {
    pool = std::make_unique<sandbox::WorkerPool>(scanner, sandbox::pool_options(config));
  } else {
    scanner.prepare_scanning_process();  // this process scans, and forks no worker
  }
  const std::size_t lanes = pool ? pool->lanes() : 1;

  std::vector<std::string> paths = options.paths;
  if (paths.empty()) paths.push_back("-");
  const bool show_progress = options.progress && isatty(STDERR_FILENO) && !options.explain;
  const std::size_t total = show_progress ? count_files(paths) : 0;
  std::size_t done_count = 0;
  bool errors = false, flagged = false;

  std::vector<Job> batch;
  std::size_t batch_bytes = 0;

  // Without the sandbox: in this process, one message at a time.
  auto scan_here = [&](Job& job) {
    Done d;
    scan::ScanResult r = scanner.scan(std::move(job.bytes), job.origin);
    if (options.explain) d.explain = scan::to_explain(r);
    d.verdict = std::move(r.verdict);
    return d;
  };
  // In the sandbox: each lane takes runs of consecutive jobs and pipelines them.
  constexpr std::size_t kRun = 8;
  auto scan_run = [&](std::size_t lane, std::size_t first, std::size_t last,
                      std::vector<Done>& results) {
    std::vector<sandbox::Job> jobs;
    for (std::size_t i = first; i < last; ++i)
      jobs.push_back(sandbox::Job{&batch[i].bytes, batch[i].origin, options.explain});
    std::vector<sandbox::Outcome> outcomes = pool->scan_many(lane, jobs);
    for (std::size_t i = first; i < last; ++i) {
      sandbox::Outcome& o = outcomes[i - first];
      Done& d = results[i];
      if (o.ok) {
        d.verdict = std::move(o.reply.verdict);
        d.explain = std::move(o.reply.explain);
      } else {
        d.verdict = sandbox::unscannable_verdict(o.failure, config.policy);
        d.failure = o.failure;
      }
      d.verdict.file = batch[i].origin;
    }
  };

  auto run_batch = [&] {
    std::vector<Done> results(batch.size());
    if (!pool) {
      for (std::size_t i = 0; i < batch.size(); ++i) results[i] = scan_here(batch[i]);
    } else {
      std::atomic<std::size_t> next{0};
      auto lane_loop = [&](std::size_t lane) {
        for (std::size_t first; (first = next.fetch_add(kRun)) < batch.size();)
          scan_run(lane, first, std::min(batch.size(), first + kRun), results);
      };
      std::vector<std::thread> threads;
      for (std::size_t lane = 1; lane < lanes; ++lane) threads.emplace_back(lane_loop, lane);
      lane_loop(0);
      for (auto& t : threads) t.join();
    }
    for (auto& d : results) {
      if (d.verdict.action != Action::kAccept) flagged = true;
      if (!d.failure.empty()) {
        std::cerr << "bulwark scan: " << escape_for_display(d.verdict.file)
                  << ": unscannable: " << d.failure << "\n";
      }
      if (options.explain) {
        std::cout << (d.explain.empty() ? scan::to_text(d.verdict) + "\n" : d.explain) << "\n";
      } else if (options.format == "json") {
        std::cout << scan::to_json(d.verdict) << "\n";
      } else {
        std::cout << scan::to_text(d.verdict) << "\n";
      }
      ++done_count;
      if (show_progress && done_count % 64 == 0)
        std::fprintf(stderr, "\r%zu/%zu scanned", done_count, total);
    }
    batch.clear();
    batch_bytes = 0;
  };

  auto on_message = [&](const std::string& origin, std::string&& bytes) {
    batch_bytes += bytes.size();
    batch.push_back(Job{origin, std::move(bytes)});
    if (batch.size() >= kJobsPerLane * lanes || batch_bytes >= kMaxBatchBytes) run_batch();
  };
  auto on_error = [&](const InputError& e) {
    errors = true;
    std::cout.flush();
    std::cerr << "bulwark scan: " << escape_for_display(e.path) << ": " << e.what << "\n";
  };
  for_each_message(paths, config.limits.max_message_bytes, on_message, on_error);
  if (!batch.empty()) run_batch();
  if (show_progress) std::fprintf(stderr, "\r%zu messages scanned\n", done_count);
  if (pool && pool->stats().failures() > 0)
    std::cerr << "bulwark scan: sandbox: " << pool->stats().summary() << "\n";
  std::cout.flush();
  if (errors) return 2;
  return flagged ? 1 : 0;
}

int run_check_config(const std::string& path) {
  auto loaded = load_config_file(path);
  if (!loaded) {
    std::cerr << loaded.error().message << "\n";
    return 2;
  }
  std::cout << path << ": ok\n";
  return 0;
}

}  // namespace bulwark::cli
