// SmtpServer: the listeners and connections around Session — Asio coroutines on one
// io_context thread, TLS by OpenSSL, PROXY v2, connection and rate limits, timeouts per
// state, and a graceful drain. What to do with a finished message is the Decider's job
// (the gateway: scan, then spool, quarantine or refuse), so this file knows sockets and
// limits, not policy.
//   SmtpServer server(io, decider, settings);
//   if (auto r = server.listen(); !r) fail(r.error().message);
//   io.run();   // server.drain() from a signal handler coroutine ends it
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include "core/config.h"
#include "core/result.h"
#include "smtp/network.h"
#include "smtp/session.h"

namespace bulwark::smtp {

// Decides on one complete message. `done` may be called from any thread, exactly once, with
// the full reply line ("250 2.0.0 Ok: queued as ...", "550 5.7.1 ...", "451 4.3.0 ...").
class Decider {
 public:
  virtual ~Decider() = default;
  virtual void decide(Session::Message message, const ClientInfo& client,
                      std::function<void(std::string reply)> done) = 0;
  // A refusal for MAIL from this sender, or "" (e.g. the spool is low on space).
  virtual std::string check_sender(const std::string& sender) = 0;
  // A refusal for this recipient, or "" (relay control, recipient verification).
  virtual std::string check_recipient(const std::string& address, bool may_relay) = 0;
  virtual bool check_password(const std::string& user, const std::string& password) = 0;
};

struct ServerSettings {
  SmtpConfig smtp;
  std::shared_ptr<asio::ssl::context> tls;  // null: STARTTLS not offered
};

struct ServerStats {
  std::size_t connections = 0;  // open now
  std::size_t accepted = 0;     // since start
  std::size_t refused = 0;      // over a connection limit
};

class SmtpServer {
 public:
  SmtpServer(asio::io_context& io, Decider& decider, ServerSettings settings);
  ~SmtpServer();

  // Binds smtp.listen (and smtp.submission_listen); errors name the address.
  Result<bool> listen();
  // Stops accepting, tells idle sessions 421 and lets the others finish their message
  // within drain_timeout_s; `done` runs when no session is left.
  void drain(std::function<void()> done);
  void update(ServerSettings settings);  // SIGHUP: new sessions use the new settings
  ServerStats stats() const { return stats_; }
  std::vector<asio::ip::tcp::endpoint> endpoints() const;

 private:
  struct Connection;
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, bool submission);
  asio::awaitable<void> serve(asio::ip::tcp::socket socket, bool submission);
  void finished(Connection* c);

  asio::io_context& io_;
  Decider& decider_;
  std::shared_ptr<const ServerSettings> settings_;
  NetworkList trusted_, normalize_, proxy_from_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::set<Connection*> connections_;
  std::map<std::string, std::size_t> per_ip_;
  struct Rate {
    std::int64_t minute = 0;
    std::size_t count = 0;
  };
  std::map<std::string, Rate> rate_;
  bool draining_ = false;
  std::function<void()> drained_;
  std::unique_ptr<asio::steady_timer> drain_timer_;
  ServerStats stats_;
};

}  // namespace bulwark::smtp
