#include "smtp/gateway.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/ascii.h"
#include "core/hash.h"
#include "core/log.h"
#include "scan/output.h"
#include "scan/scoring.h"
#include "smtp/address.h"
#include "smtp/tls.h"

namespace bulwark::smtp {

namespace {

std::string rfc5322_date(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string one_line(std::string s, std::size_t max = 200) {
  for (char& c : s)
    if (c == '\r' || c == '\n' || c == '\t' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

std::string format_score(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", d);
  return buf;
}

// Why the verdict is what it is, in one line: the threats, else the strongest symbols.
std::string reason_of(const scan::Verdict& v) {
  std::string out;
  for (const auto& t : v.threats) {
    if (out.size() > 150) break;
    out += (out.empty() ? "" : ", ") + t.kind + " " + t.name + (t.location.empty() ? "" : " in " + t.location);
  }
  if (!out.empty()) return one_line(out);
  std::vector<const Symbol*> s;
  for (const auto& sym : v.symbols) s.push_back(&sym);
  std::stable_sort(s.begin(), s.end(), [](const Symbol* a, const Symbol* b) { return a->score > b->score; });
  for (std::size_t i = 0; i < s.size() && i < 3; ++i)
    out += (i ? ", " : "") + s[i]->name;
  return one_line(out.empty() ? "score " + format_score(v.score) : out);
}

Result<std::set<std::string>> load_recipients(const std::string& path) {
  std::set<std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) return Error{"smtp.recipients_file: cannot open " + path};
  std::string line;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    const auto e = line.find_last_not_of(" \t\r");
    out.insert(ascii::to_lower(line.substr(b, e - b + 1)));
  }
  return out;
}

Result<std::unordered_map<std::string, std::string>> load_users(const std::string& path) {
  std::unordered_map<std::string, std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) return Error{"smtp.auth_users_file: cannot open " + path};
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || !line.substr(colon + 1).starts_with("$argon2"))
      return Error{path + ":" + std::to_string(n) + ": expected user:$argon2id$... (from bulwark hash-password)"};
    out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace

std::string received_header(const Envelope& env, const std::string& hostname, std::int64_t now) {
  std::string proto = env.smtputf8 ? "UTF8SMTP" : "ESMTP";
  if (env.tls) proto += "S";
  if (!env.auth_user.empty()) proto += "A";
  std::string h = "Received: from " + one_line(env.client_helo, 100) + " ([" + env.client_ip + "])\r\n\tby " +
                  hostname + " (Bulwark) with " + proto + " id " + env.id;
  if (env.recipients.size() == 1) h += "\r\n\tfor <" + one_line(env.recipients[0].address, 300) + ">";
  h += "; " + rfc5322_date(now) + "\r\n";
  return h;
}

std::string verdict_headers(const scan::Verdict& v) {
  std::string h = "X-Bulwark-Action: " + std::string(action_name(v.action)) + "\r\n";
  h += "X-Bulwark-Score: " + format_score(v.score) + "\r\n";
  std::string syms = "X-Bulwark-Symbols:";
  std::size_t line = syms.size();
  for (std::size_t i = 0; i < v.symbols.size(); ++i) {
    std::string item = " " + v.symbols[i].name + "(" + format_score(v.symbols[i].score) + ")" +
                       (i + 1 < v.symbols.size() ? "," : "");
    if (line + item.size() > 76) {  // fold: keep header lines short
      syms += "\r\n\t";
      line = 1;
      item.erase(0, 1);
    }
    syms += item;
    line += item.size();
  }
  h += syms + "\r\n";
  return h;
}

std::string strip_header_fields(std::string_view m, std::string_view prefix) {
  std::string out;
  out.reserve(m.size());
  std::size_t pos = 0;
  bool dropping = false;
  while (pos < m.size()) {
    std::size_t nl = m.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? m.size() : nl + 1;
    std::string_view line = m.substr(pos, end - pos);
    if (line == "\r\n" || line == "\n") break;  // end of the header block
    const bool continuation = line.front() == ' ' || line.front() == '\t';
    if (!continuation) dropping = ascii::istarts(line, prefix);
    if (!dropping) out.append(line);
    pos = end;
  }
  out.append(m.substr(pos));
  return out;
}

Gateway::Runtime::~Runtime() {
  service.reset();  // finish queued scans before the pool goes
  pool.reset();
  learner.reset();  // commits what it learned
}

Result<std::shared_ptr<Gateway::Runtime>> Gateway::build_runtime(Config config) {
  auto rt = std::make_shared<Runtime>();
  auto recipients = load_recipients(config.smtp.recipients_file);
  if (!recipients) return recipients.error();
  auto users = load_users(config.smtp.auth_users_file);
  if (!users) return users.error();
  rt->recipients = std::move(recipients).value();
  rt->users = std::move(users).value();
  rt->config = config;
  rt->scanner = std::make_unique<scan::Scanner>(config);
  if (!rt->scanner->load_error().empty()) return Error{rt->scanner->load_error()};
  rt->pool = std::make_unique<sandbox::WorkerPool>(*rt->scanner, sandbox::pool_options(config));
  rt->service = std::make_unique<sandbox::ScanService>(*rt->pool);
  auto learner = classify::AutoLearner::open(config);
  if (!learner) return Error{"classify.autolearn: " + learner.error().message};
  rt->learner = std::move(learner).value();
  return rt;
}

Result<std::unique_ptr<Gateway>> Gateway::create(Config config, std::string config_path) {
  if (sodium_init() < 0) return Error{"libsodium failed to initialise"};
  std::unique_ptr<Gateway> g(new Gateway());
  g->config_path_ = std::move(config_path);
  const std::string& data = config.spool.data_dir;
  if (::mkdir(data.c_str(), 0700) != 0 && errno != EEXIST)
    return Error{"spool.data_dir: cannot create " + data + ": " + std::strerror(errno)};
  auto spool = Spool::open(data + "/spool");
  if (!spool) return spool.error();
  g->spool_ = std::move(spool).value();
  auto q = store::QuarantineStore::open_embedded(data + "/quarantine");
  if (!q) return q.error();
  g->quarantine_ = std::move(q).value();
  auto rt = build_runtime(config);
  if (!rt) return rt.error();
  g->runtime_ = std::move(rt).value();
  g->runner_ = std::make_unique<QueueRunner>(*g->spool_, config);
  g->disk_ = std::make_unique<asio::thread_pool>(2);
  return g;
}

Gateway::~Gateway() {
  server_.reset();
  if (runner_) runner_->stop();
  if (disk_) disk_->join();
}

std::shared_ptr<Gateway::Runtime> Gateway::runtime() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runtime_;
}

Result<bool> Gateway::start(asio::io_context& io) {
  io_ = &io;
  const auto rt = runtime();
  ServerSettings s;
  s.smtp = rt->config.smtp;
  auto tls = make_tls_context(rt->config);
  if (!tls) return tls.error();
  s.tls = tls.value();
  server_ = std::make_unique<SmtpServer>(io, *this, s);
  if (auto r = server_->listen(); !r) return r;
  runner_->start();
  return true;
}

std::vector<asio::ip::tcp::endpoint> Gateway::endpoints() const {
  return server_ ? server_->endpoints() : std::vector<asio::ip::tcp::endpoint>{};
}

void Gateway::drain(std::function<void()> done) {
  log_event("draining", {});
  server_->drain([this, done = std::move(done)] {
    // Sessions are over; deliveries in progress finish, the rest stays safely spooled.
    runner_->stop();
    done();
  });
}

void Gateway::reload() {
  if (reloading_.exchange(true)) return;
  // Loading signatures takes a while: do it aside, then swap; sessions never wait.
  std::thread([this] {
    Config config = default_config();
    std::string error;
    if (!config_path_.empty()) {
      auto loaded = load_config_file(config_path_);
      if (!loaded) error = loaded.error().message;
      else config = std::move(loaded).value();
    }
    const auto old = runtime();
    if (error.empty() && (config.smtp.listen != old->config.smtp.listen ||
                          config.smtp.submission_listen != old->config.smtp.submission_listen ||
                          config.spool.data_dir != old->config.spool.data_dir))
      log_event("reload_note", {{"detail", "listener and data_dir changes take effect at restart"}}, "warn");
    std::shared_ptr<Runtime> rt;
    std::shared_ptr<asio::ssl::context> tls;
    if (error.empty()) {
      auto built = build_runtime(config);
      if (!built) error = built.error().message;
      else rt = std::move(built).value();
    }
    if (error.empty()) {
      auto t = make_tls_context(config);
      if (!t) error = t.error().message;
      else tls = t.value();
    }
    if (!error.empty()) {
      log_event("reload_failed", {{"error", error}}, "error");
      reloading_ = false;
      return;
    }
    asio::post(*io_, [this, rt, tls] {
      ServerSettings s;
      s.smtp = rt->config.smtp;
      s.tls = tls;
      server_->update(s);
      runner_->set_config(rt->config);
      std::shared_ptr<Runtime> previous;
      {
        std::lock_guard<std::mutex> lock(mu_);
        previous = std::move(runtime_);
        runtime_ = rt;
      }
      // The old pool is torn down off the event loop once its last scan is done.
      std::thread([p = std::move(previous)]() mutable { p.reset(); }).detach();
      log_event("reloaded", {{"config", rt->config.source}, {"engines", rt->scanner->describe_engines()}});
      reloading_ = false;
    });
  }).detach();
}

std::string Gateway::check_sender(const std::string&) {
  const auto rt = runtime();
  if (rt->config.spool.min_free_mb > 0 && spool_->free_mb() < rt->config.spool.min_free_mb) {
    log_event("spool_low_space", {{"free_mb", std::to_string(spool_->free_mb())}}, "warn");
    return "452 4.3.1 Error: insufficient system storage; try again later";
  }
  return "";
}

std::string Gateway::check_recipient(const std::string& address, bool may_relay) {
  const auto rt = runtime();
  const auto& c = rt->config;
  const std::string domain = domain_of(address);
  const bool accept_all = c.delivery.mode == "maildir" && c.smtp.accepted_domains.empty();
  bool ours = accept_all;
  for (const auto& d : c.smtp.accepted_domains) {
    const std::string dl = ascii::to_lower(d);
    if (domain == dl || (dl.starts_with(".") && domain.ends_with(dl))) ours = true;
  }
  if (!ours) {
    if (may_relay) return "";
    return "554 5.7.1 <" + one_line(address, 300) + ">: Relay access denied";
  }
  if (!rt->recipients.empty() && !accept_all) {
    const std::string a = ascii::to_lower(address);
    if (!rt->recipients.count(a) && !rt->recipients.count("@" + domain))
      return "550 5.1.1 <" + one_line(address, 300) + ">: Recipient address rejected: User unknown";
  }
  return "";
}

bool Gateway::check_password(const std::string& user, const std::string& password) {
  const auto rt = runtime();
  auto it = rt->users.find(user);
  if (it == rt->users.end()) {
    log_event("auth_failed", {{"user", one_line(user, 100)}}, "warn");
    return false;
  }
  const bool ok = crypto_pwhash_str_verify(it->second.c_str(), password.data(), password.size()) == 0;
  if (!ok) log_event("auth_failed", {{"user", one_line(user, 100)}}, "warn");
  return ok;
}

void Gateway::decide(Session::Message message, const ClientInfo& client,
                     std::function<void(std::string reply)> done) {
  auto rt = runtime();
  auto m = std::make_shared<Session::Message>(std::move(message));
  auto bytes = std::make_shared<const std::string>(m->data);
  const auto start = std::chrono::steady_clock::now();
  rt->service->submit(bytes, m->envelope.id, [this, rt, m, bytes, client, start, done](sandbox::Outcome o) mutable {
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const std::string& id = m->envelope.id;
    if (!o.ok) {
      log_event("decision", {{"id", id}, {"client", client.ip}, {"action", "tempfail"},
                             {"reason", "scan failed: " + o.failure}}, "warn");
      done("451 4.3.0 Error: the message could not be scanned; try again later (" + id + ")");
      return;
    }
    if (elapsed_ms > rt->config.smtp.scan_deadline_ms) {
      log_event("decision", {{"id", id}, {"client", client.ip}, {"action", "tempfail"},
                             {"reason", "scan deadline exceeded"}}, "warn");
      done("451 4.3.0 Error: the message could not be checked in time; try again later (" + id + ")");
      return;
    }
    if (rt->learner) autolearn(rt, id, o.reply.verdict, bytes);
    finish(rt, *m, client, std::move(o.reply.verdict), elapsed_ms, std::move(done));
  });
}

void Gateway::autolearn(const std::shared_ptr<Runtime>& rt, const std::string& id, scan::Verdict& verdict,
                        std::shared_ptr<const std::string> bytes) {
  // The score the rules (and inspection) gave, without the classifier's own symbol: the
  // two must agree independently before the model learns anything.
  double rules_score = verdict.score;
  for (const auto& s : verdict.symbols)
    if (s.name.starts_with("BAYES_")) rules_score -= s.score;
  const bool limit_hit = scan::limit_hit(verdict.symbols);
  std::optional<double> p;
  if (verdict.spam_probability >= 0) p = verdict.spam_probability;
  asio::post(*disk_, [rt, id, bytes, tokens = std::move(verdict.tokens), rules_score, p, limit_hit,
                      threats = !verdict.threats.empty()] {
    auto r = rt->learner->offer(sha256_hex(*bytes), tokens, rules_score, p, threats, limit_hit);
    if (!r) {
      log_event("autolearn_failed", {{"id", id}, {"error", r.error().message}}, "warn");
    } else if (r.value() != classify::Learn::kNone) {
      log_event("autolearn", {{"id", id}, {"class", r.value() == classify::Learn::kSpam ? "spam" : "ham"},
                              {"score", format_score(rules_score)}});
    }
  });
}

void Gateway::finish(const std::shared_ptr<Runtime>& rt, const Session::Message& m, const ClientInfo& client,
                     scan::Verdict verdict, double elapsed_ms, std::function<void(std::string)> done) {
  const Envelope& env = m.envelope;
  const std::string id = env.id;
  verdict.file = id;
  const std::string action(action_name(verdict.action));
  const std::string reason = reason_of(verdict);
  auto log_decision = [=](const std::string& reply) {
    std::string symbols;
    for (const auto& s : verdict.symbols) symbols += (symbols.empty() ? "" : ",") + s.name;
    log_event("decision", {{"id", id}, {"client", client.ip}, {"from", env.mail_from},
                           {"rcpts", std::to_string(env.recipients.size())},
                           {"size", std::to_string(m.data.size())}, {"action", action},
                           {"score", format_score(verdict.score)}, {"symbols", symbols},
                           {"reason", reason}, {"scan_ms", format_score(elapsed_ms)}, {"reply", reply}});
  };
  if (verdict.action == Action::kReject) {
    const std::string reply = "550 5.7.1 Message rejected: " + reason + " (" + id + ")";
    log_decision(reply);
    done(reply);
    return;
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  std::string stored = received_header(env, rt->config.smtp.hostname, now);
  std::string body = strip_header_fields(m.data, "X-Bulwark-");
  if (verdict.action == Action::kTag) stored += verdict_headers(verdict);
  stored += body;

  if (verdict.action == Action::kQuarantine) {
    store::QuarantineRecord rec;
    rec.id = id;
    rec.envelope = env;
    rec.quarantined_at = now;
    rec.action = action;
    rec.score = verdict.score;
    rec.reason = reason;
    rec.subject = one_line(verdict.subject, 500);
    rec.message_id = one_line(verdict.message_id, 500);
    rec.verdict_json = scan::to_json(verdict);
    rec.size = stored.size();
    rec.sha256 = sha256_hex(stored);
    asio::post(*disk_, [this, rec = std::move(rec), stored = std::move(stored), log_decision, done, id]() {
      auto r = quarantine_->put(rec, stored);
      if (!r) {
        log_event("quarantine_failed", {{"id", id}, {"error", r.error().message}}, "error");
        done("451 4.3.0 Error: could not store the message; try again later (" + id + ")");
        return;
      }
      const std::string reply = "250 2.0.0 Ok: queued as " + id;
      log_decision(reply);
      done(reply);
    });
    return;
  }
  spool_->commit(env, std::move(stored), [this, id, log_decision, done](const std::string& error) {
    if (!error.empty()) {
      log_event("spool_failed", {{"id", id}, {"error", error}}, "error");
      done(error.find("No space") != std::string::npos
               ? "452 4.3.1 Error: insufficient system storage; try again later (" + id + ")"
               : "451 4.3.0 Error: could not store the message; try again later (" + id + ")");
      return;
    }
    const std::string reply = "250 2.0.0 Ok: queued as " + id;
    log_decision(reply);
    done(reply);
    runner_->add(id);
  });
}

}  // namespace bulwark::smtp
