#include "revocation/revocation_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>

#include "common/error_category.hpp"
#include "metrics/metrics.hpp"
#include "redis/redis_client.hpp"

namespace authgate::revocation {

namespace asio = boost::asio;

namespace {

const char* revocation_message(revocation_errc e) {
  switch (e) {
    case revocation_errc::list_full: return "the deny-list is full (revocation.max_entries)";
    case revocation_errc::store_unavailable: return "the revocation store (Redis) is unavailable";
  }
  return "revocation error";
}

// KEYS[1] hash, KEYS[2] version; ARGV: field, value, max entries.
constexpr const char* kRevokeScript = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
return 1
)lua";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::error_code make_error_code(revocation_errc e) {
  static const common::ErrorCategory<revocation_errc> c("revocation", revocation_message);
  return {static_cast<int>(e), c};
}

RevocationService::RevocationService(const config::Revocation& cfg, std::shared_ptr<redis::RedisClient> redis,
                                     metrics::Metrics& metrics)
    : cfg_(cfg), redis_(cfg.store == "redis" ? std::move(redis) : nullptr), metrics_(metrics) {
  if (cfg_.store == "redis" && !redis_) throw std::runtime_error("revocation.store: redis needs a redis: block");
  if (redis_) {
    hash_key_ = redis_->key("revoked");
    version_key_ = redis_->key("revoked:version");
  }
  publish(std::make_shared<const DenyList>());
}

RevocationService::~RevocationService() { stop(); }

void RevocationService::start(asio::any_io_executor control) {
  if (!redis_ || *running_) return;
  *running_ = true;
  asio::co_spawn(control, sync_loop(running_), asio::detached);
}

void RevocationService::stop() { *running_ = false; }

void RevocationService::publish(std::shared_ptr<const DenyList> list) {
  metrics_.revocation_entries.Set(static_cast<double>(list->size()));
  list_.store(std::move(list));
}

std::optional<DenyEntry::Kind> RevocationService::check(std::string_view jti, std::string_view sub,
                                                        std::optional<std::int64_t> iat, std::int64_t now,
                                                        std::int64_t leeway) const {
  const auto list = list_.load();
  if (list->size() == 0) return std::nullopt;
  auto kind = list->check(jti, sub, iat, now, leeway);
  if (kind) metrics_.revocations.Add({{"kind", std::string(kind_name(*kind))}}).Increment();
  return kind;
}

std::vector<DenyEntry> RevocationService::entries() const { return list_.load()->entries(); }

asio::awaitable<std::error_code> RevocationService::revoke(const DenyEntry& entry, std::int64_t now) {
  if (redis_) {
    const auto [field, value] = entry.to_field();
    const std::vector<std::string> cmd{"EVAL", kRevokeScript, "2", hash_key_, version_key_, field, value,
                                       std::to_string(cfg_.max_entries)};
    const redis::RedisResult r = co_await redis_->exec(cmd);
    if (r.ec) {
      spdlog::warn("revocation: storing {} {} failed: {}", kind_name(entry.kind), entry.value, r.ec.message());
      co_return revocation_errc::store_unavailable;
    }
    if (r.value.integer != 1) co_return revocation_errc::list_full;
  }
  {
    std::lock_guard lock(write_mu_);
    auto next = std::make_shared<DenyList>(*list_.load());
    next->prune(now - grace_.load());
    if (!redis_ && next->size() >= cfg_.max_entries) co_return revocation_errc::list_full;
    next->add(entry);
    if (redis_) pending_.push_back(entry);
    publish(std::move(next));
  }
  spdlog::info("revocation: {} {} revoked{}", kind_name(entry.kind), entry.value,
               entry.kind == DenyEntry::Kind::sub ? " (tokens issued before " + std::to_string(entry.before) + ")" : "");
  co_return std::error_code{};
}

asio::awaitable<void> RevocationService::sync(std::int64_t now) {
  {
    // A revoke() published after this point may be missing from the reads below (its
    // EVAL can still be in flight on another connection): it is kept in pending_ and
    // merged into what is read. Earlier ones are in Redis before GET is sent.
    std::lock_guard lock(write_mu_);
    pending_.clear();
  }
  const std::vector<std::string> get_version{"GET", version_key_};
  const redis::RedisResult v = co_await redis_->exec(get_version);
  if (v.ec) {
    metrics_.revocation_syncs.Add({{"result", "error"}}).Increment();
    co_return;
  }
  if (v.value.str == version_seen_ && !version_seen_.empty()) {
    metrics_.revocation_syncs.Add({{"result", "unchanged"}}).Increment();
    co_return;
  }
  const std::vector<std::string> get_all{"HGETALL", hash_key_};
  const redis::RedisResult all = co_await redis_->exec(get_all);
  if (all.ec || !all.value.is_array()) {
    metrics_.revocation_syncs.Add({{"result", "error"}}).Increment();
    co_return;
  }
  auto list = std::make_shared<DenyList>();
  std::vector<std::string> expired{"HDEL", hash_key_};
  const std::int64_t kept_until = now - grace_.load();  // entries still refuse tokens within the leeway
  const auto& el = all.value.elements;
  for (std::size_t i = 0; i + 1 < el.size(); i += 2) {
    auto e = DenyEntry::from_field(el[i].str, el[i + 1].str);
    if (!e) {
      spdlog::warn("revocation: ignoring a malformed deny-list field in Redis");
      continue;
    }
    if (e->until < kept_until) expired.push_back(el[i].str);
    else list->add(*e);
  }
  if (expired.size() > 2) co_await redis_->exec(expired);  // any instance may tidy up; HDEL is idempotent
  {
    std::lock_guard lock(write_mu_);
    for (const auto& e : pending_)
      if (e.until >= kept_until) list->add(e);
    publish(std::move(list));
  }
  synced_.store(true);
  version_seen_ = v.value.str;
  metrics_.revocation_syncs.Add({{"result", "updated"}}).Increment();
}

asio::awaitable<void> RevocationService::sync_loop(std::shared_ptr<bool> running) {
  const auto executor = co_await asio::this_coro::executor;  // named: see docs/ARCHITECTURE.md (GCC 12)
  asio::steady_timer timer(executor);
  while (*running) {
    co_await sync(unix_now());
    if (!*running) break;
    timer.expires_after(cfg_.sync_interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
}

}  // namespace authgate::revocation
