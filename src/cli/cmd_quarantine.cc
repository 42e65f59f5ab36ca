// `bulwark quarantine list|show|release|delete`: the held messages. A release puts the
// message back into the delivery queue under its queue id; every change is logged and kept
// in the store's audit trail.
#include <pwd.h>
#include <unistd.h>

#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "core/escape.h"
#include "core/log.h"
#include "smtp/spool.h"
#include "store/quarantine.h"

namespace bulwark::cli {

namespace {

std::string when(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string who() {
  const passwd* pw = getpwuid(getuid());
  return std::string("cli:") + (pw ? pw->pw_name : std::to_string(getuid()));
}

}  // namespace

int run_quarantine(const QuarantineOptions& o) {
  auto config = load_config_or_default(o.config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 2;
  }
  auto opened = store::QuarantineStore::open_embedded(config.value().spool.data_dir + "/quarantine");
  if (!opened) {
    std::cerr << "bulwark quarantine: " << opened.error().message << "\n";
    return 2;
  }
  store::QuarantineStore& q = *opened.value();
  if (o.action == "list") {
    store::QuarantineQuery query;
    query.status = o.status == "all" ? "" : o.status;
    query.recipient = o.recipient;
    query.sender = o.sender;
    query.limit = o.limit;
    auto rows = q.list(query);
    if (!rows) {
      std::cerr << "bulwark quarantine: " << rows.error().message << "\n";
      return 2;
    }
    for (const auto& r : rows.value()) {
      std::cout << r.id << "  " << when(r.quarantined_at) << "  " << r.status << "  score "
                << r.score << "  from <" << escape_for_display(r.envelope.mail_from) << ">  to "
                << r.envelope.recipients.size() << "  subject \"" << escape_for_display(r.subject)
                << "\"  reason: " << escape_for_display(r.reason) << "\n";
    }
    auto total = q.count(query);
    std::cout << rows.value().size() << " shown";
    if (total) std::cout << " of " << total.value();
    std::cout << "\n";
    return 0;
  }
  if (o.id.empty()) {
    std::cerr << "bulwark quarantine " << o.action << ": a quarantine id is required\n";
    return 2;
  }
  auto rec = q.get(o.id);
  if (!rec) {
    std::cerr << "bulwark quarantine: " << rec.error().message << "\n";
    return 2;
  }
  const auto& r = rec.value();
  if (o.action == "show") {
    if (o.raw) {
      auto m = q.message(o.id);
      if (!m) {
        std::cerr << "bulwark quarantine: " << m.error().message << "\n";
        return 2;
      }
      std::cout << m.value();
      return 0;
    }
    std::cout << "id " << r.id << "\nstatus " << r.status << "\nquarantined " << when(r.quarantined_at)
              << "\naction " << r.action << "\nscore " << r.score << "\nreason "
              << escape_for_display(r.reason) << "\nsubject " << escape_for_display(r.subject)
              << "\nsize " << r.size << "\nsha256 " << r.sha256 << "\n"
              << escape_for_display(serialize_envelope(r.envelope)) << "verdict " << r.verdict_json << "\n";
    return 0;
  }
  if (o.action == "release") {
    if (r.status != "held") {
      std::cerr << "bulwark quarantine: " << o.id << " is " << r.status << ", not held\n";
      return 2;
    }
    auto m = q.message(o.id);
    if (!m) {
      std::cerr << "bulwark quarantine: " << m.error().message << "\n";
      return 2;
    }
    auto spool = smtp::Spool::open(config.value().spool.data_dir + "/spool", /*recover=*/false);
    if (!spool) {
      std::cerr << "bulwark quarantine: " << spool.error().message << "\n";
      return 2;
    }
    // Into the delivery queue first, then marked: a crash between the two can only
    // deliver twice, never lose the message.
    if (auto c = spool.value()->commit_sync(r.envelope, m.value()); !c) {
      std::cerr << "bulwark quarantine: cannot queue " << o.id << ": " << c.error().message << "\n";
      return 2;
    }
    if (auto s = q.set_status(o.id, "released", who()); !s) {
      std::cerr << "bulwark quarantine: " << s.error().message << "\n";
      return 2;
    }
    spool.value()->notify_runner();
    log_event("quarantine_released", {{"id", o.id}, {"by", who()}});
    std::cout << o.id << " released to the delivery queue\n";
    return 0;
  }
  if (o.action == "delete") {
    if (auto s = q.set_status(o.id, "deleted", who()); !s) {
      std::cerr << "bulwark quarantine: " << s.error().message << "\n";
      return 2;
    }
    log_event("quarantine_deleted", {{"id", o.id}, {"by", who()}});
    std::cout << o.id << " deleted\n";
    return 0;
  }
  std::cerr << "bulwark quarantine: unknown action " << o.action << "\n";
  return 2;
}

}  // namespace bulwark::cli
