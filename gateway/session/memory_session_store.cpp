#include "session/memory_session_store.hpp"

#include "auth/auth_errc.hpp"

#include <algorithm>
#include <utility>

namespace authgate::session {

namespace {

std::int64_t whole_seconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

MemorySessionStore::MemorySessionStore(std::size_t max_sessions, std::chrono::milliseconds idle_timeout,
                                       std::chrono::milliseconds absolute_timeout,
                                       std::chrono::milliseconds login_timeout, std::size_t max_logins)
    : max_sessions_(std::max<std::size_t>(1, max_sessions)),
      max_logins_(std::max<std::size_t>(1, max_logins == 0 ? max_sessions : max_logins)),
      idle_s_(whole_seconds(idle_timeout)),
      absolute_s_(whole_seconds(absolute_timeout)),
      login_s_(whole_seconds(login_timeout)) {}

// --- the SessionStore interface: the synchronous work, without suspending ---

boost::asio::awaitable<LoadResult> MemorySessionStore::load(const std::string& id, std::int64_t now) {
  co_return LoadResult{{}, load_sync(id, now)};
}

boost::asio::awaitable<std::error_code> MemorySessionStore::save(const Session& session) {
  save_sync(session);
  co_return std::error_code{};
}

boost::asio::awaitable<std::error_code> MemorySessionStore::update(const Session& session) {
  co_return update_sync(session) ? std::error_code{} : std::error_code(auth::auth_errc::session_missing);
}

boost::asio::awaitable<std::error_code> MemorySessionStore::erase(const std::string& id) {
  erase_sync(id);
  co_return std::error_code{};
}

boost::asio::awaitable<std::error_code> MemorySessionStore::save_login(const LoginState& login) {
  save_login_sync(login);
  co_return std::error_code{};
}

boost::asio::awaitable<LoginResult> MemorySessionStore::take_login(const std::string& state, std::int64_t now) {
  co_return LoginResult{{}, take_login_sync(state, now)};
}

// One process: its SingleFlight already runs one grant per session.
boost::asio::awaitable<LeaseResult> MemorySessionStore::acquire_lease(const std::string&, const std::string&,
                                                                      std::chrono::milliseconds) {
  co_return LeaseResult{{}, true};
}
boost::asio::awaitable<LeaseResult> MemorySessionStore::renew_lease(const std::string&, const std::string&,
                                                                    std::chrono::milliseconds) {
  co_return LeaseResult{.ec = {}, .acquired = true};
}
boost::asio::awaitable<void> MemorySessionStore::release_lease(const std::string&, const std::string&) {
  co_return;
}

boost::asio::awaitable<std::optional<std::size_t>> MemorySessionStore::sweep(std::int64_t now) {
  sweep_sync(now);
  co_return size();
}

std::size_t MemorySessionStore::size() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

// --- sessions ---

bool MemorySessionStore::session_expired(const Session& s, std::int64_t now) const {
  return now - s.last_seen_at > idle_s_ || now - s.created_at > absolute_s_;
}

bool MemorySessionStore::login_expired(const LoginState& l, std::int64_t now) const {
  return now - l.created_at > login_s_;
}

void MemorySessionStore::erase_locked(std::unordered_map<std::string, SessionEntry>::iterator it) {
  recency_.erase(it->second.recency);
  created_.erase(it->second.created);
  sessions_.erase(it);
}

std::optional<Session> MemorySessionStore::load_sync(const std::string& id, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (session_expired(it->second.session, now)) {
    erase_locked(it);
    return std::nullopt;
  }
  Session& s = it->second.session;
  s.last_seen_at = std::max(s.last_seen_at, now);
  recency_.splice(recency_.begin(), recency_, it->second.recency);
  return s;
}

void MemorySessionStore::save_sync(const Session& session) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(session.id); it != sessions_.end()) {
    it->second.session = session;
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return;
  }
  while (sessions_.size() >= max_sessions_ && !recency_.empty()) {
    erase_locked(sessions_.find(*recency_.back()));  // the least recently used
    ++evictions_;
  }
  auto [it, inserted] = sessions_.emplace(session.id, SessionEntry{session, {}, {}});
  (void)inserted;
  const std::string* key = &it->first;
  recency_.push_front(key);
  it->second.recency = recency_.begin();
  created_.push_back(key);
  it->second.created = std::prev(created_.end());
}

bool MemorySessionStore::update_sync(const Session& session) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session.id);
  if (it == sessions_.end()) return false;
  Session& stored = it->second.session;
  const std::int64_t created_at = stored.created_at;
  const std::int64_t last_seen_at = std::max(stored.last_seen_at, session.last_seen_at);
  stored = session;
  stored.created_at = created_at;  // a refresh never extends the absolute lifetime
  stored.last_seen_at = last_seen_at;
  recency_.splice(recency_.begin(), recency_, it->second.recency);
  return true;
}

void MemorySessionStore::erase_sync(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) erase_locked(it);
}

// --- pending logins ---

void MemorySessionStore::erase_login_locked(std::unordered_map<std::string, LoginEntry>::iterator it) {
  login_order_.erase(it->second.order);
  logins_.erase(it);
}

void MemorySessionStore::save_login_sync(const LoginState& login) {
  std::lock_guard lock(mu_);
  if (auto it = logins_.find(login.state); it != logins_.end()) {
    it->second.login = login;
    login_order_.splice(login_order_.end(), login_order_, it->second.order);
    return;
  }
  if (logins_.size() >= max_logins_) {
    // Expired first (the new login's created_at is "now"), then the oldest.
    while (!login_order_.empty()) {
      auto front = logins_.find(*login_order_.front());
      if (!login_expired(front->second.login, login.created_at)) break;
      erase_login_locked(front);
    }
    while (logins_.size() >= max_logins_ && !login_order_.empty())
      erase_login_locked(logins_.find(*login_order_.front()));
  }
  auto [it, inserted] = logins_.emplace(login.state, LoginEntry{login, {}});
  (void)inserted;
  login_order_.push_back(&it->first);
  it->second.order = std::prev(login_order_.end());
}

std::optional<LoginState> MemorySessionStore::take_login_sync(const std::string& state, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = logins_.find(state);
  if (it == logins_.end()) return std::nullopt;
  LoginState out = std::move(it->second.login);
  erase_login_locked(it);
  if (login_expired(out, now)) return std::nullopt;
  return out;
}

std::size_t MemorySessionStore::login_count() {
  std::lock_guard lock(mu_);
  return logins_.size();
}

std::uint64_t MemorySessionStore::evictions() {
  std::lock_guard lock(mu_);
  return evictions_;
}

// --- sweeping ---

MemorySessionStore::Swept MemorySessionStore::sweep_sync(std::int64_t now) {
  std::lock_guard lock(mu_);
  Swept swept;
  while (!recency_.empty()) {  // idle: the cold end of the recency list
    auto it = sessions_.find(*recency_.back());
    if (now - it->second.session.last_seen_at <= idle_s_) break;
    erase_locked(it);
    ++swept.sessions;
  }
  while (!created_.empty()) {  // absolute: the old end of the creation list
    auto it = sessions_.find(*created_.front());
    if (now - it->second.session.created_at <= absolute_s_) break;
    erase_locked(it);
    ++swept.sessions;
  }
  while (!login_order_.empty()) {
    auto it = logins_.find(*login_order_.front());
    if (!login_expired(it->second.login, now)) break;
    erase_login_locked(it);
    ++swept.logins;
  }
  return swept;
}

}  // namespace authgate::session
