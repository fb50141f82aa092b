#include "policy/policy.hpp"

#include <algorithm>
#include <chrono>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "auth/auth_errc.hpp"

namespace authgate::policy {

std::optional<std::string> claim_text(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return std::string(v.get_string());
    case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::double_: return boost::json::serialize(v);
    default: return std::nullopt;
  }
}

namespace {

bool has_scope(std::span<const std::string> scopes, const std::string& s) {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

bool rule_holds(const config::ClaimRule& rule, const boost::json::object& claims) {
  const auto* v = claims.if_contains(rule.name);
  if (!v) return false;
  auto matches = [&](const boost::json::value& x) {
    auto text = claim_text(x);
    return text && std::find(rule.values.begin(), rule.values.end(), *text) != rule.values.end();
  };
  if (v->is_array()) return std::any_of(v->get_array().begin(), v->get_array().end(), matches);
  return matches(*v);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

std::error_code evaluate(const config::Requirement& require, std::span<const std::string> scopes,
                         const boost::json::object& claims, std::string* missing_scopes) {
  const bool all_ok = std::all_of(require.scopes_all.begin(), require.scopes_all.end(),
                                  [&](const std::string& s) { return has_scope(scopes, s); });
  const bool any_ok = require.scopes_any.empty() ||
                      std::any_of(require.scopes_any.begin(), require.scopes_any.end(),
                                  [&](const std::string& s) { return has_scope(scopes, s); });
  if (!all_ok || !any_ok) {
    if (missing_scopes) *missing_scopes = join(!all_ok ? require.scopes_all : require.scopes_any);
    return auth::auth_errc::scope_insufficient;
  }
  for (const auto& rule : require.claims)
    if (!rule_holds(rule, claims)) return auth::auth_errc::claims_not_allowed;
  return {};
}

std::error_code evaluate_authentication(const config::Requirement& require, const boost::json::object& claims,
                                        std::int64_t now) {
  if (!require.acr.empty()) {
    const auto* acr = claims.if_contains("acr");
    if (!acr || !acr->is_string() ||
        std::find(require.acr.begin(), require.acr.end(), std::string_view(acr->get_string())) == require.acr.end())
      return auth::auth_errc::user_authentication_insufficient;
  }
  if (require.max_auth_age) {
    const auto* t = claims.if_contains("auth_time");
    boost::system::error_code ec;
    const auto auth_time = t && t->is_number() ? t->to_number<std::int64_t>(ec) : 0;
    const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(*require.max_auth_age).count();
    if (!t || !t->is_number() || ec || now - auth_time > max_age) return auth::auth_errc::user_authentication_insufficient;
  }
  return {};
}

}  // namespace authgate::policy
