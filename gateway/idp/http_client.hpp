// One HTTP/1.1 exchange with an identity provider (discovery, JWKS,
// introspection): resolve, connect, TLS with SNI and hostname verification for
// https, one request, one response read whole into memory, close. Every step
// shares one deadline (timeouts.idp_request); the body is capped
// (limits.max_idp_response_bytes). Errors are values (idp_errc).
//
// Usage:
//   IdpClientOptions opt{timeout, max_body, tls_ctx /* null for http */, verify};
//   IdpRequest get;                                                 // GET
//   IdpResponse r = co_await idp_exchange(url, get, opt);
//   if (r.ec) log(r.ec.message()); else if (r.status == 200) parse(r.body);
//
// Connections are not pooled: JWKS and discovery fetches are rare, and
// introspection results are cached (idp/introspector.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

#include "common/url.hpp"

namespace authgate::idp {

enum class idp_errc {
  resolve_failed = 1,  // the host name did not resolve
  connect_failed,      // refused, unreachable, reset during connect
  tls_failed,          // handshake or certificate/hostname verification
  timeout,             // the whole exchange exceeded its deadline
  io_failed,           // the connection broke mid-exchange
  too_large,           // the response body exceeded the cap
  bad_response,        // not parseable HTTP/1.1
  http_status,         // a non-2xx status (IdpResponse::status has it)
  invalid_document,    // 2xx, but the JSON is not what the endpoint must return
};
const std::error_category& idp_category();
std::error_code make_error_code(idp_errc e);
// A short label for metrics: "resolve_error", "connect_error", "tls_error",
// "timeout", "io_error", "too_large", "bad_response", "http_error", "invalid".
std::string_view idp_error_label(std::error_code ec);

struct IdpClientOptions {
  std::chrono::milliseconds timeout{5'000};
  std::uint64_t max_body = 1024 * 1024;
  boost::asio::ssl::context* tls = nullptr;  // required for https URLs
  bool verify = true;
};

struct IdpRequest {
  bool post = false;
  std::string body;             // POST body
  std::string content_type;     // POST content type
  std::string authorization;    // Authorization header value, if any
};

struct IdpResponse {
  std::error_code ec;          // transport failure; empty when a response arrived
  unsigned status = 0;
  std::string body;
  std::string cache_control;   // the Cache-Control header, for JWKS max-age
  std::string detail;          // more about a transport failure (e.g. OpenSSL's reason), for logs
};

// " (HTTP 503)" / " (certificate verify failed)" / "": a suffix for log lines.
std::string describe(const IdpResponse& r);

// Runs on the calling coroutine's executor. Pass named objects that outlive the
// co_await, never temporaries: GCC 12 destroys a temporary (or a prvalue
// by-value argument) of a co_await expression twice.
boost::asio::awaitable<IdpResponse> idp_exchange(const common::HttpUrl& url, const IdpRequest& req,
                                                 const IdpClientOptions& options);

}  // namespace authgate::idp

template <>
struct std::is_error_code_enum<authgate::idp::idp_errc> : std::true_type {};
