// Every reply authgate writes itself on the proxy listener, built as a Beast
// response and left to the connection to write: the JSON error body of local
// rejections (4xx/5xx), the session endpoints' pages and redirects, and the
// redirect of a browser to the login. Pure: no I/O.
//
// Usage:
//   auto res = json_error_response(401, "invalid_token", request_id, keep_alive, cfg.timeouts.retry_after,
//                                  "Bearer error=\"invalid_token\"");
//   auto res = page_response(session_reply, request_id, keep_alive, cfg.timeouts.retry_after);
//   auto res = redirect_response(302, login_url, request_id, keep_alive, cfg.timeouts.retry_after);
//   co_await async_write(stream, res);
//
// All of them are never cached (Cache-Control: no-store), carry the request's
// X-Request-Id, and a 503 says when to come back: Retry-After from
// timeouts.retry_after (whole seconds, at least 1), unless the reply set its own.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace authgate::http {

using LocalResponse = boost::beast::http::response<boost::beast::http::string_body>;

// A reply as the session endpoints describe it (redirects, small pages, JSON).
struct LocalReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Location, Set-Cookie, ...
};

// timeouts.retry_after as a Retry-After value: whole seconds, at least 1.
std::string retry_after_seconds(config::Duration retry_after);

// {"error":"<error>","status":<status>,"request_id":"<id>"} (JSON-escaped) with
// Content-Type: application/json, and WWW-Authenticate when given (401/403).
LocalResponse json_error_response(unsigned status, std::string_view error, std::string_view request_id,
                                  bool keep_alive, config::Duration retry_after,
                                  std::string_view www_authenticate = {});

// The reply's headers in its order, then its body with its Content-Type (none without a body).
LocalResponse page_response(const LocalReply& reply, std::string_view request_id, bool keep_alive,
                            config::Duration retry_after);

// gRPC (content-type application/grpc, application/grpc+proto, ...): a client of
// that protocol reads grpc-status, and a plain 401 only gives it an opaque
// "unexpected HTTP status". True for "application/grpc" and "application/grpc+..."
// / "application/grpc;..." (any case).
bool is_grpc_content_type(std::string_view content_type);

// The gRPC status of a local error, from gRPC's HTTP-to-gRPC mapping
// (doc/http-grpc-status-mapping.md): 401 -> 16 UNAUTHENTICATED, 403 -> 7
// PERMISSION_DENIED, 404 -> 12 UNIMPLEMENTED, 400 -> 13 INTERNAL, 429/502/503/504
// -> 14 UNAVAILABLE; 408 -> 4 DEADLINE_EXCEEDED, 413/431 -> 8 RESOURCE_EXHAUSTED;
// anything else -> 2 UNKNOWN.
unsigned grpc_status(unsigned http_status);

// A local error as gRPC answers it: HTTP 200 "trailers-only" (no body; over HTTP/2
// one HEADERS frame with END_STREAM) with content-type application/grpc,
// grpc-status (grpc_status(status)) and grpc-message "<error>" (the same fixed
// error name as the JSON body: never a token, a claim or an upstream's words).
// WWW-Authenticate and Retry-After are kept as on the HTTP reply.
LocalResponse grpc_error_response(unsigned status, std::string_view error, std::string_view request_id,
                                  bool keep_alive, config::Duration retry_after,
                                  std::string_view www_authenticate = {});

// The local error of a request: grpc_error_response when the request is gRPC,
// else json_error_response; with a DPoP-Nonce header when `dpop_nonce` is not
// empty (RFC 9449 §8: a use_dpop_nonce 401 hands the client the nonce to use).
LocalResponse error_response(bool grpc, unsigned status, std::string_view error, std::string_view request_id,
                             bool keep_alive, config::Duration retry_after, std::string_view www_authenticate = {},
                             std::string_view dpop_nonce = {});

// `status` (302/303) to `location`, without a body.
LocalResponse redirect_response(unsigned status, std::string_view location, std::string_view request_id,
                                bool keep_alive, config::Duration retry_after);

}  // namespace authgate::http
