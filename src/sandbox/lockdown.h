// Locking a scan worker down after its engines are warm: privileges, rlimits, seccomp.
//
// Order matters: drop the user (when root) and set rlimits while those calls are still
// allowed, set no_new_privs, then load the seccomp allow-list: reading and writing
// inherited descriptors, memory management, futexes, clocks and exit are allowed; calls
// that reach the filesystem fail with EACCES; anything else (sockets, exec, fork, ptrace,
// signals to others, ...) ends the worker.
#pragma once

#include <cstdint>
#include <string>

namespace bulwark::sandbox {

// Exit status of a worker that attempted a forbidden system call (it is reported on stderr
// with its number first).
constexpr int kForbiddenSyscallExit = 159;

struct LockdownOptions {
  std::uint64_t address_space_bytes = 4ull << 30;  // RLIMIT_AS (skipped under ASan)
  std::uint32_t cpu_seconds = 600;                 // RLIMIT_CPU for the worker's life
  bool drop_user = true;                           // when root: become nobody
};

// Returns "" on success, else what failed; the caller must then exit, never scan.
std::string lock_down(const LockdownOptions& o);

}  // namespace bulwark::sandbox
