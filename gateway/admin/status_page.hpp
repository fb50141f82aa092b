// The built-in status page (admin GET /): one self-contained HTML document
// (inline CSS, no script, no external asset) rendered from a StatusSnapshot.
// PURE: no I/O, no clock (the snapshot carries `now_unix`), no dependency on
// the rest of the gateway; the app fills the snapshot (app/status_snapshot.hpp)
// on the control thread for each request.
//
// Usage:
//   admin::StatusSnapshot s;           // filled from the Runtime, the metrics registry, ...
//   std::string html = admin::render_status_page(s);
//
// Every string from the snapshot is HTML-escaped (route names, regexes, issuer
// URLs, error texts come from the config file and from IdPs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace authgate::admin {

using NamedCount = std::pair<std::string, double>;  // label value -> counter value

struct StatusSnapshot {
  std::string version;
  std::int64_t now_unix = 0;
  std::int64_t started_unix = 0;
  bool ready = false;
  bool draining = false;
  std::vector<std::string> waiting_for;  // what /readyz waits for ("issuer:corp")

  struct Config {
    std::string path;
    std::uint64_t generation = 0;  // 1: the file loaded at start; +1 per successful reload
    std::string sha256;            // hex prefix of the SHA-256 of the loaded file's bytes
    std::int64_t loaded_unix = 0;
  } config;

  struct Reload {
    bool attempted = false;  // no SIGHUP yet: false
    bool ok = false;
    std::string error;       // the loader's messages, one per line
    std::int64_t at_unix = 0;
  } last_reload;

  struct Route {
    std::string name;
    std::string host;                  // "" = any
    std::string path_kind;             // exact | prefix | regex
    std::string path;
    std::vector<std::string> methods;  // empty = any
    std::string auth;                  // none | bearer | session | any
    std::vector<std::string> issuers;  // empty = every issuer
    std::vector<std::string> scopes_all;
    std::vector<std::string> scopes_any;
    std::vector<std::pair<std::string, std::vector<std::string>>> claims;  // claim -> one of
    std::vector<std::string> step_up_acr;  // step-up: acr one of these (empty: any)
    std::string step_up_max_auth_age;      // step-up: "" or a duration ("10m")
    std::string resource_metadata;         // the RFC 9728 metadata URL of its resource, or ""
    // Sender constraints (bearer and any routes): DPoP (RFC 9449) off | allowed | required, with
    // the server nonce or not; and where the client certificate of a certificate-bound token
    // (RFC 8705) comes from, "" when none can be (such tokens are then refused).
    std::string dpop = "off";
    bool dpop_nonce = false;
    std::string client_certificate;
    std::string upstream;
  };
  std::vector<Route> routes;

  struct Issuer {
    std::string name;
    std::string issuer;       // the expected "iss"
    std::string key_source;   // "discovery https://...", "jwks_uri ...", "jwks_file ...", "inline jwks", "secret env:X"
    std::string validation;   // jwt | introspection
    bool remote = false;      // keys or metadata fetched over the network
    bool usable = false;      // a key set (or, introspection only, metadata) is there and not beyond max_stale
    std::vector<std::string> kids;  // of the current key set; "" for a key without kid
    std::int64_t last_success_unix = 0;  // remote: last successful JWKS fetch (0: never)
    std::int64_t next_refresh_unix = 0;  // remote: next background fetch (0: none scheduled)
    unsigned consecutive_failures = 0;   // remote: failed fetch cycles since the last success
    std::string last_error;              // remote: the last failed fetch
    std::int64_t last_error_unix = 0;
    double fetch_errors = 0;             // authgate_jwks_fetches_total{result!="success"}
    std::string introspection_endpoint;  // "" when not configured / not discovered yet
  };
  std::vector<Issuer> issuers;

  struct Upstream {
    std::string name;
    std::string url;
    std::uint64_t max_connections = 0;  // per worker
    std::uint64_t max_idle = 0;         // per worker
    std::uint64_t idle = 0;             // idle pooled connections, all workers
    std::uint64_t busy = 0;             // connections in use, all workers
    std::vector<NamedCount> errors;     // authgate_upstream_errors_total by kind (non-zero)
  };
  std::vector<Upstream> upstreams;

  struct Counters {
    double requests = 0;
    std::vector<NamedCount> requests_by_class;  // "2xx", "4xx", ...
    double allowed = 0;                         // auth decisions allowed
    std::vector<NamedCount> denials;            // by reason
    double token_cache_hits = 0, token_cache_misses = 0;
    double introspection_cache_hits = 0, introspection_cache_misses = 0;
    std::vector<NamedCount> refresh_grants;     // by result
    std::vector<NamedCount> logins;             // by result
    double sessions_active = 0;
    double connections_active = 0;
    double reloads_ok = 0, reloads_failed = 0;
  } counters;

  // Fleet mode (redis:, sessions.store, revocation:).
  struct Fleet {
    std::string session_store;              // "" (no sessions), memory or redis
    std::string redis_address;              // "" without a redis: block
    bool redis_up = false;
    std::vector<NamedCount> redis_commands;  // authgate_redis_commands_total by result
    std::string revocation_store;           // "" (no deny-list), memory or redis
    double revocation_entries = 0;
    std::vector<NamedCount> revoked;         // authgate_revoked_tokens_total by kind
  } fleet;
};

std::string render_status_page(const StatusSnapshot& s);

// "2026-11-22 07:45:12 UTC" (0: "never").
std::string format_unix_time(std::int64_t unix_seconds);
// "3m 12s ago", "in 4m 0s", "now".
std::string format_relative(std::int64_t unix_seconds, std::int64_t now_unix);

}  // namespace authgate::admin
