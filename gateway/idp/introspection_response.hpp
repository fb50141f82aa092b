// The pure part of RFC 7662 introspection: the response body -> a result.
// No I/O, no clock (`now` is passed in), no Asio: the fuzz targets link it alone.
//
// Usage:
//   IntrospectionResult r = parse_introspection(body, now_unix, issuer.introspection);
//   if (!r.ec) use(*r.claims); cache r until r.cache_until (0: not cacheable).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>

#include "config/config.hpp"

namespace authgate::idp {

struct IntrospectionResult {
  std::error_code ec;  // auth_errc::introspection_failed / introspection_inactive, or empty
  std::shared_ptr<const boost::json::object> claims;  // when active
  std::int64_t cache_until = 0;  // unix seconds; 0: not cacheable
};

// Interprets an introspection response body (RFC 7662 §2.2) at `now`:
// not a JSON object, or "active" missing / not a boolean -> introspection_failed;
// active false, exp (if present) passed, nbf (if present) ahead, or a
// token_type other than Bearer/access_token -> introspection_inactive;
// otherwise the object, cacheable until min(exp, now + cache_ttl).
IntrospectionResult parse_introspection(std::string_view body, std::int64_t now,
                                        const config::Introspection& cfg);

}  // namespace authgate::idp
