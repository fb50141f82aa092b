// Browser sessions in the backend-for-frontend pattern: the browser holds an
// opaque, signed cookie; authgate holds the tokens (server-side store) and
// refreshes them; upstreams receive `Authorization: Bearer <access token>`.
//
// Usage (proxy/pipeline.cpp and access/access_control.cpp):
//   if (sessions.handles(path)) reply(co_await sessions.handle(path, query, request, method, client, now));
//   SessionAccess a = co_await sessions.access(request, method, now);   // auth: session | any
//   if (a.ec) deny(a.ec, navigation ? sessions.login_location(target) : "");
//   else verify a.access_token like a bearer token, forward it upstream.
//
// Endpoints under `sessions.prefix` (default /oauth2/):
//   GET login?rd=/path  302 to the IdP's authorization endpoint (code flow, PKCE S256,
//                       state + nonce kept server-side, state bound to a short-lived
//                       login cookie so a foreign callback cannot log this browser in).
//                       Login floods: a token bucket per client address (429 +
//                       Retry-After) and at most max_pending_logins pending logins
//                       started here (503), session/login_limits.hpp.
//   GET callback        state check, code exchange, token response and id_token
//                       validation, new session (random 256-bit id), 302 to rd
//   POST logout         (same-origin Origin/Referer, else 403; or GET with
//                       Sec-Fetch-Site: same-origin) RFC 7009 revocation of the
//                       refresh token, session deleted, cookie cleared, 302 to
//                       end_session_endpoint or logout_path. Any other GET answers
//                       a page with a POST form (logout CSRF: session/csrf.hpp).
//   GET session         JSON facts for single-page apps (sub, name, email, expiry), or 401
//
// Refresh: when the access token expires within refresh_before_expiry (at most
// half the token's lifetime: session/refresh_policy.hpp), ONE refresh_token grant
// per session runs (SingleFlight keyed by session id); every concurrent request
// of that session waits for it and uses its result. The single flight is
// RefreshShared, handed from manager to manager on reload like the store: a
// request on the new config joins a grant started on the old one, so one
// rotating refresh token is never redeemed twice by this process.
// Revocation: a session whose subject was revoked (`revoke sub`) at or after its
// login ends at its next request, before any refresh (revocation/deny_list.hpp).
// With a shared store (Redis) the fleet runs one grant per session too: the
// instance that takes the session's lease (SET NX PX, renewed while the grant
// is in flight, released by compare-and-delete) calls the IdP; the others poll
// the store with backoff, at most refresh_lock_wait, for the new tokens, and
// take the lease over if it expires (its holder died). A store that cannot be
// reached answers session_store_unavailable (503 + Retry-After).
// invalid_grant ends the session; an unreachable IdP keeps it (the old access
// token is used while it is valid, then 503), and that session does not call
// the token endpoint again for refresh_retry_interval.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "auth/jwt_verifier.hpp"
#include "common/expiring_cache.hpp"
#include "config/config.hpp"
#include "http/header_hygiene.hpp"
#include "http/local_reply.hpp"
#include "idp/http_client.hpp"
#include "idp/single_flight.hpp"
#include "metrics/metrics.hpp"
#include "session/login_limits.hpp"
#include "session/session_store.hpp"

namespace authgate::idp {
class RemoteIssuer;
}
namespace authgate::redis {
class RedisClient;
}
namespace authgate::revocation {
class RevocationService;
}

namespace authgate::session {

// A reply authgate writes itself (redirects, small pages, JSON): http/local_reply.hpp.
using LocalReply = http::LocalReply;

struct SessionAccess {
  std::error_code ec;        // auth_errc: session_missing, session_ended, csrf_rejected, refresh_unavailable
  std::string access_token;  // when allowed: verify it, then forward it
  std::string sub;
  std::string id;            // when allowed: the session id (a WebSocket tunnel watches it)
};

// What a refresh ended with (copyable: SingleFlight hands it to every waiter).
struct RefreshOutcome {
  std::error_code ec;  // empty, session_ended or refresh_unavailable
  std::optional<Session> session;
};

// What outlives a reload, shared by the old and the new manager (and the
// requests still running on the old one): the refresh single flight and the
// once-per-process log of the refresh margin clamp.
struct RefreshShared {
  idp::SingleFlight<RefreshOutcome> flights;
  std::atomic<bool> clamp_logged{false};
};

class SessionManager {
 public:
  // `previous` (reload) hands over its store, so sessions survive SIGHUP, and
  // its refresh single flight (RefreshShared). The IdP exchanges use the
  // issuer's client options (timeouts.idp_request, limits.max_idp_response_bytes,
  // its TLS settings). `redis` is required for store: redis. `revocations`
  // (a revocation: block) ends the sessions of revoked subjects.
  SessionManager(const config::Sessions& cfg, std::shared_ptr<idp::RemoteIssuer> issuer,
                 auth::VerifyPolicy id_token_policy,
                 metrics::Metrics& metrics, boost::asio::any_io_executor control,
                 const SessionManager* previous, std::shared_ptr<redis::RedisClient> redis = nullptr,
                 std::shared_ptr<revocation::RevocationService> revocations = nullptr);
  ~SessionManager();

  void start();  // the store sweeper on the control executor
  void stop();

  bool handles(std::string_view path) const;
  // `method`: the request method; `client`: the client address (the peer, or the
  // trusted X-Forwarded-For client), the login rate limit's key.
  boost::asio::awaitable<LocalReply> handle(const std::string& path, const std::string& query,
                                            const http::Fields& request, const std::string& method,
                                            const std::string& client, std::int64_t now);
  boost::asio::awaitable<SessionAccess> access(const http::Fields& request, const std::string& method,
                                               std::int64_t now);
  // An open WebSocket tunnel's periodic check: false once the session is gone
  // (logged out, expired, ended, its subject revoked). An unreachable store answers true: a store
  // outage does not cut tunnels (they stay bounded by websocket_max_lifetime).
  boost::asio::awaitable<bool> session_alive(const std::string& id, std::int64_t now);
  // Where a browser navigation without a session goes: login?rd=<target>. With `step_up` (a
  // route's require whose acr or max_auth_age the session's token misses, RFC 9470), the login
  // also asks the IdP for acr_values and max_age.
  std::string login_location(std::string_view target, const config::Requirement* step_up = nullptr) const;
  const std::string& cookie_name() const { return cfg_.cookie.name; }
  SessionStore& store() const { return *store_; }
  std::uint64_t refresh_grants_started() const { return refresh_shared_->flights.runs(); }

 private:
  boost::asio::awaitable<LocalReply> login(const std::string& query, const std::string& client, std::int64_t now);
  boost::asio::awaitable<LocalReply> callback(const std::string& query, const http::Fields& request,
                                              std::int64_t now);
  boost::asio::awaitable<LocalReply> logout(const http::Fields& request, const std::string& method,
                                            std::int64_t now);
  LocalReply logout_page() const;
  boost::asio::awaitable<LocalReply> session_info(const http::Fields& request, std::int64_t now);
  boost::asio::awaitable<RefreshOutcome> refresh(const std::string& id, std::int64_t now);
  boost::asio::awaitable<RefreshOutcome> run_refresh(const std::string& id, std::int64_t now);
  boost::asio::awaitable<RefreshOutcome> grant(Session& s, std::int64_t now);
  boost::asio::awaitable<RefreshOutcome> wait_for_holder(const std::string& id, std::int64_t now,
                                                         const std::string& owner, bool& acquired);
  struct LeaseState {
    std::string id, owner;
    bool in_flight = true;  // the worker's executor only
  };
  boost::asio::awaitable<void> renew_lease(std::shared_ptr<LeaseState> lease);
  bool due(const Session& s, std::int64_t now) const;
  // Logs (once per process) that tokens of `lifetime` seconds clamp refresh_before_expiry.
  void note_lifetime(std::int64_t lifetime);
  // The subject was revoked at or after this session's login: the session is erased.
  bool revoked(const Session& s, std::int64_t now) const;
  boost::asio::awaitable<void> end_revoked(const Session& s);
  boost::asio::awaitable<void> sweep_loop();

  std::optional<std::string> session_id(const http::Fields& request) const;
  bool same_origin(const http::Fields& request) const;
  std::string redirect_uri() const;
  // A form POST to a token/revocation endpoint with the client's authentication.
  idp::IdpRequest client_request(std::string form) const;
  LocalReply page(unsigned status, std::string_view title, std::string_view text) const;
  LocalReply store_unavailable_page() const;
  void count_login(std::string_view result);
  void count_refresh(std::string_view result);

  const config::Sessions cfg_;
  const std::string issuer_name_;
  std::shared_ptr<idp::RemoteIssuer> issuer_;
  auth::VerifyPolicy id_policy_;
  std::shared_ptr<SessionStore> store_;
  std::shared_ptr<RefreshShared> refresh_shared_;  // from `previous` on reload
  std::shared_ptr<revocation::RevocationService> revocations_;
  common::ExpiringCache<bool> refresh_failed_;  // sessions whose refresh failed lately (backoff); steady ms
  metrics::Metrics& metrics_;
  boost::asio::any_io_executor control_;
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
  prometheus::Histogram* token_endpoint_duration_;
  std::string login_cookie_name_;
  // Login floods: kept across reloads (handed over by `previous`).
  std::shared_ptr<LoginRateLimiter> login_limiter_;
  std::shared_ptr<PendingLogins> pending_logins_;
};

}  // namespace authgate::session
