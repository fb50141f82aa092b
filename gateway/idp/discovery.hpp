// OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414) and the
// JWKS refresh schedule. Pure: no I/O, no clock.
//
// Usage:
//   ProviderMetadata md;
//   if (auto ec = parse_provider_metadata(body, "https://idp.example.com", md)) fail(ec);
//   auto delay = jwks_refresh_delay(cache_max_age(response.cache_control), min, max);
//   auto retry = jwks_retry_delay(failures, base, min, random_unit);
//   if (keys_too_stale(fetched_at, now, max_stale)) drop(keys);
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace authgate::idp {

struct ProviderMetadata {
  std::string issuer;
  std::string jwks_uri;
  std::string introspection_endpoint;
  std::string token_endpoint;
  std::string authorization_endpoint;
  std::string revocation_endpoint;
  std::string end_session_endpoint;
};

// The document must be a JSON object whose "issuer" is exactly
// `expected_issuer` (Discovery §4.3: a mismatch means the document is not for
// this issuer). Endpoint members, when present, must be absolute http(s) URLs,
// https unless the issuer itself is http. idp_errc::invalid_document otherwise.
std::error_code parse_provider_metadata(std::string_view json, std::string_view expected_issuer,
                                        ProviderMetadata& out);

// "max-age=N" of a Cache-Control value (at most 2^31, RFC 9111); "no-cache"/
// "no-store" count as 0.
// nullopt when absent or unreadable.
std::optional<std::chrono::seconds> cache_max_age(std::string_view cache_control);

// Next refresh after a successful fetch: the IdP's max-age clamped to
// [min, max]; `min` when the IdP sent none.
std::chrono::milliseconds jwks_refresh_delay(std::optional<std::chrono::seconds> max_age,
                                             std::chrono::milliseconds min,
                                             std::chrono::milliseconds max);

// Next attempt after `failures` (>= 1) consecutive failed fetches: `base`
// doubled per further failure, capped at `cap`, times a jitter factor in
// [0.8, 1.2) taken from `random_unit` in [0, 1).
std::chrono::milliseconds jwks_retry_delay(unsigned failures, std::chrono::milliseconds base,
                                           std::chrono::milliseconds cap, double random_unit);

// Keys fetched at `fetched` (a monotonic clock, ms) are too stale to use at
// `now` once more than `max_stale` has passed: max_stale counts to the millisecond.
inline bool keys_too_stale(std::chrono::milliseconds fetched, std::chrono::milliseconds now,
                           std::chrono::milliseconds max_stale) {
  return now - fetched > max_stale;
}

}  // namespace authgate::idp
