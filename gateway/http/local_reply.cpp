#include "http/local_reply.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "common/ascii.hpp"
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

bool is_grpc_content_type(std::string_view ct) {
  constexpr std::string_view kGrpc = "application/grpc";
  if (ct.size() < kGrpc.size() || !common::iequals(ct.substr(0, kGrpc.size()), kGrpc)) return false;
  return ct.size() == kGrpc.size() || ct[kGrpc.size()] == '+' || ct[kGrpc.size()] == ';';
}

unsigned grpc_status(unsigned http_status) {
  switch (http_status) {
    case 400: return 13;  // INTERNAL
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 12;  // UNIMPLEMENTED
    case 408: return 4;   // DEADLINE_EXCEEDED
    case 413: case 431: return 8;  // RESOURCE_EXHAUSTED
    case 429: case 502: case 503: case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

LocalResponse grpc_error_response(unsigned status, std::string_view error, std::string_view request_id,
                                  bool keep_alive, config::Duration retry_after,
                                  std::string_view www_authenticate) {
  LocalResponse res{bhttp::status::ok, 11};
  if (!www_authenticate.empty()) res.set(bhttp::field::www_authenticate, www_authenticate);
  if (status == 503) res.set(bhttp::field::retry_after, retry_after_seconds(retry_after));
  res.set("grpc-status", std::to_string(grpc_status(status)));
  // A fixed error name ([a-z_]): nothing to percent-encode (gRPC's grpc-message rule).
  res.set("grpc-message", error);
  finish(res, "application/grpc", request_id, keep_alive, retry_after);
  return res;
}

LocalResponse error_response(bool grpc, unsigned status, std::string_view error, std::string_view request_id,
                             bool keep_alive, config::Duration retry_after, std::string_view www_authenticate,
                             std::string_view dpop_nonce) {
  LocalResponse res = grpc ? grpc_error_response(status, error, request_id, keep_alive, retry_after, www_authenticate)
                           : json_error_response(status, error, request_id, keep_alive, retry_after, www_authenticate);
  if (!dpop_nonce.empty()) res.set("DPoP-Nonce", dpop_nonce);
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
