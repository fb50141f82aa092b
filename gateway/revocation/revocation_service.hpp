// Revoking tokens before they expire (the deny-list), shared by the fleet.
//
// Usage:
//   RevocationService revocations(*cfg.revocation, redis /* null for store: memory */, metrics);
//   revocations.start(control_executor);              // redis: the sync loop
//   revocations.keep_for_leeway(max_issuer_leeway_s);  // start-up and each reload
//   request path:  if (auto kind = revocations.check(jti, sub, iat, now, issuer_leeway_s)) -> 401 invalid_token, reason revoked
//   admin:         std::error_code ec = co_await revocations.revoke(entry, now);
//
// Rules:
// - check() reads an immutable snapshot (common::Snapshot): one pointer copy
//   and no I/O on the request path, and it keeps working while Redis is
//   down (with the last list it read).
// - store: memory: revoke() changes this instance's list; it lives as long as
//   the process (reloads keep it).
// - store: redis: revoke() writes the entry to one Redis hash and bumps a
//   version counter (one Lua script), and applies it here at once; every
//   instance re-reads the hash when the version moved, every sync_interval.
//   So the fleet refuses a revoked token within sync_interval (default 2 s).
//   Expired entries are dropped from the hash by the instance that notices.
// - At most max_entries live entries: beyond, revoke() answers list_full.
// - An entry applies until its `until` plus the leeway of the token's issuer
//   (revocation/deny_list.hpp), so entries are dropped (here and, by the sync,
//   from Redis) only past until + keep_for_leeway().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "common/snapshot.hpp"
#include "config/config.hpp"
#include "revocation/deny_list.hpp"

namespace authgate::redis {
class RedisClient;
}
namespace authgate::metrics {
class Metrics;
}

namespace authgate::revocation {

enum class revocation_errc { list_full = 1, store_unavailable };
std::error_code make_error_code(revocation_errc e);

class RevocationService {
 public:
  RevocationService(const config::Revocation& cfg, std::shared_ptr<redis::RedisClient> redis,
                    metrics::Metrics& metrics);
  ~RevocationService();

  void start(boost::asio::any_io_executor control);
  void stop();

  std::optional<DenyEntry::Kind> check(std::string_view jti, std::string_view sub, std::optional<std::int64_t> iat,
                                       std::int64_t now, std::int64_t leeway) const;
  // The largest issuer leeway (seconds): entries are kept that much past their `until`.
  void keep_for_leeway(std::int64_t seconds) { grace_.store(seconds); }
  // GCC 12: `entry` must be a named object of the caller.
  boost::asio::awaitable<std::error_code> revoke(const DenyEntry& entry, std::int64_t now);
  std::vector<DenyEntry> entries() const;
  const config::Revocation& config() const { return cfg_; }
  // Re-reads the list from Redis now: what the sync loop runs (one sync at a time: the
  // loop is its only caller, and pending_ relies on that).
  boost::asio::awaitable<void> sync(std::int64_t now);
  // false until the list has been read from Redis once (redis store); always true for memory.
  // /readyz waits for it, so a fresh instance does not let revoked tokens through.
  bool synced() const { return !redis_ || synced_.load(); }

 private:
  boost::asio::awaitable<void> sync_loop(std::shared_ptr<bool> running);
  void publish(std::shared_ptr<const DenyList> list);

  const config::Revocation cfg_;
  std::shared_ptr<redis::RedisClient> redis_;
  metrics::Metrics& metrics_;
  common::Snapshot<const DenyList> list_;
  std::mutex write_mu_;  // serialises writers of list_ (copy, change, publish) and guards pending_
  std::vector<DenyEntry> pending_;  // redis: revoke()s published here since the running sync read Redis
  std::atomic<bool> synced_{false};
  std::atomic<std::int64_t> grace_{0};  // keep_for_leeway()  // redis: one sync has published the list from Redis
  std::string hash_key_, version_key_;
  std::string version_seen_;  // the sync loop's (control thread)
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
};

}  // namespace authgate::revocation

template <>
struct std::is_error_code_enum<authgate::revocation::revocation_errc> : std::true_type {};
