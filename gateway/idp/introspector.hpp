// RFC 7662 token introspection for one issuer: POSTs the token to the
// introspection endpoint with the gateway's client credentials
// (client_secret_basic), caches the answer keyed by the whole token, and runs
// at most one call per token at a time (single flight).
//
// Usage:
//   Introspector in(issuer_cfg, gateway_cfg, remote_issuer, metrics);
//   IntrospectionResult r = co_await in.introspect(token);
//   r.ec: introspection_failed (IdP unreachable, bad answer: not cached) or
//         introspection_inactive (active=false, expired: cached for negative_ttl);
//   else r.claims is the response object (scope, sub, aud, exp, ...).
//
// Active answers are cached for min(exp - now, cache_ttl), inactive ones for
// negative_ttl, to the millisecond on the steady clock, counted from the moment
// the answer arrives (exp is read against the system clock then). The route policy is applied by the caller to every result,
// cached or not. parse_introspection() (idp/introspection_response.hpp) is the pure part.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "common/expiring_cache.hpp"
#include "config/config.hpp"
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

 private:
  boost::asio::awaitable<IntrospectionResult> call(const std::string& token);

  const config::Issuer& cfg_;  // owned by the Runtime's config, which outlives this
  std::shared_ptr<RemoteIssuer> remote_;
  std::string authorization_;  // "Basic ..." for client_secret_basic
  common::ExpiringCache<IntrospectionResult> cache_;  // times: steady clock, milliseconds
  SingleFlight<IntrospectionResult> flights_;
  metrics::Metrics& metrics_;
  prometheus::Histogram* duration_;
};

}  // namespace authgate::idp
