// The composition root: builds every module from the config, owns the
// control io_context (signals, admin listener, log flushing) and the worker
// threads, and runs the shutdown sequence.
//
// Usage:
//   App app(config_path, cfg, log_level_override);
//   return app.run();   // blocks until SIGTERM/SIGINT have drained; returns the exit code
//
// Signals:
//   SIGTERM/SIGINT: /readyz 503 -> stop accepting -> close idle connections ->
//     in-flight requests finish (up to timeouts.drain) -> exit 0. A second signal
//     stops at once.
//   SIGHUP: re-read and validate the file; swap atomically on success; on failure
//     log it, keep the old config and count authgate_config_reloads_total{result="failure"}.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace authgate::app {

class App {
 public:
  App(std::string config_path, config::GatewayConfig cfg, std::optional<std::string> log_level);
  ~App();
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Applies a level name ("info", ...) to the default logger.
void apply_log_level(const std::string& level);

}  // namespace authgate::app
