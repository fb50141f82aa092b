// What one request accumulates for its access-log line and its metrics, filled
// in by each stage as it goes, and the one place both are written.
//
// Usage:
//   RequestState& rs = connection.request; // one per connection
//   rs.reset();                            // when the request's first byte is there
//   rs.method = ...; rs.route = ...; rs.status = ...;
//   finish_request(rt, rs, worker.index(), client_ip);   // once, after the reply is out
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace authgate::proxy {

class Runtime;
struct RouteRuntime;
struct UpstreamRuntime;

// One per connection, reset for each request: its strings keep their capacity,
// so a request id (32 characters, past the short-string buffer) costs no allocation.
struct RequestState {
  void reset();

  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::string request_id;
  std::string method;
  std::string path;  // canonical path (the raw one, without its query, when it was rejected)
  RouteRuntime* route = nullptr;
  UpstreamRuntime* upstream = nullptr;
  unsigned status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::string_view auth = "none";  // none | bearer | session
  std::string_view auth_reason;    // routes with auth: "ok" or the auth reason
  std::string issuer;              // the token issuer's config name
  std::string sub;
  // The client certificate's thumbprint from a trusted proxy's listen.client_cert_header (RFC 8705).
  std::string proxied_client_certificate;
  bool h2 = false;    // the request came on an HTTP/2 stream (access log "protocol", metric label)
  bool grpc = false;  // Content-Type application/grpc*: local errors are gRPC statuses (http/local_reply.hpp)
};

// The request counter and duration of its route (or of "unmatched"), and the access-log line.
void finish_request(Runtime& rt, const RequestState& rs, std::size_t worker, std::string_view client_ip);

}  // namespace authgate::proxy
