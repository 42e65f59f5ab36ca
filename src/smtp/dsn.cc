#include "smtp/dsn.h"

#include <cstdio>
#include <ctime>
#include <random>

#include "core/ascii.h"

namespace bulwark::smtp {
namespace {

constexpr std::size_t kMaxFieldValue = 900;  // keeps every line under RFC 5322's 998

// Any value that reaches a header: CR, LF and NUL removed (no forged header or part), and
// other controls turned into spaces; long values cut so the line stays legal.
std::string field(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n' || c == '\0') continue;
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
    if (out.size() >= kMaxFieldValue) break;
  }
  return out;
}

// An address placed inside <...>: also without the brackets themselves.
std::string bracketed(std::string_view s) {
  std::string out;
  for (char c : field(s))
    if (c != '<' && c != '>') out.push_back(c);
  return out;
}

std::string rfc5322_date(std::int64_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string random_hex(std::size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(kHex[rng() % 16]);
  return out;
}

bool valid_status(std::string_view s) {
  // class "." subject "." detail, RFC 3463: [245].\d{1,3}.\d{1,3}
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
  std::size_t dots = 0, digits = 0;
  for (std::size_t i = 2; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (digits == 0 || ++dots > 1) return false;
      digits = 0;
    } else if (s[i] >= '0' && s[i] <= '9') {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return dots == 1 && digits > 0;
}

std::string status_for(const DsnRecipient& r) {
  if (valid_status(r.status)) return r.status;
  if (r.action == "delayed") return "4.0.0";
  if (r.action == "delivered") return "2.0.0";
  return "5.0.0";
}

// "type; text" fields (Remote-MTA, Diagnostic-Code, Original-Recipient) keep a given type
// and get `type` otherwise.
std::string typed(std::string_view value, const char* type, const char* sep) {
  const std::string v = field(value);
  const auto semi = v.find(';');
  bool has_type = semi != std::string::npos && semi > 0;
  for (std::size_t i = 0; has_type && i < semi; ++i) {
    const char c = v[i];
    has_type = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  }
  return has_type ? v : std::string(type) + sep + v;
}

// The original message with CRLF line ends throughout, ending in CRLF.
std::string crlf_lines(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 2);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\n' && (i == 0 || in[i - 1] != '\r')) out += '\r';
    out += c;
    if (c == '\r' && (i + 1 == in.size() || in[i + 1] != '\n')) out += '\n';
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string_view header_block(std::string_view msg) {
  const auto crlf = msg.find("\r\n\r\n");
  const auto lf = msg.find("\n\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) return msg.substr(0, crlf + 2);
  if (lf != std::string_view::npos) return msg.substr(0, lf + 1);
  return msg;
}

bool has_8bit(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  return false;
}

std::string subject_for(const std::vector<DsnRecipient>& rs) {
  bool failed = false, delayed = false;
  for (const auto& r : rs) {
    failed = failed || r.action == "failed";
    delayed = delayed || r.action == "delayed";
  }
  if (failed) return "Undelivered Mail Returned to Sender";
  if (delayed) return "Delayed Mail (still being retried)";
  return "Successful Mail Delivery Report";
}

std::string human_text(const DsnInfo& info) {
  std::string t = "This is the mail system at host " + field(info.reporting_mta) + ".\r\n\r\n";
  const std::string subject = subject_for(info.recipients);
  if (subject.starts_with("Undelivered"))
    t += "Your message could not be delivered to one or more recipients.\r\n"
         "It is attached below, with the details of each failure.\r\n";
  else if (subject.starts_with("Delayed"))
    t += "Your message has not been delivered yet to one or more recipients.\r\n"
         "Delivery will be retried; you do not need to resend it.\r\n";
  else
    t += "Your message was delivered to the recipients below.\r\n";
  t += "\r\n";
  for (const auto& r : info.recipients) {
    t += "<" + bracketed(r.address) + ">: " + field(r.action);
    if (!r.diagnostic.empty()) t += ": " + field(r.diagnostic);
    t += "\r\n";
  }
  return t;
}

std::string delivery_status(const DsnInfo& info) {
  std::string s = "Reporting-MTA: dns; " + field(info.reporting_mta) + "\r\n";
  if (!info.original.envid.empty()) s += "Original-Envelope-Id: " + field(info.original.envid) + "\r\n";
  if (info.original.received_at > 0) s += "Arrival-Date: " + rfc5322_date(info.original.received_at) + "\r\n";
  for (const auto& r : info.recipients) {
    s += "\r\n";
    if (!r.orcpt.empty()) s += "Original-Recipient: " + typed(r.orcpt, "rfc822", ";") + "\r\n";
    s += "Final-Recipient: rfc822; " + bracketed(r.address) + "\r\n";
    s += "Action: " + field(r.action.empty() ? "failed" : r.action) + "\r\n";
    s += "Status: " + status_for(r) + "\r\n";
    if (!r.remote_mta.empty()) s += "Remote-MTA: " + typed(r.remote_mta, "dns", "; ") + "\r\n";
    if (!r.diagnostic.empty()) s += "Diagnostic-Code: " + typed(r.diagnostic, "smtp", "; ") + "\r\n";
    if (r.last_attempt > 0) s += "Last-Attempt-Date: " + rfc5322_date(r.last_attempt) + "\r\n";
  }
  return s;
}

// A boundary that occurs nowhere in the enclosed message.
std::string make_boundary(std::string_view original, std::int64_t now) {
  for (;;) {
    std::string b = "=_bulwark_dsn_" + std::to_string(now) + "_" + random_hex(16);
    if (original.find(b) == std::string_view::npos) return b;
  }
}

std::string part_header(const std::string& description, const std::string& type, bool eight_bit) {
  std::string h = "Content-Description: " + description + "\r\nContent-Type: " + type + "\r\n";
  if (eight_bit) h += "Content-Transfer-Encoding: 8bit\r\n";
  return h + "\r\n";
}

}  // namespace

std::string build_dsn(const DsnInfo& info) {
  const bool headers_only = ascii::iequals(info.original.ret, "HDRS");
  const std::string enclosed = crlf_lines(headers_only ? header_block(info.original_message) : info.original_message);
  const std::string boundary = make_boundary(enclosed, info.now);
  const std::string text = human_text(info);
  const std::string status = delivery_status(info);
  std::string message_id = bracketed(info.message_id);
  if (message_id.empty()) message_id = std::to_string(info.now) + "." + random_hex(16) + "@" + bracketed(info.reporting_mta);

  std::string m;
  m.reserve(enclosed.size() + text.size() + status.size() + 1024);
  m += "Date: " + rfc5322_date(info.now) + "\r\n";
  m += "From: Mail Delivery System <" + bracketed(info.from_address) + ">\r\n";
  m += "To: <" + bracketed(info.original.mail_from) + ">\r\n";
  m += "Subject: " + subject_for(info.recipients) + "\r\n";
  m += "Message-ID: <" + message_id + ">\r\n";
  m += "Auto-Submitted: auto-replied\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n";
  m += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";
  m += "--" + boundary + "\r\n";
  m += part_header("Notification", has_8bit(text) ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii",
                   has_8bit(text));
  m += text + "\r\n";
  m += "--" + boundary + "\r\n";
  m += part_header("Delivery report", "message/delivery-status", has_8bit(status));
  m += status + "\r\n";
  m += "--" + boundary + "\r\n";
  m += part_header(headers_only ? "Undelivered Message Headers" : "Undelivered Message",
                   headers_only ? "text/rfc822-headers" : "message/rfc822", has_8bit(enclosed));
  m += enclosed;
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

bool wants_dsn(const Recipient& r, std::string_view action) {
  const char* wanted = nullptr;
  if (action == "failed") wanted = "FAILURE";
  else if (action == "delayed") wanted = "DELAY";
  else if (action == "delivered" || action == "relayed" || action == "expanded") wanted = "SUCCESS";
  if (wanted == nullptr) return false;
  // RFC 3461 4.1: without NOTIFY the MTA reports failures (and, at its discretion, delays).
  if (r.notify.empty()) return action == "failed" || action == "delayed";
  std::string_view rest = r.notify;
  bool hit = false;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (ascii::iequals(item, "NEVER")) return false;
    hit = hit || ascii::iequals(item, wanted);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return hit;
}

}  // namespace bulwark::smtp
