#include "smtp/server.h"

#include <chrono>
#include <ctime>
#include <optional>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include "core/log.h"

namespace bulwark::smtp {

using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

struct SmtpServer::Connection {
  Connection(tcp::socket s, asio::ssl::context& ctx)
      : stream(std::move(s), ctx), wake(stream.get_executor()) {
    wake.expires_at(asio::steady_timer::time_point::max());
  }
  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer wake;  // cancelled to interrupt a read (drain)
  bool tls = false;
  bool idle = false;      // waiting for a command outside a transaction
  bool shutdown = false;  // drain asked this session to end at its next idle moment
  bool force = false;     // drain time is up: end now
  std::string ip;
  bool counted = false;   // in per_ip_
};

namespace {

// A context for sockets that never do TLS (ssl::stream needs one).
asio::ssl::context& plain_context() {
  static asio::ssl::context ctx(asio::ssl::context::tls_server);
  return ctx;
}

Result<tcp::endpoint> parse_endpoint(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  asio::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  if (ec) return Error{"'" + text + "': not an IP address"};
  return tcp::endpoint(addr, static_cast<unsigned short>(std::stoi(text.substr(colon + 1))));
}

}  // namespace

SmtpServer::SmtpServer(asio::io_context& io, Decider& decider, ServerSettings settings)
    : io_(io), decider_(decider) {
  update(std::move(settings));
}

SmtpServer::~SmtpServer() = default;

void SmtpServer::update(ServerSettings settings) {
  trusted_ = NetworkList(settings.smtp.trusted_networks);
  normalize_ = NetworkList(settings.smtp.normalize_bare_lf_networks);
  proxy_from_ = NetworkList(settings.smtp.proxy_from);
  settings_ = std::make_shared<const ServerSettings>(std::move(settings));
}

Result<bool> SmtpServer::listen() {
  auto bind = [&](const std::string& where, bool submission) -> Result<bool> {
    auto ep = parse_endpoint(where);
    if (!ep) return ep.error();
    auto acc = std::make_unique<tcp::acceptor>(io_);
    asio::error_code ec;
    acc->open(ep.value().protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(ep.value(), ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error{"cannot listen on " + where + ": " + ec.message()};
    asio::co_spawn(io_, accept_loop(*acc, submission), asio::detached);
    log_event("listening", {{"address", where}, {"submission", submission ? "yes" : "no"}});
    acceptors_.push_back(std::move(acc));
    return true;
  };
  if (auto r = bind(settings_->smtp.listen, false); !r) return r;
  if (!settings_->smtp.submission_listen.empty())
    if (auto r = bind(settings_->smtp.submission_listen, true); !r) return r;
  return true;
}

std::vector<tcp::endpoint> SmtpServer::endpoints() const {
  std::vector<tcp::endpoint> out;
  for (const auto& a : acceptors_) {
    asio::error_code ec;
    auto ep = a->local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

awaitable<void> SmtpServer::accept_loop(tcp::acceptor& acceptor, bool submission) {
  while (!draining_) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) co_return;
      // EMFILE and the like: back off briefly rather than spin.
      asio::steady_timer t(io_, std::chrono::milliseconds(100));
      co_await t.async_wait(use_tuple);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket), submission), asio::detached);
  }
}

void SmtpServer::drain(std::function<void()> done) {
  draining_ = true;
  drained_ = std::move(done);
  for (auto& a : acceptors_) {
    asio::error_code ec;
    a->close(ec);
  }
  for (Connection* c : connections_) {
    c->shutdown = true;
    if (c->idle) c->wake.cancel();
  }
  drain_timer_ = std::make_unique<asio::steady_timer>(io_, std::chrono::seconds(settings_->smtp.drain_timeout_s));
  drain_timer_->async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    for (Connection* c : connections_) {
      c->force = true;
      c->wake.cancel();
      asio::error_code ignored;
      c->stream.next_layer().cancel(ignored);
    }
  });
  if (connections_.empty()) asio::post(io_, [this] { if (drained_) { auto d = std::move(drained_); drained_ = nullptr; d(); } });
}

void SmtpServer::finished(Connection* c) {
  connections_.erase(c);
  if (c->counted && --per_ip_[c->ip] == 0) per_ip_.erase(c->ip);
  stats_.connections = connections_.size();
  if (draining_ && connections_.empty() && drained_) {
    if (drain_timer_) drain_timer_->cancel();
    auto d = std::move(drained_);
    drained_ = nullptr;
    asio::post(io_, std::move(d));
  }
}

awaitable<void> SmtpServer::serve(tcp::socket socket, bool submission) {
  const auto settings = settings_;  // this session keeps the settings it started with
  const SmtpConfig& cfg = settings->smtp;
  asio::ssl::context& ctx = settings->tls ? *settings->tls : plain_context();
  auto conn = std::make_unique<Connection>(std::move(socket), ctx);
  Connection* c = conn.get();
  connections_.insert(c);
  ++stats_.accepted;
  stats_.connections = connections_.size();
  struct Cleanup {
    SmtpServer* s;
    Connection* c;
    ~Cleanup() { s->finished(c); }
  } cleanup{this, c};

  asio::error_code ec;
  auto peer = c->stream.next_layer().remote_endpoint(ec);
  if (ec) co_return;
  c->ip = peer.address().is_v4() || !peer.address().to_v6().is_v4_mapped()
              ? peer.address().to_string()
              : asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address().to_v6()).to_string();
  c->stream.next_layer().set_option(tcp::no_delay(true), ec);

  asio::steady_timer timer(io_);
  // Reads some bytes with a deadline; "" with `timed_out` or `failed` set otherwise.
  bool timed_out = false, failed = false;
  std::array<char, 65536> buf;
  auto read_some = [&](std::chrono::milliseconds limit) -> awaitable<std::string> {
    timed_out = failed = false;
    timer.expires_after(limit);
    std::variant<std::tuple<asio::error_code, std::size_t>, std::tuple<asio::error_code>,
                 std::tuple<asio::error_code>>
        r;
    if (c->tls)
      r = co_await (c->stream.async_read_some(asio::buffer(buf), use_tuple) ||
                    timer.async_wait(use_tuple) || c->wake.async_wait(use_tuple));
    else
      r = co_await (c->stream.next_layer().async_read_some(asio::buffer(buf), use_tuple) ||
                    timer.async_wait(use_tuple) || c->wake.async_wait(use_tuple));
    if (r.index() == 0) {
      auto [e, n] = std::get<0>(r);
      if (e || n == 0) {
        failed = true;
        co_return std::string();
      }
      co_return std::string(buf.data(), n);
    }
    if (r.index() == 1) timed_out = true;
    else failed = true;  // woken: shutdown or forced
    co_return std::string();
  };
  auto write_all = [&](std::string& out) -> awaitable<bool> {
    if (out.empty()) co_return true;
    timer.expires_after(std::chrono::seconds(cfg.command_timeout_s));
    std::variant<std::tuple<asio::error_code, std::size_t>, std::tuple<asio::error_code>> r;
    if (c->tls)
      r = co_await (asio::async_write(c->stream, asio::buffer(out), use_tuple) || timer.async_wait(use_tuple));
    else
      r = co_await (asio::async_write(c->stream.next_layer(), asio::buffer(out), use_tuple) ||
                    timer.async_wait(use_tuple));
    out.clear();
    co_return r.index() == 0 && !std::get<0>(std::get<0>(r));
  };

  // PROXY v2: the load balancer tells who the client is, before any SMTP byte.
  if (cfg.proxy_protocol) {
    if (!proxy_from_.contains(c->ip)) {
      log_event("proxy_refused", {{"peer", c->ip}}, "warn");
      co_return;
    }
    std::string header;
    while (header.size() < kProxyHeaderSize) {
      std::string more = co_await read_some(std::chrono::seconds(10));
      if (more.empty()) co_return;
      header += more;
    }
    auto len = proxy_v2_length(reinterpret_cast<const unsigned char*>(header.data()));
    if (!len) {
      log_event("proxy_malformed", {{"peer", c->ip}}, "warn");
      co_return;
    }
    while (header.size() < kProxyHeaderSize + *len) {
      std::string more = co_await read_some(std::chrono::seconds(10));
      if (more.empty()) co_return;
      header += more;
    }
    auto src = proxy_v2_source(reinterpret_cast<const unsigned char*>(header.data()),
                               std::string_view(header).substr(kProxyHeaderSize, *len));
    if (!src) {
      log_event("proxy_malformed", {{"peer", c->ip}}, "warn");
      co_return;
    }
    if (!src->empty()) c->ip = *src;
    header.erase(0, kProxyHeaderSize + *len);
    if (!header.empty()) {  // SMTP bytes before our greeting
      std::string out = "554 5.5.1 Error: SMTP protocol violation: client talked before the greeting\r\n";
      co_await write_all(out);
      co_return;
    }
  }

  std::string out;
  if (connections_.size() > cfg.max_connections || per_ip_[c->ip] >= cfg.max_connections_per_ip) {
    ++stats_.refused;
    if (per_ip_[c->ip] == 0) per_ip_.erase(c->ip);
    out = "421 4.7.0 " + cfg.hostname + " Error: too many connections, try again later\r\n";
    log_event("connection_refused", {{"client", c->ip}, {"reason", "connection limit"}}, "warn");
    co_await write_all(out);
    co_return;
  }
  ++per_ip_[c->ip];
  c->counted = true;

  ClientInfo client;
  client.ip = c->ip;
  client.trusted = trusted_.contains(c->ip);
  client.normalize_bare_lf = normalize_.contains(c->ip);
  client.submission = submission;
  client.tls_available = settings->tls != nullptr;

  SessionSettings ss;
  ss.hostname = cfg.hostname;
  ss.max_message_bytes = cfg.max_message_bytes;
  ss.max_recipients = cfg.max_recipients;
  ss.max_command_line = cfg.max_command_line;
  ss.max_data_line = cfg.max_data_line;
  ss.max_errors = cfg.max_errors;
  ss.check_recipient = [this](const std::string& a, bool relay) { return decider_.check_recipient(a, relay); };
  ss.check_sender = [this, ip = c->ip, limit = cfg.max_messages_per_minute_per_ip](const std::string& s) {
    const std::int64_t minute = static_cast<std::int64_t>(std::time(nullptr)) / 60;
    Rate& r = rate_[ip];
    if (r.minute != minute) r = Rate{minute, 0};
    if (++r.count > limit) return std::string("450 4.7.1 Error: too many messages from your address; try again later");
    if (rate_.size() > 100000) rate_.clear();  // bounded memory under a flood of addresses
    return decider_.check_sender(s);
  };
  ss.check_password = [this](const std::string& u, const std::string& p) { return decider_.check_password(u, p); };
  Session session(ss, client);
  log_event("connect", {{"client", c->ip}, {"submission", submission ? "yes" : "no"}}, "debug");

  if (cfg.greeting_delay_ms > 0) {
    std::string early = co_await read_some(std::chrono::milliseconds(cfg.greeting_delay_ms));
    if (!early.empty()) session.early_talker();
    else if (failed && !timed_out) co_return;
  } else if (c->stream.next_layer().available(ec) > 0) {
    session.early_talker();  // bytes already waiting before any greeting was sent
  }
  if (session.state() != Session::State::kClosed) session.start();

  while (true) {
    if (!co_await write_all(session.output())) break;
    const auto state = session.state();
    if (state == Session::State::kClosed) break;
    if (state == Session::State::kStartTls) {
      timer.expires_after(std::chrono::seconds(cfg.command_timeout_s));
      auto r = co_await (c->stream.async_handshake(asio::ssl::stream_base::server, use_tuple) ||
                         timer.async_wait(use_tuple));
      if (r.index() != 0 || std::get<0>(std::get<0>(r))) {
        log_event("tls_failed", {{"client", c->ip}}, "warn");
        break;
      }
      c->tls = true;
      session.tls_started();
      continue;
    }
    if (state == Session::State::kMessageReady) {
      Session::Message msg = session.take_message();
      const std::string id = msg.envelope.id;
      struct Waiter {
        explicit Waiter(asio::io_context& io) : t(io) {}
        asio::steady_timer t;
        std::optional<std::string> reply;
      };
      auto w = std::make_shared<Waiter>(io_);
      w->t.expires_after(std::chrono::milliseconds(cfg.scan_deadline_ms) + std::chrono::seconds(30));
      decider_.decide(std::move(msg), client, [w, &io = io_](std::string reply) {
        asio::post(io, [w, reply = std::move(reply)]() mutable {
          w->reply = std::move(reply);
          w->t.cancel();
        });
      });
      while (!w->reply) {
        auto [e] = co_await w->t.async_wait(use_tuple);
        if (!e) break;
      }
      session.finish_message(w->reply ? *w->reply
                                      : "451 4.3.0 Error: the message could not be checked in time; try again later (" + id + ")");
      continue;
    }
    // Reading: commands or message data.
    c->idle = !session.in_transaction() && !session.reading_data();
    if (c->force || (c->shutdown && c->idle)) {
      session.close_with("421 4.3.2 " + cfg.hostname + " Service shutting down");
      continue;
    }
    const auto limit = std::chrono::seconds(session.reading_data() ? cfg.data_timeout_s : cfg.command_timeout_s);
    std::string bytes = co_await read_some(limit);
    c->idle = false;
    if (bytes.empty()) {
      if (timed_out) {
        session.close_with("421 4.4.2 " + cfg.hostname + " Error: timeout exceeded");
        log_event("timeout", {{"client", c->ip}}, "warn");
        continue;
      }
      if (c->force || c->shutdown) {
        c->wake.expires_at(asio::steady_timer::time_point::max());
        continue;  // the loop top says 421
      }
      break;  // the client went away
    }
    session.feed(bytes);
  }
  if (!session.close_reason().empty() && session.close_reason() != "quit")
    log_event("disconnect", {{"client", c->ip}, {"reason", session.close_reason()}},
              session.close_reason() == "server" ? "info" : "warn");
  asio::error_code ignored;
  if (c->tls) {
    timer.expires_after(std::chrono::seconds(2));
    co_await (c->stream.async_shutdown(use_tuple) || timer.async_wait(use_tuple));
  }
  c->stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  c->stream.next_layer().close(ignored);
}

}  // namespace bulwark::smtp
