// RFC 7662 token introspection for one issuer: POSTs the token to the
// introspection endpoint with the gateway's client credentials
// (client_secret_basic), caches the answer keyed by the whole token, and runs
// at most one call per token at a time (single flight) and at most
// introspection.max_concurrent_calls calls at a time for the issuer: a new
// token beyond that gets introspection_busy (503 + Retry-After) at once, so a
// flood of random tokens cannot queue unbounded work at the IdP.
// Inactive answers are kept apart from active ones (idp/introspection_cache.hpp),
// so that flood cannot evict the active entries either.
//
// Usage:
//   Introspector in(issuer_cfg, gateway_cfg, remote_issuer, metrics);
//   IntrospectionResult r = co_await in.introspect(token);
//   r.ec: introspection_failed (IdP unreachable, bad answer: not cached),
//         introspection_inactive (active=false, expired: cached for negative_ttl) or
//         introspection_busy (max_concurrent_calls in flight: not cached);
//   else r.claims is the response object (scope, sub, aud, exp, ...).
//
// Active answers are cached for min(exp - now, cache_ttl), inactive ones for
// negative_ttl, to the millisecond on the steady clock, counted from the moment
// the answer arrives (exp is read against the system clock then). The route policy is applied by the caller to every result,
// cached or not. parse_introspection() (idp/introspection_response.hpp) is the pure part.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "config/config.hpp"
#include "idp/introspection_cache.hpp"
#include "idp/introspection_response.hpp"
#include "idp/single_flight.hpp"
#include "metrics/metrics.hpp"

namespace authgate::idp {

class RemoteIssuer;

class Introspector {
 public:
  Introspector(const config::Issuer& issuer, const config::GatewayConfig& gateway,
               std::shared_ptr<RemoteIssuer> remote, metrics::Metrics& metrics);
  ~Introspector();

  // `token` must outlive the co_await (a named object of the caller).
  boost::asio::awaitable<IntrospectionResult> introspect(const std::string& token);
  std::uint64_t calls() const { return flights_.runs(); }
  std::uint64_t in_flight() const { return in_flight_.load(); }

 private:
  boost::asio::awaitable<IntrospectionResult> call(const std::string& token);
  void note_rejection();

  const config::Issuer& cfg_;  // owned by the Runtime's config, which outlives this
  std::shared_ptr<RemoteIssuer> remote_;
  std::string authorization_;  // "Basic ..." for client_secret_basic
  IntrospectionCache cache_;  // times: steady clock, milliseconds
  SingleFlight<IntrospectionResult> flights_;
  std::atomic<std::uint64_t> in_flight_{0};      // calls running (admitted under flights_' lock)
  std::atomic<std::uint64_t> rejected_unlogged_{0};  // refusals since the last log line
  std::atomic<std::int64_t> last_reject_log_ms_{0};
  metrics::Metrics& metrics_;
  prometheus::Histogram* duration_;
  prometheus::Counter* rejected_;
  prometheus::Gauge* negative_entries_;
};

}  // namespace authgate::idp
