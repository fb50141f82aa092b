// JWS/JWT verification on OpenSSL 3 EVP (no JWT library). Pure and clock-injected
// (habit 4): the caller passes `now`, so tests use fixed times.
//
// Usage:
//   ParsedJwt jwt;
//   if (auto ec = parse_jwt(token, cfg.max_token_bytes, jwt)) return ec;
//   std::error_code ec = verify(jwt, *keys, policy, now_unix);
//   if (ec == auth_errc::kid_unknown) { refetch the JWKS (rate-limited), retry once }
//   else if (ec) deny(reason(ec));
//
// verify() checks, in this order, and returns the first failure:
//   1. alg    "none" in any spelling, an unknown alg, or one outside
//             policy.allowed_algs; HS* unless the key set is an HMAC secret set,
//             and RS/PS/ES/EdDSA when it is one (no key confusion)  -> alg_not_allowed
//   2. typ    absent, "JWT", "at+jwt", "application/jwt" or
//             "application/at+jwt" (case-insensitive); only the at+jwt forms when
//             policy.require_at_jwt                                   -> type_not_allowed
//   3. key    KeySet::find(kid, alg)                          -> kid_unknown / key_mismatch
//   4. signature  RS*: PKCS#1 v1.5; PS*: PSS, MGF1 same hash, salt = hash length;
//             ES*: raw r||s of exactly 2 x coordinate bytes, r and s non-zero,
//             converted to DER here; EdDSA: Ed25519 one-shot; HS*: HMAC compared
//             with CRYPTO_memcmp                                       -> signature_invalid
//   5. exp    now < exp + leeway                                    -> expired
//             absent while policy.require_exp (the default)           -> claim_mismatch
//   6. nbf    if present: now + leeway >= nbf                      -> not_yet_valid
//   7. iat    if present and policy.reject_future_iat: iat <= now + leeway -> issued_in_future
//   8. iss    present and exactly policy.issuer (an empty policy issuer matches
//             nothing: fail closed)                                 -> issuer_mismatch
//   9. ID token  when policy.reject_id_tokens: "nonce" present, or an aud value is
//             one of policy.login_client_ids                        -> id_token_rejected
//             (before aud, so an ID token is reported as such, not as a bad audience)
//  10. aud    some aud value is one of policy.audiences (empty policy audiences
//             match nothing: fail closed)                           -> audience_mismatch
//  11. required claims  each of policy.required_claims present and not null -> claim_mismatch
//
// NOT checked here: scopes (extract_scopes + the route policy), claim value
// policies (equals / one_of / contains), token revocation, "azp", "jti" replay,
// "cty"/nested JWTs (refused by nothing here, simply not unwrapped). The OpenSSL
// error queue is cleared after every failed call.
#pragma once

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "auth/jwk.hpp"
#include "auth/jwt.hpp"
#include "auth/key_set.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace authgate::auth {

struct VerifyPolicy {
  std::string issuer;                   // the exact "iss" expected
  std::vector<std::string> audiences;   // "aud" must contain one of these
  std::vector<Alg> allowed_algs{Alg::RS256, Alg::PS256, Alg::ES256};
  std::int64_t leeway_seconds = 30;     // clock skew allowance for exp/nbf/iat (negative = 0)
  bool require_at_jwt = false;          // typ must be at+jwt (RFC 9068)
  bool reject_id_tokens = true;         // nonce, or aud = a login client id
  std::vector<std::string> login_client_ids;  // OIDC clients that log users in through authgate
  std::vector<std::string> required_claims;   // claim names that must be present (non-null)
  bool require_exp = true;              // false only for signature test vectors without exp
  bool reject_future_iat = true;        // iat more than leeway ahead of now
};

// Steps 1-11 above.
std::error_code verify(const ParsedJwt& jwt, const KeySet& keys, const VerifyPolicy& policy,
                       std::int64_t now_unix);
inline std::error_code verify(const ParsedJwt& jwt, const KeySet& keys, const VerifyPolicy& policy,
                              std::chrono::system_clock::time_point now) {
  return verify(jwt, keys, policy,
                std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

// Steps 1, 3 and 4 only: the alg allowlist, key selection and the signature. For
// signature-only test vectors and benchmarks; no claim is looked at.
std::error_code verify_signature(const ParsedJwt& jwt, const KeySet& keys,
                                 std::span<const Alg> allowed_algs);

// Step 2.
std::error_code check_type(const ParsedJwt& jwt, const VerifyPolicy& policy);

// Steps 5-11: the claims of a token whose signature has already been verified
// (also what a verified-token cache re-checks on a hit).
std::error_code verify_claims(const ParsedJwt& jwt, const VerifyPolicy& policy, std::int64_t now_unix);

// Step 4 on raw inputs: does `signature` (JOSE encoding) over `signing_input`
// verify with `key` under `alg`? key_mismatch when the key does not fit the alg.
// Used directly for JWS vectors whose payload is not a JWT (RFC 7520, RFC 8037).
std::error_code verify_jws_signature(Alg alg, const Jwk& key, std::string_view signing_input,
                                     std::span<const std::uint8_t> signature);

}  // namespace authgate::auth
