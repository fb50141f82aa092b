#include "proxy/access_log.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

namespace authgate::proxy {

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

namespace {

// ISO-8601 UTC with milliseconds; the second part is cached per thread.
void append_time(std::string& out) {
  thread_local std::time_t cached_sec = 0;
  thread_local char cached[32];
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t sec = static_cast<std::time_t>(ms / 1000);
  if (sec != cached_sec) {
    std::tm tm{};
    gmtime_r(&sec, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  out += cached;
  out += frac;
}

void field(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  append_json_escaped(out, value);
  out += '"';
}

}  // namespace

void write_access_log(spdlog::logger& log, const AccessRecord& r) {
  std::string line;
  line.reserve(320);
  line += "{\"time\":\"";
  append_time(line);
  line += '"';
  field(line, "request_id", r.request_id);
  field(line, "client", r.client);
  field(line, "method", r.method);
  field(line, "path", r.path);
  field(line, "route", r.route);
  field(line, "upstream", r.upstream);
  line += ",\"status\":" + std::to_string(r.status);
  line += ",\"bytes_in\":" + std::to_string(r.bytes_in);
  line += ",\"bytes_out\":" + std::to_string(r.bytes_out);
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.3f", r.duration_ms);
  line += ",\"duration_ms\":";
  line += dur;
  field(line, "auth", r.auth);
  if (!r.auth_reason.empty()) {
    field(line, "auth_result", r.auth_reason == "ok" ? "allow" : "deny");
    field(line, "auth_reason", r.auth_reason);
    field(line, "issuer", r.issuer);
    field(line, "sub", r.sub);
  }
  line += '}';
  log.info(std::string_view(line));
}

}  // namespace authgate::proxy
