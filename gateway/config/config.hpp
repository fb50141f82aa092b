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

enum class ClientAuth { none, optional, required };

struct ListenerTls {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
  bool alpn_h2 = true;    // ALPN offers h2 before http/1.1 (README "HTTP/2 and gRPC")
  // Client certificates (mutual TLS): the CAs they must chain to; with client_auth optional a
  // client may send none, with required the handshake fails without one. A token bound to a
  // certificate (cnf.x5t#S256, RFC 8705) is accepted only over a connection with that certificate.
  std::string client_ca_file;
  ClientAuth client_auth = ClientAuth::none;  // optional when client_ca_file is set and this is not
};

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or ::1/128.
struct Cidr {
  std::string text;  // as written, for logs
};

struct ListenConfig {
  Endpoint address{"0.0.0.0", 8080};
  std::optional<ListenerTls> tls;
  // HTTP/2 over cleartext with prior knowledge, told apart from HTTP/1 by the
  // client connection preface on the same listener. Opt-in: the Upgrade: h2c
  // path stays refused either way.
  bool h2c = false;
  // Peers whose X-Forwarded-* headers are trusted and appended to. Empty:
  // every client-supplied X-Forwarded-* header is replaced.
  std::vector<Cidr> trusted_proxies;
  // Behind a TLS-terminating proxy (one of trusted_proxies): the header that carries the client's
  // certificate as URL-encoded PEM (nginx $ssl_client_escaped_cert, HAProxy, Envoy's
  // forward_client_cert_details is not this format). Read only from a trusted proxy, for
  // certificate-bound tokens (RFC 8705). "" = none.
  std::string client_cert_header;
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
  // Request body bytes per second, averaged from the first body read, that a body must
  // reach once timeouts.body_read has passed; slower: 408 and close (0: off).
  std::uint64_t min_body_rate = 500;
  std::uint64_t max_idp_response_bytes = 1024 * 1024;  // discovery/JWKS/introspection body cap
  std::uint64_t token_cache_entries = 100'000;   // verified JWTs kept (0: cache off)
  std::uint64_t introspection_cache_entries = 100'000;  // introspection results kept (0: off)
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
  // An upgraded connection on a route with auth (bearer, session, any) is closed
  // this long after its 101, whatever its traffic: the bound on a tunnel whose
  // token expired or whose session ended (issue 13).
  Duration websocket_max_lifetime{3'600'000};
  Duration linger{2'000};              // closing with a request body unread: drain it this long
  Duration drain_force_close{1'000};   // after `drain`: wait this long for force-closed connections
  Duration retry_after{5'000};         // advertised in Retry-After on 503 replies (whole seconds)
  Duration idp_request{5'000};         // one discovery/JWKS/introspection exchange, connect to body
};

struct UpstreamTls {
  std::string ca_file;      // empty: system default trust store
  std::string server_name;  // empty: the URL host (SNI + hostname verification)
  bool verify = true;       // certificate + hostname verification
};

// How authgate talks to an upstream: HTTP/1.1, HTTP/2 over TLS (ALPN "h2", an https:// url),
// or HTTP/2 over cleartext with prior knowledge (h2c, an http:// url).
enum class UpstreamProtocol { http1, h2, h2c };

struct Upstream {
  std::string name;
  std::string scheme = "http";  // http | https
  UpstreamProtocol protocol = UpstreamProtocol::http1;
  std::string host;
  std::uint16_t port = 80;
  std::string host_header;      // Host sent upstream; empty: the client's Host
  std::uint64_t max_connections = 256;  // per worker thread, busy + idle
  std::uint64_t max_idle = 64;          // per worker thread
  // h2/h2c: multiplexed connections per worker thread; each carries as many streams as
  // the upstream's SETTINGS_MAX_CONCURRENT_STREAMS allows.
  std::uint64_t h2_connections = 2;
  UpstreamTls tls;
};

enum class PathMatch { exact, prefix, regex };
enum class AuthMode { none, bearer, session, any };  // any: a bearer token or a session

// DPoP (RFC 9449) on a route. off: the DPoP scheme is not accepted (and a
// token bound with cnf.jkt is still refused as a Bearer token: it is useless
// without a proof); allowed: Bearer and DPoP both accepted, a bound token needs
// its proof; required: only DPoP-bound tokens with a proof.
enum class DpopMode { off, allowed, required };

// How DPoP proofs are checked (top-level dpop:), for every route with dpop: allowed | required.
struct Dpop {
  std::vector<std::string> algs{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "EdDSA"};
  Duration iat_window{60'000};  // a proof's iat may be this far before or after now
  // The origin clients use (https://api.example.com), for htu. Empty: the
  // X-Forwarded-Proto/-Host of a trusted proxy, else the listener's scheme and the Host header.
  std::string public_url;
  std::uint64_t replay_cache_entries = 100'000;  // jti remembered per instance (memory store)
  std::string replay_store = "memory";           // memory | redis (the fleet shares the seen jtis)
  bool replay_fail_open = false;                 // redis unreachable: false = 503, true = accept the proof
  // Proof keys imported from their jwk, by the proof's JOSE header (about 2.5 KiB each for
  // P-256): a client's next proofs skip the import and the thumbprint. 0: off.
  std::uint64_t key_cache_entries = 10'000;
  // The server nonce (RFC 9449 §8): every proof on a DPoP route must carry a nonce this
  // gateway minted (auth/dpop_nonce.hpp), valid for its rotate_interval slot and the next.
  struct Nonce {
    bool enabled = false;  // every DPoP route's default (routes[].dpop_nonce)
    Duration rotate_interval{300'000};  // whole seconds
    std::string secret;  // from secret_env / secret_file (>= 32 bytes): the fleet shares it
  } nonce;
};

// An issuer's own DPoP proof settings (issuers[].dpop), overriding the top-level dpop: ones
// for tokens of that issuer; unset: the top-level value.
struct IssuerDpop {
  std::optional<std::vector<std::string>> algs;
  std::optional<Duration> iat_window;
};

// RFC 7662 token introspection with the gateway's client credentials.
struct Introspection {
  std::string endpoint;       // empty: introspection_endpoint from discovery
  std::string client_id;
  std::string client_secret;  // resolved from client_secret_env / client_secret_file; never inline
  Duration cache_ttl{300'000};    // active results: until min(exp, cache_ttl)
  Duration negative_ttl{10'000};  // active=false results
  // Inactive answers live in their own cache of this size, so a flood of random tokens
  // (each one inactive) cannot evict active entries (0: inactive answers are not cached).
  std::uint64_t negative_cache_entries = 10'000;
  // Calls in flight to the endpoint for this issuer; a new token beyond it gets 503 + Retry-After.
  std::uint64_t max_concurrent_calls = 32;
};

// TLS towards the IdP (discovery, JWKS, introspection).
struct IdpTls {
  std::string ca_file;  // empty: system default trust store
  bool verify = true;   // certificate + hostname verification
};

enum class Validation { jwt, introspection };

// A trusted token issuer. Key source, exactly one of: an HMAC secret, a JWKS
// file, an inline JWKS, a jwks_uri, or (the default) OpenID discovery at
// {issuer}/.well-known/openid-configuration.
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

  // Remote keys (jwks_uri or discovery).
  bool discovery = true;               // used when no other key source is configured
  std::string jwks_uri;                // https, or http when the issuer URL is http
  Duration jwks_refresh_min{300'000};      // IdP's max-age is clamped to [min, max]
  Duration jwks_refresh_max{86'400'000};
  Duration jwks_retry_interval{10'000};    // after a failed fetch (jittered, doubling up to min)
  Duration jwks_refetch_interval{30'000};  // unknown kid / no keys: at most one fetch per interval
  Duration max_stale{86'400'000};          // last good keys kept this long while the IdP fails
  IdpTls tls;

  Validation validation = Validation::jwt;  // introspection: every token goes to the endpoint
  std::optional<Introspection> introspection;

  IssuerDpop dpop;              // proof algorithms and iat window for its tokens (issuers[].dpop)

  bool used_for_login = false;  // sessions.client.issuer names it: its endpoints come from discovery

  bool remote_keys() const { return secret.empty() && jwks_file.empty() && jwks.empty(); }
  bool needs_discovery() const {
    return (remote_keys() && jwks_uri.empty()) || (introspection && introspection->endpoint.empty()) ||
           used_for_login;
  }
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
  // Step-up authentication (RFC 9470): the token's "acr" must be one of these (when not empty),
  // and its "auth_time" no older than max_auth_age (when set, whole seconds). Else 401
  // insufficient_user_authentication, or for a browser on a session route, a new login that
  // asks the IdP for acr_values and max_age.
  std::vector<std::string> acr;
  std::optional<Duration> max_auth_age;
};

struct Forward {
  std::vector<std::pair<std::string, std::string>> headers;  // header name -> claim name
  bool authorization = false;  // pass the client's Authorization header upstream
  bool dpop_proof = false;     // pass the DPoP proof header upstream (dpop routes; removed by default)
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
  DpopMode dpop = DpopMode::off;     // bearer/any: DPoP-bound tokens (RFC 9449)
  std::optional<bool> dpop_nonce;    // the server nonce on this route; unset: dpop.nonce.enabled
  // Derived, not a key: the RFC 9728 metadata URL of the protected resource whose `routes:` name
  // this route (resources: below); its 401 and 403 challenges carry it as resource_metadata.
  std::string resource_metadata_url;
};

// An OAuth protected resource (RFC 9728): the metadata document authgate serves for it at
// resource_metadata_url, and the routes it covers.
struct ProtectedResource {
  std::string resource;  // the identifier: an https URL without query or fragment (http on loopback)
  std::vector<std::string> routes;                 // route names; a route belongs to at most one resource
  std::vector<std::string> authorization_servers;  // issuer URLs; default: those of the routes' issuers
  std::vector<std::string> scopes_supported;       // default: the scopes the routes require
  std::vector<std::string> bearer_methods_supported{"header"};
  bool dpop_bound_access_tokens_required = false;
  std::string resource_name;           // optional, human-readable
  std::string resource_documentation;  // optional URL
  // Derived, not a key: where the document is served (RFC 9728 §3.1): the identifier's origin,
  // then /.well-known/oauth-protected-resource, then the identifier's path (when not "/").
  std::string metadata_url;
  // Derived, not a key: when one of its routes takes DPoP (dpop: allowed or required), the proof
  // algorithms of the issuers those routes accept (issuers[].dpop.algs, else dpop.algs).
  std::vector<std::string> dpop_signing_alg_values_supported;
};

// Client-supplied identity headers removed on every route (auth: none too),
// also when spelled in another case or with "_" for "-".
struct IdentityConfig {
  std::vector<std::string> strip_prefixes{"X-Auth-"};
  std::vector<std::string> strip_headers{"X-Remote-User", "X-Forwarded-User"};
};

// How requests are matched to routes (beyond each route's own match:).
struct RoutingConfig {
  // Exact and prefix paths (and regexes) match with ASCII case folded, on the
  // canonical path; the path sent upstream keeps its case. For upstreams that
  // route case-insensitively (Express by default, ASP.NET Core, IIS, Spring).
  bool case_insensitive_paths = false;
};

// Request headers that backends interpret, and what a trusted proxy may add.
struct HeadersConfig {
  // Removed on every route (auth: none too), in any case and with "_" for "-":
  // headers that make common frameworks serve another target or method than
  // the one routed and authorised (IIS/Symfony/Laminas URL rewrites, method
  // overrides of Express, Spring, Rails, ASP.NET, ...).
  std::vector<std::string> strip_rewrite_headers{"X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override",
                                                 "X-HTTP-Method", "X-Method-Override"};
  // From a peer in listen.trusted_proxies, the X-Forwarded-* names (or
  // Forwarded) kept besides X-Forwarded-For, -Proto and -Host; every other
  // X-Forwarded-* (e.g. a client's X-Forwarded-Email relayed by the load
  // balancer) is removed. Name here only headers your proxy always sets.
  std::vector<std::string> trusted_forwarded_headers;
};

// Browser sessions (backend-for-frontend): authgate runs the authorization
// code flow with PKCE, keeps the tokens server-side behind an opaque cookie
// and refreshes them.
struct SessionClient {
  std::string issuer;         // an issuers[].name
  std::string client_id;
  std::string client_secret;  // from client_secret_env / client_secret_file
  std::string auth_method = "client_secret_basic";  // | client_secret_post
  std::vector<std::string> scopes{"openid", "profile", "email", "offline_access"};
  std::string resource;       // optional RFC 8707 resource indicator
  std::string audience;       // optional "audience" parameter
  std::string default_path = "/";  // after login when rd is absent or unsafe
};

struct SessionCookie {
  std::string name;           // default: __Host-authgate when secure, else authgate
  bool secure = true;
  std::string same_site = "Lax";   // Lax | Strict
  Duration idle_timeout{8 * 3'600'000};
  Duration absolute_timeout{24 * 3'600'000};
};

struct Sessions {
  SessionClient client;
  std::string public_url;            // https://app.example.com: redirect_uri base, CSRF origin
  std::vector<std::string> csrf_origins;  // further origins allowed on unsafe methods
  std::string prefix = "/oauth2/";   // login, callback, logout, session endpoints
  SessionCookie cookie;
  std::string cookie_secret;         // from cookie_secret_env / cookie_secret_file (>= 32 bytes)
  Duration refresh_before_expiry{30'000};
  Duration refresh_retry_interval{5'000};  // after a failed refresh (IdP down), per session
  Duration expires_in_fallback{300'000};  // token responses without expires_in
  Duration login_timeout{600'000};        // login -> callback
  std::string store = "memory";           // memory | redis (the top-level redis: block; fleet mode)
  std::uint64_t max_sessions = 100'000;   // memory store: full -> the least recently used goes
  // Login floods (issue 13): pending logins this instance started and that are
  // still pending (either store), separate from the sessions; beyond: 503.
  std::uint64_t max_pending_logins = 10'000;
  // An open WebSocket tunnel of a session checks this often that its session
  // still exists (logout, expiry) and is closed when it does not.
  Duration websocket_check_interval{30'000};
  // GET {prefix}login per client address: a token bucket (per_minute 0: off); beyond: 429.
  struct LoginRateLimit {
    std::uint64_t per_minute = 60;
    std::uint64_t burst = 20;
    std::uint64_t max_clients = 10'000;  // addresses tracked; the least recently used goes
  } login_rate_limit;
  // Redis store: one refresh grant per session across the fleet. The instance
  // holding the lease renews it while its grant is in flight; the others wait
  // (polling the store, backing off) at most refresh_lock_wait.
  Duration refresh_lock_lease{10'000};
  Duration refresh_lock_wait{15'000};
  std::string post_logout_redirect_uri;   // sent to end_session_endpoint when set
  std::string logout_path = "/";          // without an end_session_endpoint
};

// The Redis server the fleet shares (sessions.store: redis, revocation.store: redis).
struct RedisTls {
  std::string ca_file;      // empty: system default trust store
  std::string server_name;  // empty: the address's host (SNI + hostname verification)
  bool verify = true;
};

struct RedisConfig {
  std::string host = "127.0.0.1";  // address: host:port, or unix:/path/to/redis.sock
  std::uint16_t port = 6379;
  std::string unix_socket;         // set for unix:/path addresses (host/port unused)
  std::string username;            // ACL user (Redis 6+); empty: AUTH <password>
  std::string password;            // from password_env / password_file; empty: no AUTH
  std::uint64_t db = 0;            // SELECT
  std::string key_prefix = "authgate:";
  std::uint64_t connections = 2;   // commands are pipelined over each
  Duration connect_timeout{2'000};  // TCP (+TLS) connect, AUTH and SELECT
  Duration command_timeout{1'000};  // one command's reply; the connection is dropped beyond
  Duration reconnect_min{100};      // backoff after a failure, doubling (with jitter) ...
  Duration reconnect_max{5'000};    // ... up to this
  // Health from replies: a fresh connection is ready only once it answers PING; an idle
  // connection sends PING after this long without a command ...
  Duration health_check_interval{1'000};
  // ... and a command or PING unanswered this long (at most command_timeout) reports Redis
  // down (authgate_redis_up 0, /readyz degraded, commands fail at once) until a reply arrives.
  Duration down_after{1'000};
  std::uint64_t max_reply_bytes = 4 * 1024 * 1024;  // a larger reply drops the connection
  std::optional<RedisTls> tls;

  // host:port ([v6]:port) or unix:/path, as logs, /readyz and the status page name it.
  std::string address_text() const {
    if (!unix_socket.empty()) return "unix:" + unix_socket;
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

// The deny-list of revoked JWTs (by jti until its exp, or every token of a sub
// issued before a time).
struct Revocation {
  std::string store = "memory";     // memory (this instance) | redis (shared by the fleet)
  Duration sync_interval{2'000};    // redis: how often the list is re-read (the fleet's delay)
  Duration sub_ttl{86'400'000};     // a sub entry is kept this long: the longest token lifetime
  std::uint64_t max_entries = 100'000;
  std::string admin_token;          // admin_token_env / admin_token_file: POST /revocations
};

// HTTP/2 connections (h2 over TLS, h2c): what one connection may hold and how
// fast it may send frames that carry no request, each bound ending in GOAWAY and
// authgate_h2_goaway_total{reason}. Defaults documented in README "HTTP/2 and gRPC".
struct Http2Config {
  std::uint64_t max_concurrent_streams = 100;        // SETTINGS_MAX_CONCURRENT_STREAMS
  std::uint64_t max_header_list_bytes = 16 * 1024;   // decoded header block (RFC 9113 size); beyond: GOAWAY
  std::uint64_t connection_window_bytes = 1024 * 1024;  // request body bytes buffered per connection
  std::uint64_t stream_window_bytes = 256 * 1024;       // ... per stream (SETTINGS_INITIAL_WINDOW_SIZE)
  std::uint64_t max_resets_per_connection = 200;  // client RST_STREAMs before GOAWAY (rapid reset)
  // PING, SETTINGS, PRIORITY, WINDOW_UPDATE and empty DATA frames a connection may send
  // per second before GOAWAY (floods that carry no request).
  std::uint64_t max_control_frames_per_second = 1000;
  std::uint64_t max_continuations = 8;   // CONTINUATION frames per header block
  Duration idle_timeout{60'000};         // no open stream and no frame this long: GOAWAY and close
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
  Http2Config http2;
  std::vector<Issuer> issuers;
  std::vector<Upstream> upstreams;
  std::vector<Route> routes;
  std::vector<ProtectedResource> resources;
  IdentityConfig identity;
  RoutingConfig routing;
  HeadersConfig headers;
  std::optional<Sessions> sessions;
  std::optional<RedisConfig> redis;
  std::optional<Revocation> revocation;
  Dpop dpop;
  LogConfig log;
};

}  // namespace authgate::config
