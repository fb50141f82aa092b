// The composition root: builds every module from the config, owns the
// control io_context (signals, admin listener, log flushing) and the worker
// threads, and runs the shutdown sequence.
//
// Usage:
//   App app(config_path, cfg, log_level_override, bound_addresses_file);
//   return app.run();   // blocks until SIGTERM/SIGINT have drained; returns the exit code
//
// Listeners: listen.address and admin.address may name port 0; the kernel then picks a
// free port (every worker shares the one the first worker got). Once every listener is
// bound, run() logs "listening on <proxy> ..., admin on <admin>" with the real ports and,
// when `bound_addresses_file` is not empty, writes them to that file atomically (a temp
// file renamed into place) as {"proxy":"127.0.0.1:41234","admin":"127.0.0.1:41235"}.
//
// Signals:
//   SIGTERM/SIGINT: /readyz 503 -> stop accepting -> close idle connections ->
//     in-flight requests finish (up to timeouts.drain) -> exit 0. A second signal
//     stops at once.
//   SIGHUP: re-read and validate the file; swap atomically on success; on failure
//     log it, keep the old config and count authgate_config_reloads_total{result="failure"}.
//     listen/admin addresses are compared with what is bound: port 0 (or the port the
//     kernel picked for it) is no change, nothing is re-bound.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace authgate::app {

class App {
 public:
  App(std::string config_path, config::GatewayConfig cfg, std::optional<std::string> log_level,
      std::string bound_addresses_file = {});
  ~App();
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes {"proxy":"<proxy>","admin":"<admin>"} to `path` atomically: a temp file in the
// same directory, renamed over `path`. Throws std::runtime_error on failure.
void write_bound_addresses(const std::string& path, const std::string& proxy, const std::string& admin);

// Applies a level name ("info", ...) to the default logger.
void apply_log_level(const std::string& level);

// Makes the default (application) logger write to stderr, as the README says,
// never to stdout where the access log goes by default; and escapes every
// message with common::log_escaped() on its way to the sink, so that no value
// from a client or an IdP (a callback's error_description, a path, a header,
// a kid) can forge a log line or reach the terminal as a control sequence.
// Call first thing in main().
void install_app_logger();

}  // namespace authgate::app
