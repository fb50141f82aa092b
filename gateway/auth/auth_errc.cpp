#include "auth/auth_errc.hpp"

#include <string>

#include "common/error_category.hpp"

namespace authgate::auth {

namespace {

// No default case: -Wswitch flags an enumerator without a message.
const char* auth_message(auth_errc e) {
  switch (e) {
    case auth_errc::token_missing: return "no bearer token in the request";
    case auth_errc::token_malformed: return "token is malformed";
    case auth_errc::alg_not_allowed: return "token algorithm is not allowed";
    case auth_errc::crit_unsupported: return "token has critical header parameters";
    case auth_errc::kid_unknown: return "no key matches the token's key id";
    case auth_errc::key_mismatch: return "key cannot verify the token's algorithm";
    case auth_errc::signature_invalid: return "token signature is invalid";
    case auth_errc::expired: return "token has expired";
    case auth_errc::not_yet_valid: return "token is not yet valid";
    case auth_errc::issued_in_future: return "token is issued in the future";
    case auth_errc::issuer_mismatch: return "token issuer is not accepted";
    case auth_errc::audience_mismatch: return "token audience is not accepted";
    case auth_errc::type_not_allowed: return "token type is not accepted";
    case auth_errc::id_token_rejected: return "an ID token is not an access token";
    case auth_errc::scope_insufficient: return "token lacks a required scope";
    case auth_errc::claim_mismatch: return "token claims do not satisfy the policy";
    case auth_errc::jwks_unavailable: return "no signing keys are available for the issuer";
    case auth_errc::introspection_inactive: return "token is not active";
    case auth_errc::introspection_failed: return "token introspection failed";
    case auth_errc::jwks_malformed: return "key set document is malformed";
    case auth_errc::jwk_unsupported: return "key type or algorithm is not supported";
    case auth_errc::jwk_invalid: return "key parameters are invalid";
    case auth_errc::jwk_too_weak: return "key is too small";
    case auth_errc::jwks_no_usable_keys: return "key set has no usable keys";
    case auth_errc::request_malformed: return "malformed Authorization header";
    case auth_errc::claims_not_allowed: return "token claims do not satisfy the route policy";
    case auth_errc::session_missing: return "no valid session";
    case auth_errc::session_ended: return "the session has ended";
    case auth_errc::csrf_rejected: return "cross-site request refused";
    case auth_errc::refresh_unavailable: return "the session's tokens cannot be refreshed now";
    case auth_errc::session_store_unavailable: return "the session store is unavailable";
    case auth_errc::token_revoked: return "the token has been revoked";
    case auth_errc::introspection_busy: return "too many introspection calls in flight";
    case auth_errc::user_authentication_insufficient: return "the authentication is too weak or too old for this route";
    case auth_errc::certificate_mismatch: return "token is bound to a client certificate this request did not present";
    case auth_errc::dpop_proof_missing: return "no DPoP proof with a DPoP token";
    case auth_errc::dpop_proof_repeated: return "more than one DPoP proof";
    case auth_errc::dpop_proof_malformed: return "DPoP proof is malformed";
    case auth_errc::dpop_type_invalid: return "DPoP proof type is not dpop+jwt";
    case auth_errc::dpop_alg_not_allowed: return "DPoP proof algorithm is not allowed";
    case auth_errc::dpop_jwk_invalid: return "DPoP proof key is invalid";
    case auth_errc::dpop_jwk_private: return "DPoP proof key contains private members";
    case auth_errc::dpop_signature_invalid: return "DPoP proof signature is invalid";
    case auth_errc::dpop_htm_mismatch: return "DPoP proof method does not match the request";
    case auth_errc::dpop_htu_mismatch: return "DPoP proof URI does not match the request";
    case auth_errc::dpop_iat_invalid: return "DPoP proof is too old or issued in the future";
    case auth_errc::dpop_ath_mismatch: return "DPoP proof access token hash does not match";
    case auth_errc::dpop_jkt_mismatch: return "DPoP proof key is not the key the token is bound to";
    case auth_errc::dpop_jti_missing: return "DPoP proof has no usable jti";
    case auth_errc::dpop_replayed: return "DPoP proof has been used before";
    case auth_errc::dpop_token_unbound: return "a DPoP-bound token is required";
    case auth_errc::dpop_bound_token_as_bearer: return "a DPoP-bound token needs a DPoP proof";
    case auth_errc::dpop_replay_unavailable: return "the DPoP replay cache is unavailable";
    case auth_errc::dpop_nonce_missing: return "the DPoP proof has no nonce and the resource server requires one";
    case auth_errc::dpop_nonce_malformed: return "the DPoP proof nonce is malformed";
    case auth_errc::dpop_nonce_stale: return "the DPoP proof nonce has expired";
    case auth_errc::dpop_nonce_invalid: return "the DPoP proof nonce was not issued by this resource server";
  }
  return "unknown authentication error";
}

}  // namespace

const std::error_category& auth_category() {
  static const common::ErrorCategory<auth_errc> category("authgate.auth", auth_message);
  return category;
}

std::error_code make_error_code(auth_errc e) { return {static_cast<int>(e), auth_category()}; }

std::string_view reason(auth_errc e) {
  switch (e) {
    case auth_errc::token_missing: return "missing";
    case auth_errc::token_malformed: return "malformed";
    case auth_errc::alg_not_allowed: return "alg_not_allowed";
    case auth_errc::crit_unsupported: return "crit_unsupported";
    case auth_errc::kid_unknown: return "unknown_kid";
    case auth_errc::key_mismatch: return "key_mismatch";
    case auth_errc::signature_invalid: return "bad_signature";
    case auth_errc::expired: return "expired";
    case auth_errc::not_yet_valid: return "not_yet_valid";
    case auth_errc::issued_in_future: return "issued_in_future";
    case auth_errc::issuer_mismatch: return "bad_issuer";
    case auth_errc::audience_mismatch: return "bad_audience";
    case auth_errc::type_not_allowed: return "bad_type";
    case auth_errc::id_token_rejected: return "id_token_rejected";
    case auth_errc::scope_insufficient: return "insufficient_scope";
    case auth_errc::claim_mismatch: return "missing_claim";
    case auth_errc::jwks_unavailable: return "jwks_unavailable";
    case auth_errc::introspection_inactive: return "introspection_inactive";
    case auth_errc::introspection_failed: return "introspection_failed";
    case auth_errc::jwks_malformed: return "jwks_malformed";
    case auth_errc::jwk_unsupported: return "jwk_unsupported";
    case auth_errc::jwk_invalid: return "jwk_invalid";
    case auth_errc::jwk_too_weak: return "jwk_too_weak";
    case auth_errc::jwks_no_usable_keys: return "jwks_no_usable_keys";
    case auth_errc::request_malformed: return "malformed_request";
    case auth_errc::claims_not_allowed: return "claim_mismatch";
    case auth_errc::session_missing: return "no_session";
    case auth_errc::session_ended: return "session_ended";
    case auth_errc::csrf_rejected: return "csrf";
    case auth_errc::refresh_unavailable: return "refresh_unavailable";
    case auth_errc::session_store_unavailable: return "session_store_unavailable";
    case auth_errc::token_revoked: return "revoked";
    case auth_errc::introspection_busy: return "introspection_busy";
    case auth_errc::user_authentication_insufficient: return "insufficient_user_authentication";
    case auth_errc::certificate_mismatch: return "certificate_mismatch";
    case auth_errc::dpop_proof_missing: return "dpop_missing";
    case auth_errc::dpop_proof_repeated: return "dpop_repeated";
    case auth_errc::dpop_proof_malformed: return "dpop_malformed";
    case auth_errc::dpop_type_invalid: return "dpop_bad_type";
    case auth_errc::dpop_alg_not_allowed: return "dpop_alg_not_allowed";
    case auth_errc::dpop_jwk_invalid: return "dpop_bad_jwk";
    case auth_errc::dpop_jwk_private: return "dpop_private_jwk";
    case auth_errc::dpop_signature_invalid: return "dpop_bad_signature";
    case auth_errc::dpop_htm_mismatch: return "dpop_htm_mismatch";
    case auth_errc::dpop_htu_mismatch: return "dpop_htu_mismatch";
    case auth_errc::dpop_iat_invalid: return "dpop_bad_iat";
    case auth_errc::dpop_ath_mismatch: return "dpop_ath_mismatch";
    case auth_errc::dpop_jkt_mismatch: return "dpop_jkt_mismatch";
    case auth_errc::dpop_jti_missing: return "dpop_no_jti";
    case auth_errc::dpop_replayed: return "dpop_replayed";
    case auth_errc::dpop_token_unbound: return "dpop_unbound_token";
    case auth_errc::dpop_bound_token_as_bearer: return "dpop_bound_as_bearer";
    case auth_errc::dpop_replay_unavailable: return "dpop_replay_unavailable";
    case auth_errc::dpop_nonce_missing: return "dpop_nonce_missing";
    case auth_errc::dpop_nonce_malformed: return "dpop_nonce_malformed";
    case auth_errc::dpop_nonce_stale: return "dpop_nonce_stale";
    case auth_errc::dpop_nonce_invalid: return "dpop_nonce_invalid";
  }
  return "internal";
}

std::string_view reason(std::error_code ec) {
  if (!ec) return "ok";
  if (ec.category() != auth_category()) return "internal";
  return reason(static_cast<auth_errc>(ec.value()));
}

bool is_dpop_proof_error(std::error_code ec) {
  return ec.category() == auth_category() && ec.value() >= static_cast<int>(auth_errc::dpop_proof_missing) &&
         ec.value() <= static_cast<int>(auth_errc::dpop_replayed);
}

bool is_dpop_nonce_error(std::error_code ec) {
  return ec.category() == auth_category() && ec.value() >= static_cast<int>(auth_errc::dpop_nonce_missing) &&
         ec.value() <= static_cast<int>(auth_errc::dpop_nonce_invalid);
}

}  // namespace authgate::auth
