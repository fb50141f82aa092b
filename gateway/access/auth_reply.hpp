// The one mapping from an auth outcome (auth_errc) to what the client gets:
// status, WWW-Authenticate (RFC 6750 §3) and the JSON body's error name.
//
// Usage:
//   AuthReply r = auth_reply(auth_errc::scope_insufficient, {.missing_scopes = "orders:write"});
//   reply(r.status, r.error, r.www_authenticate);   // r.location: a 302 to the login
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "config/config.hpp"

namespace authgate::access {

struct AuthReply {
  unsigned status = 401;
  std::string www_authenticate;  // the WWW-Authenticate value
  std::string error;             // short machine-readable name for the JSON body
  std::string location;          // 302 to the login endpoint (a browser navigation without a session)
};

// What a challenge names besides its error (RFC 6750 §3, RFC 9470 §3, RFC 9728 §5.1).
struct Challenge {
  std::string_view missing_scopes;           // insufficient_scope: scope="..."
  const config::Requirement* require = nullptr;  // insufficient_user_authentication: acr_values, max_age
  std::string_view resource_metadata;        // the route's RFC 9728 metadata URL: on every Bearer challenge
};

AuthReply auth_reply(std::error_code ec, const Challenge& challenge = {});

// On a route that accepts DPoP (RFC 9449 §7.1): adds the DPoP challenge, with
// the same parameters as the Bearer one plus algs="<space-separated algs>"
// (and error="invalid_dpop_proof" for a proof failure, error="use_dpop_nonce" for
// a nonce failure, RFC 9449 §9), after the Bearer
// challenge, or instead of it when !bearer_too (dpop: required). Replies
// without a Bearer challenge (sessions, 503s of the session store) are left alone.
void add_dpop_challenge(AuthReply& r, std::error_code ec, std::string_view algs, bool bearer_too);

}  // namespace authgate::access
