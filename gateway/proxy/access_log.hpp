// One JSON line per request. Never carries a token or cookie value: only the
// fields below, all of which the gateway itself derives. Every line is valid
// UTF-8 JSON whatever bytes the request carried (append_json_escaped).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Counter;
}
namespace spdlog {
class logger;
}

namespace authgate::proxy {

struct AccessRecord {
  std::string_view request_id;
  std::string_view client;
  std::string_view protocol = "http/1.1";  // http/1.1 | h2 (h2c included)
  std::string_view method;
  std::string_view path;      // canonical path (raw target only when it was rejected)
  std::string_view route;     // "" when no route matched
  std::string_view upstream;  // "" when not proxied
  unsigned status = 0;
  std::uint64_t bytes_in = 0;   // request body bytes
  std::uint64_t bytes_out = 0;  // response body bytes
  double duration_ms = 0;
  std::string_view auth = "none";  // none | bearer | session
  std::string_view auth_reason;    // routes with auth: "ok" or why it was denied ("expired", ...)
  std::string_view issuer;         // the issuer's config name, when a token was checked
  std::string_view sub;            // the token subject (never the token itself)
};

void write_access_log(spdlog::logger& log, const AccessRecord& r);

// The access logger for `target` (log.access): "stdout", "stderr" or a file path
// (appended to; "off" is handled by the caller). A failed write or flush (disk
// full, closed pipe, ...) is never fatal and never throws: it increments
// `write_errors` (authgate_log_write_errors_total), and a warning on the
// application log says so at most once per `report_interval`, with the count
// since the last one. The line is lost. Throws only when the file cannot be
// opened (start-up or reload).
std::shared_ptr<spdlog::logger> make_access_logger(const std::string& target,
                                                   prometheus::Counter& write_errors,
                                                   std::chrono::seconds report_interval =
                                                       std::chrono::seconds(10));

// JSON string escaping (common::append_json_escaped): quotes, backslash,
// control characters as \u00XX, and every byte that is not well-formed UTF-8
// as U+FFFD, so each access-log line is valid UTF-8 JSON whatever the request
// carried (a raw path with bytes 0x80-0xFF, an overlong form, a surrogate).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace authgate::proxy
