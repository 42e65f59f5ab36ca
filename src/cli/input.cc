#include "cli/input.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace bulwark::cli {

namespace fs = std::filesystem;

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f && f != stdin) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Reads messages from one stream. A stream whose first line starts with "From " is an
// mbox: messages begin at "From " lines that follow a blank line (or open the file), and
// the "From " envelope line itself is not part of the message.
std::size_t read_stream(std::FILE* f, const std::string& origin, std::size_t max_bytes,
                        const std::function<void(const std::string&, std::string&&)>& on_message,
                        const std::function<void(const InputError&)>& on_error) {
  char* line = nullptr;
  std::size_t cap = 0;
  std::string current;
  bool is_mbox = false, first = true, prev_blank = true, have = false;
  std::size_t count = 0;
  auto flush = [&](bool last) {
    if (!have) return;
    ++count;
    std::string name = origin;
    if (is_mbox && !(last && count == 1)) name += ":" + std::to_string(count);
    on_message(name, std::move(current));
    current.clear();
    have = false;
  };
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    const std::string_view l(line, static_cast<std::size_t>(n));
    if (first) {
      first = false;
      is_mbox = l.starts_with("From ");
      if (!is_mbox) {
        // A single message: read the rest in blocks, no line splitting needed.
        current.assign(l.substr(0, std::min(l.size(), max_bytes + 1)));
        have = true;
        char buf[1 << 16];
        std::size_t got;
        while (current.size() <= max_bytes && (got = std::fread(buf, 1, sizeof buf, f)) > 0)
          current.append(buf, std::min(got, max_bytes + 1 - current.size()));
        break;
      }
    }
    if (is_mbox && prev_blank && l.starts_with("From ")) {
      flush(false);
      have = true;
      prev_blank = false;
      continue;
    }
    prev_blank = l == "\n" || l == "\r\n";
    if (current.size() <= max_bytes) current.append(l.substr(0, max_bytes + 1 - current.size()));
    have = true;
  }
  std::free(line);
  if (std::ferror(f)) on_error({origin, std::strerror(errno)});
  else if (first) on_error({origin, "empty: no message in it"});  // said, not silently skipped
  flush(true);  // an mbox holding one message is reported under its plain path
  return count;
}

void list_dir(const fs::path& dir, std::vector<fs::path>& out,
              const std::function<void(const InputError&)>& on_error) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    on_error({dir.string(), ec.message()});
    return;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      on_error({dir.string(), ec.message()});
      break;
    }
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;  // hidden files (.complete markers, editor state) are not mail
    }
    if (it->is_regular_file(ec)) out.push_back(it->path());
  }
}

std::vector<fs::path> expand(const std::vector<std::string>& paths,
                             const std::function<void(const InputError&)>& on_error) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    if (p == "-") {
      files.emplace_back("-");
      continue;
    }
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec) {
      on_error({p, ec.message()});
    } else if (fs::is_directory(st)) {
      std::vector<fs::path> sub;
      list_dir(p, sub, on_error);
      std::sort(sub.begin(), sub.end());
      files.insert(files.end(), sub.begin(), sub.end());
    } else {
      files.emplace_back(p);
    }
  }
  return files;
}

}  // namespace

std::size_t count_files(const std::vector<std::string>& paths) {
  return expand(paths, [](const InputError&) {}).size();
}

std::size_t for_each_message(const std::vector<std::string>& paths, std::size_t max_bytes,
                             const std::function<void(const std::string&, std::string&&)>& on_message,
                             const std::function<void(const InputError&)>& on_error) {
  std::size_t count = 0;
  for (const auto& path : expand(paths, on_error)) {
    const std::string name = path.string();
    File f(name == "-" ? stdin : std::fopen(name.c_str(), "rb"));
    if (!f) {
      on_error({name, std::strerror(errno)});
      continue;
    }
    count += read_stream(f.get(), name, max_bytes, on_message, on_error);
  }
  return count;
}

}  // namespace bulwark::cli
