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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*scan_cmd) return bulwark::cli::run_scan(scan);
  if (*check_cmd) return bulwark::cli::run_check_config(config_path);
  return 2;
}
