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

struct Config {
  std::string source = "<embedded defaults>";  // the file it came from
  MimeLimits limits;
  MimeConfig mime;
  PolicyConfig policy;
  SandboxConfig sandbox;
  InspectConfig inspect;
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
