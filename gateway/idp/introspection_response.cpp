#include "idp/introspection_response.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>

#include "auth/auth_errc.hpp"
#include "auth/jwt.hpp"
#include "common/ascii.hpp"

namespace authgate::idp {

using auth::auth_errc;

namespace {

std::int64_t seconds(config::Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

IntrospectionResult parse_introspection(std::string_view body, std::int64_t now,
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
  r.cache_until = now + std::max<std::int64_t>(1, seconds(cfg.negative_ttl));
  r.ec = auth_errc::introspection_inactive;
  if (!active->get_bool()) return r;
  std::int64_t exp = 0;
  const auto* exp_v = obj.if_contains("exp");
  if (exp_v && (!auth::numeric_date(*exp_v, exp) || exp <= now)) return r;
  std::int64_t nbf = 0;
  if (const auto* v = obj.if_contains("nbf"); v && (!auth::numeric_date(*v, nbf) || nbf > now)) return r;
  if (const auto* v = obj.if_contains("token_type")) {
    // A refresh token (or a DPoP-bound one) is never a bearer access token.
    if (!v->is_string() || !(common::iequals(v->get_string(), "bearer") ||
                             common::iequals(v->get_string(), "access_token")))
      return r;
  }
  r.ec = {};
  r.cache_until = now + seconds(cfg.cache_ttl);
  if (exp_v) r.cache_until = std::min(r.cache_until, exp);
  r.claims = std::make_shared<const boost::json::object>(obj);
  return r;
}

}  // namespace authgate::idp
