#include "smtp/maildir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace bulwark::smtp {
namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// The recipient as a single safe path component: never "", ".", ".." or hidden.
std::string folder_name(const std::string& recipient) {
  std::string out;
  out.reserve(recipient.size());
  for (char c : recipient) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '+' || c == '@' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

// Header values come from the envelope: CR and LF would start a forged header.
std::string header_safe(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  return out;
}

bool make_dir(const std::string& path, std::string* err) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return true;
  *err = errno_text("mkdir", path);
  return false;
}

// Creates `path` and its missing parents, each 0700.
bool make_dirs(const std::string& path, std::string* err) {
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    if (!make_dir(path.substr(0, i), err)) return false;
  }
  return true;
}

// Maildir's host part: '/' and ':' would break the name, so they are escaped as octal.
std::string host_part() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string out;
  for (const char* p = buf; *p != '\0'; ++p) {
    if (*p == '/') out += "\\057";
    else if (*p == ':') out += "\\072";
    else out.push_back(*p);
  }
  return out;
}

std::string unique_name() {
  static std::atomic<unsigned long> counter{0};
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  return std::to_string(tv.tv_sec) + ".M" + std::to_string(tv.tv_usec) + "P" + std::to_string(::getpid()) +
         "Q" + std::to_string(++counter) + "." + host_part();
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<std::string> deliver_maildir(const std::string& root, const Envelope& envelope,
                                    const std::string& recipient, std::string_view message) {
  if (root.empty()) return Error{"maildir root is empty"};
  const std::string dir = root + "/" + folder_name(recipient);
  std::string err;
  if (!make_dirs(root, &err) || !make_dir(dir, &err) || !make_dir(dir + "/tmp", &err) ||
      !make_dir(dir + "/new", &err) || !make_dir(dir + "/cur", &err))
    return Error{err};

  const std::string name = unique_name();
  const std::string tmp = dir + "/tmp/" + name;
  const std::string dst = dir + "/new/" + name;
  const std::string head = "Return-Path: <" + header_safe(envelope.mail_from) + ">\r\nDelivered-To: " +
                           header_safe(recipient) + "\r\n";

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{errno_text("create", tmp)};
  const bool written = write_all(fd, head) && write_all(fd, message) && ::fsync(fd) == 0;
  if (!written) err = errno_text("write", tmp);
  if (::close(fd) != 0 && written) err = errno_text("close", tmp);
  if (!err.empty()) {
    ::unlink(tmp.c_str());
    return Error{err};
  }
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    err = errno_text("rename", tmp);
    ::unlink(tmp.c_str());
    return Error{err};
  }
  // The rename is durable only once the directory itself is on disk.
  if (!fsync_dir(dir + "/new")) return Error{errno_text("fsync", dir + "/new")};
  return dst;
}

}  // namespace bulwark::smtp
