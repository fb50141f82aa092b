// The introspection answers of one issuer, in two bounded caches: active answers
// (limits.introspection_cache_entries, for min(exp - now, cache_ttl)) and inactive
// ones (introspection.negative_cache_entries, for negative_ttl). Every random token
// an attacker sends is inactive, so a flood of them only ever evicts other inactive
// answers: the active entries stay cached and cost no further introspection call.
// Pure: the clock (steady milliseconds) is a parameter; thread-safe (sharded locks).
//
// Usage:
//   IntrospectionCache cache(active_entries, negative_entries);
//   if (auto hit = cache.find(token, now_ms)) use(*hit);
//   ... cache.store(token, result, now_ms);   // failures (cache_for 0) are not kept
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "auth/auth_errc.hpp"
#include "common/expiring_cache.hpp"
#include "idp/introspection_response.hpp"

namespace authgate::idp {

class IntrospectionCache {
 public:
  IntrospectionCache(std::size_t active_entries, std::size_t negative_entries)
      : active_(active_entries), negative_(negative_entries) {}

  // The active cache is asked first: it is never evicted by inactive answers.
  std::optional<IntrospectionResult> find(std::string_view token, std::int64_t now) {
    if (auto hit = active_.find(token, now)) return hit;
    if (auto hit = negative_.find(token, now)) {
      ++negative_hits_;
      return hit;
    }
    return std::nullopt;
  }

  // Keeps `result` for result.cache_for from `now` in the cache of its kind. An
  // inactive answer also drops the token's active entry, if any (revoked since).
  void store(std::string_view token, const IntrospectionResult& result, std::int64_t now) {
    if (result.cache_for.count() <= 0) return;
    const std::int64_t until = now + result.cache_for.count();
    if (!result.ec) {
      active_.insert(token, result, until, now);
    } else if (result.ec == auth::auth_errc::introspection_inactive) {
      active_.erase(token);
      negative_.insert(token, result, until, now);
    }
  }

  std::size_t active_size() { return active_.size(); }
  std::size_t negative_size() { return negative_.size(); }
  std::uint64_t negative_hits() const { return negative_hits_.load(std::memory_order_relaxed); }

 private:
  common::ExpiringCache<IntrospectionResult> active_;
  common::ExpiringCache<IntrospectionResult> negative_;
  std::atomic<std::uint64_t> negative_hits_{0};
};

}  // namespace authgate::idp
