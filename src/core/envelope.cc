#include "core/envelope.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace bulwark {

namespace {

std::string escape_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string unescape_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char n = v[++i];
      out += n == 'n' ? '\n' : n == 'r' ? '\r' : n;
    } else {
      out += v[i];
    }
  }
  return out;
}

void line(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  out += ' ';
  out += escape_value(value);
  out += '\n';
}

}  // namespace

std::string serialize_envelope(const Envelope& e) {
  std::string out;
  line(out, "id", e.id);
  line(out, "from", e.mail_from);
  for (const auto& r : e.recipients) {
    line(out, "rcpt", r.address);
    if (!r.notify.empty()) line(out, "notify", r.notify);
    if (!r.orcpt.empty()) line(out, "orcpt", r.orcpt);
  }
  if (!e.ret.empty()) line(out, "ret", e.ret);
  if (!e.envid.empty()) line(out, "envid", e.envid);
  if (!e.body.empty()) line(out, "body", e.body);
  if (e.smtputf8) line(out, "smtputf8", "1");
  line(out, "client_ip", e.client_ip);
  line(out, "client_helo", e.client_helo);
  if (e.tls) line(out, "tls", "1");
  if (!e.auth_user.empty()) line(out, "auth", e.auth_user);
  line(out, "received", std::to_string(e.received_at));
  out += "end\n";
  return out;
}

Result<Envelope> parse_envelope(std::string_view text) {
  Envelope e;
  bool ended = false, have_id = false;
  std::size_t lineno = 0;
  while (!text.empty()) {
    ++lineno;
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return Error{"envelope: line " + std::to_string(lineno) + " unterminated"};
    std::string_view l = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (l == "end") {
      ended = true;
      break;
    }
    std::size_t sp = l.find(' ');
    if (sp == std::string_view::npos)
      return Error{"envelope: line " + std::to_string(lineno) + " has no value"};
    std::string_view key = l.substr(0, sp);
    std::string value = unescape_value(l.substr(sp + 1));
    if (key == "id") {
      e.id = value;
      have_id = true;
    } else if (key == "from") {
      e.mail_from = value;
    } else if (key == "rcpt") {
      e.recipients.push_back({value, "", ""});
    } else if (key == "notify" || key == "orcpt") {
      if (e.recipients.empty())
        return Error{"envelope: line " + std::to_string(lineno) + ": " + std::string(key) + " before rcpt"};
      (key == "notify" ? e.recipients.back().notify : e.recipients.back().orcpt) = value;
    } else if (key == "ret") {
      e.ret = value;
    } else if (key == "envid") {
      e.envid = value;
    } else if (key == "body") {
      e.body = value;
    } else if (key == "smtputf8") {
      e.smtputf8 = value == "1";
    } else if (key == "client_ip") {
      e.client_ip = value;
    } else if (key == "client_helo") {
      e.client_helo = value;
    } else if (key == "tls") {
      e.tls = value == "1";
    } else if (key == "auth") {
      e.auth_user = value;
    } else if (key == "received") {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), e.received_at);
      if (ec != std::errc{} || p != value.data() + value.size())
        return Error{"envelope: line " + std::to_string(lineno) + ": bad time"};
    }
    // Unknown keys are skipped: a newer gateway's spool stays readable by an older one.
  }
  if (!ended) return Error{"envelope: truncated (no end line)"};
  if (!have_id || e.id.empty()) return Error{"envelope: no id"};
  if (e.recipients.empty()) return Error{"envelope: no recipients"};
  return e;
}

std::string new_queue_id() {
  static std::atomic<std::uint32_t> counter{0};
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::uint32_t n = counter.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t mix = (static_cast<std::uint32_t>(getpid()) << 20) ^ n;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llx%08x",
                static_cast<unsigned long long>(us) & 0xffffffffffffULL, mix);
  return buf;
}

}  // namespace bulwark
