// Gateway: `bulwark serve` — the SMTP server, the scan pipeline in its sandboxed workers,
// the spool, the quarantine and the queue runner, wired together, plus reload.
//
// At the end of DATA a message is scanned within smtp.scan_deadline_ms and its action
// becomes the reply: reject -> 550 with the reason and queue id; quarantine -> stored in the
// quarantine, 250; tag -> X-Bulwark-* headers added, spooled, 250; accept -> spooled, 250.
// A scan that fails or runs late -> 451, so the sender retries: nothing is ever accepted
// unscanned, and 250 is sent only once the message is durable.
//   auto g = Gateway::create(config, config_path);
//   g.value()->start(io);        // binds, recovers the spool, starts delivery
//   g.value()->reload();         // SIGHUP
//   g.value()->drain([]{...});   // SIGTERM
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include <asio.hpp>

#include "classify/autolearn.h"
#include "core/config.h"
#include "core/result.h"
#include "sandbox/pool.h"
#include "sandbox/service.h"
#include "scan/pipeline.h"
#include "smtp/queue.h"
#include "smtp/server.h"
#include "smtp/spool.h"
#include "store/quarantine.h"

namespace bulwark::smtp {

class Gateway : public Decider {
 public:
  // `config_path` is re-read on reload ("" = embedded defaults).
  static Result<std::unique_ptr<Gateway>> create(Config config, std::string config_path);
  ~Gateway() override;

  Result<bool> start(asio::io_context& io);
  void reload();  // re-reads the configuration, rules and signatures; keeps connections
  void drain(std::function<void()> done);
  std::vector<asio::ip::tcp::endpoint> endpoints() const;

  // Decider
  void decide(Session::Message message, const ClientInfo& client,
              std::function<void(std::string reply)> done) override;
  std::string check_sender(const std::string& sender) override;
  std::string check_recipient(const std::string& address, bool may_relay) override;
  bool check_password(const std::string& user, const std::string& password) override;

 private:
  // Everything a reload replaces, kept alive by the decisions still using it.
  struct Runtime {
    Config config;
    std::unique_ptr<scan::Scanner> scanner;
    std::unique_ptr<sandbox::WorkerPool> pool;
    std::unique_ptr<sandbox::ScanService> service;
    std::set<std::string> recipients;  // lower-cased addresses and "@domain" entries
    std::unordered_map<std::string, std::string> users;  // user -> password hash
    std::unique_ptr<classify::AutoLearner> learner;      // classify.autolearn on
    ~Runtime();
  };
  Gateway() = default;
  static Result<std::shared_ptr<Runtime>> build_runtime(Config config);
  std::shared_ptr<Runtime> runtime() const;
  void finish(const std::shared_ptr<Runtime>& rt, const Session::Message& m, const ClientInfo& client,
              scan::Verdict verdict, double elapsed_ms, std::function<void(std::string)> done);
  // Guarded auto-learning from an accepted verdict (on the disk threads; never blocks a reply).
  // Takes the verdict's token hashes; the rest of it is left for finish().
  void autolearn(const std::shared_ptr<Runtime>& rt, const std::string& id, scan::Verdict& verdict,
                 std::shared_ptr<const std::string> bytes);

  std::string config_path_;
  mutable std::mutex mu_;
  std::shared_ptr<Runtime> runtime_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<store::QuarantineStore> quarantine_;
  std::unique_ptr<QueueRunner> runner_;
  std::unique_ptr<SmtpServer> server_;
  std::unique_ptr<asio::thread_pool> disk_;  // quarantine writes (SQLite + fsync)
  asio::io_context* io_ = nullptr;
  std::atomic<bool> reloading_{false};
};

// Headers the gateway adds: our Received: trace line and, for tagged mail, the verdict.
std::string received_header(const Envelope& env, const std::string& hostname, std::int64_t now);
std::string verdict_headers(const scan::Verdict& v);
// Removes top-level header fields whose name starts with `prefix` (case-insensitive), so
// a sender cannot forge our verdict headers for the next hop.
std::string strip_header_fields(std::string_view message, std::string_view prefix);

}  // namespace bulwark::smtp
