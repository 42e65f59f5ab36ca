#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/input.h"
#include "core/escape.h"
#include "scan/output.h"
#include "scan/pipeline.h"

namespace bulwark::cli {

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
  const scan::Scanner scanner(config);
  std::vector<std::string> paths = options.paths;
  if (paths.empty()) paths.push_back("-");

  const bool show_progress = options.progress && isatty(STDERR_FILENO) && !options.explain;
  const std::size_t total = show_progress ? count_files(paths) : 0;
  std::size_t done = 0;
  bool errors = false, flagged = false;

  auto on_message = [&](const std::string& origin, std::string&& bytes) {
    scan::ScanResult r = scanner.scan(std::move(bytes), origin);
    if (r.verdict.action != Action::kAccept) flagged = true;
    if (options.explain) {
      std::cout << scan::to_explain(r) << "\n";
    } else if (options.format == "json") {
      std::cout << scan::to_json(r.verdict) << "\n";
    } else {
      std::cout << scan::to_text(r.verdict) << "\n";
    }
    ++done;
    if (show_progress && (done % 64 == 0))
      std::fprintf(stderr, "\r%zu/%zu scanned", done, total);
  };
  auto on_error = [&](const InputError& e) {
    errors = true;
    std::cout.flush();
    std::cerr << "bulwark scan: " << escape_for_display(e.path) << ": " << e.what << "\n";
  };
  for_each_message(paths, config.limits.max_message_bytes, on_message, on_error);
  if (show_progress) std::fprintf(stderr, "\r%zu messages scanned\n", done);
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
