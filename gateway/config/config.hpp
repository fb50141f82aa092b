// authgate configuration: plain aggregates with documented defaults.
//
// Usage:
//   authgate::config::GatewayConfig cfg = authgate::config::load_file("gateway.yaml");
//   cfg.timeouts.header_read  // std::chrono::milliseconds
//
// This header has no YAML include: only config/loader.cpp knows yaml-cpp. Every
// default below is the documented default (config/gateway.yaml repeats them).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace authgate::config {

using Duration = std::chrono::milliseconds;

// "host:port" split; host may be an IPv4 literal, "[v6]" literal or a name.
struct Endpoint {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
};

struct ListenerTls {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
};

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or ::1/128.
struct Cidr {
  std::string text;  // as written, for logs
};

struct ListenConfig {
  Endpoint address{"0.0.0.0", 8080};
  std::optional<ListenerTls> tls;
  // Peers whose X-Forwarded-* headers are trusted and appended to. Empty:
  // every client-supplied X-Forwarded-* header is replaced.
  std::vector<Cidr> trusted_proxies;
};

struct AdminConfig {
  Endpoint address{"127.0.0.1", 9901};
};

struct Limits {
  std::uint64_t max_header_bytes = 16 * 1024;         // 431 beyond
  std::uint64_t max_body_bytes = 10 * 1024 * 1024;    // 413 beyond
  std::uint64_t max_connections = 10000;              // further accepts are closed
  std::uint64_t max_requests_per_connection = 10000;  // then Connection: close
  std::uint64_t max_response_header_bytes = 64 * 1024;  // upstream response headers; 502 beyond
  std::uint64_t max_token_bytes = 8 * 1024;  // bearer token; 401 invalid_token beyond
  std::uint64_t max_linger_bytes = 1024 * 1024;  // unread request body drained before closing
};

struct Timeouts {
  Duration header_read{10'000};        // first byte to end of headers; 408 then close
  Duration keepalive_idle{60'000};     // idle between requests; close silently
  Duration body_read{30'000};          // max wait for each piece of a request body
  Duration upstream_connect{5'000};    // TCP (+TLS) connect; 504 beyond
  Duration upstream_response{30'000};  // request sent -> response headers; 504 beyond
  Duration upstream_idle{60'000};      // pooled upstream connection unused longer is dropped
  Duration drain{20'000};              // SIGTERM: in-flight requests get this long
  Duration tls_handshake{10'000};      // inbound TLS handshake
  Duration websocket_idle{3'600'000};  // upgraded connection with no bytes either way; closed
  Duration linger{2'000};              // closing with a request body unread: drain it this long
  Duration drain_force_close{1'000};   // after `drain`: wait this long for force-closed connections
  Duration retry_after{5'000};         // advertised in Retry-After on 503 replies (whole seconds)
};

struct UpstreamTls {
  std::string ca_file;      // empty: system default trust store
  std::string server_name;  // empty: the URL host (SNI + hostname verification)
  bool verify = true;       // certificate + hostname verification
};

struct Upstream {
  std::string name;
  std::string scheme = "http";  // http | https
  std::string host;
  std::uint16_t port = 80;
  std::string host_header;      // Host sent upstream; empty: the client's Host
  std::uint64_t max_connections = 256;  // per worker thread, busy + idle
  std::uint64_t max_idle = 64;          // per worker thread
  UpstreamTls tls;
};

enum class PathMatch { exact, prefix, regex };
enum class AuthMode { none, bearer };  // session and any arrive with later issues

// A trusted token issuer with local key material. Remote JWKS (discovery,
// jwks_uri), introspection and the token cache are not in this build.
struct Issuer {
  std::string name;
  std::string issuer;                  // the exact "iss" expected
  std::vector<std::string> audiences;  // "aud" must contain one of them (required)
  std::vector<std::string> algorithms{"RS256", "PS256", "ES256"};
  Duration leeway{30'000};
  // Exactly one key source: a JWKS file, an inline JWKS, or an HMAC secret.
  std::string jwks_file;
  std::string jwks;                    // inline JWKS JSON text
  std::string secret;                  // resolved from secret_env / secret_file; never inline
  std::string secret_source;           // "env:VAR" or "file:PATH", for messages
  bool require_at_jwt = false;         // typ must be at+jwt (RFC 9068)
  bool reject_id_tokens = true;        // nonce present -> never an access token
  std::string scope_claim = "scope";   // falls back to "scp" when absent
  std::vector<std::string> required_claims;
};

// One claim rule: the claim must equal one of `values`; for an array claim, it
// must contain one of them. Values compare as text ("true", "42", "admin").
struct ClaimRule {
  std::string name;
  std::vector<std::string> values;
};

struct Requirement {
  std::vector<std::string> scopes_all;  // every one of these
  std::vector<std::string> scopes_any;  // at least one of these (when not empty)
  std::vector<ClaimRule> claims;        // all rules must hold
};

struct Forward {
  std::vector<std::pair<std::string, std::string>> headers;  // header name -> claim name
  bool authorization = false;  // pass the client's Authorization header upstream
};

struct RouteMatch {
  std::string host;  // empty: any; "*.example.com": suffix; else exact (case-insensitive)
  PathMatch path_kind = PathMatch::prefix;
  std::string path = "/";
  std::vector<std::string> methods;  // empty: any method
};

struct Route {
  std::string name;
  RouteMatch match;
  std::string upstream;
  AuthMode auth = AuthMode::none;
  std::vector<std::string> issuers;  // bearer: accepted issuer names; empty = all
  Requirement require;               // bearer: scopes and claims
  Forward forward;                   // identity headers set from claims
};

struct LogConfig {
  std::string level = "info";     // trace|debug|info|warn|error|critical|off
  std::string access = "stdout";  // stdout | stderr | off | a file path
};

struct GatewayConfig {
  std::string source_file;  // the file this was loaded from
  ListenConfig listen;
  AdminConfig admin;
  unsigned workers = 0;  // 0: one per core
  Limits limits;
  Timeouts timeouts;
  std::vector<Issuer> issuers;
  std::vector<Upstream> upstreams;
  std::vector<Route> routes;
  LogConfig log;
};

}  // namespace authgate::config
