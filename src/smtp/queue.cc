#include "smtp/queue.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "core/ascii.h"
#include "core/log.h"
#include "smtp/address.h"
#include "smtp/client.h"
#include "smtp/dsn.h"
#include "smtp/maildir.h"
#include "smtp/resolve.h"

namespace bulwark::smtp {

namespace {

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::pair<std::string, std::uint16_t> split_endpoint(const std::string& s) {
  const std::size_t colon = s.rfind(':');
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(std::stoi(s.substr(colon + 1)))};
}

// The route for a domain: exact match, or a parent domain written with a leading dot.
std::string route_for(const DeliveryConfig& d, const std::string& domain) {
  for (const auto& r : d.routes) {
    const std::size_t eq = r.find('=');
    const std::string key = ascii::to_lower(r.substr(0, eq));
    if (key == domain || (key.starts_with(".") && domain.ends_with(key))) return r.substr(eq + 1);
  }
  return "";
}

TlsMode tls_for(const DeliveryConfig& d, const std::string& domain) {
  for (const auto& t : d.tls_required_domains)
    if (ascii::iequals(t, domain)) return TlsMode::kRequired;
  if (d.tls == "none") return TlsMode::kNone;
  if (d.tls == "required") return TlsMode::kRequired;
  return TlsMode::kOpportunistic;
}

std::string enhanced_or(const Reply& r, const char* fallback) {
  return r.enhanced.empty() ? fallback : r.enhanced;
}

std::string describe(const Reply& r) {
  if (r.code == 0) return r.text;
  return std::to_string(r.code) + (r.enhanced.empty() ? "" : " " + r.enhanced) + " " + r.text;
}

}  // namespace

struct QueueRunner::Worker {
  explicit Worker(const Config& c)
      : client(ClientOptions{c.smtp.hostname, c.delivery.connect_timeout_s * 1000,
                             c.delivery.command_timeout_s * 1000, c.delivery.command_timeout_s * 2000,
                             100}),
        resolver(ResolverOptions{c.delivery.resolver, 5000}) {}
  SmtpClient client;
  Resolver resolver;
};

QueueRunner::QueueRunner(Spool& spool, const Config& config) : spool_(spool), config_(config) {}

QueueRunner::~QueueRunner() { stop(); }

std::string QueueRunner::hop_key(const Envelope& env) const {
  if (config_.delivery.mode == "maildir") return "maildir";
  if (env.recipients.empty()) return "";
  const std::string domain = domain_of(env.recipients.front().address);
  const std::string route = route_for(config_.delivery, domain);
  if (!route.empty()) return route;
  if (!config_.delivery.smarthost.empty()) return config_.delivery.smarthost;
  return "mx:" + domain;
}

void QueueRunner::track(const std::string& id) {
  auto it = items_.find(id);
  if (it != items_.end() && it->second.busy) return;
  auto env = spool_.envelope(id);
  if (!env) {
    log_event("spool_unreadable", {{"id", id}, {"error", env.error().message}}, "error");
    return;
  }
  Item& item = items_[id];
  item.due = spool_.state(id).next_attempt;
  item.hop = hop_key(env.value());
}

void QueueRunner::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  if (auto ids = spool_.ids()) {
    for (const auto& id : ids.value()) track(id);
    if (!ids.value().empty())
      log_event("queue_recovered", {{"messages", std::to_string(ids.value().size())}});
  }
  for (std::size_t i = 0; i < config_.delivery.concurrency; ++i) workers_.emplace_back([this] { worker(); });
  scheduler_ = std::thread([this] { scheduler(); });
}

void QueueRunner::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  work_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

void QueueRunner::add(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    track(id);
  }
  cv_.notify_one();
}

void QueueRunner::rescan() {
  auto ids = spool_.ids();
  if (!ids) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> present(ids.value().begin(), ids.value().end());
    for (auto it = items_.begin(); it != items_.end();)
      it = (!it->second.busy && !present.count(it->first)) ? items_.erase(it) : std::next(it);
    for (const auto& id : ids.value()) track(id);
  }
  cv_.notify_one();
}

void QueueRunner::set_config(const Config& config) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = config;  // thread count stays until restart; every other setting applies now
}

QueueStats QueueRunner::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats s = stats_;
  s.queued = items_.size();
  return s;
}

void QueueRunner::scheduler() {
  std::unique_lock<std::mutex> lock(mu_);
  auto last_rescan = std::chrono::steady_clock::now();
  std::string flush_path = spool_.directory() + "/flush";
  std::int64_t flush_seen = 0;
  while (!stopping_) {
    const std::int64_t now = now_s();
    std::int64_t next_due = now + 1;
    for (auto& [id, item] : items_) {
      if (item.busy) continue;
      if (item.due > now) {
        next_due = std::min(next_due, item.due);
        continue;
      }
      std::size_t& n = in_flight_[item.hop];
      if (n >= config_.delivery.concurrency_per_destination) continue;
      ++n;
      item.busy = true;
      jobs_.push_back(id);
    }
    if (!jobs_.empty()) work_cv_.notify_all();
    // `bulwark queue retry` (another process) touches spool/flush; a periodic rescan catches
    // everything else another process changed.
    struct stat st {};
    bool flush = false;
    if (::stat(flush_path.c_str(), &st) == 0 && st.st_mtime * 1000000000LL + st.st_mtim.tv_nsec != flush_seen) {
      flush = flush_seen != 0 || st.st_mtime >= now - 2;
      flush_seen = st.st_mtime * 1000000000LL + st.st_mtim.tv_nsec;
    }
    if (flush || std::chrono::steady_clock::now() - last_rescan > std::chrono::seconds(30)) {
      last_rescan = std::chrono::steady_clock::now();
      lock.unlock();
      rescan();
      lock.lock();
      continue;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<std::int64_t>(50, (next_due - now) * 1000)));
  }
}

void QueueRunner::worker() {
  std::unique_ptr<Worker> w;
  {
    std::lock_guard<std::mutex> lock(mu_);
    w = std::make_unique<Worker>(config_);
  }
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) break;
    const std::string id = jobs_.back();
    jobs_.pop_back();
    lock.unlock();
    const std::int64_t due = deliver(id, *w);
    lock.lock();
    auto it = items_.find(id);
    if (it != items_.end()) {
      if (in_flight_[it->second.hop] > 0) --in_flight_[it->second.hop];
      if (due == 0) items_.erase(it);
      else {
        it->second.busy = false;
        it->second.due = due;
      }
    }
    cv_.notify_one();
  }
  lock.unlock();
  w->client.close();
}

std::int64_t QueueRunner::deliver(const std::string& id, Worker& w) {
  Config config;
  {
    std::lock_guard<std::mutex> lock(mu_);
    config = config_;
  }
  auto file_env = spool_.envelope(id);
  auto file_data = file_env ? spool_.data(id) : Result<std::string>(Error{""});
  if (!file_env || !file_data) {
    // Deleted meanwhile (`bulwark queue delete`) or unreadable: never guess, keep it.
    if (::access((spool_.directory() + "/queue/" + id).c_str(), F_OK) != 0) return 0;
    log_event("spool_unreadable", {{"id", id}}, "error");
    return now_s() + config.delivery.retry_max_s;
  }
  const Envelope& env = file_env.value();
  const std::string& data = file_data.value();
  DeliveryState st = spool_.state(id);
  const std::int64_t now = now_s();
  const bool expired = now - env.received_at > static_cast<std::int64_t>(config.delivery.max_queue_lifetime_s);

  std::vector<DsnRecipient> reports;  // failures, and successes the sender asked to hear of
  std::string last_error;
  std::size_t delivered = 0, deferred = 0;
  auto settle_failed = [&](const Recipient& r, const std::string& status, const std::string& remote,
                           const std::string& diagnostic) {
    reports.push_back({r.address, r.orcpt, "failed", status, remote, diagnostic, now});
    st.settled.push_back(r.address);
    log_event("bounced", {{"id", id}, {"to", r.address}, {"status", status}, {"reason", diagnostic}}, "warn");
  };
  auto defer = [&](const Recipient& r, const std::string& status, const std::string& remote,
                   const std::string& why) {
    if (expired) {
      settle_failed(r, "4.4.7", remote, "delivery time expired; last error: " + why);
      return;
    }
    ++deferred;
    last_error = why;
    log_event("deferred", {{"id", id}, {"to", r.address}, {"status", status}, {"reason", why}});
  };
  auto is_settled = [&](const std::string& a) {
    return std::find(st.settled.begin(), st.settled.end(), a) != st.settled.end();
  };

  if (config.delivery.mode == "maildir") {
    const std::string root = config.spool.data_dir + "/maildir";
    for (const auto& r : env.recipients) {
      if (is_settled(r.address)) continue;
      auto path = deliver_maildir(root, env, r.address, data);
      if (path) {
        st.settled.push_back(r.address);
        ++delivered;
        // Final delivery: a sender who asked NOTIFY=SUCCESS gets a "delivered" report.
        if (!r.notify.empty() && wants_dsn(r, "delivered"))
          reports.push_back({r.address, r.orcpt, "delivered", "2.0.0", "", "", now});
        log_event("delivered", {{"id", id}, {"to", r.address}, {"via", "maildir"}, {"path", path.value()}});
      } else {
        defer(r, "4.3.0", "", path.error().message);
      }
    }
  } else {
    // Group unsettled recipients by domain: one transaction per destination.
    std::map<std::string, std::vector<Recipient>> by_domain;
    for (const auto& r : env.recipients)
      if (!is_settled(r.address)) by_domain[domain_of(r.address)].push_back(r);
    for (auto& [domain, rcpts] : by_domain) {
      std::vector<Hop> hops;
      const TlsMode tls = tls_for(config.delivery, domain);
      std::string route = route_for(config.delivery, domain);
      if (route.empty()) route = config.delivery.smarthost;
      std::string resolve_error;
      bool permanent = false;
      if (!route.empty()) {
        auto [host, port] = split_endpoint(route);
        hops.push_back(Hop{host, port, tls, false, ""});
      } else {
        auto mx = w.resolver.mail_hosts(domain);
        if (!mx) {
          resolve_error = mx.error().message;
          permanent = resolve_error.starts_with("null MX") || resolve_error.starts_with("no such domain");
        } else {
          for (const auto& h : mx.value())
            for (const auto& a : h.addresses) hops.push_back(Hop{a, 25, tls, false, ""});
          if (hops.empty()) resolve_error = "temporary: no address for any MX host of " + domain;
        }
      }
      if (hops.empty()) {
        for (const auto& r : rcpts) {
          if (permanent) settle_failed(r, resolve_error.starts_with("null MX") ? "5.1.10" : "5.1.2", "", resolve_error);
          else defer(r, "4.4.3", "", resolve_error);
        }
        continue;
      }
      Envelope part = env;
      part.recipients = rcpts;
      DeliveryResult result;
      for (const auto& hop : hops) {
        result = w.client.deliver(hop, part, data);
        if (!result.connection_failed || result.failure.permanent()) break;
      }
      const std::string remote = result.remote.empty() ? "" : "dns; " + result.remote;
      if (result.connection_failed) {
        for (const auto& r : rcpts) {
          if (result.failure.permanent())
            settle_failed(r, enhanced_or(result.failure, "5.0.0"), remote, "smtp; " + describe(result.failure));
          else
            defer(r, enhanced_or(result.failure, "4.4.1"), remote, describe(result.failure));
        }
        continue;
      }
      for (std::size_t i = 0; i < rcpts.size() && i < result.recipients.size(); ++i) {
        const Reply& reply = result.recipients[i].reply;
        if (reply.ok()) {
          st.settled.push_back(rcpts[i].address);
          ++delivered;
          log_event("delivered", {{"id", id}, {"to", rcpts[i].address}, {"via", result.remote},
                                  {"tls", result.tls ? "yes" : "no"}, {"reply", describe(reply)}});
        } else if (reply.permanent()) {
          settle_failed(rcpts[i], enhanced_or(reply, "5.0.0"), remote, "smtp; " + describe(reply));
        } else {
          defer(rcpts[i], enhanced_or(reply, "4.0.0"), remote, describe(reply));
        }
      }
    }
  }

  if (!reports.empty()) bounce(env, data, reports);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.delivered += delivered;
    stats_.deferred += deferred;
    stats_.bounced += static_cast<std::size_t>(
        std::count_if(reports.begin(), reports.end(), [](const DsnRecipient& f) { return f.action == "failed"; }));
  }
  bool all = true;
  for (const auto& r : env.recipients) all = all && is_settled(r.address);
  if (all) {
    if (auto r = spool_.remove(id); !r) log_event("spool_remove_failed", {{"id", id}, {"error", r.error().message}}, "error");
    return 0;
  }
  ++st.attempts;
  const std::uint64_t backoff = std::min<std::uint64_t>(
      config.delivery.retry_max_s,
      static_cast<std::uint64_t>(config.delivery.retry_initial_s) << std::min<std::uint32_t>(st.attempts - 1, 20));
  st.next_attempt = now + static_cast<std::int64_t>(backoff);
  st.last_error = last_error;
  if (auto r = spool_.save_state(id, st); !r)
    log_event("spool_state_failed", {{"id", id}, {"error", r.error().message}}, "error");
  return st.next_attempt;
}

void QueueRunner::bounce(const Envelope& env, std::string_view data, const std::vector<DsnRecipient>& reports) {
  // RFC 5321 6.1 / 3461: never bounce a bounce, and honour NOTIFY.
  if (env.mail_from.empty()) return;
  DsnInfo info;
  for (const auto& f : reports) {
    auto it = std::find_if(env.recipients.begin(), env.recipients.end(),
                           [&](const Recipient& r) { return r.address == f.address; });
    if (it != env.recipients.end() && wants_dsn(*it, f.action)) info.recipients.push_back(f);
  }
  if (info.recipients.empty()) return;
  std::string hostname;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hostname = config_.smtp.hostname;
  }
  info.reporting_mta = hostname;
  info.from_address = "MAILER-DAEMON@" + hostname;
  info.original = env;
  info.original_message = data;
  info.now = now_s();
  Envelope dsn_env;
  dsn_env.id = new_queue_id();
  dsn_env.mail_from = "";
  dsn_env.recipients.push_back({env.mail_from, "", ""});
  dsn_env.client_ip = "127.0.0.1";
  dsn_env.client_helo = hostname;
  dsn_env.received_at = info.now;
  // The returned message may carry 8-bit text: announce it to the next hop.
  if (std::any_of(data.begin(), data.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    dsn_env.body = "8BITMIME";
  const std::string dsn = build_dsn(info);
  if (auto r = spool_.commit_sync(dsn_env, dsn); !r) {
    log_event("dsn_failed", {{"id", env.id}, {"error", r.error().message}}, "error");
    return;
  }
  log_event("dsn_queued", {{"id", env.id}, {"dsn_id", dsn_env.id}, {"to", env.mail_from}});
  add(dsn_env.id);
}

}  // namespace bulwark::smtp
