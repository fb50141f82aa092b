// The in-process SessionStore (`sessions.store: memory`): bounded, with idle
// and absolute expiry, safe to call from every worker thread.
//
// Usage:
//   MemorySessionStore store(cfg.max_sessions, cfg.cookie.idle_timeout,
//                            cfg.cookie.absolute_timeout, cfg.login_timeout);
//   auto s = co_await store.load(id, now);            // the SessionStore interface
//   auto s = store.load_sync(id, now);                // the same without a coroutine frame
//   control thread, every few seconds: auto swept = store.sweep_sync(now);
//
// Rules:
// - One mutex guards everything; each call holds it for a hash lookup and an
//   O(1) list splice (plus copying the record). The awaitable calls complete
//   without suspending; the *_sync members do the same work for callers that
//   hold a MemorySessionStore and want no coroutine frame on the hot path.
// - Full policy: at most max_sessions sessions (at least 1). Saving a new one
//   into a full store evicts the LEAST RECENTLY USED session (the one whose
//   last load() or save() is oldest), counted by evictions(). Its user is sent
//   to log in again. Expired sessions sit at the cold end, so they go first.
// - Pending logins are bounded separately (max_logins, default max_sessions):
//   when full, expired ones go first, then the oldest. A flood of login starts
//   can therefore push out other pending logins (they restart), never sessions.
// - Expiry (unix seconds): a session is expired when now - last_seen_at >
//   idle_timeout or now - created_at > absolute_timeout; a login when
//   now - created_at > login_timeout. Timeouts are truncated to whole seconds.
//   load() and take_login() never return an expired record and drop it.
// - sweep(now) drops expired records from the cold ends of the recency list
//   and of the creation-order lists: O(number dropped), not O(size). It
//   assumes callers pass a roughly monotonic `now` (the wall clock); a record
//   out of order behind a live one is dropped later (by load(), eviction, or a
//   later sweep once the ones before it expire).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "session/session_store.hpp"

namespace authgate::session {

class MemorySessionStore final : public SessionStore {
 public:
  // max_logins 0: the same bound as max_sessions.
  MemorySessionStore(std::size_t max_sessions, std::chrono::milliseconds idle_timeout,
                     std::chrono::milliseconds absolute_timeout, std::chrono::milliseconds login_timeout,
                     std::size_t max_logins = 0);

  boost::asio::awaitable<LoadResult> load(const std::string& id, std::int64_t now) override;
  boost::asio::awaitable<std::error_code> save(const Session& session) override;
  boost::asio::awaitable<std::error_code> update(const Session& session) override;
  boost::asio::awaitable<std::error_code> erase(const std::string& id) override;
  boost::asio::awaitable<std::error_code> save_login(const LoginState& login) override;
  boost::asio::awaitable<LoginResult> take_login(const std::string& state, std::int64_t now) override;
  boost::asio::awaitable<LeaseResult> acquire_lease(const std::string& id, const std::string& owner,
                                                    std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<LeaseResult> renew_lease(const std::string& id, const std::string& owner,
                                           std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<void> release_lease(const std::string& id, const std::string& owner) override;
  bool shared() const override { return false; }
  boost::asio::awaitable<std::optional<std::size_t>> sweep(std::int64_t now) override;
  std::size_t size() override;

  std::optional<Session> load_sync(const std::string& id, std::int64_t now);
  void save_sync(const Session& session);
  bool update_sync(const Session& session);
  void erase_sync(const std::string& id);
  void save_login_sync(const LoginState& login);
  std::optional<LoginState> take_login_sync(const std::string& state, std::int64_t now);

  struct Swept {
    std::size_t sessions = 0;
    std::size_t logins = 0;
  };
  Swept sweep_sync(std::int64_t now);

  std::size_t login_count();
  std::uint64_t evictions();  // sessions pushed out by the max_sessions bound

 private:
  // Lists hold pointers to the map keys: unordered_map nodes never move.
  using KeyList = std::list<const std::string*>;
  struct SessionEntry {
    Session session;
    KeyList::iterator recency;  // in recency_: front = most recently used
    KeyList::iterator created;  // in created_: front = first stored
  };
  struct LoginEntry {
    LoginState login;
    KeyList::iterator order;  // in login_order_: front = oldest
  };

  bool session_expired(const Session& s, std::int64_t now) const;
  bool login_expired(const LoginState& l, std::int64_t now) const;
  void erase_locked(std::unordered_map<std::string, SessionEntry>::iterator it);
  void erase_login_locked(std::unordered_map<std::string, LoginEntry>::iterator it);

  const std::size_t max_sessions_;
  const std::size_t max_logins_;
  const std::int64_t idle_s_;
  const std::int64_t absolute_s_;
  const std::int64_t login_s_;

  std::mutex mu_;
  std::unordered_map<std::string, SessionEntry> sessions_;
  KeyList recency_;
  KeyList created_;
  std::unordered_map<std::string, LoginEntry> logins_;
  KeyList login_order_;
  std::uint64_t evictions_ = 0;
};

}  // namespace authgate::session
