// bulwark: one binary, one verb per job. Thin: parses arguments, calls a verb.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Bulwark: an email security gateway"};
  app.set_version_flag("--version", "bulwark 0.1.0");
  app.require_subcommand(1);

  bulwark::cli::ScanOptions scan;
  auto* scan_cmd = app.add_subcommand(
      "scan", "Scan messages (.eml files, directories, mbox files, or - for stdin) and print verdicts");
  scan_cmd->add_option("--config", scan.config_path, "Configuration file (default: embedded defaults)");
  scan_cmd->add_option("--format", scan.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  scan_cmd->add_flag("--explain", scan.explain,
                     "Show the MIME tree, every part and every symbol with its score");
  scan_cmd->add_flag("!--no-progress", scan.progress, "Do not show progress on stderr");
  scan_cmd->add_flag("!--no-sandbox", scan.sandbox,
                     "Scan in this process instead of locked-down workers (debugging only)");
  scan_cmd->add_option("--workers", scan.workers, "Scan worker processes (default: sandbox.workers)")
      ->check(CLI::Range(0, 1024));
  scan_cmd->add_option("paths", scan.paths, "Files, directories or mbox files; - for stdin");

  std::string config_path;
  auto* check_cmd = app.add_subcommand(
      "check-config", "Check a configuration file; errors are printed as file:line: problem");
  check_cmd->add_option("file", config_path, "The TOML file to check")->required();

  bulwark::cli::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the gateway: SMTP in, scan, spool, deliver (embedded default: 127.0.0.1:2525, ./var)");
  serve_cmd->add_option("--config", serve.config_path, "Configuration file (default: embedded defaults)");
  serve_cmd->add_option("--log-level", serve.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  bulwark::cli::QueueOptions queue;
  auto* queue_cmd = app.add_subcommand("queue", "Show and manage the delivery queue");
  queue_cmd->add_option("--config", queue.config_path, "Configuration file");
  queue_cmd->add_option("action", queue.action, "list, show ID, retry [ID], delete ID")
      ->required()
      ->check(CLI::IsMember({"list", "show", "retry", "delete"}));
  queue_cmd->add_option("id", queue.id, "Queue id");
  queue_cmd->add_flag("--raw", queue.raw, "show: print the message too");

  bulwark::cli::QuarantineOptions quarantine;
  auto* quarantine_cmd = app.add_subcommand("quarantine", "List, show, release or delete quarantined messages");
  quarantine_cmd->add_option("--config", quarantine.config_path, "Configuration file");
  quarantine_cmd->add_option("action", quarantine.action, "list, show ID, release ID, delete ID")
      ->required()
      ->check(CLI::IsMember({"list", "show", "release", "delete"}));
  quarantine_cmd->add_option("id", quarantine.id, "Quarantine id (the queue id)");
  quarantine_cmd->add_option("--status", quarantine.status, "list: held, released, deleted or all")
      ->check(CLI::IsMember({"held", "released", "deleted", "all"}));
  quarantine_cmd->add_option("--recipient", quarantine.recipient, "list: only messages to this address");
  quarantine_cmd->add_option("--sender", quarantine.sender, "list: only messages from this envelope sender");
  quarantine_cmd->add_option("--limit", quarantine.limit, "list: at most this many (newest first)");
  quarantine_cmd->add_flag("--raw", quarantine.raw, "show: print the message bytes");

  auto* hash_cmd = app.add_subcommand(
      "hash-password", "Read a password on stdin and print its hash for smtp.auth_users_file");

  bulwark::cli::TrainOptions train;
  auto* train_cmd = app.add_subcommand(
      "train", "Teach the spam classifier from sorted mail (files, directories, mbox files); resumable");
  train_cmd->add_option("--config", train.config_path, "Configuration file (default: embedded defaults)");
  train_cmd->add_option("--spam", train.spam, "Spam: files, directories or mbox files")->expected(1, -1);
  train_cmd->add_option("--ham", train.ham, "Ham (legitimate mail): files, directories or mbox files")
      ->expected(1, -1);
  train_cmd->add_flag("--reset", train.reset, "Start from an empty model");
  train_cmd->add_flag("!--no-progress", train.progress, "Do not show progress on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*scan_cmd) return bulwark::cli::run_scan(scan);
  if (*check_cmd) return bulwark::cli::run_check_config(config_path);
  if (*serve_cmd) return bulwark::cli::run_serve(serve);
  if (*queue_cmd) return bulwark::cli::run_queue(queue);
  if (*quarantine_cmd) return bulwark::cli::run_quarantine(quarantine);
  if (*train_cmd) return bulwark::cli::run_train(train);
  if (*hash_cmd) return bulwark::cli::run_hash_password();
  return 2;
}
