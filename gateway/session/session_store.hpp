// Where browser sessions and pending logins live: the Session and LoginState
// records and the asynchronous SessionStore interface. Two stores implement
// it: the in-process memory store (memory_session_store.hpp) and the Redis
// store of the fleet mode (redis_session_store.hpp).
//
// Usage:
//   LoadResult r = co_await store.load(id, now);        // touches last_seen_at
//   if (r.ec) ... 503: the store is unreachable           (auth_errc::session_store_unavailable)
//   std::error_code ec = co_await store.save(session);   // insert or replace
//   ec = co_await store.update(refreshed);               // replace only if present; session_missing if not
//   ec = co_await store.erase(id);
//   ec = co_await store.save_login(login);
//   LoginResult l = co_await store.take_login(state, now);   // one-time
//   LeaseResult lease = co_await store.acquire_lease(id, owner, ttl);   // fleet refresh lock
//
// Rules:
// - Errors are values: a store that cannot answer (Redis down, timeout)
//   returns auth_errc::session_store_unavailable; nothing throws.
// - Times are unix seconds, passed in (`now`): the store has no clock.
// - GCC 12 (see docs/ARCHITECTURE.md, idp/single_flight.hpp): arguments are
//   const references and must be NAMED objects of the caller that outlive the
//   co_await, never temporaries: `co_await store.load(std::string(v), now)`
//   is a double free waiting to happen; `const std::string id(v);
//   co_await store.load(id, now)` is right. Implementations take coroutine
//   parameters by const reference (or trivially copyable by value).
// - load() answers no session, and forgets it, once it is expired: idle
//   (now - last_seen_at > idle timeout) or absolute (now - created_at >
//   absolute timeout). Otherwise it sets last_seen_at = max(last_seen_at, now)
//   and returns a copy.
// - update() exists so that a refresh grant finishing after a logout (or an
//   eviction) does not bring the session back: it replaces the stored record
//   only when one with that id is still there. A refresh must store the new
//   access token and the rotated refresh token in ONE update() (atomic).
// - take_login() removes the state whatever it answers: a state is usable
//   once; an expired one (now - created_at > login timeout) answers nothing.
// - The refresh lease (shared stores): acquire_lease() takes the per-session
//   lock for `ttl` when nobody holds it (acquired = true), renew_lease() extends
//   it while the holder's grant is in flight, release_lease() drops it only if
//   `owner` still holds it. A store that only this process uses (memory)
//   grants every lease: its SingleFlight already makes one grant per session.
// - Session records hold tokens: never log them (id, sub and times are fine).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace authgate::session {

struct Session {
  std::string id;  // random_token(): the cookie's signed id
  std::string sub, name, email;  // from the id_token, for /oauth2/session and headers
  std::string access_token, refresh_token, id_token, scope;
  std::int64_t access_expires_at = 0;  // unix seconds
  std::int64_t access_lifetime = 0;    // expires_in of the grant that gave access_token (seconds; 0: unknown)
  std::int64_t created_at = 0;         // absolute expiry counts from here
  std::int64_t last_seen_at = 0;       // idle expiry counts from here
};

// A login between the redirect to the IdP and the callback, keyed by `state`.
struct LoginState {
  std::string state, verifier, nonce, redirect;
  std::int64_t created_at = 0;
};

struct LoadResult {
  std::error_code ec;
  std::optional<Session> session;
};

struct LoginResult {
  std::error_code ec;
  std::optional<LoginState> login;
};

struct LeaseResult {
  std::error_code ec;
  bool acquired = false;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  virtual boost::asio::awaitable<LoadResult> load(const std::string& id, std::int64_t now) = 0;
  virtual boost::asio::awaitable<std::error_code> save(const Session& session) = 0;
  virtual boost::asio::awaitable<std::error_code> update(const Session& session) = 0;
  virtual boost::asio::awaitable<std::error_code> erase(const std::string& id) = 0;

  virtual boost::asio::awaitable<std::error_code> save_login(const LoginState& login) = 0;
  virtual boost::asio::awaitable<LoginResult> take_login(const std::string& state, std::int64_t now) = 0;

  virtual boost::asio::awaitable<LeaseResult> acquire_lease(const std::string& id, const std::string& owner,
                                                            std::chrono::milliseconds ttl) = 0;
  // acquired = still held by `owner` and extended; ec = the store could not answer.
  virtual boost::asio::awaitable<LeaseResult> renew_lease(const std::string& id, const std::string& owner,
                                                          std::chrono::milliseconds ttl) = 0;
  virtual boost::asio::awaitable<void> release_lease(const std::string& id, const std::string& owner) = 0;
  // true: other instances share this store (the refresh lease matters).
  virtual bool shared() const = 0;

  // Drops expired records (the memory store; Redis expires keys itself) and
  // counts the sessions, for authgate_sessions_active. nullopt: unreachable.
  virtual boost::asio::awaitable<std::optional<std::size_t>> sweep(std::int64_t now) = 0;
  // The count of the last sweep() (the memory store: exact, now).
  virtual std::size_t size() = 0;
};

}  // namespace authgate::session
