// Route policies on a verified token: required scopes and claim rules. Pure:
// no I/O, evaluated after routing on the canonical path.
//
// Usage:
//   std::string missing;
//   if (auto ec = evaluate(route.require, scopes, jwt.claims(), &missing)) -> 403
//
// Scopes compare as opaque strings ("api.example.com:user.read"). A claim rule
// holds when the claim equals one of its values or, for an array claim, contains
// one of them; strings, booleans and numbers compare by their text ("true", "42").
// Does NOT check signatures, issuers, audiences or lifetimes (auth/jwt_verifier).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>

#include "config/config.hpp"

namespace authgate::policy {

// auth_errc::scope_insufficient (with the scopes the route needs in `missing`)
// or auth_errc::claims_not_allowed; no error when every rule holds.
std::error_code evaluate(const config::Requirement& require, std::span<const std::string> scopes,
                         const boost::json::object& claims, std::string* missing_scopes);

// Step-up (RFC 9470): auth_errc::user_authentication_insufficient when the route requires acr
// values and the token's "acr" is none of them, or a max_auth_age and the token's "auth_time" is
// missing or older than that at `now` (Unix seconds); no error otherwise.
std::error_code evaluate_authentication(const config::Requirement& require, const boost::json::object& claims,
                                        std::int64_t now);

// The text a scalar claim compares as; nullopt for objects, arrays and null.
std::optional<std::string> claim_text(const boost::json::value& v);

}  // namespace authgate::policy
