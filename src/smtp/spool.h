// Spool: where accepted mail waits, durably, until the next hop has taken it.
//
// One file per message under queue/: a header line, the envelope, the byte count, then the
// message. It is written under tmp/ and renamed into queue/ only after its data is on disk;
// the queue/ directory is then fsync'd, and only then is the commit reported done (and the
// SMTP 250 sent). Concurrent commits are grouped: one committer thread writes a batch and
// makes it durable with one syncfs() (one fdatasync() for a batch of one), so durability
// costs one flush per batch, not per message. Delivery progress lives beside each message
// in <id>.state, rewritten atomically; losing it can only cause a duplicate, never a loss.
//   auto spool = Spool::open("./var/spool");
//   spool.value()->commit(env, bytes, [](const std::string& err) { ... });  // async
//   spool.value()->commit_sync(env, bytes);                                  // CLI, DSNs
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/envelope.h"
#include "core/result.h"

namespace bulwark::smtp {

struct DeliveryState {
  std::uint32_t attempts = 0;
  std::int64_t next_attempt = 0;  // Unix seconds; 0 = now
  std::vector<std::string> settled;  // recipients delivered or returned: never sent again
  std::string last_error;            // the last temporary failure, for `queue show`
};

class Spool {
 public:
  using Done = std::function<void(const std::string& error)>;  // "" = durable

  // Opens (creating) the spool in `directory`. With `recover` (the server, at start),
  // partial writes left in tmp/ by a crash are removed: their senders never got a 250.
  // Other processes (the CLI) open it without `recover`, beside a running server.
  static Result<std::unique_ptr<Spool>> open(const std::string& directory, bool recover = true);
  // Asks a running server's queue runner to look at the spool now (after a release or a
  // retry from the CLI).
  void notify_runner() const;
  ~Spool();

  // Queues a durable write; `done` runs on the committer thread.
  void commit(const Envelope& envelope, std::string data, Done done);
  Result<bool> commit_sync(const Envelope& envelope, std::string_view data);

  Result<std::vector<std::string>> ids() const;  // every queued message, oldest first
  Result<Envelope> envelope(const std::string& id) const;
  Result<std::string> data(const std::string& id) const;
  DeliveryState state(const std::string& id) const;  // default when none was saved
  Result<bool> save_state(const std::string& id, const DeliveryState& state);
  Result<bool> remove(const std::string& id);  // message and state; fsync'd

  // Free space left on the spool's file system, in MiB.
  std::uint64_t free_mb() const;
  const std::string& directory() const { return dir_; }

  static bool valid_id(std::string_view id);  // hex only: ids become file names

 private:
  explicit Spool(std::string directory);
  struct Pending {
    Envelope envelope;
    std::string data;
    Done done;
  };
  void committer();
  void write_batch(std::vector<Pending>& batch);

  std::string dir_;
  int queue_fd_ = -1;  // queue/ directory, for fsync
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

// The file's content for a message: header, envelope, size, bytes.
std::string spool_file(const Envelope& envelope, std::string_view data);
Result<std::pair<Envelope, std::string>> parse_spool_file(std::string_view file);

}  // namespace bulwark::smtp
