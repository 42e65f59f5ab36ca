// Message sources for the `scan` verb: files, directories (recursive, sorted), mbox files
// and standard input. Each message is handed over whole, at most `max_bytes` + 1 bytes of
// it (so the parser sees that a limit was passed without the reader holding gigabytes).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace bulwark::cli {

struct InputError {
  std::string path;
  std::string what;
};

// Calls `on_message(origin, bytes)` for every message under `paths` in order; origin is
// the path, "path:N" for the N-th message of an mbox holding several, or "-" for stdin.
// Unreadable paths are reported to `on_error` and skipped. Returns the count of messages.
std::size_t for_each_message(const std::vector<std::string>& paths, std::size_t max_bytes,
                             const std::function<void(const std::string&, std::string&&)>& on_message,
                             const std::function<void(const InputError&)>& on_error);

// Counts the files `for_each_message` would open (for progress display).
std::size_t count_files(const std::vector<std::string>& paths);

}  // namespace bulwark::cli
