// The fleet's SessionStore (`sessions.store: redis`): every authgate instance
// reads and writes the same records, so a cookie issued by one instance works
// on all of them, an instance restart loses nothing, and no sticky sessions
// are needed.
//
// Layout (prefix = redis.key_prefix, H(x) = hex SHA-256 of x):
//   {prefix}session:H(id)  hash  d = sealed session record, c = created_at;
//                                TTL = min(idle timeout, absolute end - now),
//                                extended on every load (idle expiry is Redis's)
//   {prefix}sessions       zset  H(id) -> expiry time (authgate_sessions_active)
//   {prefix}login:H(state) string sealed login state, TTL = login_timeout
//   {prefix}lock:H(id)     string the refresh lease: a random owner token, PX lease
// Records are sealed with AES-256-GCM (session/sealed_record.hpp) with the
// Redis key as associated data. Each multi-step change is one Lua script
// (atomic on the server).
//
// Errors: any Redis failure is auth_errc::session_store_unavailable (the
// caller answers 503 with Retry-After); a record that does not open or parse
// (another cookie secret, tampering) is treated as absent and deleted.
#pragma once

#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "session/sealed_record.hpp"
#include "session/session_store.hpp"

namespace authgate::redis {
class RedisClient;
}

namespace authgate::session {

class RedisSessionStore final : public SessionStore {
 public:
  RedisSessionStore(std::shared_ptr<redis::RedisClient> redis, const config::Sessions& cfg);

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
  bool shared() const override { return true; }
  boost::asio::awaitable<std::optional<std::size_t>> sweep(std::int64_t now) override;
  std::size_t size() override { return count_.load(); }

 private:
  std::int64_t ttl_for(const Session& s, std::int64_t now) const;

  std::shared_ptr<redis::RedisClient> redis_;
  const StoreKey key_;
  const std::int64_t idle_s_, absolute_s_, login_s_;
  const std::string index_key_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace authgate::session
