// The `bulwark` verbs. Each returns the process exit status.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

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

struct ServeOptions {
  std::string config_path;  // empty: the embedded default (127.0.0.1:2525, ./var, Maildir)
  std::string log_level = "info";
};
int run_serve(const ServeOptions& options);  // returns after SIGTERM drained it

struct QueueOptions {
  std::string config_path;
  std::string action;  // list, show, retry, delete
  std::string id;      // retry without an id: every message
  bool raw = false;    // show: the message too
};
int run_queue(const QueueOptions& options);

struct QuarantineOptions {
  std::string config_path;
  std::string action;  // list, show, release, delete
  std::string id;
  std::string status = "held";  // list: held, released, deleted or all
  std::string recipient, sender;
  std::size_t limit = 100;
  bool raw = false;  // show: the message bytes
};
int run_quarantine(const QuarantineOptions& options);

int run_hash_password();

struct TrainOptions {
  std::string config_path;  // empty: embedded defaults (model under ./var)
  std::vector<std::string> spam, ham;  // files, directories (recursive), mbox files
  bool reset = false;     // start from an empty model
  bool progress = true;   // on stderr, only when stderr is a terminal
};
// 0: learned (or nothing new); 2: an error, or interrupted (what was committed stays).
int run_train(const TrainOptions& options);

// The configuration at `path`, or the embedded defaults for "".
Result<Config> load_config_or_default(const std::string& path);

}  // namespace bulwark::cli
