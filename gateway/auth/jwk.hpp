// One public verification key from a JWK (RFC 7517, RFC 7518 §6, RFC 8037 §2),
// or a configured HMAC secret. The public key becomes an EVP_PKEY through
// OSSL_PARAM + EVP_PKEY_fromdata only (never the deprecated RSA_* / EC_KEY_*
// APIs). Pure: no I/O.
//
// Usage:
//   auto key = Jwk::from_json(jwk_object, KeyOptions{});
//   if (!key) log(key.error().message());       // jwk_unsupported, jwk_invalid, ...
//   if (key->compatible_with(Alg::ES256)) ...
//
// Accepted (KeyFamily::asymmetric):
//   kty "RSA": n, e; modulus of min_rsa_bits (2048) .. max_rsa_bits bits, odd; e odd, > 1.
//   kty "EC":  crv "P-256" | "P-384" | "P-521"; x, y of exactly the field size;
//              the point must be on the curve and not at infinity
//              (EVP_PKEY_public_check_quick: enough, as every such curve has cofactor 1).
//   kty "OKP": crv "Ed25519"; x of 32 bytes.
// Accepted (KeyFamily::hmac): kty "oct": k of at least min_hmac_bytes.
// A key of the other family is jwk_unsupported: HMAC secrets and JWKS keys never mix.
// Common members: "use", when present, must be "sig"; "key_ops", when present,
// must contain "verify" (key_mismatch otherwise). "alg", when present, must be a
// supported alg that fits kty/crv (key_mismatch) and, when
// KeyOptions::allowed_algs is not empty, one of them (alg_not_allowed).
// Private members ("d", "p", ...) are ignored; "x5c", "x5u" are not used.
#pragma once

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "common/result.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// OpenSSL's EVP_PKEY, declared so this header needs no OpenSSL include.
struct evp_pkey_st;

namespace authgate::auth {

enum class KeyFamily {
  asymmetric,  // RSA, EC, OKP public keys (a JWKS)
  hmac,        // "oct" secrets (secret_env / secret_file)
};

enum class KeyType { rsa, ec, okp, oct };
enum class Curve { none, p256, p384, p521, ed25519 };

struct KeyOptions {
  KeyFamily family = KeyFamily::asymmetric;  // the only family accepted
  std::vector<Alg> allowed_algs;             // empty: any supported alg of the family
  std::size_t min_rsa_bits = 2048;
  std::size_t max_rsa_bits = 16384;          // bounds verification cost
  std::size_t min_hmac_bytes = 32;           // RFC 7518 §3.2: at least the hash size
};

// Secret bytes, wiped (OPENSSL_cleanse) when destroyed. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view bytes);
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  std::span<const std::uint8_t> bytes() const { return bytes_; }

 private:
  void wipe() noexcept;
  std::vector<std::uint8_t> bytes_;
};

class Jwk {
 public:
  using Result = common::Result<Jwk>;

  static Result from_json(const boost::json::object& jwk, const KeyOptions& options);
  // A configured HMAC secret (raw bytes, not base64), at least min_hmac_bytes long.
  static Result from_hmac_secret(std::string_view secret, std::optional<std::string> kid,
                                 const KeyOptions& options);

  Jwk(Jwk&&) noexcept = default;
  Jwk& operator=(Jwk&&) noexcept = default;
  ~Jwk();

  const std::optional<std::string>& kid() const { return kid_; }
  KeyType type() const { return type_; }
  Curve curve() const { return curve_; }
  std::optional<Alg> alg() const { return alg_; }  // the JWK's own "alg", if any
  std::size_t bits() const { return bits_; }       // modulus, field or secret size
  evp_pkey_st* pkey() const { return pkey_.get(); }  // null for oct
  std::span<const std::uint8_t> secret() const { return secret_.bytes(); }  // empty unless oct

  // Whether this key can verify `alg`: kty/crv fit (RSA for RS*/PS*, P-256 for
  // ES256, P-384 for ES384, P-521 for ES512, Ed25519 for EdDSA, oct of at least
  // the hash size for HS*), and the JWK's own "alg", when set, is `alg`.
  bool compatible_with(Alg alg) const;

 private:
  struct PkeyFree {
    void operator()(evp_pkey_st* p) const noexcept;
  };

  Jwk() = default;

  std::optional<std::string> kid_;
  KeyType type_ = KeyType::oct;
  Curve curve_ = Curve::none;
  std::optional<Alg> alg_;
  std::size_t bits_ = 0;
  std::unique_ptr<evp_pkey_st, PkeyFree> pkey_;
  SecretBytes secret_;
};

// The RFC 7638 JWK thumbprint with SHA-256, base64url-encoded (the "jkt" of
// RFC 9449 and RFC 7800's cnf): the hash of the required members only (RSA: e,
// kty, n; EC: crv, kty, x, y; OKP: crv, kty, x; oct: k, kty), in that order,
// with no whitespace. jwk_invalid when one is missing or not a string, or
// holds a byte that would need JSON escaping (none of the valid values do);
// jwk_unsupported for another kty. Members are not otherwise validated: call
// it on a key Jwk::from_json accepted.
common::Result<std::string> jwk_thumbprint(const boost::json::object& jwk);

// base64url(SHA-256(bytes)).
std::string sha256_base64url(std::string_view bytes);

}  // namespace authgate::auth
