#include "access/token_cache.hpp"

namespace authgate::access {

std::optional<TokenCache::Hit> TokenCache::find(std::string_view token, const config::Route& route,
                                                const Issuers& issuers, std::int64_t now, bool count) {
  if (!cache_.enabled()) return std::nullopt;
  auto hit = cache_.find(token, now);
  const Issuer* ir = hit ? &issuers[hit->issuer] : nullptr;
  const bool usable = ir && ir->accepted_by(route) && hit->keys == ir->keys();
  if (count) (usable ? metrics_.token_cache_hit : metrics_.token_cache_miss).Increment();
  if (!usable) return std::nullopt;
  return Hit{ir, std::move(hit->jwt)};
}

void TokenCache::insert(std::string_view token, std::size_t issuer, std::shared_ptr<const auth::ParsedJwt> jwt,
                        auth::KeySetPtr keys, std::int64_t now) {
  if (!jwt->exp()) return;
  const std::int64_t exp = *jwt->exp();
  cache_.insert(token, Entry{issuer, std::move(jwt), std::move(keys)}, exp, now);
}

}  // namespace authgate::access
