// `bulwark serve`: the gateway in the foreground, logging to stderr. SIGHUP reloads the
// configuration, rules and signatures; SIGTERM (or Ctrl-C) drains and exits.
#include <csignal>
#include <iostream>

#include <asio.hpp>

#include "cli/commands.h"
#include "core/log.h"
#include "smtp/gateway.h"

namespace bulwark::cli {

Result<Config> load_config_or_default(const std::string& path) {
  if (path.empty()) return default_config();
  return load_config_file(path);
}

int run_serve(const ServeOptions& options) {
  auto config = load_config_or_default(options.config_path);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 2;
  }
  set_log_level(options.log_level);
  std::signal(SIGPIPE, SIG_IGN);
  auto gateway = smtp::Gateway::create(config.value(), options.config_path);
  if (!gateway) {
    std::cerr << "bulwark serve: " << gateway.error().message << "\n";
    return 2;
  }
  asio::io_context io(1);
  if (auto r = gateway.value()->start(io); !r) {
    std::cerr << "bulwark serve: " << r.error().message << "\n";
    return 2;
  }
  log_event("started", {{"config", config.value().source}, {"data_dir", config.value().spool.data_dir},
                        {"delivery", config.value().delivery.mode}});
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  bool stopping = false;
  std::function<void(const asio::error_code&, int)> on_signal = [&](const asio::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      log_event("reload_requested", {});
      gateway.value()->reload();
    } else if (!stopping) {
      stopping = true;
      gateway.value()->drain([&] {
        log_event("stopped", {});
        io.stop();
      });
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  io.run();
  return 0;
}

}  // namespace bulwark::cli
