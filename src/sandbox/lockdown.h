// Locking a scan worker down after its engines are warm: privileges, rlimits, seccomp.
//
// Order matters: drop the user (when root) and set rlimits while those calls are still
// allowed, set no_new_privs, then load the seccomp allow-list, after which anything but
// reading and writing inherited descriptors, memory management, futexes, clocks and exit
// kills the process (SIGSYS).
#pragma once

#include <cstdint>
#include <string>

namespace bulwark::sandbox {

struct LockdownOptions {
  std::uint64_t address_space_bytes = 4ull << 30;  // RLIMIT_AS (skipped under ASan)
  std::uint32_t cpu_seconds = 600;                 // RLIMIT_CPU for the worker's life
  bool drop_user = true;                           // when root: become nobody
};

// Returns "" on success, else what failed; the caller must then exit, never scan.
std::string lock_down(const LockdownOptions& o);

}  // namespace bulwark::sandbox
