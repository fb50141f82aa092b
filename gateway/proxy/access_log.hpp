// One JSON line per request. Never carries a token or cookie value: only the
// fields below, all of which the gateway itself derives.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace authgate::proxy {

struct AccessRecord {
  std::string_view request_id;
  std::string_view client;
  std::string_view method;
  std::string_view path;      // canonical path (raw target only when it was rejected)
  std::string_view route;     // "" when no route matched
  std::string_view upstream;  // "" when not proxied
  unsigned status = 0;
  std::uint64_t bytes_in = 0;   // request body bytes
  std::uint64_t bytes_out = 0;  // response body bytes
  double duration_ms = 0;
  std::string_view auth = "none";  // none | bearer
  std::string_view auth_reason;    // bearer: "ok" or why it was denied ("expired", ...)
  std::string_view issuer;         // bearer: the issuer's config name
  std::string_view sub;            // bearer: the token subject (never the token itself)
};

void write_access_log(spdlog::logger& log, const AccessRecord& r);

// JSON string escaping (quotes, backslash, control bytes as \u00XX).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace authgate::proxy
