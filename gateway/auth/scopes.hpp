// Granted scopes from verified claims (issue §6). Pure.
//
// Usage:
//   auto scopes = extract_scopes(jwt.claims(), issuer_cfg.scope_claim);   // default "scope"
//   bool ok = std::ranges::find(scopes, "api.example.com:user.read") != scopes.end();
//
// Shapes accepted, for the named claim:
//   - a string: space-delimited scope-tokens (RFC 6749 §3.3, RFC 9068, RFC 8693 §4.2);
//     empty tokens from repeated spaces are dropped;
//   - an array of strings (ForgeRock AM); non-string and empty elements are dropped.
// When the named claim is absent (or null), "scp" is read the same way (Azure AD,
// Okta). Any other type gives no scopes (and so fails a scope requirement; it
// never grants one). Scope names are opaque: no case folding, no splitting on
// ':', '.', or '/'. Order is kept; duplicates are kept.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace authgate::auth {

std::vector<std::string> extract_scopes(const boost::json::object& claims,
                                        std::string_view claim_name = "scope");

}  // namespace authgate::auth
