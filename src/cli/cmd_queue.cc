// `bulwark queue list|show|retry|delete`: the spool, read and changed beside a running
// server (which is told to look again) or on its own.
#include <algorithm>
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "core/escape.h"
#include "core/log.h"
#include "smtp/spool.h"

namespace bulwark::cli {

namespace {

std::string when(std::int64_t t) {
  if (t <= 0) return "now";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int run_queue(const QueueOptions& o) {
  auto config = load_config_or_default(o.config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 2;
  }
  auto spool = smtp::Spool::open(config.value().spool.data_dir + "/spool", /*recover=*/false);
  if (!spool) {
    std::cerr << "bulwark queue: " << spool.error().message << "\n";
    return 2;
  }
  smtp::Spool& s = *spool.value();
  if (o.action == "list") {
    auto ids = s.ids();
    if (!ids) {
      std::cerr << "bulwark queue: " << ids.error().message << "\n";
      return 2;
    }
    std::size_t n = 0;
    for (const auto& id : ids.value()) {
      auto env = s.envelope(id);
      if (!env) {
        std::cout << id << "  (unreadable: " << escape_for_display(env.error().message) << ")\n";
        continue;
      }
      const auto st = s.state(id);
      std::cout << id << "  " << when(env.value().received_at) << "  from <"
                << escape_for_display(env.value().mail_from) << ">  to";
      for (const auto& r : env.value().recipients) {
        const bool done = std::find(st.settled.begin(), st.settled.end(), r.address) != st.settled.end();
        std::cout << " <" << escape_for_display(r.address) << ">" << (done ? "(done)" : "");
      }
      std::cout << "  attempts " << st.attempts << "  next " << when(st.next_attempt);
      if (!st.last_error.empty()) std::cout << "  last error: " << escape_for_display(st.last_error);
      std::cout << "\n";
      ++n;
    }
    std::cout << n << " message" << (n == 1 ? "" : "s") << " queued\n";
    return 0;
  }
  if (o.action == "retry" && o.id.empty()) {  // retry everything
    auto ids = s.ids();
    if (!ids) return 2;
    for (const auto& id : ids.value()) {
      auto st = s.state(id);
      st.next_attempt = 0;
      (void)s.save_state(id, st);
    }
    s.notify_runner();
    std::cout << ids.value().size() << " messages due now\n";
    return 0;
  }
  if (o.id.empty()) {
    std::cerr << "bulwark queue " << o.action << ": a queue id is required\n";
    return 2;
  }
  auto env = s.envelope(o.id);
  if (!env) {
    std::cerr << "bulwark queue: " << env.error().message << "\n";
    return 2;
  }
  if (o.action == "show") {
    const auto st = s.state(o.id);
    std::cout << escape_for_display(serialize_envelope(env.value()));
    std::cout << "attempts " << st.attempts << "\nnext " << when(st.next_attempt) << "\n";
    for (const auto& r : st.settled) std::cout << "settled " << escape_for_display(r) << "\n";
    if (!st.last_error.empty()) std::cout << "last_error " << escape_for_display(st.last_error) << "\n";
    if (o.raw) {
      auto data = s.data(o.id);
      if (data) std::cout << "\n" << data.value();
    }
    return 0;
  }
  if (o.action == "retry") {
    auto st = s.state(o.id);
    st.next_attempt = 0;
    if (auto r = s.save_state(o.id, st); !r) {
      std::cerr << "bulwark queue: " << r.error().message << "\n";
      return 2;
    }
    s.notify_runner();
    std::cout << o.id << " due now\n";
    return 0;
  }
  if (o.action == "delete") {
    if (auto r = s.remove(o.id); !r) {
      std::cerr << "bulwark queue: " << r.error().message << "\n";
      return 2;
    }
    s.notify_runner();
    log_event("queue_deleted", {{"id", o.id}, {"by", "cli"}});
    std::cout << o.id << " deleted\n";
    return 0;
  }
  std::cerr << "bulwark queue: unknown action " << o.action << "\n";
  return 2;
}

}  // namespace bulwark::cli
