#include "sandbox/lockdown.h"

#include <grp.h>
#include <signal.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#if defined(__SANITIZE_ADDRESS__)
#define BULWARK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BULWARK_ASAN 1
#endif
#endif

namespace bulwark::sandbox {

namespace {

std::string err(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool set_limit(int resource, rlim_t value) {
  rlimit r{value, value};
  return ::setrlimit(resource, &r) == 0;
}

// The allow-list: what scanning in memory needs, and nothing that reaches the outside.
// No open/openat, no socket/connect, no fork/clone/execve, no ptrace, no kill of others.
// A forbidden call traps instead of killing outright, so the worker can say which call it
// was (the call itself never runs), then exits with kForbiddenSyscallExit.
void on_sigsys(int, siginfo_t* info, void*) {
  char msg[96] = "bulwark worker: forbidden system call ";
  std::size_t n = std::strlen(msg);
  int nr = info ? info->si_syscall : -1;
  char digits[12];
  int d = 0;
  if (nr < 0) nr = 0;
  do {
    digits[d++] = static_cast<char>('0' + nr % 10);
    nr /= 10;
  } while (nr > 0 && d < 11);
  while (d > 0 && n < sizeof msg - 2) msg[n++] = digits[--d];
  msg[n++] = '\n';
  (void)!::write(2, msg, n);
  ::_exit(kForbiddenSyscallExit);
}

std::string load_seccomp() {
  struct sigaction sa {};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return err("sigaction(SIGSYS)");
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (!ctx) return "seccomp_init failed";
  int rc = 0;
  for (int sc : {SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
                 SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
                 SCMP_SYS(poll), SCMP_SYS(ppoll),
                 SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
                 SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
                 SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(clock_nanosleep),
                 SCMP_SYS(nanosleep), SCMP_SYS(sched_yield), SCMP_SYS(getpid), SCMP_SYS(gettid),
                 SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sigaltstack),
                 SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(getrandom)}) {
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc, 0);
  }
  // abort() signals itself; a signal to any other process is refused.
  // (SCMP_A0 is a C compound literal; spelled out for C++.)
  const scmp_arg_cmp only_self{0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()), 0};
  rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, &only_self);
  rc |= seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, &only_self);
  // The filesystem is refused with EACCES rather than a trap: libraries probe for files at
  // odd moments (libarchive's locale and iconv modules on first use, ClamAV's per-scan
  // temporary directory), and a refusal lets them carry on in memory. No call here ever
  // reaches a file either way. mkdir "succeeds" without creating anything, because
  // libclamav reports an unscanned blob as clean when it cannot make its scratch
  // directory; it then scans from memory and its later file calls fail.
  for (int sc : {SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(creat), SCMP_SYS(access),
                 SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(stat), SCMP_SYS(lstat),
                 SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
                 SCMP_SYS(rmdir), SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(chmod),
                 SCMP_SYS(fchmodat), SCMP_SYS(fchmod), SCMP_SYS(statx)})
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), sc, 0);
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(mkdir), 0);
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(mkdirat), 0);
  // fstat on an inherited descriptor is harmless and glibc's stdio asks for it.
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fstat), 0);
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 0);
  if (rc != 0) {
    seccomp_release(ctx);
    return "seccomp_rule_add failed";
  }
  rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc == 0 ? "" : "seccomp_load failed: " + std::string(std::strerror(-rc));
}

}  // namespace

std::string lock_down(const LockdownOptions& o) {
  if (o.drop_user && ::geteuid() == 0) {
    // nobody/nogroup: owns nothing, so a worker that escaped seccomp could still read
    // nothing private and write nowhere.
    const gid_t gid = 65534;
    const uid_t uid = 65534;
    if (::setgroups(0, nullptr) != 0) return err("setgroups");
    if (::setresgid(gid, gid, gid) != 0) return err("setresgid");
    if (::setresuid(uid, uid, uid) != 0) return err("setresuid");
    if (::geteuid() == 0) return "still root after setresuid";
  }
  // No file grows: a write to an inherited regular file fails. The signal that comes with
  // it is ignored, so a library's note to a stderr redirected to a file costs the note
  // (EFBIG), not the worker and the messages it holds.
  if (::signal(SIGXFSZ, SIG_IGN) == SIG_ERR) return err("signal(SIGXFSZ)");
  if (!set_limit(RLIMIT_FSIZE, 0)) return err("RLIMIT_FSIZE");
  if (!set_limit(RLIMIT_CORE, 0)) return err("RLIMIT_CORE");
  if (!set_limit(RLIMIT_NOFILE, 8)) return err("RLIMIT_NOFILE");
  if (!set_limit(RLIMIT_CPU, o.cpu_seconds)) return err("RLIMIT_CPU");
#ifndef BULWARK_ASAN
  // ASan reserves terabytes of address space for its shadow; the limit would kill it.
  if (!set_limit(RLIMIT_AS, o.address_space_bytes)) return err("RLIMIT_AS");
#endif
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return err("PR_SET_DUMPABLE");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return err("PR_SET_NO_NEW_PRIVS");
  return load_seccomp();
}

}  // namespace bulwark::sandbox
