#include "idp/introspection_response.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <limits>

#include "auth/auth_errc.hpp"
#include "auth/jwt.hpp"
#include "common/ascii.hpp"

namespace authgate::idp {

using auth::auth_errc;

namespace {

// A NumericDate (whole seconds) in milliseconds, saturated instead of overflowing.
std::chrono::milliseconds from_seconds(std::int64_t s) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1000;
  return std::chrono::milliseconds(std::clamp(s, -kMax, kMax) * 1000);
}

}  // namespace

IntrospectionResult parse_introspection(std::string_view body, std::chrono::milliseconds now,
                                        const config::Introspection& cfg) {
  IntrospectionResult r;
  boost::system::error_code jec;
  boost::json::value doc = boost::json::parse(body, jec);
  const auto* active = !jec && doc.is_object() ? doc.get_object().if_contains("active") : nullptr;
  if (!active || !active->is_bool()) {
    r.ec = auth_errc::introspection_failed;
    return r;
  }
  const auto& obj = doc.get_object();
  r.cache_for = cfg.negative_ttl;
  r.ec = auth_errc::introspection_inactive;
  if (!active->get_bool()) return r;
  std::int64_t exp = 0;
  const auto* exp_v = obj.if_contains("exp");
  if (exp_v && (!auth::numeric_date(*exp_v, exp) || from_seconds(exp) <= now)) return r;
  std::int64_t nbf = 0;
  if (const auto* v = obj.if_contains("nbf"); v && (!auth::numeric_date(*v, nbf) || from_seconds(nbf) > now)) return r;
  if (const auto* v = obj.if_contains("token_type")) {
    // A refresh token (or a DPoP-bound one) is never a bearer access token.
    if (!v->is_string() || !(common::iequals(v->get_string(), "bearer") ||
                             common::iequals(v->get_string(), "access_token")))
      return r;
  }
  r.ec = {};
  r.cache_for = cfg.cache_ttl;
  if (exp_v) r.cache_for = std::min(r.cache_for, from_seconds(exp) - now);  // > 0: exp is ahead
  r.claims = std::make_shared<const boost::json::object>(obj);
  return r;
}

}  // namespace authgate::idp
