// PKCE (RFC 7636) for the authorization code flow: the S256 challenge of a
// verifier, and a fresh verifier/challenge pair. Pure apart from make_pkce()'s
// randomness.
//
// Usage:
//   PkcePair p = make_pkce();
//   authorize_url += "&code_challenge=" + p.challenge + "&code_challenge_method=S256";
//   login_state.verifier = p.verifier;           // sent later as code_verifier
//
// Rules:
// - Only S256 (plain is never offered).
// - The verifier is random_token(32): 43 characters of base64url, inside
//   RFC 7636 §4.1's 43..128 unreserved characters, 256 bits of entropy.
// - challenge = base64url(SHA-256(ASCII(verifier))) without padding (§4.2).
#pragma once

#include <string>
#include <string_view>

namespace authgate::session {

std::string pkce_challenge_s256(std::string_view verifier);

struct PkcePair {
  std::string verifier;
  std::string challenge;
};

PkcePair make_pkce();

}  // namespace authgate::session
