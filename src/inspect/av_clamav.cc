// ClamAV through libclamav: one engine, loaded and compiled before workers fork, scanning
// each blob from memory.
//
// Bulwark unpacks archives, documents and mail itself, so ClamAV's own container parsers
// are off: they would write every member to a temp file, which a locked-down worker cannot
// do, and they would duplicate (with different limits) what the inspection chain does.
// ClamAV matches its signatures on the raw bytes of every blob the chain produces, and
// parses executables (PE, ELF) for the signature types that need their headers.
//
// libclamav 1.x and the worker sandbox: every scan (cl_scanmap_callback included) makes a
// per-scan temp directory, mkdir("<tmpdir>/YYYYMMDD_HHMMSS-scantemp.XXXX"), and removes it
// afterwards (chmod, opendir, rmdir), even when nothing is written into it; a failed mkdir
// ends the scan before any matching, and libclamav then returns CL_CLEAN (the CL_EACCES is
// filtered out), logging only an error message. No engine setting avoids it (scanners.c
// scan_common). So errors logged during a scan are caught here and become AV_ERROR, and
// the worker's filter must let mkdir "succeed" without creating anything (mkdir ->
// SCMP_ACT_ERRNO(0)) and refuse chmod/openat with an error rather than kill. See
// tests/unit/inspect_av_test.cc (ClamAvSeccomp.*).
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <clamav.h>
#pragma GCC diagnostic pop

#include "inspect/av.h"

namespace bulwark::inspect {

class ClamAv {
 public:
  cl_engine* engine = nullptr;
  unsigned int signatures = 0;
  cl_scan_options options{};
};

void ClamAvDeleter::operator()(ClamAv* av) const {
  if (!av) return;
  if (av->engine) cl_engine_free(av->engine);
  delete av;
}

namespace {

// Engine limits. They are above Bulwark's own (inspect.max_member_bytes, 128 MiB;
// limits.max_decoded_bytes, 256 MiB) so that ClamAV sees every blob whole; if one is hit
// anyway, CL_SCAN_HEURISTIC_EXCEEDS_MAX turns it into Heuristics.Limits.Exceeded.* rather
// than a silent clean.
constexpr long long kMaxScanSize = 512ll << 20;  // bytes scanned per blob, nested included
constexpr long long kMaxFileSize = 256ll << 20;  // largest blob scanned
constexpr long long kMaxRecursion = 16;          // little nesting happens without containers
constexpr long long kMaxFiles = 1000;            // files produced from one blob
constexpr long long kMaxScanTimeMs = 15000;      // below the worker's per-message timeout

constexpr std::size_t kMaxNamesPerBlob = 32;  // signature names reported per blob

struct ScanContext {
  std::vector<std::string> names;
  std::string error;  // the first error libclamav logged during the scan
};

// Where libclamav's log goes: the load in progress (its errors and warnings make the error
// message useful) or the scan in progress (its errors mean the scan did not happen as it
// should, even when the return code says clean).
thread_local std::string* g_load_log = nullptr;
thread_local ScanContext* g_scan = nullptr;

std::string trimmed(const char* msg) {
  std::string m(msg ? msg : "");
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) m.pop_back();
  return m;
}

void on_message(enum cl_msg severity, const char* fullmsg, const char* msg, void*) {
  (void)fullmsg;  // quiet otherwise: nothing of libclamav's goes to stderr
  if (g_load_log && (severity == CL_MSG_ERROR || severity == CL_MSG_WARN)) {
    if (!g_load_log->empty()) *g_load_log += "; ";
    *g_load_log += trimmed(msg);
  }
  if (g_scan && severity == CL_MSG_ERROR && g_scan->error.empty()) g_scan->error = trimmed(msg);
}

void on_virus_found(int, const char* virname, void* context) {
  auto* ctx = static_cast<ScanContext*>(context);
  if (!ctx || !virname) return;
  if (std::find(ctx->names.begin(), ctx->names.end(), virname) != ctx->names.end()) return;
  if (ctx->names.size() < kMaxNamesPerBlob) ctx->names.emplace_back(virname);
}

std::once_flag g_init_once;
cl_error_t g_init_result = CL_SUCCESS;

bool is_heuristic(const std::string& name) {
  return name.rfind("Heuristics.", 0) == 0;
}

cl_error_t set_num(cl_engine* e, cl_engine_field f, long long v) {
  return cl_engine_set_num(e, f, v);
}

}  // namespace

Result<ClamAvPtr> load_clamav(const std::string& database) {
  std::call_once(g_init_once, [] {
    cl_set_clcb_msg(on_message);
    g_init_result = cl_init(CL_INIT_DEFAULT);
  });
  if (g_init_result != CL_SUCCESS)
    return Error{std::string("cl_init: ") + cl_strerror(g_init_result)};
  if (database.empty()) return Error{"no signature database directory"};

  // scan_common calls localtime_r for the temp directory's name; glibc reads the zone
  // file on first use, so that happens here, before any lockdown.
  ::tzset();
  const time_t now = ::time(nullptr);
  struct tm tm_now {};
  ::localtime_r(&now, &tm_now);

  std::string log;
  g_load_log = &log;
  struct LogGuard {
    ~LogGuard() { g_load_log = nullptr; }
  } log_guard;

  ClamAvPtr av(new ClamAv());
  av->engine = cl_engine_new();
  if (!av->engine) return Error{"cl_engine_new failed"};

  cl_error_t rc = CL_SUCCESS;
  for (auto [field, value] :
       {std::pair{CL_ENGINE_MAX_SCANSIZE, kMaxScanSize},
        std::pair{CL_ENGINE_MAX_FILESIZE, kMaxFileSize},
        std::pair{CL_ENGINE_MAX_RECURSION, kMaxRecursion},
        std::pair{CL_ENGINE_MAX_FILES, kMaxFiles},
        std::pair{CL_ENGINE_MAX_SCANTIME, kMaxScanTimeMs},
        // Nothing of a scan is kept on disk.
        std::pair{CL_ENGINE_KEEPTMP, 0ll}, std::pair{CL_ENGINE_FORCETODISK, 0ll}}) {
    if ((rc = set_num(av->engine, field, value)) != CL_SUCCESS)
      return Error{std::string("cl_engine_set_num: ") + cl_strerror(rc)};
  }

  unsigned int sigs = 0;
  rc = cl_load(database.c_str(), av->engine, &sigs, CL_DB_STDOPT);
  if (rc != CL_SUCCESS)
    return Error{"cannot load signatures from " + database + ": " + cl_strerror(rc) +
                 (log.empty() ? "" : " (" + log + ")")};
  if (sigs == 0) return Error{"no signatures in " + database};
  rc = cl_engine_compile(av->engine);
  if (rc != CL_SUCCESS)
    return Error{std::string("cl_engine_compile: ") + cl_strerror(rc) +
                 (log.empty() ? "" : " (" + log + ")")};
  av->signatures = sigs;
  cl_engine_set_clcb_virus_found(av->engine, on_virus_found);

  // Raw signature matching on every blob; executables are parsed for their headers
  // (section hashes, entry-point offsets); no container parsing (see the file comment).
  av->options.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
  av->options.parse = CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ELF;
  av->options.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
                          CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
  av->options.mail = 0;
  av->options.dev = 0;
  return av;
}

std::string clamav_describe(const ClamAv& av) {
  return std::string("ClamAV ") + cl_retver() + ", " + std::to_string(av.signatures) +
         " signatures";
}

void scan_clamav(const ClamAv& av, const Blob& blob, Inspector& insp) {
  if (blob.bytes.empty()) return;  // nothing to match (and no memory to map)
  cl_fmap_t* map = cl_fmap_open_memory(blob.bytes.data(), blob.bytes.size());
  if (!map) {
    insp.symbol(blob, "AV_ERROR", "clamav: cannot map the content");
    return;
  }
  ScanContext ctx;
  const char* virname = nullptr;
  unsigned long scanned = 0;
  cl_scan_options options = av.options;  // libclamav takes a non-const pointer
  const std::string name = blob.names.empty() ? std::string() : blob.names.front();
  g_scan = &ctx;
  const cl_error_t rc = cl_scanmap_callback(map, name.empty() ? nullptr : name.c_str(), &virname,
                                            &scanned, av.engine, &options, &ctx);
  g_scan = nullptr;
  cl_fmap_close(map);

  if (rc == CL_VIRUS && virname && ctx.names.size() < kMaxNamesPerBlob &&
      std::find(ctx.names.begin(), ctx.names.end(), virname) == ctx.names.end())
    ctx.names.emplace_back(virname);
  if (rc == CL_VIRUS && ctx.names.empty()) ctx.names.emplace_back("ClamAV.Unnamed");
  // Alerts reported through the callback count whatever the return code.
  for (const auto& n : ctx.names) {
    if (is_heuristic(n))
      insp.symbol(blob, "AV_HEURISTIC", n);
    else
      insp.threat(blob, "virus", n);
  }
  if (rc != CL_CLEAN && rc != CL_VIRUS) {
    insp.symbol(blob, "AV_ERROR", std::string("clamav: ") + cl_strerror(rc));
  } else if (!ctx.error.empty()) {
    // libclamav turns some failures into a clean result: a scan whose temp directory cannot
    // be created returns CL_CLEAN without having looked at anything (1.4, scan_common).
    insp.symbol(blob, "AV_ERROR", "clamav: " + ctx.error);
  }
}

}  // namespace bulwark::inspect
