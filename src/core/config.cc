#include "core/config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

namespace bulwark {

std::string_view action_name(Action a) {
  switch (a) {
    case Action::kAccept: return "accept";
    case Action::kTag: return "tag";
    case Action::kQuarantine: return "quarantine";
    case Action::kReject: return "reject";
  }
  return "accept";
}

namespace {

// A setting: where it lives, how to read it, and its documentation. Tables over branches.
struct Setting {
  const char* key;
  const char* type;
  const char* description;
  double min = 0, max = 0;  // for integer/float
  std::function<std::string(const Config&)> get;  // default, rendered as TOML
  // Applies a TOML node to the config; returns an error message or "".
  std::function<std::string(const toml::node&, Config&, const Setting&)> set;
};

std::string set_size(const toml::node& n, std::size_t& out, const Setting& s) {
  auto v = n.value<int64_t>();
  if (!n.is_integer() || !v) return "expected an integer";
  if (*v < s.min || *v > s.max)
    return "must be between " + std::to_string(static_cast<int64_t>(s.min)) + " and " +
           std::to_string(static_cast<int64_t>(s.max));
  out = static_cast<std::size_t>(*v);
  return "";
}

std::string set_double(const toml::node& n, double& out, const Setting& s) {
  auto v = n.value<double>();
  if (!(n.is_floating_point() || n.is_integer()) || !v || !std::isfinite(*v))
    return "expected a number";
  if (*v < s.min || *v > s.max) return "out of range";
  out = *v;
  return "";
}

std::string set_bool(const toml::node& n, bool& out) {
  if (!n.is_boolean()) return "expected true or false";
  out = *n.value<bool>();
  return "";
}

std::string set_action(const toml::node& n, Action& out) {
  auto v = n.value<std::string>();
  if (!n.is_string() || !v) return "expected a string";
  for (Action a : {Action::kAccept, Action::kTag, Action::kQuarantine, Action::kReject}) {
    if (*v == action_name(a)) {
      out = a;
      return "";
    }
  }
  return "expected one of accept, tag, quarantine, reject";
}

std::string fmt_double(double d) {
  std::ostringstream o;
  o << d;
  std::string s = o.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

#define SIZE_SETTING(KEY, FIELD, MIN, MAX, DOC)                                           \
  Setting {                                                                               \
    KEY, "integer", DOC, MIN, MAX,                                                        \
        [](const Config& c) { return std::to_string(c.FIELD); },                          \
        [](const toml::node& n, Config& c, const Setting& s) { return set_size(n, c.FIELD, s); } \
  }
#define U32_SETTING(KEY, FIELD, MIN, MAX, DOC)                                            \
  Setting {                                                                               \
    KEY, "integer", DOC, MIN, MAX, [](const Config& c) { return std::to_string(c.FIELD); }, \
        [](const toml::node& n, Config& c, const Setting& s) {                            \
          std::size_t v = 0;                                                              \
          std::string e = set_size(n, v, s);                                              \
          if (e.empty()) c.FIELD = static_cast<std::uint32_t>(v);                         \
          return e;                                                                       \
        }                                                                                 \
  }
#define BOOL_SETTING(KEY, FIELD, DOC)                                                     \
  Setting {                                                                               \
    KEY, "boolean", DOC, 0, 0, [](const Config& c) { return std::string(c.FIELD ? "true" : "false"); }, \
        [](const toml::node& n, Config& c, const Setting&) { return set_bool(n, c.FIELD); } \
  }
#define SCORE_SETTING(KEY, FIELD, DOC)                                                    \
  Setting {                                                                               \
    KEY, "float", DOC, -1e6, 1e6, [](const Config& c) { return fmt_double(c.FIELD); },    \
        [](const toml::node& n, Config& c, const Setting& s) { return set_double(n, c.FIELD, s); } \
  }

#define PROBABILITY_SETTING(KEY, FIELD, DOC)                                              \
  Setting {                                                                               \
    KEY, "float", DOC, 0.0, 1.0, [](const Config& c) { return fmt_double(c.FIELD); },     \
        [](const toml::node& n, Config& c, const Setting& s) { return set_double(n, c.FIELD, s); } \
  }

std::string set_string(const toml::node& n, std::string& out) {
  auto v = n.value<std::string>();
  if (!n.is_string() || !v) return "expected a string";
  out = *v;
  return "";
}

std::string set_strings(const toml::node& n, std::vector<std::string>& out) {
  const auto* a = n.as_array();
  if (!a) return "expected an array of strings";
  std::vector<std::string> v;
  for (const auto& e : *a) {
    auto str = e.value<std::string>();
    if (!e.is_string() || !str) return "expected an array of strings";
    v.push_back(*str);
  }
  out = std::move(v);
  return "";
}

std::string toml_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
  return out + "]";
}

// "host:port" or "[v6]:port" with a port in 1..65535.
bool valid_endpoint(const std::string& s) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  std::string port = s.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  int p = std::stoi(port);
  return p >= 1 && p <= 65535;
}

std::string check_choice(const std::string& v, std::initializer_list<const char*> choices) {
  std::string list;
  for (const char* c : choices) {
    if (v == c) return "";
    list += (list.empty() ? "" : ", ") + std::string(c);
  }
  return "expected one of " + list;
}

#define STRING_SETTING(KEY, FIELD, DOC, CHECK)                                            \
  Setting {                                                                               \
    KEY, "string", DOC, 0, 0, [](const Config& c) { return "\"" + c.FIELD + "\""; },       \
        [](const toml::node& n, Config& c, const Setting&) {                              \
          std::string e = set_string(n, c.FIELD);                                         \
          if (e.empty()) e = CHECK(c.FIELD);                                              \
          return e;                                                                       \
        }                                                                                 \
  }
#define STRINGS_SETTING(KEY, FIELD, DOC, CHECK)                                           \
  Setting {                                                                               \
    KEY, "array of strings", DOC, 0, 0, [](const Config& c) { return toml_strings(c.FIELD); }, \
        [](const toml::node& n, Config& c, const Setting&) {                              \
          std::string e = set_strings(n, c.FIELD);                                        \
          for (const auto& item : c.FIELD)                                                \
            if (e.empty()) e = CHECK(item);                                               \
          return e;                                                                       \
        }                                                                                 \
  }

std::string any_value(const std::string&) { return ""; }
std::string endpoint_or_empty(const std::string& v) {
  return v.empty() || valid_endpoint(v) ? "" : "expected \"address:port\"";
}
std::string endpoint(const std::string& v) {
  return valid_endpoint(v) ? "" : "expected \"address:port\"";
}
std::string network(const std::string& v) {
  std::size_t slash = v.find('/');
  std::string addr = v.substr(0, slash);
  if (addr.empty() || addr.find_first_not_of("0123456789abcdefABCDEF.:") != std::string::npos)
    return "'" + v + "' is not an address or network (\"10.0.0.0/8\", \"::1/128\")";
  return "";
}
std::string domain_name(const std::string& v) {
  if (v.empty() || v.find_first_of(" @/:\t") != std::string::npos)
    return "'" + v + "' is not a domain name";
  return "";
}
std::string route(const std::string& v) {
  std::size_t eq = v.find('=');
  if (eq == std::string::npos || eq == 0 || !valid_endpoint(v.substr(eq + 1)))
    return "'" + v + "' is not \"domain=host:port\"";
  return "";
}
std::string delivery_mode(const std::string& v) { return check_choice(v, {"maildir", "relay"}); }
std::string tls_mode(const std::string& v) {
  return check_choice(v, {"none", "opportunistic", "required"});
}

#define ACTION_SETTING(KEY, FIELD, DOC)                                                   \
  Setting {                                                                               \
    KEY, "string", DOC, 0, 0,                                                             \
        [](const Config& c) { return "\"" + std::string(action_name(c.FIELD)) + "\""; },   \
        [](const toml::node& n, Config& c, const Setting&) { return set_action(n, c.FIELD); } \
  }

constexpr double kMaxBytes = double(std::numeric_limits<int64_t>::max() / 2);

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = {
      SIZE_SETTING("limits.max_message_bytes", limits.max_message_bytes, 1024, kMaxBytes,
                   "Largest message parsed; the rest is not inspected and MIME_LIMIT_MESSAGE_BYTES is raised."),
      SIZE_SETTING("limits.max_header_bytes", limits.max_header_bytes, 256, kMaxBytes,
                   "Largest header block of one part (all its fields together)."),
      SIZE_SETTING("limits.max_line_length", limits.max_line_length, 78, kMaxBytes,
                   "Longest physical line in a header block or a multipart body."),
      SIZE_SETTING("limits.max_headers", limits.max_headers, 8, 1e7,
                   "Most header fields in one header block."),
      SIZE_SETTING("limits.max_depth", limits.max_depth, 1, 1000,
                   "Deepest nesting of multipart and message/rfc822 parts."),
      SIZE_SETTING("limits.max_parts", limits.max_parts, 1, 1e8,
                   "Most MIME parts in one message, alternative views included."),
      SIZE_SETTING("limits.max_decoded_bytes", limits.max_decoded_bytes, 1024, kMaxBytes,
                   "Most decoded payload bytes for one message, all parts together."),
      U32_SETTING("limits.max_time_ms", limits.max_time_ms, 1, 3.6e6,
                  "Wall-clock budget for parsing one message, in milliseconds."),
      SIZE_SETTING("limits.max_alternative_views", limits.max_alternative_views, 0, 1e6,
                   "Most alternative interpretations built for ambiguous MIME in one message."),
      BOOL_SETTING("mime.html_to_text", mime.html_to_text,
                   "Render HTML parts to text and extract their links with anchor text."),
      BOOL_SETTING("mime.detect_charset", mime.detect_charset,
                   "Guess the charset of text parts whose label is missing or wrong."),
      BOOL_SETTING("mime.find_embedded", mime.find_embedded,
                   "Find uuencode, yEnc and BinHex blocks inside text bodies and treat them as parts."),
      SCORE_SETTING("policy.tag_score", policy.tag_score,
                    "Score at or above which a message is tagged."),
      SCORE_SETTING("policy.quarantine_score", policy.quarantine_score,
                    "Score at or above which a message is quarantined."),
      SCORE_SETTING("policy.reject_score", policy.reject_score,
                    "Score at or above which a message is rejected."),
      Setting{"policy.unscannable_action", "string",
              "Action when no worker could scan a message (two crashes or timeouts): tag, quarantine or reject.", 0, 0,
              [](const Config& c) { return "\"" + std::string(action_name(c.policy.unscannable_action)) + "\""; },
              [](const toml::node& n, Config& c, const Setting&) {
                std::string e = set_action(n, c.policy.unscannable_action);
                if (e.empty() && c.policy.unscannable_action == Action::kAccept)
                  return std::string("must not be accept: an unscanned message is never passed as clean");
                return e;
              }},
      SIZE_SETTING("inspect.max_depth", inspect.limits.max_depth, 1, 64,
                   "Deepest nesting of archives and documents inside one MIME part."),
      SIZE_SETTING("inspect.max_members", inspect.limits.max_members, 1, 1e8,
                   "Most archive members inspected in one message."),
      SIZE_SETTING("inspect.max_expanded_bytes", inspect.limits.max_expanded_bytes, 1024, kMaxBytes,
                   "Most bytes unpacked from archives and documents for one message."),
      SIZE_SETTING("inspect.max_member_bytes", inspect.limits.max_member_bytes, 1024, kMaxBytes,
                   "Largest single archive member unpacked."),
      U32_SETTING("inspect.max_ratio", inspect.limits.max_ratio, 2, 1e6,
                  "Largest unpacked-to-packed size ratio of one member before it counts as a bomb."),
      U32_SETTING("inspect.max_time_ms", inspect.limits.max_time_ms, 1, 3.6e6,
                  "Wall-clock budget for inspecting one message, in milliseconds."),
      SIZE_SETTING("inspect.max_name_length", inspect.limits.max_name_length, 16, 65536,
                   "File names longer than this raise FILE_NAME_LONG."),
      SIZE_SETTING("inspect.max_passwords", inspect.limits.max_passwords, 0, 1000,
                   "Candidate passwords from the message text tried on an encrypted archive."),
      SIZE_SETTING("inspect.max_image_pixels", inspect.limits.max_image_pixels, 1024, 1e9,
                   "Largest image (width x height) decoded to read QR and other 2D codes."),
      SIZE_SETTING("inspect.ocr_images", inspect.limits.ocr_images, 0, 100,
                   "Pictures read as text (OCR) per message whose own text is short; 0 turns OCR off."),
      Setting{"inspect.clamav_database", "string",
              "Directory of ClamAV signature files; empty: the system's ClamAV database when present.", 0, 0,
              [](const Config& c) { return "\"" + c.inspect.clamav_database + "\""; },
              [](const toml::node& n, Config& c, const Setting&) { return set_string(n, c.inspect.clamav_database); }},
      Setting{"inspect.yara_rules", "string",
              "Directory of extra YARA rules (*.yar) compiled with the shipped ones; empty: none.", 0, 0,
              [](const Config& c) { return "\"" + c.inspect.yara_rules + "\""; },
              [](const toml::node& n, Config& c, const Setting&) { return set_string(n, c.inspect.yara_rules); }},
      ACTION_SETTING("policy.encrypted_action", policy.encrypted_action,
                     "Action for an encrypted archive or document no candidate password opens."),
      ACTION_SETTING("policy.dangerous_file_action", policy.dangerous_file_action,
                     "Action for executables, scripts, shortcuts and disk images, wherever they hide."),
      ACTION_SETTING("policy.bomb_action", policy.bomb_action,
                     "Action for decompression bombs (ratio, size, nesting or overlapping entries)."),
      SIZE_SETTING("sandbox.workers", sandbox.workers, 0, 1024,
                   "Scan worker processes; 0 means one per CPU."),
      SIZE_SETTING("sandbox.max_messages_per_worker", sandbox.max_messages_per_worker, 1, 1e9,
                   "Messages a worker scans before it is replaced by a fresh one."),
      U32_SETTING("sandbox.timeout_ms", sandbox.timeout_ms, 100, 3.6e6,
                  "Wall-clock time a worker gets for one message before it is killed."),
      SIZE_SETTING("sandbox.memory_limit_mb", sandbox.memory_limit_mb, 64, 1e6,
                   "Address-space limit of a worker, in MiB."),
      U32_SETTING("sandbox.cpu_limit_seconds", sandbox.cpu_limit_seconds, 1, 1e6,
                  "CPU seconds a worker may use over its life."),
      STRING_SETTING("smtp.listen", smtp.listen, "Address and port of the inbound SMTP listener.", endpoint),
      STRING_SETTING("smtp.submission_listen", smtp.submission_listen,
                     "Address and port of the submission listener (AUTH after STARTTLS, outbound mail); empty: none.",
                     endpoint_or_empty),
      BOOL_SETTING("smtp.proxy_protocol", smtp.proxy_protocol,
                   "Expect a PROXY protocol v2 header on every connection (behind a load balancer)."),
      STRINGS_SETTING("smtp.proxy_from", smtp.proxy_from,
                      "Networks allowed to send a PROXY header; others are refused.", network),
      STRING_SETTING("smtp.hostname", smtp.hostname,
                     "Our name in the greeting, Received: headers and delivery reports.", domain_name),
      STRING_SETTING("smtp.tls_certificate", smtp.tls_certificate,
                     "PEM certificate chain for STARTTLS; empty: a self-signed one is generated under spool.data_dir/tls.",
                     any_value),
      STRING_SETTING("smtp.tls_key", smtp.tls_key, "PEM private key of smtp.tls_certificate.", any_value),
      STRINGS_SETTING("smtp.accepted_domains", smtp.accepted_domains,
                      "Domains we receive mail for; any other recipient is refused (no open relay). Empty with delivery.mode = \"maildir\": every recipient is accepted.",
                      domain_name),
      STRING_SETTING("smtp.recipients_file", smtp.recipients_file,
                     "File of valid recipients, one address or @domain per line; others get 550 5.1.1. Empty: no verification.",
                     any_value),
      STRINGS_SETTING("smtp.trusted_networks", smtp.trusted_networks,
                      "Client networks allowed to relay to any domain (internal servers).", network),
      STRINGS_SETTING("smtp.normalize_bare_lf_networks", smtp.normalize_bare_lf_networks,
                      "Client networks whose bare CR or LF is turned into CRLF instead of refused.", network),
      STRING_SETTING("smtp.auth_users_file", smtp.auth_users_file,
                     "Users for AUTH on the submission listener, \"user:hash\" per line (hash from `bulwark hash-password`).",
                     any_value),
      SIZE_SETTING("smtp.max_message_bytes", smtp.max_message_bytes, 1024, kMaxBytes,
                   "Largest message accepted (announced in SIZE); larger ones get 552 5.3.4."),
      SIZE_SETTING("smtp.max_recipients", smtp.max_recipients, 1, 1e6,
                   "Most recipients per message; more get 452 4.5.3."),
      SIZE_SETTING("smtp.max_command_line", smtp.max_command_line, 512, 1e6,
                   "Longest command line, CRLF included; longer gets 500 5.5.2."),
      SIZE_SETTING("smtp.max_data_line", smtp.max_data_line, 1000, kMaxBytes,
                   "Longest line of message text; a longer one makes the message 554 5.6.0."),
      SIZE_SETTING("smtp.max_connections", smtp.max_connections, 1, 1e6,
                   "Most simultaneous SMTP connections; more get 421 4.7.0."),
      SIZE_SETTING("smtp.max_connections_per_ip", smtp.max_connections_per_ip, 1, 1e6,
                   "Most simultaneous connections from one client address."),
      SIZE_SETTING("smtp.max_messages_per_minute_per_ip", smtp.max_messages_per_minute_per_ip, 1, 1e9,
                   "Messages one client address may send per minute; more get 450 4.7.1."),
      SIZE_SETTING("smtp.max_errors", smtp.max_errors, 1, 1000,
                   "Protocol errors in one session before 421 4.7.0 and disconnect."),
      U32_SETTING("smtp.greeting_delay_ms", smtp.greeting_delay_ms, 0, 60000,
                  "Wait before the greeting; a client that talks first is refused (554 5.5.1)."),
      U32_SETTING("smtp.command_timeout_s", smtp.command_timeout_s, 1, 3600,
                  "Idle time allowed while waiting for a command."),
      U32_SETTING("smtp.data_timeout_s", smtp.data_timeout_s, 1, 3600,
                  "Idle time allowed between reads during DATA or BDAT."),
      U32_SETTING("smtp.scan_deadline_ms", smtp.scan_deadline_ms, 100, 3.6e6,
                  "Time from end of DATA to a decision; past it the message gets 451 4.3.0."),
      U32_SETTING("smtp.drain_timeout_s", smtp.drain_timeout_s, 0, 3600,
                  "On SIGTERM, time given to open sessions to finish before they are closed."),
      STRING_SETTING("spool.data_dir", spool.data_dir,
                     "Directory for the spool, quarantine, local Maildirs and generated TLS keys.", any_value),
      SIZE_SETTING("spool.min_free_mb", spool.min_free_mb, 0, 1e9,
                   "Free space the spool's file system must keep; below it MAIL gets 452 4.3.1."),
      STRING_SETTING("delivery.mode", delivery.mode,
                     "\"maildir\": deliver every message into local Maildirs under spool.data_dir; \"relay\": send it on by SMTP.",
                     delivery_mode),
      STRINGS_SETTING("delivery.routes", delivery.routes,
                      "Next hop per recipient domain, \"domain=host:port\" (the internal mail server).", route),
      STRING_SETTING("delivery.smarthost", delivery.smarthost,
                     "Next hop for domains without a route, \"host:port\"; empty: MX lookup.", endpoint_or_empty),
      STRING_SETTING("delivery.tls", delivery.tls,
                     "STARTTLS towards next hops: none, opportunistic or required.", tls_mode),
      STRINGS_SETTING("delivery.tls_required_domains", delivery.tls_required_domains,
                      "Destination domains where TLS is required whatever delivery.tls says.", domain_name),
      STRING_SETTING("delivery.resolver", delivery.resolver,
                     "DNS servers for MX lookups, \"ip[:port],...\"; empty: the system's.", any_value),
      SIZE_SETTING("delivery.concurrency", delivery.concurrency, 1, 10000,
                   "Delivery threads in all."),
      SIZE_SETTING("delivery.concurrency_per_destination", delivery.concurrency_per_destination, 1, 10000,
                   "Most simultaneous connections to one next hop."),
      U32_SETTING("delivery.retry_initial_s", delivery.retry_initial_s, 1, 86400,
                  "First retry delay after a temporary failure; it doubles each attempt."),
      U32_SETTING("delivery.retry_max_s", delivery.retry_max_s, 1, 604800,
                  "Longest delay between two attempts."),
      U32_SETTING("delivery.max_queue_lifetime_s", delivery.max_queue_lifetime_s, 60, 3.2e7,
                  "How long a message is retried before it is returned to its sender."),
      U32_SETTING("delivery.connect_timeout_s", delivery.connect_timeout_s, 1, 3600,
                  "Time to connect to a next hop."),
      U32_SETTING("delivery.command_timeout_s", delivery.command_timeout_s, 1, 3600,
                  "Time to wait for a next hop's reply."),
      BOOL_SETTING("rules.enabled", rules.enabled,
                   "Score messages with the spam and phishing rules (the shipped set plus rules.directories)."),
      STRINGS_SETTING("rules.directories", rules.directories,
                      "Extra rule files or directories (*.rules; domains/<domain>.rules hold per-domain scores).",
                      any_value),
      STRINGS_SETTING("rules.protected_domains", rules.protected_domains,
                      "Domains whose look-alike links are phishing (URL_HOMOGRAPH), besides the built-in brands.",
                      domain_name),
      STRINGS_SETTING("rules.own_domains", rules.own_domains,
                      "The organisation's own domains: look-alikes of them in links or senders are phishing.",
                      domain_name),
      STRINGS_SETTING("rules.executives", rules.executives,
                      "Display names (\"Jane Doe\") that mail from outside rules.own_domains must not use.",
                      any_value),
      BOOL_SETTING("classify.enabled", classify.enabled,
                   "Score messages with the statistical classifier when a trained model exists (BAYES_* symbols)."),
      STRING_SETTING("classify.model", classify.model,
                     "The classifier's SQLite model file; empty: classifier.sqlite3 under spool.data_dir.", any_value),
      SIZE_SETTING("classify.min_train", classify.min_train, 1, 1e9,
                   "Spam and ham messages the model must each have learned before it scores."),
      BOOL_SETTING("classify.autolearn", classify.autolearn,
                   "Learn from verdicts both the rules and the classifier are sure of (see docs/classifier.md)."),
      SCORE_SETTING("classify.autolearn_spam_score", classify.autolearn_spam_score,
                    "Auto-learn as spam only at or above this score, BAYES_* symbols not counted."),
      SCORE_SETTING("classify.autolearn_ham_score", classify.autolearn_ham_score,
                    "Auto-learn as ham only at or below this score, BAYES_* symbols not counted."),
      PROBABILITY_SETTING("classify.autolearn_spam_probability", classify.autolearn_spam_probability,
                          "... and only when the classifier's spam probability is at or above this."),
      PROBABILITY_SETTING("classify.autolearn_ham_probability", classify.autolearn_ham_probability,
                          "... and, for ham, only when it is at or below this."),
      Setting{"policy.limit_action", "string",
              "Action when a parser limit is hit: accept, tag, quarantine or reject.", 0, 0,
              [](const Config& c) { return "\"" + std::string(action_name(c.policy.limit_action)) + "\""; },
              [](const toml::node& n, Config& c, const Setting&) {
                return set_action(n, c.policy.limit_action);
              }},
  };
  return table;
}

std::string where(const std::string& source, const toml::source_region& r) {
  return source + ":" + std::to_string(r.begin.line);
}

// Walks every key of the document; each must be a declared setting. toml++ keeps keys
// sorted by name, so problems are collected with their line and reported in file order.
std::string apply(const toml::table& root, Config& c, const std::string& source) {
  std::vector<std::pair<std::uint32_t, std::string>> problems;
  auto problem = [&](const toml::source_region& r, const std::string& what) {
    problems.emplace_back(r.begin.line, where(source, r) + ": " + what);
  };
  for (const auto& [section, node] : root) {
    const auto* table = node.as_table();
    if (!table) {
      problem(node.source(), "'" + std::string(section.str()) +
                                 "' is not a section; settings live in sections like [limits]");
      continue;
    }
    for (const auto& [name, value] : *table) {
      const std::string key = std::string(section.str()) + "." + std::string(name.str());
      const Setting* found = nullptr;
      for (const auto& s : settings())
        if (key == s.key) found = &s;
      if (!found) {
        problem(name.source(), "unknown setting '" + key + "'");
        continue;
      }
      const std::string e = found->set(value, c, *found);
      if (!e.empty()) problem(value.source(), key + ": " + e);
    }
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string errors;
  for (const auto& p : problems) errors += p.second + "\n";
  if (errors.empty()) {
    const auto& p = c.policy;
    if (!(p.tag_score <= p.quarantine_score && p.quarantine_score <= p.reject_score))
      errors += source +
                ": policy: thresholds must satisfy tag_score <= quarantine_score <= reject_score\n";
    if (c.delivery.mode == "relay" && c.smtp.accepted_domains.empty())
      errors += source +
                ": smtp.accepted_domains: must list the domains we relay for when delivery.mode = \"relay\" (else: an open relay)\n";
    if (c.smtp.tls_certificate.empty() != c.smtp.tls_key.empty())
      errors += source + ": smtp: tls_certificate and tls_key go together\n";
  }
  return errors;
}

}  // namespace

const std::vector<SettingInfo>& all_settings() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> v;
    const Config d;
    for (const auto& s : settings()) v.push_back({s.key, s.type, s.get(d), s.description});
    return v;
  }();
  return infos;
}

Config default_config() { return Config{}; }

Result<Config> load_config_string(std::string_view text, const std::string& source_name) {
  Config c;
  c.source = source_name;
  try {
    toml::table root = toml::parse(text, source_name);
    std::string errors = apply(root, c, source_name);
    if (!errors.empty()) {
      errors.pop_back();
      return Error{errors};
    }
  } catch (const toml::parse_error& e) {
    return Error{where(source_name, e.source()) + ": " + std::string(e.description())};
  }
  return c;
}

Result<Config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open: " + std::strerror(errno)};
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_config_string(ss.str(), path);
}

}  // namespace bulwark
