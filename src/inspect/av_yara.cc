// YARA through libyara: the rules shipped in rules/yara/ (compiled into the binary by
// cmake/embed_rules.cmake) plus the operator's *.yar files, compiled once at load time;
// every blob is scanned from memory.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wshadow"
#include <yara.h>
#pragma GCC diagnostic pop

#include "inspect/av.h"
#include "yara_rules_embedded.h"

namespace bulwark::inspect {

class YaraRules {
 public:
  YR_RULES* rules = nullptr;
  std::size_t shipped_files = 0;
  std::size_t extra_files = 0;
  std::size_t rule_count = 0;
};

void YaraRulesDeleter::operator()(YaraRules* y) const {
  if (!y) return;
  if (y->rules) yr_rules_destroy(y->rules);
  delete y;
}

namespace {

constexpr int kScanTimeoutSeconds = 10;  // per blob; a timeout is AV_ERROR, not clean
// No try/catch: with it libyara installs and removes SIGSEGV/SIGBUS handlers around every
// scan (rt_sigaction, a dozen calls), which the worker's seccomp filter does not allow; and
// a fault inside libyara in a disposable worker should end the worker (the pool rescans
// the message alone, then marks it unscannable) rather than be jumped out of with locks
// and heap in an unknown state. The guard exists for scanning mapped files that shrink;
// blobs are our own memory.
constexpr int kScanFlags = SCAN_FLAGS_NO_TRYCATCH;
constexpr std::size_t kMaxRulesPerBlob = 16;  // matching rules reported per blob

std::once_flag g_init_once;
int g_init_result = ERROR_SUCCESS;

struct CompileLog {
  const char* current_file = "";  // for rules added as strings (no file name in libyara)
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

void on_compile_message(int error_level, const char* file_name, int line_number,
                        const YR_RULE* rule, const char* message, void* user_data) {
  (void)rule;
  auto* log = static_cast<CompileLog*>(user_data);
  std::string where = file_name ? file_name : log->current_file;
  where += ":" + std::to_string(line_number) + ": ";
  where += message ? message : "?";
  (error_level == YARA_ERROR_LEVEL_ERROR ? log->errors : log->warnings).push_back(where);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

struct ScanState {
  std::vector<std::pair<std::string, bool>> matches;  // rule name, tagged suspicious
  std::size_t more = 0;                               // matches beyond kMaxRulesPerBlob
};

int on_scan_message(YR_SCAN_CONTEXT*, int message, void* message_data, void* user_data) {
  if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
  auto* state = static_cast<ScanState*>(user_data);
  const auto* rule = static_cast<const YR_RULE*>(message_data);
  if (state->matches.size() >= kMaxRulesPerBlob) {
    ++state->more;
    return CALLBACK_CONTINUE;
  }
  bool suspicious = false;
  const char* tag = nullptr;
  yr_rule_tags_foreach(rule, tag) {
    if (std::strcmp(tag, "suspicious") == 0) suspicious = true;
  }
  state->matches.emplace_back(rule->identifier, suspicious);
  return CALLBACK_CONTINUE;
}

std::string yara_error_name(int rc) {
  switch (rc) {
    case ERROR_SCAN_TIMEOUT:
      return "scan timed out";
    case ERROR_INSUFFICIENT_MEMORY:
      return "out of memory";
    case ERROR_TOO_MANY_MATCHES:
      return "too many matches";
    case ERROR_TOO_MANY_SCAN_THREADS:
      return "too many scan threads";
    case ERROR_COULD_NOT_MAP_FILE:
      return "could not map memory";
    default:
      return "error " + std::to_string(rc);
  }
}

}  // namespace

Result<YaraRulesPtr> load_yara(const std::string& extra_dir) {
  std::call_once(g_init_once, [] { g_init_result = yr_initialize(); });
  if (g_init_result != ERROR_SUCCESS)
    return Error{"yr_initialize failed: " + yara_error_name(g_init_result)};

  // The operator's rule files, read now (workers cannot open files later).
  std::vector<std::filesystem::path> extra;
  if (!extra_dir.empty()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(extra_dir, ec)) {
      if (e.path().extension() == ".yar" && e.is_regular_file(ec)) extra.push_back(e.path());
    }
    if (ec) return Error{"cannot read rules directory " + extra_dir + ": " + ec.message()};
    std::sort(extra.begin(), extra.end());
  }

  YR_COMPILER* compiler = nullptr;
  if (yr_compiler_create(&compiler) != ERROR_SUCCESS) return Error{"yr_compiler_create failed"};
  struct CompilerGuard {
    YR_COMPILER* c;
    ~CompilerGuard() { yr_compiler_destroy(c); }
  } compiler_guard{compiler};
  CompileLog log;
  yr_compiler_set_callback(compiler, on_compile_message, &log);

  YaraRulesPtr y(new YaraRules());
  // After the first error libyara refuses further input, so stop there.
  for (std::size_t i = 0; i < kEmbeddedYaraRuleCount && log.errors.empty(); ++i) {
    const EmbeddedRuleFile& f = kEmbeddedYaraRules[i];
    log.current_file = f.name;
    const std::string text(f.text, f.size);
    yr_compiler_add_string(compiler, text.c_str(), "bulwark");
    ++y->shipped_files;
  }
  for (const auto& path : extra) {
    if (!log.errors.empty()) break;
    const std::string name = path.string();
    FILE* fp = std::fopen(name.c_str(), "r");
    if (!fp) return Error{"cannot open " + name + ": " + std::strerror(errno)};
    log.current_file = name.c_str();
    yr_compiler_add_file(compiler, fp, "extra", name.c_str());
    std::fclose(fp);
    ++y->extra_files;
  }
  if (!log.errors.empty()) return Error{"rules do not compile: " + join(log.errors)};

  YR_RULES* rules = nullptr;
  if (yr_compiler_get_rules(compiler, &rules) != ERROR_SUCCESS || !rules)
    return Error{"yr_compiler_get_rules failed"};
  y->rules = rules;
  const YR_RULE* rule = nullptr;
  yr_rules_foreach(rules, rule) {
    ++y->rule_count;
  }
  return y;
}

std::string yara_describe(const YaraRules& y) {
  return "YARA " YR_VERSION ", " + std::to_string(y.rule_count) + " rules (" +
         std::to_string(y.shipped_files) + " shipped files, " + std::to_string(y.extra_files) +
         " local)";
}

void scan_yara(const YaraRules& y, const Blob& blob, Inspector& insp) {
  ScanState state;
  const auto* data = reinterpret_cast<const uint8_t*>(blob.bytes.data());
  const int rc = yr_rules_scan_mem(y.rules, data, blob.bytes.size(), kScanFlags, on_scan_message,
                                   &state, kScanTimeoutSeconds);
  for (const auto& [name, suspicious] : state.matches) {
    if (suspicious)
      insp.symbol(blob, "YARA_SUSPICIOUS", name);
    else
      insp.threat(blob, "malware", name);
  }
  if (state.more > 0)
    insp.symbol(blob, "YARA_SUSPICIOUS",
                std::to_string(state.more) + " more matching rules not listed");
  if (rc != ERROR_SUCCESS) insp.symbol(blob, "AV_ERROR", "yara: " + yara_error_name(rc));
}

}  // namespace bulwark::inspect
