// The one flat, exhaustive list of authentication outcomes (habit 1), registered
// as a std::error_code enum (category "authgate.auth", habit 3). Pure: no I/O.
//
// Usage:
//   std::error_code ec = auth::verify(jwt, keys, policy, now);
//   if (ec == auth::auth_errc::kid_unknown) { /* refetch the JWKS once, then retry */ }
//   log(ec.category().name(), ec.value(), ec.message());
//   stats.denied(auth::reason(ec));           // "bad_signature", "expired", ...
//
// Mapping to HTTP lives in exactly one place (the http layer's auth reply), not here.
// Values are stable: append new ones before kLast, never renumber.
#pragma once

#include <string_view>
#include <system_error>

namespace authgate::auth {

enum class auth_errc {
  // --- Request outcomes (what a bearer token check can end with) ---
  token_missing = 1,       // no credentials in the request
  token_malformed,         // part count, base64url, JSON, duplicate members, claim types, size cap
  alg_not_allowed,         // "none" (any case), unknown alg, not in the allowlist, HS* vs JWKS keys
  crit_unsupported,        // a "crit" or "b64" header parameter
  kid_unknown,             // no key in the set has the token's kid (a JWKS refetch may help)
  key_mismatch,            // the kid names a key whose kty/crv/alg/use cannot verify this alg
  signature_invalid,       // the signature does not verify (never triggers a refetch)
  expired,                 // now >= exp + leeway, or exp missing when required
  not_yet_valid,           // now + leeway < nbf
  issued_in_future,        // iat > now + leeway
  issuer_mismatch,         // iss absent or not the configured issuer
  audience_mismatch,       // no aud value is one of the configured audiences
  type_not_allowed,        // typ header not accepted (e.g. not at+jwt when that is required)
  id_token_rejected,       // an OIDC ID token presented as an access token
  scope_insufficient,      // the route needs scopes the token does not carry
  claim_mismatch,          // a required claim is missing or a claim policy failed
  jwks_unavailable,        // no key set has loaded for the issuer (the gateway's fault)
  introspection_inactive,  // RFC 7662 answered active=false
  introspection_failed,    // the introspection call itself failed

  // --- Key material (loading a JWKS or a configured secret) ---
  jwks_malformed,          // the JWKS document is not a JSON object with a "keys" array
  jwk_unsupported,         // a key's kty/crv/alg is not supported (or not of this set's family)
  jwk_invalid,             // a key's parameters are missing, mis-encoded or not on the curve
  jwk_too_weak,            // RSA modulus below the minimum, HMAC secret too short
  jwks_no_usable_keys,     // every key of the set was skipped

  // --- Request outcomes added with route policies ---
  request_malformed,       // Authorization present but not a well-formed Bearer credential, or repeated (400)
  claims_not_allowed,      // the token is valid but the route's claim policy is not met (403)

  // --- Browser sessions (auth: session | any) ---
  session_missing,         // no session cookie, a tampered one, or an unknown / expired session
  session_ended,           // the IdP refused the refresh (invalid_grant): the session is gone
  csrf_rejected,           // an unsafe method without a matching Origin / Referer (403)
  refresh_unavailable,     // the refresh failed (IdP down) and the access token has expired (503)

  // --- Fleet mode ---
  session_store_unavailable,  // the session store (Redis) cannot be reached (503 + Retry-After)
  token_revoked,              // the token's jti, or its sub before a time, is on the deny-list (401)

  // --- Floods ---
  introspection_busy,  // introspection.max_concurrent_calls are in flight for the issuer (503 + Retry-After)

  // --- Step-up authentication (RFC 9470) ---
  user_authentication_insufficient,  // the token's acr or auth_time does not meet the route's require (401)

  // --- Sender-constrained tokens ---
  certificate_mismatch,  // cnf.x5t#S256 names a client certificate this request did not come with (RFC 8705, 401)

  // --- DPoP (RFC 9449): the proof checks of auth/dpop.hpp, then the binding ---
  dpop_proof_missing,        // Authorization: DPoP without a DPoP header
  dpop_proof_repeated,       // more than one DPoP header
  dpop_proof_malformed,      // not a JWS, bad JSON, a claim missing or of the wrong type, too big
  dpop_type_invalid,         // typ is not dpop+jwt
  dpop_alg_not_allowed,      // a symmetric, unknown or not allowed alg
  dpop_jwk_invalid,          // jwk missing, not a supported public key, or unfit for the alg
  dpop_jwk_private,          // jwk carries private key members
  dpop_signature_invalid,    // the signature does not verify with jwk
  dpop_htm_mismatch,         // htm is not the request method
  dpop_htu_mismatch,         // htu is not the request URI as the client saw it
  dpop_iat_invalid,          // iat outside the window around now
  dpop_ath_mismatch,         // ath missing or not the SHA-256 of the access token
  dpop_jkt_mismatch,         // the proof key's thumbprint is not the token's cnf.jkt
  dpop_jti_missing,          // no jti (or not a string, or too long)
  dpop_replayed,             // the jti was seen within the window (replay)
  dpop_token_unbound,        // the route requires DPoP and the token has no cnf.jkt
  dpop_bound_token_as_bearer,  // a token with cnf.jkt presented as Bearer
  dpop_replay_unavailable,   // the fleet's replay cache (Redis) cannot be reached: fail closed (503)
  // --- DPoP server nonce (RFC 9449 §8, auth/dpop_nonce.hpp): 401 error="use_dpop_nonce" + DPoP-Nonce ---
  dpop_nonce_missing,        // the route asks for a nonce and the proof has none
  dpop_nonce_malformed,      // not a nonce this gateway mints
  dpop_nonce_stale,          // a nonce of an expired (or future) slot
  dpop_nonce_invalid,        // its MAC does not verify: another secret, or forged
};

// First and last enumerators, for completeness loops in tests.
inline constexpr auth_errc kAuthErrcFirst = auth_errc::token_missing;
inline constexpr auth_errc kAuthErrcLast = auth_errc::dpop_nonce_invalid;

const std::error_category& auth_category();
std::error_code make_error_code(auth_errc e);

// A short, stable label for metrics and access logs (bounded label values):
// "missing", "malformed", "bad_signature", "expired", ... Never empty.
std::string_view reason(auth_errc e);
// "ok" for no error, the auth reason for an auth_errc, "internal" for any other category.
std::string_view reason(std::error_code ec);
// True for the DPoP proof checks (dpop_proof_missing .. dpop_replayed): the
// challenge is DPoP error="invalid_dpop_proof".
bool is_dpop_proof_error(std::error_code ec);
// True for dpop_nonce_missing .. dpop_nonce_invalid: the challenge is DPoP
// error="use_dpop_nonce", and the reply carries a fresh DPoP-Nonce.
bool is_dpop_nonce_error(std::error_code ec);

}  // namespace authgate::auth

template <>
struct std::is_error_code_enum<authgate::auth::auth_errc> : std::true_type {};
