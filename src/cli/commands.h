// The `bulwark` verbs. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace bulwark::cli {

struct ScanOptions {
  std::string config_path;  // empty: embedded defaults
  std::string format = "text";  // "text" or "json"
  bool explain = false;
  bool progress = true;  // on stderr, only when stderr is a terminal
  bool sandbox = true;   // scan in locked-down worker processes
  int workers = -1;      // -1: from the config
  std::vector<std::string> paths;
};

// 0: every message accepted; 1: something tagged, quarantined or rejected; 2: an error.
int run_scan(const ScanOptions& options);

// 0: valid; 2: errors, printed as "file:line: what is wrong".
int run_check_config(const std::string& path);

}  // namespace bulwark::cli
