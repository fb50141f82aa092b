// The access decision taken on a request's headers, before any body byte is
// read: a bearer token or a browser session (session/), verified against the
// route's issuers (auth/, idp/), checked against the deny-list (revocation/)
// and the route's policy (policy/). Built once per Runtime (start-up and each
// reload) and shared by every worker thread.
//
// Usage:
//   AccessControl access(cfg, issuers, sessions_or_null, revocations_or_null, metrics);
//   Verdict v = access.check(route, Request{fields, method, path, query}, now_unix);
//   if (v.pending()) co_await v.resolve();
//   const Decision& d = v.decision();
//   if (!d.allowed) reply d.reply; else access.forward_identity(upstream_fields, route, d);
//
// check() is the one entry point. It answers from what is at hand (auth: none,
// the verified-token cache, the issuer's current key set) without suspending or
// allocating a coroutine frame. It answers pending only when the network must
// answer: no keys loaded yet, an unknown kid (the IdP may have rotated), a token
// that goes to introspection, or a session (the store is asynchronous). The
// pending awaitable waits for one (rate-limited, single-flight) JWKS refetch,
// one introspection call, or the session (and its single-flight refresh), and
// decides again. A session's access token passes the same checks as a bearer token.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "access/decision.hpp"
#include "access/issuers.hpp"
#include "access/token_cache.hpp"
#include "auth/dpop.hpp"
#include "auth/dpop_nonce.hpp"
#include "common/expiring_cache.hpp"
#include "config/config.hpp"
#include "http/header_hygiene.hpp"
#include "metrics/metrics.hpp"

namespace authgate::session {
class SessionManager;
}
namespace authgate::revocation {
class RevocationService;
}
namespace authgate::redis {
class RedisClient;
}

namespace authgate::access {

class AccessControl {
 public:
  // `issuers` and `sessions` (null without a sessions: block) must outlive
  // this object. `revocations` (a revocation: block; may be null) is told the
  // issuers' largest leeway. `redis` (may be null): the DPoP replay store when
  // dpop.replay_store is redis. `previous` (a reload): its DPoP replay cache is
  // kept when dpop.replay_cache_entries is unchanged, so a reload does not let
  // proofs seen just before it be replayed; its DPoP key cache, when
  // dpop.key_cache_entries is unchanged.
  AccessControl(const config::GatewayConfig& cfg, const Issuers& issuers, session::SessionManager* sessions,
                std::shared_ptr<revocation::RevocationService> revocations, metrics::Metrics& metrics,
                std::shared_ptr<redis::RedisClient> redis = nullptr, const AccessControl* previous = nullptr);
  AccessControl(const AccessControl&) = delete;
  AccessControl& operator=(const AccessControl&) = delete;

  // Allow or deny now, or pending (see the header comment). The pending
  // awaitable refers to `route` and to what `request` views: co_await it while
  // they live.
  Verdict check(const config::Route& route, const Request& request, std::int64_t now_unix) const;

  // The upstream header of an allowed request: apply_identity() with every
  // route's identity header names, then the session's Authorization and the
  // removal of authgate's own cookies from the Cookie header.
  void forward_identity(http::Fields& upstream, const config::Route& route, const Decision& allowed) const;

 private:
  enum class Need { nothing, keys, introspection };
  enum class Pass { first, again, after_refetch };  // only the first counts cache lookups
  // How a bearer-route token came (Authorization: Bearer or DPoP), and what its
  // DPoP proof is checked against. Null for a session's access token.
  struct Presentation {
    bool dpop = false;         // the DPoP scheme
    std::string_view proof;    // the DPoP header (DPoP scheme only)
    std::string_view method;
    std::string htu;           // the request URI as the client saw it
    std::string_view token;    // the access token (ath)
    std::string_view client_certificate;  // its x5t#S256 thumbprint, "" for none (RFC 8705 binding)
    std::string replay_key;    // redis replay store: set by check_dpop, SET NX by the caller
    std::int64_t replay_ttl = 0;  // seconds
    std::string nonce;         // a fresh DPoP-Nonce for the reply (dpop.nonce), "" for none
  };
  // The proof policy of one issuer's tokens (issuers[].dpop over the top-level dpop:).
  struct DpopSettings {
    auth::DpopPolicy policy;
    std::string algs;  // space-separated, for the challenge
  };
  const DpopSettings& dpop_settings(std::string_view issuer_name) const;
  struct Attempt;
  Attempt attempt(const config::Route& route, std::string_view token, std::int64_t now, Pass pass,
                  Presentation* p) const;
  boost::asio::awaitable<Decision> complete(const config::Route& route, const std::string& token,
                                            std::int64_t now, Presentation* p) const;
  boost::asio::awaitable<Decision> bearer_pending(const config::Route& route, std::string token,
                                                  std::int64_t now, Presentation p) const;
  boost::asio::awaitable<Decision> replay_pending(const config::Route& route, Decision d, std::string key,
                                                  std::int64_t ttl) const;
  // RFC 9449 on an otherwise valid token's claims: the binding, the proof (with `issuer`'s
  // policy), the server nonce (dpop.nonce), its jti.
  std::error_code check_dpop(const config::Route& route, const Issuer& issuer, Presentation& p,
                             const boost::json::object& claims, std::int64_t now) const;
  // The DPoP challenge on a denial of a route that accepts DPoP.
  Decision challenged(const config::Route& route, Decision d) const;
  std::string request_origin(const Request& request) const;
  boost::asio::awaitable<Decision> session_pending(const config::Route& route, Request request,
                                                   std::int64_t now) const;
  bool uses_session(const config::Route& route, const http::Fields& request) const;
  Decision allow_claims(const config::Route& route, const Issuer& issuer,
                        std::shared_ptr<const boost::json::object> claims, std::int64_t now, Presentation* p) const;
  Decision check_introspected(const config::Route& route, const Issuer& issuer,
                              std::shared_ptr<const boost::json::object> claims, std::int64_t now,
                              Presentation* p) const;

  const Issuers& issuers_;
  session::SessionManager* sessions_;
  std::shared_ptr<revocation::RevocationService> revocations_;
  const std::vector<std::string> identity_headers_;  // every route's forward.headers names
  std::size_t max_token_bytes_;
  mutable TokenCache cache_;
  metrics::Metrics& metrics_;
  DpopSettings dpop_;                        // the top-level dpop: settings
  std::vector<DpopSettings> dpop_issuers_;   // per issuer (Issuers::index_of)
  std::optional<auth::DpopNonces> dpop_nonces_;  // with a dpop.nonce secret
  std::string dpop_origin_;  // dpop.public_url, or empty
  std::shared_ptr<redis::RedisClient> dpop_redis_;  // dpop.replay_store: redis
  bool dpop_fail_open_;
  bool dpop_nonce_default_;  // dpop.nonce.enabled: for routes without routes[].dpop_nonce
  using DpopSeen = common::ExpiringCache<char>;
  std::size_t dpop_seen_entries_;
  // (jkt, jti) of accepted proofs (memory store), handed to the next Runtime on reload. Full of
  // live proofs: new proofs get 503 dpop_replay_unavailable, never an eviction (an evicted jti
  // could be replayed).
  std::shared_ptr<DpopSeen> dpop_seen_;
  // Proof keys by proof header (auth/dpop.hpp), handed on like dpop_seen_.
  std::shared_ptr<auth::DpopKeyCache> dpop_keys_;
};

}  // namespace authgate::access
