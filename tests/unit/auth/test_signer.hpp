// Test support (never linked into the gateway): generates keys at test time with
// EVP, exports their public JWKs, and mints compact JWS tokens from raw header
// and payload JSON text, so tests can craft exactly the bytes they need
// (duplicate members, odd types, bad signatures).
//
// Usage:
//   const TestKey& k = rsa2048();                        // generated once per process
//   std::string jwks = jwks_of({k.public_jwk()});
//   std::string t = mint(k, "RS256", R"({"alg":"RS256","kid":"rsa-1"})", R"({"sub":"a"})");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ossl.hpp"

namespace authgate::auth::test {

using TestPkey = ossl::pkey_ptr;

enum class TestKeyType { rsa, ec, ed25519 };

struct TestKey {
  TestPkey pkey;
  TestKeyType type = TestKeyType::rsa;
  std::string kid;
  std::string crv;               // "P-256", "P-384", "Ed25519"; empty for RSA
  std::size_t coordinate = 0;    // EC coordinate bytes

  // The public JWK as JSON text; `extra` is spliced in verbatim (e.g. R"("use":"enc")").
  std::string public_jwk(std::string_view extra = {}) const;
};

TestKey make_rsa(int bits, std::string kid);
TestKey make_ec(std::string_view crv, std::string kid);  // "P-256" | "P-384" | "P-521"
TestKey make_ed25519(std::string kid);

// Process-wide keys, generated on first use (RSA generation is slow).
const TestKey& rsa2048();     // kid "rsa-1"
const TestKey& rsa2048_b();   // kid "rsa-2" (another key)
const TestKey& p256();        // kid "ec-256"
const TestKey& p384();        // kid "ec-384"
const TestKey& ed25519();     // kid "ed-1"

std::string b64(std::string_view bytes);  // base64url, no padding

// JOSE signature bytes over `signing_input` for alg ("RS256", "PS384", "ES256", "EdDSA", ...).
// ECDSA signatures are converted from OpenSSL's DER to raw r||s, as JOSE requires,
// unless `ecdsa_der` is set (to forge a DER-encoded signature).
std::string sign(const TestKey& key, std::string_view alg, std::string_view signing_input,
                 bool ecdsa_der = false);
std::string hmac(std::string_view alg, std::string_view secret, std::string_view signing_input);

// header.payload.signature with the given JSON texts.
std::string mint(const TestKey& key, std::string_view alg, std::string_view header_json,
                 std::string_view payload_json);
std::string mint_hmac(std::string_view alg, std::string_view secret, std::string_view header_json,
                      std::string_view payload_json);
// With an explicit raw signature (already in JOSE form).
std::string assemble(std::string_view header_json, std::string_view payload_json,
                     std::string_view signature_bytes);

// {"keys":[...]} from JWK JSON texts.
std::string jwks_of(const std::vector<std::string>& jwks);

// DER ECDSA signature -> raw r||s with `n` bytes per half, and back (for forgeries).
std::string ecdsa_der_to_raw(std::string_view der, std::size_t n);

}  // namespace authgate::auth::test
