// JWS algorithms the gateway implements (RFC 7518 §3, RFC 8037 §3.1). Pure.
//
// Usage:
//   auto a = alg_from_string(jwt.alg());   // exact, case-sensitive ("RS256", not "rs256")
//   if (!a) reject alg_not_allowed;         // "none" and anything unknown
//   policy.allowed_algs = {Alg::RS256, Alg::ES256};
//
// "none" is deliberately not an enumerator: it cannot be allowed by any configuration.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace authgate::auth {

enum class Alg {
  RS256, RS384, RS512,  // RSASSA-PKCS1-v1_5
  PS256, PS384, PS512,  // RSASSA-PSS, MGF1 with the same hash, salt = hash length
  ES256, ES384, ES512,  // ECDSA on P-256 / P-384 / P-521, raw r||s signatures
  EdDSA,                // Ed25519 (RFC 8037); Ed448 is not supported
  HS256, HS384, HS512,  // HMAC: only with a configured secret, never with JWKS keys
};

enum class AlgFamily { rsa_pkcs1, rsa_pss, ecdsa, eddsa, hmac };

// Every Alg, in declaration order (for tests and config validation).
inline constexpr Alg kAllAlgs[] = {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384,
                                   Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA,
                                   Alg::HS256, Alg::HS384, Alg::HS512};

std::optional<Alg> alg_from_string(std::string_view name);
std::string_view to_string(Alg alg);
AlgFamily family(Alg alg);
inline bool is_hmac(Alg alg) { return family(alg) == AlgFamily::hmac; }

// Digest output size in bytes (32/48/64); 0 for EdDSA, which hashes internally.
std::size_t hash_size(Alg alg);

// True for "none" in any spelling ("none", "None", "NONE", ...).
bool is_none_alg(std::string_view name);

}  // namespace authgate::auth
