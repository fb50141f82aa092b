// Verified JWTs by their exact text, until their exp: a hit skips parsing and
// the signature check (the times and the route's policy are checked on every
// request). Shared by every worker (sharded locks, common/expiring_cache.hpp).
//
// Usage:
//   TokenCache cache(cfg.limits.token_cache_entries, metrics);   // 0 entries: off
//   if (auto hit = cache.find(token, route, issuers, now, count)) ... hit->issuer, hit->jwt ...
//   cache.insert(token, issuers.index_of(ir), jwt, keys, now);   // after a good signature
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "access/issuers.hpp"
#include "auth/jwt.hpp"
#include "auth/key_set.hpp"
#include "common/expiring_cache.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"

namespace authgate::access {

class TokenCache {
 public:
  TokenCache(std::size_t max_entries, metrics::Metrics& metrics) : cache_(max_entries), metrics_(metrics) {}

  struct Hit {
    const Issuer* issuer = nullptr;
    std::shared_ptr<const auth::ParsedJwt> jwt;
  };
  // A cached token answers only for an issuer `route` accepts, and only while
  // that issuer still has the key set that verified it (a rotation that dropped
  // the key sends the token through full verification again). `count`: this
  // lookup goes into the hit/miss metrics (a request's first look only).
  std::optional<Hit> find(std::string_view token, const config::Route& route, const Issuers& issuers,
                          std::int64_t now, bool count);
  // Tokens without exp are never cached.
  void insert(std::string_view token, std::size_t issuer, std::shared_ptr<const auth::ParsedJwt> jwt,
              auth::KeySetPtr keys, std::int64_t now);

 private:
  struct Entry {
    std::size_t issuer = 0;
    std::shared_ptr<const auth::ParsedJwt> jwt;
    auth::KeySetPtr keys;  // the key set that verified it
  };
  common::ExpiringCache<Entry> cache_;
  metrics::Metrics& metrics_;
};

}  // namespace authgate::access
