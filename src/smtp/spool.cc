#include "smtp/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

namespace bulwark::smtp {

namespace {

constexpr std::string_view kMagic = "bulwark-spool 1\n";

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{errno_text(path)};
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Error{errno_text(path)};
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

bool ensure_dir(const std::string& path) {
  return ::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST;
}

// Writes `content` to `path` through a temporary name, so readers see old or new, never half.
bool replace_file(const std::string& path, std::string_view content, bool sync) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = write_all(fd, content) && (!sync || ::fdatasync(fd) == 0);
  ok = (::close(fd) == 0) && ok;
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

}  // namespace

bool Spool::valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string spool_file(const Envelope& envelope, std::string_view data) {
  std::string out(kMagic);
  out += serialize_envelope(envelope);
  out += "size " + std::to_string(data.size()) + "\n";
  out += data;
  return out;
}

Result<std::pair<Envelope, std::string>> parse_spool_file(std::string_view file) {
  if (!file.starts_with(kMagic)) return Error{"not a spool file"};
  file.remove_prefix(kMagic.size());
  const std::size_t end = file.find("\nend\n");
  if (end == std::string_view::npos) return Error{"spool file: truncated envelope"};
  auto env = parse_envelope(file.substr(0, end + 5));
  if (!env) return env.error();
  file.remove_prefix(end + 5);
  if (!file.starts_with("size ")) return Error{"spool file: no size line"};
  const std::size_t nl = file.find('\n');
  if (nl == std::string_view::npos) return Error{"spool file: truncated size line"};
  std::size_t size = 0;
  auto [p, ec] = std::from_chars(file.data() + 5, file.data() + nl, size);
  if (ec != std::errc{} || p != file.data() + nl) return Error{"spool file: bad size"};
  file.remove_prefix(nl + 1);
  if (file.size() != size)
    return Error{"spool file: " + std::to_string(file.size()) + " bytes of " + std::to_string(size)};
  return std::make_pair(std::move(env).value(), std::string(file));
}

Spool::Spool(std::string directory) : dir_(std::move(directory)) {}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& directory, bool recover) {
  for (const std::string& d : {directory, directory + "/tmp", directory + "/queue"})
    if (!ensure_dir(d)) return Error{errno_text("cannot create " + d)};
  std::unique_ptr<Spool> s(new Spool(directory));
  s->queue_fd_ = ::open((directory + "/queue").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->queue_fd_ < 0) return Error{errno_text(directory + "/queue")};
  // Leftovers in tmp/ were never acknowledged: remove them.
  DIR* d = recover ? ::opendir((directory + "/tmp").c_str()) : nullptr;
  if (d) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ::unlink((directory + "/tmp/" + e->d_name).c_str());
    ::closedir(d);
  }
  s->thread_ = std::thread([p = s.get()] { p->committer(); });
  return s;
}

Spool::~Spool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (queue_fd_ >= 0) ::close(queue_fd_);
}

void Spool::commit(const Envelope& envelope, std::string data, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      pending_.push_back({envelope, std::move(data), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done("spool is shutting down");
}

Result<bool> Spool::commit_sync(const Envelope& envelope, std::string_view data) {
  std::vector<Pending> batch;
  std::string error;
  batch.push_back({envelope, std::string(data), [&error](const std::string& e) { error = e; }});
  write_batch(batch);
  if (!error.empty()) return Error{error};
  return true;
}

void Spool::committer() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && stopping_) return;
    std::vector<Pending> batch;
    batch.swap(pending_);
    lock.unlock();
    write_batch(batch);
    lock.lock();
  }
}

void Spool::write_batch(std::vector<Pending>& batch) {
  struct Written {
    int fd = -1;
    std::string error;
  };
  std::vector<Written> w(batch.size());
  std::size_t written = 0;
  int last_fd = -1;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::string tmp = dir_ + "/tmp/" + batch[i].envelope.id;
    if (!valid_id(batch[i].envelope.id)) {
      w[i].error = "invalid queue id";
      continue;
    }
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      w[i].error = errno_text("spool write");
      continue;
    }
    if (!write_all(fd, spool_file(batch[i].envelope, batch[i].data))) {
      w[i].error = errno_text("spool write");
      ::close(fd);
      ::unlink(tmp.c_str());
      continue;
    }
    w[i].fd = last_fd = fd;
    ++written;
  }
  // One flush for the whole batch: syncfs() makes every file of the batch durable at once;
  // a batch of one gets the cheaper fdatasync().
  std::string sync_error;
  if (written == 1 && ::fdatasync(last_fd) != 0) sync_error = errno_text("spool fdatasync");
  if (written > 1 && ::syncfs(last_fd) != 0) sync_error = errno_text("spool syncfs");
  bool renamed = false;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (w[i].fd < 0) continue;
    ::close(w[i].fd);
    const std::string tmp = dir_ + "/tmp/" + batch[i].envelope.id;
    if (!sync_error.empty()) {
      w[i].error = sync_error;
      ::unlink(tmp.c_str());
      continue;
    }
    const std::string final_path = dir_ + "/queue/" + batch[i].envelope.id;
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      w[i].error = errno_text("spool rename");
      ::unlink(tmp.c_str());
      continue;
    }
    renamed = true;
  }
  // The renames are durable once queue/ itself is flushed.
  if (renamed && ::fsync(queue_fd_) != 0) {
    const std::string e = errno_text("spool directory fsync");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!w[i].error.empty()) continue;
      w[i].error = e;
      ::unlink((dir_ + "/queue/" + batch[i].envelope.id).c_str());
    }
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(w[i].error);
}

Result<std::vector<std::string>> Spool::ids() const {
  DIR* d = ::opendir((dir_ + "/queue").c_str());
  if (!d) return Error{errno_text(dir_ + "/queue")};
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (valid_id(name)) out.emplace_back(name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());  // ids are time-ordered
  return out;
}

Result<Envelope> Spool::envelope(const std::string& id) const {
  if (!valid_id(id)) return Error{"invalid queue id '" + id + "'"};
  auto file = read_file(dir_ + "/queue/" + id);
  if (!file) return file.error();
  auto parsed = parse_spool_file(file.value());
  if (!parsed) return Error{id + ": " + parsed.error().message};
  return std::move(parsed.value().first);
}

Result<std::string> Spool::data(const std::string& id) const {
  if (!valid_id(id)) return Error{"invalid queue id '" + id + "'"};
  auto file = read_file(dir_ + "/queue/" + id);
  if (!file) return file.error();
  auto parsed = parse_spool_file(file.value());
  if (!parsed) return Error{id + ": " + parsed.error().message};
  return std::move(parsed.value().second);
}

DeliveryState Spool::state(const std::string& id) const {
  DeliveryState st;
  if (!valid_id(id)) return st;
  auto file = read_file(dir_ + "/queue/" + id + ".state");
  if (!file) return st;
  std::string_view text = file.value();
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view key = line.substr(0, sp), value = line.substr(sp + 1);
    if (key == "attempts") std::from_chars(value.data(), value.data() + value.size(), st.attempts);
    else if (key == "next") std::from_chars(value.data(), value.data() + value.size(), st.next_attempt);
    else if (key == "settled") st.settled.emplace_back(value);
    else if (key == "error") st.last_error = std::string(value);
  }
  return st;
}

Result<bool> Spool::save_state(const std::string& id, const DeliveryState& st) {
  if (!valid_id(id)) return Error{"invalid queue id '" + id + "'"};
  std::string text = "attempts " + std::to_string(st.attempts) + "\nnext " +
                     std::to_string(st.next_attempt) + "\n";
  for (const auto& r : st.settled) text += "settled " + r + "\n";
  std::string err = st.last_error;
  std::replace(err.begin(), err.end(), '\n', ' ');
  std::replace(err.begin(), err.end(), '\r', ' ');
  if (!err.empty()) text += "error " + err + "\n";
  // Settled recipients are flushed so a crash does not deliver to them again; a lost
  // attempt counter only costs an early retry.
  if (!replace_file(dir_ + "/queue/" + id + ".state", text, !st.settled.empty()))
    return Error{errno_text("spool state " + id)};
  return true;
}

Result<bool> Spool::remove(const std::string& id) {
  if (!valid_id(id)) return Error{"invalid queue id '" + id + "'"};
  const std::string path = dir_ + "/queue/" + id;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error{errno_text(path)};
  ::unlink((path + ".state").c_str());
  ::fsync(queue_fd_);
  return true;
}

void Spool::notify_runner() const {
  // The runner watches this file's modification time.
  replace_file(dir_ + "/flush", std::to_string(::time(nullptr)) + "\n", false);
}

std::uint64_t Spool::free_mb() const {
  struct statvfs s {};
  if (::statvfs(dir_.c_str(), &s) != 0) return 0;
  return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize / (1024 * 1024);
}

}  // namespace bulwark::smtp
