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

std::string set_string(const toml::node& n, std::string& out) {
  auto v = n.value<std::string>();
  if (!n.is_string() || !v) return "expected a string";
  out = *v;
  return "";
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
