// The fixed world every auth fuzz target runs in: one key set of public keys
// (RSA-2048, EC P-256, EC P-384, Ed25519), one HMAC secret key set, a fixed
// policy for each and a fixed clock. Nothing here is random, so a crashing input
// reproduces anywhere. Test-only; never linked into the gateway.
//
// Key material:
//   - RSA and EC public JWKs: fuzz_keys.inc, written by make_seeds together with
//     the seed tokens of corpus/jwt/ (their private halves were discarded);
//   - Ed25519: a fixed private seed below, so jwt_claims_fuzz can sign with it;
//   - HMAC: kHmacSecret below.
// Usage:
//   const auto& env = authgate::fuzz::env();
//   verify(jwt, *env.asym, env.asym_policy, authgate::fuzz::kNow);
//   authgate::fuzz::check_accepted(jwt, env.asym_policy, /*hmac_set=*/false);  // after a success
#pragma once

#include "auth/jwt.hpp"
#include "auth/jwt_verifier.hpp"
#include "auth/key_set.hpp"
#include "auth/test_signer.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace authgate::fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "FUZZ INVARIANT VIOLATED: %s (%s:%d)\n", what, file, line);
  std::abort();
}

inline constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15
inline constexpr std::string_view kIssuer = "https://idp.example.com/";
inline constexpr std::string_view kAudience = "api://orders";
inline constexpr std::string_view kLoginClient = "web-login";
// 64 bytes: enough for HS512 (RFC 7518 §3.2).
inline constexpr std::string_view kHmacSecret =
    "fuzz-only-hmac-secret-0123456789abcdef0123456789abcdef0123456789";
inline constexpr std::string_view kHmacKid = "hs-1";

// Ed25519 private key: the published one of RFC 8037 A.1 (= RFC 8032 §7.1 TEST 1),
// public x "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo". Fuzzing only.
inline constexpr unsigned char kEd25519Seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};

inline const auth::test::TestKey& ed25519_key() {
  static const auth::test::TestKey key = [] {
    auth::test::TestKey k;
    k.pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, kEd25519Seed, sizeof kEd25519Seed));
    if (!k.pkey) fail("Ed25519 key from seed", __FILE__, __LINE__);
    k.type = auth::test::TestKeyType::ed25519;
    k.crv = "Ed25519";
    k.kid = "ed-1";
    return k;
  }();
  return key;
}

struct Env {
  auth::KeySetPtr asym;               // rsa-1, ec-256, ec-384, ed-1
  auth::KeySetPtr hmac;               // hs-1
  auth::VerifyPolicy asym_policy;     // RS256 PS256 ES256 ES384 EdDSA
  auth::VerifyPolicy hmac_policy;     // HS256 HS384
  const auth::test::TestKey* ed25519 = nullptr;  // private key, kid "ed-1"
};

// Built on first use; aborts when the fixed keys do not load.
const Env& env();

// The asymmetric public keys as a JWKS document (what env().asym was built from).
const std::string& jwks_json();

// Invariants of a token that verify() accepted under `policy`, checked from the
// claims object independently of the verifier; aborts on a violation.
void check_accepted(const auth::ParsedJwt& jwt, const auth::VerifyPolicy& policy, bool hmac_set);

// Every error of the auth core is of the auth category.
void check_error(const std::error_code& ec);

// verify() under `policy`, cross-checked against verify_signature(), check_type()
// and verify_claims() (the same steps in the documented order, first failure
// wins), and check_accepted() on success. Returns whether verify() accepted.
bool verify_and_check(const auth::ParsedJwt& jwt, const auth::KeySet& keys, const auth::VerifyPolicy& policy,
                      bool hmac_set);

}  // namespace authgate::fuzz

// An invariant of the code under test; a violation aborts, which libFuzzer and
// the replay driver report as a crash together with the input.
#define FUZZ_CHECK(cond) \
  ((cond) ? (void)0 : ::authgate::fuzz::fail(#cond, __FILE__, __LINE__))
