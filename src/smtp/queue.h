// QueueRunner: takes spooled messages to their next hop — the local Maildirs of the
// embedded default, or by SMTP to the route for the recipient's domain, a smarthost, or the
// domain's MX hosts — and removes a message only when every recipient is settled (the next
// hop said 2xx, or it failed for good and its sender was told with a DSN).
//
// Temporary failures are retried with exponential backoff (retry_initial_s doubling up to
// retry_max_s) until max_queue_lifetime_s, then returned. Delivery threads keep their
// connection open and reuse it for the next message to the same hop; at most
// concurrency_per_destination messages go to one hop at once.
//   QueueRunner q(spool, config);
//   q.start();           // recovers everything already in the spool
//   q.add(id);           // after a commit
//   q.stop();            // finishes deliveries in progress (SIGTERM)
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "smtp/spool.h"

namespace bulwark::smtp {

struct QueueStats {
  std::size_t queued = 0;     // messages in the spool
  std::size_t delivered = 0;  // recipients delivered since start
  std::size_t deferred = 0;   // temporary failures since start
  std::size_t bounced = 0;    // recipients returned since start
};

class QueueRunner {
 public:
  QueueRunner(Spool& spool, const Config& config);
  ~QueueRunner();
  QueueRunner(const QueueRunner&) = delete;
  QueueRunner& operator=(const QueueRunner&) = delete;

  void start();
  void stop();
  void add(const std::string& id);  // a newly committed message, due now
  // Re-reads the spool: picks up messages added by another process (quarantine release,
  // `bulwark queue retry`) and forgets deleted ones. Cheap; called on a timer and on demand.
  void rescan();
  void set_config(const Config& config);  // SIGHUP
  QueueStats stats() const;

 private:
  struct Item {
    std::int64_t due = 0;
    bool busy = false;
    std::string hop;  // destination key, for the per-destination limit
  };
  struct Worker;
  void scheduler();
  void worker();
  // One delivery attempt of every unsettled recipient; returns when the message is next due
  // (0 when it left the spool).
  std::int64_t deliver(const std::string& id, Worker& w);
  // Sends the sender one DSN for these recipients (as their NOTIFY asks; never to <>).
  void bounce(const Envelope& env, std::string_view data, const std::vector<struct DsnRecipient>& reports);
  std::string hop_key(const Envelope& env) const;
  void track(const std::string& id);  // adds or refreshes one spool entry (lock held)

  Spool& spool_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // scheduler wake-ups
  std::condition_variable work_cv_;  // workers wait for jobs
  Config config_;
  std::map<std::string, Item> items_;
  std::vector<std::string> jobs_;    // ids ready to deliver
  std::map<std::string, std::size_t> in_flight_;  // per hop key
  std::map<std::string, std::string> hop_of_;     // id -> hop key while busy
  bool stopping_ = false;
  bool started_ = false;
  std::thread scheduler_;
  std::vector<std::thread> workers_;
  QueueStats stats_;
};

}  // namespace bulwark::smtp
