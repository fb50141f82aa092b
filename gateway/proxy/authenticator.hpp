// The access decision taken on a request's headers, before any body byte is
// read: bearer-token authentication (auth/), then the route's policy (policy/).
// Built once per Runtime (start-up and each reload), read-only afterwards, so
// every worker thread shares it without locks.
//
// Usage:
//   Authenticator authn(cfg);                       // throws on unusable key material
//   AccessDecision d = authn.decide(route, request_fields, now_unix);
//   if (!d.allowed) reply d.reply; else apply_identity(upstream_fields, route, d);
//
// Not in this build: remote JWKS (discovery, jwks_uri, rotation), opaque-token
// introspection and the verified-token cache.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "auth/jwt.hpp"
#include "auth/jwt_verifier.hpp"
#include "auth/key_set.hpp"
#include "config/config.hpp"
#include "http/header_hygiene.hpp"

namespace authgate::proxy {

// The one mapping from an auth outcome to what the client gets (RFC 6750 §3).
struct AuthReply {
  unsigned status = 401;
  std::string www_authenticate;  // the WWW-Authenticate value
  std::string error;             // short machine-readable name for the JSON body
};
AuthReply auth_reply(std::error_code ec, std::string_view required_scopes);

struct AccessDecision {
  bool allowed = true;
  std::error_code ec;                  // why not (auth_errc), empty when allowed
  AuthReply reply;                     // when denied
  std::string_view auth_label = "none";  // access log "auth": none | bearer
  std::string issuer;                  // the issuer's config name when a token was checked
  std::optional<auth::ParsedJwt> token;  // the verified token (bearer routes)
};

class Authenticator {
 public:
  explicit Authenticator(const config::GatewayConfig& cfg);
  ~Authenticator();

  AccessDecision decide(const config::Route& route, const http::Fields& request,
                        std::int64_t now_unix) const;

 private:
  struct IssuerRuntime {
    const config::Issuer* cfg;
    auth::VerifyPolicy policy;
    auth::KeySetPtr keys;
  };
  std::vector<IssuerRuntime> issuers_;
  std::size_t max_token_bytes_;
};

// Upstream side of a decision: removes client copies of every identity header
// any route sets (`identity_headers`, any case, "_" for "-"): a header one route
// derives from claims must not be spoofable through another route to the same
// upstream. Then sets the route's headers from the token's claims, and strips
// Authorization on bearer routes unless forward.authorization is set.
void apply_identity(http::Fields& upstream, const config::Route& route, const AccessDecision& d,
                    std::span<const std::string> identity_headers);

// The names of every forward.headers entry of every route (deduplicated).
std::vector<std::string> identity_header_names(const config::GatewayConfig& cfg);

}  // namespace authgate::proxy
