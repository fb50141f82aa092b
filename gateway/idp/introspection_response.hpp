// The pure part of RFC 7662 introspection: the response body -> a result.
// No I/O, no clock (`now` is passed in), no Asio: the fuzz targets link it alone.
//
// Usage:
//   IntrospectionResult r = parse_introspection(body, now_unix_ms, issuer.introspection);
//   if (!r.ec) use(*r.claims); cache r for r.cache_for from now (0: not cacheable).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>

#include "config/config.hpp"

namespace authgate::idp {

struct IntrospectionResult {
  std::error_code ec;  // auth_errc::introspection_failed / introspection_inactive, or empty
  std::shared_ptr<const boost::json::object> claims;  // when active
  // How long from `now` this answer may be cached, to the millisecond; 0: not cacheable.
  std::chrono::milliseconds cache_for{0};
};

// Interprets an introspection response body (RFC 7662 §2.2) at `now_unix`
// (milliseconds since the Unix epoch; exp and nbf are whole seconds):
// not a JSON object, or "active" missing / not a boolean -> introspection_failed;
// active false, exp (if present) passed, nbf (if present) ahead, or a
// token_type other than Bearer/access_token -> introspection_inactive, cacheable
// for negative_ttl; otherwise the object, cacheable for min(exp - now, cache_ttl).
IntrospectionResult parse_introspection(std::string_view body, std::chrono::milliseconds now_unix,
                                        const config::Introspection& cfg);

}  // namespace authgate::idp
