#include "session/redis_session_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth/auth_errc.hpp"
#include "redis/redis_client.hpp"

namespace authgate::session {

namespace asio = boost::asio;
using auth::auth_errc;

namespace {

std::int64_t whole_seconds(std::chrono::milliseconds d) {
  return std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

// KEYS[1] session, KEYS[2] index; ARGV: now, idle, absolute, member.
// Answers the sealed record and extends the TTL, or nil (and forgets it) when absent or expired.
constexpr const char* kLoadScript = R"lua(
local r = redis.call('HMGET', KEYS[1], 'd', 'c')
if not r[1] then
  redis.call('ZREM', KEYS[2], ARGV[4])
  return false
end
local now = tonumber(ARGV[1])
local ttl = math.min(tonumber(ARGV[2]), tonumber(r[2]) + tonumber(ARGV[3]) - now)
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
  return false
end
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
return r[1]
)lua";

// KEYS[1] session, KEYS[2] index; ARGV: sealed, created, ttl, member, expires.
constexpr const char* kSaveScript = R"lua(
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'c', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
return 1
)lua";

// KEYS[1] session; ARGV: sealed. Replaces the record only if it is still there (TTL kept).
constexpr const char* kUpdateScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1])
return 1
)lua";

constexpr const char* kEraseScript = R"lua(
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
)lua";

// Compare-and-extend / compare-and-delete of a lease: only its owner may.
constexpr const char* kRenewScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua";
constexpr const char* kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::error_code unavailable(const redis::RedisResult& r, std::string_view what) {
  spdlog::warn("session store: {} failed: {}{}{}", what, r.ec.message(), r.value.str.empty() ? "" : ": ",
               r.value.str);
  return auth_errc::session_store_unavailable;
}

}  // namespace

RedisSessionStore::RedisSessionStore(std::shared_ptr<redis::RedisClient> redis, const config::Sessions& cfg)
    : redis_(std::move(redis)),
      key_(derive_store_key(cfg.cookie_secret)),
      idle_s_(whole_seconds(cfg.cookie.idle_timeout)),
      absolute_s_(whole_seconds(cfg.cookie.absolute_timeout)),
      login_s_(whole_seconds(cfg.login_timeout)),
      index_key_(redis_->key("sessions")) {}

std::int64_t RedisSessionStore::ttl_for(const Session& s, std::int64_t now) const {
  return std::min(idle_s_, s.created_at + absolute_s_ - now);
}

asio::awaitable<LoadResult> RedisSessionStore::load(const std::string& id, std::int64_t now) {
  const std::string member = hashed_id(id);
  const std::string key = redis_->key("session:" + member);
  const std::vector<std::string> cmd{"EVAL", kLoadScript, "2", key, index_key_, std::to_string(now),
                                     std::to_string(idle_s_), std::to_string(absolute_s_), member};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  LoadResult out;
  if (r.ec) {
    out.ec = unavailable(r, "load");
    co_return out;
  }
  if (!r.value.is_string()) co_return out;
  auto json = open(key_, key, r.value.str);
  std::optional<Session> s = json ? decode_session(*json) : std::nullopt;
  if (!s || s->id != id) {
    spdlog::warn("session store: a record does not open with this cookie secret; dropping it");
    const std::vector<std::string> del{"EVAL", kEraseScript, "2", key, index_key_, member};
    co_await redis_->exec(del);
    co_return out;
  }
  s->last_seen_at = std::max(s->last_seen_at, now);
  out.session = std::move(s);
  co_return out;
}

asio::awaitable<std::error_code> RedisSessionStore::save(const Session& session) {
  const std::string member = hashed_id(session.id);
  const std::string key = redis_->key("session:" + member);
  const std::int64_t now = session.last_seen_at;
  const std::int64_t ttl = ttl_for(session, now);
  if (ttl <= 0) co_return std::error_code{};  // already past its absolute lifetime
  const std::vector<std::string> cmd{"EVAL", kSaveScript, "2", key, index_key_,
                                     seal(key_, key, encode_session(session)), std::to_string(session.created_at),
                                     std::to_string(ttl), member, std::to_string(now + ttl)};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  if (r.ec) co_return unavailable(r, "save");
  co_return std::error_code{};
}

asio::awaitable<std::error_code> RedisSessionStore::update(const Session& session) {
  const std::string key = redis_->key("session:" + hashed_id(session.id));
  const std::vector<std::string> cmd{"EVAL", kUpdateScript, "1", key, seal(key_, key, encode_session(session))};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  if (r.ec) co_return unavailable(r, "update");
  co_return r.value.integer == 1 ? std::error_code{} : std::error_code(auth_errc::session_missing);
}

asio::awaitable<std::error_code> RedisSessionStore::erase(const std::string& id) {
  const std::string member = hashed_id(id);
  const std::vector<std::string> cmd{"EVAL", kEraseScript, "2", redis_->key("session:" + member), index_key_, member};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  if (r.ec) co_return unavailable(r, "erase");
  co_return std::error_code{};
}

asio::awaitable<std::error_code> RedisSessionStore::save_login(const LoginState& login) {
  const std::string key = redis_->key("login:" + hashed_id(login.state));
  const std::vector<std::string> cmd{"SET", key, seal(key_, key, encode_login(login)), "EX", std::to_string(login_s_)};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  if (r.ec) co_return unavailable(r, "save_login");
  co_return std::error_code{};
}

asio::awaitable<LoginResult> RedisSessionStore::take_login(const std::string& state, std::int64_t now) {
  const std::string key = redis_->key("login:" + hashed_id(state));
  const std::vector<std::string> cmd{"GETDEL", key};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  LoginResult out;
  if (r.ec) {
    out.ec = unavailable(r, "take_login");
    co_return out;
  }
  if (!r.value.is_string()) co_return out;
  auto json = open(key_, key, r.value.str);
  auto l = json ? decode_login(*json) : std::nullopt;
  if (l && l->state == state && now - l->created_at <= login_s_) out.login = std::move(l);
  co_return out;
}

asio::awaitable<LeaseResult> RedisSessionStore::acquire_lease(const std::string& id, const std::string& owner,
                                                              std::chrono::milliseconds ttl) {
  const std::vector<std::string> cmd{"SET", redis_->key("lock:" + hashed_id(id)), owner, "NX", "PX",
                                     std::to_string(ttl.count())};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  LeaseResult out;
  if (r.ec) out.ec = unavailable(r, "lease");
  else out.acquired = r.value.type == redis::RedisValue::Type::status;  // +OK; nil when held elsewhere
  co_return out;
}

asio::awaitable<LeaseResult> RedisSessionStore::renew_lease(const std::string& id, const std::string& owner,
                                                            std::chrono::milliseconds ttl) {
  const std::vector<std::string> cmd{"EVAL", kRenewScript, "1", redis_->key("lock:" + hashed_id(id)), owner,
                                     std::to_string(ttl.count())};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  LeaseResult out;
  if (r.ec) out.ec = unavailable(r, "lease renewal");
  else out.acquired = r.value.integer == 1;  // 0: expired, or another instance holds it now
  co_return out;
}

asio::awaitable<void> RedisSessionStore::release_lease(const std::string& id, const std::string& owner) {
  const std::vector<std::string> cmd{"EVAL", kReleaseScript, "1", redis_->key("lock:" + hashed_id(id)), owner};
  const redis::RedisResult r = co_await redis_->exec(cmd);
  if (r.ec) spdlog::warn("session store: releasing a refresh lease failed ({}); it expires by itself", r.ec.message());
}

asio::awaitable<std::optional<std::size_t>> RedisSessionStore::sweep(std::int64_t now) {
  // Redis expires the records; the index forgets them here.
  const std::vector<std::string> trim{"ZREMRANGEBYSCORE", index_key_, "-inf", "(" + std::to_string(now)};
  const redis::RedisResult t = co_await redis_->exec(trim);
  const std::vector<std::string> card{"ZCARD", index_key_};
  const redis::RedisResult c = co_await redis_->exec(card);
  if (t.ec || c.ec) co_return std::nullopt;
  count_ = static_cast<std::size_t>(std::max<std::int64_t>(0, c.value.integer));
  co_return count_.load();
}

}  // namespace authgate::session
