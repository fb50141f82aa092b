// Loads and validates a gateway YAML file.
//
// Usage:
//   try { GatewayConfig cfg = load_file(path); }
//   catch (const ConfigError& e) { for (auto& line : e.errors()) std::cerr << line << '\n'; }
//
// Each error reads "file:line:column: key.path: message", e.g.
//   gateway.yaml:14:5: routes[2].upstream: unknown upstream "ordrs"
// Unknown keys are errors. Durations are "250ms", "30s", "5m", "1h"; sizes are
// "512", "16KiB", "10MiB", "1GiB" (also KB/MB/GB, powers of ten).
// Exceptions are fine here: this runs at start-up and on SIGHUP, never per request.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace authgate::config {

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> errors);
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

// Reads and validates `path`. Throws ConfigError listing every problem found.
GatewayConfig load_file(const std::string& path);

// Same, from text; `source_name` is what errors call the file.
GatewayConfig load_string(std::string_view yaml, const std::string& source_name);

struct LoadOptions {
  // `authgate --check-config --skip-secrets` (validating a file where the
  // production secrets are not): a secret that cannot be read (a *_env variable
  // unset or empty, a secret *_file or listen.tls cert_file/key_file unreadable)
  // is a note instead of an error, and a placeholder stands in for it so that
  // everything else (syntax, keys, types, cross-references, lengths of the
  // secrets that are there) is still checked. Never for running the gateway.
  bool skip_secrets = false;
};

// With options; `notes` receives "file:line:column: key.path: note: ..." lines
// (with skip_secrets: one per secret not read), also when ConfigError is thrown.
GatewayConfig load_file(const std::string& path, const LoadOptions& options, std::vector<std::string>& notes);
GatewayConfig load_string(std::string_view yaml, const std::string& source_name, const LoadOptions& options,
                          std::vector<std::string>& notes);

// Parsers for the scalar syntaxes, exposed for tests. Return false on bad input.
bool parse_duration(std::string_view text, Duration& out);
bool parse_size(std::string_view text, std::uint64_t& out);

}  // namespace authgate::config
