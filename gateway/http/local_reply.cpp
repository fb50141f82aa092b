#include "http/local_reply.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "common/log_escape.hpp"

namespace authgate::http {

namespace bhttp = boost::beast::http;

namespace {

// What every local reply ends with, in this order on the wire.
void finish(LocalResponse& res, std::string_view content_type, std::string_view request_id,
            bool keep_alive, config::Duration retry_after) {
  if (res.result_int() == 503 && res.find(bhttp::field::retry_after) == res.end())
    res.set(bhttp::field::retry_after, retry_after_seconds(retry_after));
  if (!content_type.empty()) res.set(bhttp::field::content_type, content_type);
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Request-Id", request_id);
  res.keep_alive(keep_alive);
  res.prepare_payload();
}

}  // namespace

std::string retry_after_seconds(config::Duration retry_after) {
  return std::to_string(
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(retry_after).count()));
}

LocalResponse json_error_response(unsigned status, std::string_view error, std::string_view request_id,
                                  bool keep_alive, config::Duration retry_after,
                                  std::string_view www_authenticate) {
  LocalResponse res{static_cast<bhttp::status>(status), 11};
  if (!www_authenticate.empty()) res.set(bhttp::field::www_authenticate, www_authenticate);
  std::string& body = res.body();
  body = "{\"error\":\"";
  common::append_json_escaped(body, error);
  body += "\",\"status\":";
  body += std::to_string(status);
  body += ",\"request_id\":\"";
  common::append_json_escaped(body, request_id);
  body += "\"}\n";
  finish(res, "application/json", request_id, keep_alive, retry_after);
  return res;
}

LocalResponse page_response(const LocalReply& reply, std::string_view request_id, bool keep_alive,
                            config::Duration retry_after) {
  LocalResponse res{static_cast<bhttp::status>(reply.status), 11};
  for (const auto& [name, value] : reply.headers) res.insert(name, value);
  res.body() = reply.body;
  finish(res, reply.body.empty() ? std::string_view() : std::string_view(reply.content_type), request_id,
         keep_alive, retry_after);
  return res;
}

LocalResponse redirect_response(unsigned status, std::string_view location, std::string_view request_id,
                                bool keep_alive, config::Duration retry_after) {
  LocalResponse res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::location, location);
  finish(res, {}, request_id, keep_alive, retry_after);
  return res;
}

}  // namespace authgate::http
