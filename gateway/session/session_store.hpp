// Where browser sessions and pending logins live: the Session and LoginState
// records and the asynchronous SessionStore interface. The memory store
// (memory_session_store.hpp) implements it; the Redis store of the fleet mode
// will too, which is why every call is an awaitable.
//
// Usage:
//   std::optional<Session> s = co_await store.load(id, now);     // touches last_seen_at
//   co_await store.save(session);                                // insert or replace
//   bool still_there = co_await store.update(refreshed);         // replace only if present
//   co_await store.erase(id);
//   co_await store.save_login(login);
//   std::optional<LoginState> l = co_await store.take_login(state, now);   // one-time
//
// Rules:
// - Times are unix seconds, passed in (`now`): the store has no clock.
// - GCC 12 (see docs/ARCHITECTURE.md, idp/single_flight.hpp): arguments are
//   const references and must be NAMED objects of the caller that outlive the
//   co_await, never temporaries: `co_await store.load(std::string(v), now)`
//   is a double free waiting to happen; `const std::string id(v);
//   co_await store.load(id, now)` is right. Implementations take coroutine
//   parameters by const reference (or trivially copyable by value).
// - load() answers nullopt, and forgets the session, once it is expired: idle
//   (now - last_seen_at > idle timeout) or absolute (now - created_at >
//   absolute timeout). Otherwise it sets last_seen_at = max(last_seen_at, now)
//   and returns a copy.
// - update() exists so that a refresh grant finishing after a logout (or an
//   eviction) does not bring the session back: it replaces the stored record
//   only when one with that id is still there. A refresh must store the new
//   access token and the rotated refresh token in ONE update() (atomic).
// - take_login() removes the state whatever it answers: a state is usable
//   once; an expired one (now - created_at > login timeout) answers nullopt.
// - Session records hold tokens: never log them (id, sub and times are fine).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace authgate::session {

struct Session {
  std::string id;  // random_token(): the cookie's signed id
  std::string sub, name, email;  // from the id_token, for /oauth2/session and headers
  std::string access_token, refresh_token, id_token, scope;
  std::int64_t access_expires_at = 0;  // unix seconds
  std::int64_t created_at = 0;         // absolute expiry counts from here
  std::int64_t last_seen_at = 0;       // idle expiry counts from here
};

// A login between the redirect to the IdP and the callback, keyed by `state`.
struct LoginState {
  std::string state, verifier, nonce, redirect;
  std::int64_t created_at = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  virtual boost::asio::awaitable<std::optional<Session>> load(const std::string& id, std::int64_t now) = 0;
  virtual boost::asio::awaitable<void> save(const Session& session) = 0;
  virtual boost::asio::awaitable<bool> update(const Session& session) = 0;
  virtual boost::asio::awaitable<void> erase(const std::string& id) = 0;

  virtual boost::asio::awaitable<void> save_login(const LoginState& login) = 0;
  virtual boost::asio::awaitable<std::optional<LoginState>> take_login(const std::string& state,
                                                                       std::int64_t now) = 0;

  // Sessions currently stored (authgate_sessions_active); may include expired
  // ones not yet swept.
  virtual std::size_t size() = 0;
};

}  // namespace authgate::session
