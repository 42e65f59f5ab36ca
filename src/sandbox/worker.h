// A scan worker: a forked child that warms its engines, locks itself down, then scans
// messages it reads from one socket until the socket closes.
#pragma once

#include <functional>
#include <string_view>

#include "sandbox/lockdown.h"
#include "scan/pipeline.h"

namespace bulwark::sandbox {

struct WorkerOptions {
  LockdownOptions lockdown;
  std::size_t max_request_bytes = 0;  // largest message accepted (set from limits)
  // Tests only: runs inside the locked-down worker before each scan, to make it crash,
  // hang, allocate or call a forbidden syscall. Production code never sets it, so no
  // trigger exists in the product at all.
  std::function<void(std::string_view message)> test_hook;
};

// Never returns. `fd` is the worker's end of the socket pair.
[[noreturn]] void run_worker(int fd, const scan::Scanner& scanner, const WorkerOptions& o);

}  // namespace bulwark::sandbox
