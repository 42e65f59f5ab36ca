// Structured log lines: one event per line, logfmt ("ts=... event=decision id=... action=tag"),
// so a decision, a delivery or a failure can be followed by queue id with grep or shipped to
// any log system. Values are quoted when they need it and escaped (message-derived text never
// breaks a line). Thread-safe; writes to stderr unless redirected.
//   log_event("decision", {{"id", id}, {"action", "tag"}, {"score", "6.5"}});
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace bulwark {

using LogField = std::pair<std::string_view, std::string_view>;

void log_event(std::string_view event, std::initializer_list<LogField> fields,
               std::string_view level = "info");
// Where lines go: a file descriptor (default 2). Returns the previous one.
int set_log_fd(int fd);
// Lines are dropped below this level ("debug" < "info" < "warn" < "error").
void set_log_level(std::string_view level);

}  // namespace bulwark
