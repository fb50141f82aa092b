#include "access/auth_reply.hpp"

#include <chrono>

#include "auth/auth_errc.hpp"

namespace authgate::access {

using auth::auth_errc;

namespace {
constexpr std::string_view kRealm = "authgate";
}  // namespace

AuthReply auth_reply(std::error_code ec, const Challenge& challenge) {
  AuthReply r;
  std::string base = "Bearer realm=\"" + std::string(kRealm) + "\"";
  if (!challenge.resource_metadata.empty())
    base += ", resource_metadata=\"" + std::string(challenge.resource_metadata) + "\"";
  if (ec == auth_errc::token_missing) {
    r = {401, base, "unauthorized", {}};
  } else if (ec == auth_errc::request_malformed) {
    r = {400, base + ", error=\"invalid_request\"", "invalid_request", {}};
  } else if (ec == auth_errc::scope_insufficient) {
    r = {403, base + ", error=\"insufficient_scope\", scope=\"" + std::string(challenge.missing_scopes) + "\"",
         "insufficient_scope", {}};
  } else if (ec == auth_errc::claims_not_allowed) {
    r = {403, base + ", error=\"insufficient_scope\", error_description=\"claim requirements not met\"",
         "insufficient_scope", {}};
  } else if (ec == auth_errc::user_authentication_insufficient) {
    // RFC 9470 §3: the acr values and max age the client asks the authorization server for.
    std::string value = base + ", error=\"insufficient_user_authentication\", error_description=\"" + ec.message() + "\"";
    if (challenge.require && !challenge.require->acr.empty()) {
      std::string acr_values;
      for (const auto& a : challenge.require->acr) acr_values += (acr_values.empty() ? "" : " ") + a;
      value += ", acr_values=\"" + acr_values + "\"";
    }
    if (challenge.require && challenge.require->max_auth_age)
      value += ", max_age=" +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*challenge.require->max_auth_age).count());
    r = {401, std::move(value), "insufficient_user_authentication", {}};
  } else if (ec == auth_errc::jwks_unavailable) {
    r = {503, base, "jwks_unavailable", {}};  // the gateway's fault, not the client's
  } else if (ec == auth_errc::introspection_failed) {
    r = {503, base, "introspection_unavailable", {}};
  } else if (ec == auth_errc::introspection_busy) {
    r = {503, base, "introspection_busy", {}};  // Retry-After: every local 503 has one
  } else if (ec == auth_errc::session_missing || ec == auth_errc::session_ended) {
    r = {401, "", "no_session", {}};  // a browser navigation gets a 302 to the login instead
  } else if (ec == auth_errc::csrf_rejected) {
    r = {403, "", "csrf_rejected", {}};
  } else if (ec == auth_errc::refresh_unavailable) {
    r = {503, "", "refresh_unavailable", {}};
  } else if (auth::is_dpop_proof_error(ec)) {
    r = {401, base, "invalid_dpop_proof", {}};  // the error goes on the DPoP challenge (add_dpop_challenge)
  } else if (auth::is_dpop_nonce_error(ec)) {
    r = {401, base, "use_dpop_nonce", {}};  // RFC 9449 §9; the reply also carries DPoP-Nonce
  } else if (ec == auth_errc::dpop_replay_unavailable) {
    r = {503, base, "dpop_replay_unavailable", {}};
  } else if (ec == auth_errc::session_store_unavailable) {
    r = {503, "", "session_store_unavailable", {}};
  } else {
    // Every other token problem. The description names the class of problem
    // only; it never echoes token contents.
    r = {401, base + ", error=\"invalid_token\", error_description=\"" + ec.message() + "\"",
         "invalid_token", {}};
  }
  return r;
}

void add_dpop_challenge(AuthReply& r, std::error_code ec, std::string_view algs, bool bearer_too) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!r.www_authenticate.starts_with(kBearer)) return;  // a session's reply: no challenge
  // The Bearer challenge's parameters (realm, then error...) serve the DPoP one too.
  std::string params = r.www_authenticate.substr(kBearer.size());
  if (auth::is_dpop_proof_error(ec))
    params += ", error=\"invalid_dpop_proof\", error_description=\"" + ec.message() + "\"";
  else if (auth::is_dpop_nonce_error(ec))
    params += ", error=\"use_dpop_nonce\", error_description=\"" + ec.message() + "\"";
  std::string dpop = "DPoP " + params + ", algs=\"" + std::string(algs) + "\"";
  // RFC 9110 §11.6.1: challenges in one field are separated by commas.
  r.www_authenticate = bearer_too ? r.www_authenticate + ", " + dpop : std::move(dpop);
}

}  // namespace authgate::access
