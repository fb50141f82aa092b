// The access decision taken on a request's headers, before any body byte is
// read: bearer-token authentication (auth/, idp/), then the route's policy
// (policy/). Built once per Runtime (start-up and each reload) and shared by
// every worker thread.
//
// Usage:
//   Authenticator authn(cfg, metrics, control_executor, previous_authenticator_or_null);
//   authn.start();                                   // remote issuers begin fetching
//   RequestView req{fields, method, target};
//   AccessDecision d = authn.decide(route, req, now_unix);   // no I/O
//   if (d.needs_io) d = co_await authn.decide_async(route, req, now_unix);
//   if (!d.allowed) reply d.reply; else authn.forward_identity(upstream_fields, route, d, names);
//
// decide() answers from what is at hand: the verified-token cache, then the
// issuer's current key set. It sets needs_io when only the network can answer:
// no keys loaded yet, an unknown kid (the IdP may have rotated), a token that
// goes to introspection, or a session (the store is asynchronous). decide_async()
// then waits for one (rate-limited, single-flight) JWKS refetch, one
// introspection call, or the session (and its single-flight refresh), and
// decides again. A session's access token passes the same checks as a bearer token.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "auth/jwt.hpp"
#include "auth/jwt_verifier.hpp"
#include "auth/key_set.hpp"
#include "common/expiring_cache.hpp"
#include "config/config.hpp"
#include "http/header_hygiene.hpp"
#include "metrics/metrics.hpp"
#include "proxy/services.hpp"

namespace authgate::idp {
class RemoteIssuer;
class Introspector;
}  // namespace authgate::idp

namespace authgate::session {
class SessionManager;
}

namespace authgate::proxy {

// The one mapping from an auth outcome to what the client gets (RFC 6750 §3).
struct AuthReply {
  unsigned status = 401;
  std::string www_authenticate;  // the WWW-Authenticate value
  std::string error;             // short machine-readable name for the JSON body
  std::string location;          // 302 to the login endpoint (a browser navigation without a session)
};
AuthReply auth_reply(std::error_code ec, std::string_view required_scopes);

struct AccessDecision {
  bool allowed = true;
  bool needs_io = false;               // decide() could not answer; call decide_async()
  std::error_code ec;                  // why not (auth_errc), empty when allowed
  AuthReply reply;                     // when denied
  std::string_view auth_label = "none";  // access log "auth": none | bearer | session
  std::string issuer;                  // the issuer's config name when a token was checked
  std::string sub;                     // the token's subject, when allowed
  std::shared_ptr<const boost::json::object> claims;  // the token's claims, when allowed
  std::string upstream_authorization;  // session routes: "Bearer <the session's access token>"
  std::string session_id;              // session routes, when allowed: a WebSocket tunnel watches it
};

// A request as the access decision needs it.
struct RequestView {
  const http::Fields& fields;
  std::string_view method;
  std::string_view target;  // canonical path (+ query), for the login redirect's rd
};

class Authenticator {
 public:
  // Throws on unusable local key material. `previous` (the Runtime being
  // replaced on reload) lends its remote key sets so a reload never drops keys.
  // `services`: the Redis client (sessions.store: redis) and the deny-list.
  Authenticator(const config::GatewayConfig& cfg, metrics::Metrics& metrics,
                boost::asio::any_io_executor control, const Authenticator* previous = nullptr,
                const Services& services = {});
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  void start();

  AccessDecision decide(const config::Route& route, const RequestView& request,
                        std::int64_t now_unix) const;
  boost::asio::awaitable<AccessDecision> decide_async(const config::Route& route,
                                                      const RequestView& request,
                                                      std::int64_t now_unix) const;
  // Browser sessions (null without a sessions: block): its endpoints are served by the connection.
  session::SessionManager* sessions() const { return sessions_.get(); }
  // apply_identity(), then the session's Authorization and the removal of
  // authgate's own cookies from the Cookie header sent upstream.
  void forward_identity(http::Fields& upstream, const config::Route& route, const AccessDecision& d,
                        std::span<const std::string> identity_headers) const;

  // Issuers whose keys (or discovery metadata) have not loaded: /readyz names them.
  std::vector<std::string> issuers_not_ready() const;

  // Each issuer as the status page shows it. Call on the control executor
  // (remote issuers fetch there; see idp::RemoteIssuer::status).
  struct IssuerState {
    const config::Issuer* cfg = nullptr;
    std::string key_source;         // "jwks_file PATH", "inline jwks", "secret env:X", or the remote source
    std::vector<std::string> kids;  // of the keys in use; "" for a key without kid
    bool remote = false;            // keys or metadata come over the network
    bool usable = false;            // static keys, or the remote issuer is ready
    std::int64_t keys_fetched_unix = 0;
    std::int64_t next_refresh_unix = 0;
    unsigned consecutive_failures = 0;
    std::string last_error;
    std::int64_t last_error_unix = 0;
    std::string introspection_endpoint;  // configured or discovered; "" otherwise
  };
  std::vector<IssuerState> issuer_states() const;

 private:
  struct IssuerRuntime;
  struct CachedToken {
    std::size_t issuer = 0;
    std::shared_ptr<const auth::ParsedJwt> jwt;
    auth::KeySetPtr keys;  // the key set that verified it
  };
  enum class Need { nothing, keys, introspection };
  enum class Pass { first, again, after_refetch };  // only the first counts cache lookups
  struct Attempt;
  Attempt attempt(const config::Route& route, std::string_view token, std::int64_t now_unix,
                  Pass pass) const;
  boost::asio::awaitable<AccessDecision> complete(const config::Route& route, const std::string& token,
                                                  std::int64_t now_unix) const;
  bool uses_session(const config::Route& route, const http::Fields& request) const;
  AccessDecision allow_claims(const config::Route& route, const IssuerRuntime& issuer,
                              std::shared_ptr<const boost::json::object> claims, std::int64_t now) const;
  AccessDecision check_introspected(const config::Route& route, const IssuerRuntime& issuer,
                                    std::shared_ptr<const boost::json::object> claims, std::int64_t now) const;

  std::vector<IssuerRuntime> issuers_;
  std::unique_ptr<session::SessionManager> sessions_;
  std::shared_ptr<revocation::RevocationService> revocations_;
  std::size_t max_token_bytes_;
  mutable common::ExpiringCache<CachedToken> cache_;
  metrics::Metrics& metrics_;
};

// Upstream side of a decision: removes client copies of every identity header
// any route sets (`identity_headers`, any case, "_" for "-"): a header one route
// derives from claims must not be spoofable through another route to the same
// upstream. Then sets the route's headers from the token's claims, and strips
// Authorization on bearer routes unless forward.authorization is set.
void apply_identity(http::Fields& upstream, const config::Route& route, const AccessDecision& d,
                    std::span<const std::string> identity_headers);

// The names of every forward.headers entry of every route (deduplicated).
std::vector<std::string> identity_header_names(const config::GatewayConfig& cfg);

}  // namespace authgate::proxy
