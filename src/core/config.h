// Config: the immutable snapshot of bulwark.toml that every stage reads.
//
// Every setting is declared once in config.cc's table (key, type, default, range, doc);
// loading walks that table, so an unknown key, a wrong type or an out-of-range value is an
// error that names the file and line. docs/configuration.md documents each key, and a test
// fails when one is missing there.
//   Result<Config> c = load_config_file("bulwark.toml");   // or default_config()
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/result.h"

namespace bulwark {

enum class Action { kAccept, kTag, kQuarantine, kReject };
std::string_view action_name(Action a);

struct PolicyConfig {
  double tag_score = 5.0;         // score at or above which a message is tagged
  double quarantine_score = 10.0;  // ... quarantined
  double reject_score = 20.0;      // ... rejected
  Action limit_action = Action::kQuarantine;  // a parser limit was hit
  Action unscannable_action = Action::kQuarantine;  // no worker could scan it
  Action encrypted_action = Action::kQuarantine;    // an archive or document we cannot open
  Action dangerous_file_action = Action::kQuarantine;  // executables, scripts, disk images
  Action bomb_action = Action::kQuarantine;         // decompression bombs
};

struct MimeConfig {
  bool html_to_text = true;        // render HTML parts to text and links
  bool detect_charset = true;      // guess a charset when the label is missing or wrong
  bool find_embedded = true;       // uuencode / yEnc / BinHex blocks inside text bodies
};

struct SandboxConfig {
  std::size_t workers = 0;                      // 0: one per CPU
  std::size_t max_messages_per_worker = 1000;   // then the worker is replaced
  std::uint32_t timeout_ms = 30000;             // per message
  std::size_t memory_limit_mb = 4096;           // RLIMIT_AS of a worker
  std::uint32_t cpu_limit_seconds = 600;        // RLIMIT_CPU over a worker's life
};

struct InspectConfig {
  InspectLimits limits;
  std::string clamav_database;  // directory of ClamAV signatures; "" = system default if any
  std::string yara_rules;       // extra YARA rules directory; the shipped rules are built in
};

// [smtp]: the receiving side. Limits have safe defaults; docs/smtp.md explains each.
struct SmtpConfig {
  std::string listen = "127.0.0.1:2525";   // "ip:port"; inbound mail (relay control applies)
  std::string submission_listen;           // "" = none; AUTH after STARTTLS, outbound mail
  bool proxy_protocol = false;             // PROXY v2 header expected on every connection
  std::vector<std::string> proxy_from = {"127.0.0.1/32"};  // load balancers allowed to send it
  std::string hostname = "bulwark.localhost";  // greeting, Received:, DSN Reporting-MTA
  std::string tls_certificate;  // PEM; "" = a self-signed one generated under data_dir/tls
  std::string tls_key;
  std::vector<std::string> accepted_domains;  // inbound recipients' domains ("" list + maildir = all)
  std::string recipients_file;  // "" = no verification; else one address (or @domain) per line
  std::vector<std::string> trusted_networks = {"127.0.0.0/8", "::1/128"};  // may relay anywhere
  std::vector<std::string> normalize_bare_lf_networks;  // bare CR/LF normalised instead of refused
  std::string auth_users_file;  // "user:argon2id-hash" per line; AUTH off when ""
  std::size_t max_message_bytes = 50u << 20;
  std::size_t max_recipients = 100;
  std::size_t max_command_line = 2048;      // RFC 5321 says 512 + extension parameters
  std::size_t max_data_line = 100000;       // one line of message text
  std::size_t max_connections = 1000;
  std::size_t max_connections_per_ip = 50;
  std::size_t max_messages_per_minute_per_ip = 6000;
  std::size_t max_errors = 10;              // protocol errors before 421 and disconnect
  std::uint32_t greeting_delay_ms = 0;      // wait this long; a client talking first is refused
  std::uint32_t command_timeout_s = 300;
  std::uint32_t data_timeout_s = 600;       // between two reads during DATA/BDAT
  std::uint32_t scan_deadline_ms = 60000;   // end of DATA to decision, else 451
  std::uint32_t drain_timeout_s = 30;       // SIGTERM: time given to open sessions
};

// [spool]: where accepted mail waits, durably, until the next hop took it.
struct SpoolConfig {
  std::string data_dir = "./var";  // spool/, quarantine/, maildir/, tls/ live under it
  std::size_t min_free_mb = 100;   // below this, MAIL is answered 452 4.3.1
};

// [delivery]: the queue runner.
struct DeliveryConfig {
  std::string mode = "maildir";  // "maildir" (embedded default) or "relay"
  std::vector<std::string> routes;  // "domain=host:port" next hops for accepted domains
  std::string smarthost;            // "host:port" for everything else ("" = MX lookup)
  std::string tls = "opportunistic";  // "none", "opportunistic" or "required"
  std::vector<std::string> tls_required_domains;  // destinations where TLS is mandatory
  std::string resolver;             // "ip[:port],..." ("" = the system's)
  std::size_t concurrency = 20;     // delivery threads
  std::size_t concurrency_per_destination = 10;
  std::uint32_t retry_initial_s = 60;
  std::uint32_t retry_max_s = 3600;
  std::uint32_t max_queue_lifetime_s = 5 * 86400;
  std::uint32_t connect_timeout_s = 30;
  std::uint32_t command_timeout_s = 300;
};

// [classify]: the statistical spam classifier (src/classify/, docs/classifier.md).
struct ClassifyConfig {
  bool enabled = true;        // score with the model when one is trained
  std::string model;          // SQLite model file; "" = <spool.data_dir>/classifier.sqlite3
  std::size_t min_train = 200;  // messages of each class the model needs before it scores
  // Guarded auto-learning: only verdicts both the rules and the model are sure of.
  bool autolearn = false;
  double autolearn_spam_score = 12.0;         // score without BAYES_* at or above: spam
  double autolearn_ham_score = 0.0;           // score without BAYES_* at or below: ham
  double autolearn_spam_probability = 0.999;  // and the model's p at or above
  double autolearn_ham_probability = 0.001;   // ... at or below
};

// [rules]: the spam and phishing rule engine (docs/rules.md).
struct RulesConfig {
  bool enabled = true;
  std::vector<std::string> directories;       // extra *.rules files or directories
  std::vector<std::string> protected_domains;  // brands whose look-alikes are phishing
  std::vector<std::string> own_domains;        // the organisation's domains
  std::vector<std::string> executives;         // display names impersonation targets
};

struct Config {
  std::string source = "<embedded defaults>";  // the file it came from
  SmtpConfig smtp;
  SpoolConfig spool;
  DeliveryConfig delivery;
  MimeLimits limits;
  MimeConfig mime;
  PolicyConfig policy;
  SandboxConfig sandbox;
  InspectConfig inspect;
  ClassifyConfig classify;
  RulesConfig rules;
};

// One documented setting, for check-config and the documentation test.
struct SettingInfo {
  std::string key;            // "limits.max_depth"
  std::string type;           // "integer", "float", "boolean", "string"
  std::string default_value;  // as written in TOML
  std::string description;
};
const std::vector<SettingInfo>& all_settings();

Config default_config();
Result<Config> load_config_file(const std::string& path);
Result<Config> load_config_string(std::string_view toml, const std::string& source_name);

}  // namespace bulwark
