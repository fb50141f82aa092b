// Micro-benchmarks of the pure JWT core (gateway/auth), Google Benchmark 1.7.
//
//   BM_ParseVerify/<alg>   parse_jwt + verify, uncached: every iteration parses the
//                          token and checks the signature and every claim.
//   BM_ParseVerifyCached/<alg>  a verified-token cache hit: lookup + claim re-check + scopes.
//   BM_Parse/<alg>         parse_jwt only (base64url, strict JSON, claim types).
//   BM_VerifySignature/<alg>  verify_signature on a parsed token: alg check, key lookup,
//                          digest and the signature check alone (compare with `openssl speed`).
//   BM_KeySetFromJwks/...  KeySet::from_jwks_json (JSON, JWK -> EVP_PKEY, EC curve checks).
//   BM_DpopProof/ES256/{key_cache,no_cache}  verify_dpop_proof on a fresh proof each
//                          iteration, all from one client key (as a DPoP client sends them),
//                          with an access token (ath) and its cnf.jkt: everything but the jti
//                          replay check; with a DpopKeyCache (the gateway's path) or importing
//                          the jwk every time.
//   BM_P256VerifyRaw       one EVP_PKEY_verify of a precomputed SHA-256 digest on a ready
//                          context: the floor for BM_DpopProof/ES256.
//
// Keys come from tests/unit/auth/test_signer (generated once per process, outside
// the timed loops); the clock is fixed, so tokens never expire mid-run.
// How to run: load-tests/README.md, "Micro-benchmarks".
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/alg.hpp"
#include "auth/dpop.hpp"
#include "auth/jwk.hpp"
#include "auth/strict_json.hpp"
#include "auth/jwt.hpp"
#include "auth/jwt_verifier.hpp"
#include "auth/key_set.hpp"
#include "auth/scopes.hpp"
#include "auth/test_signer.hpp"
#include "common/expiring_cache.hpp"

#include <memory>

#include <openssl/evp.h>

namespace {

using namespace authgate::auth;
namespace t = authgate::auth::test;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::string_view kIss = "https://idp.example.com/";
constexpr std::string_view kAud = "api://orders";
// 64 bytes: long enough for every HS* (RFC 7518 §3.2).
constexpr std::string_view kSecret =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// A typical access token payload (~350 bytes of JSON, like a real IdP's).
std::string payload() {
  return R"({"iss":")" + std::string(kIss) + R"(","sub":"248289761001","aud":")" + std::string(kAud) +
         R"(","exp":)" + std::to_string(kNow + 3600) + R"(,"iat":)" + std::to_string(kNow - 60) +
         R"(,"nbf":)" + std::to_string(kNow - 60) +
         R"(,"jti":"3f2c9d6e-8a41-4f0b-9b1e-6c7d2a5e4f10","client_id":"orders-frontend",)"
         R"("scope":"orders:read orders:write profile email","tenant":"acme","roles":["buyer","admin"]})";
}

// One algorithm's signing key, verification key set and a token minted with it.
struct Fixture {
  KeySetPtr keys;
  std::string token;
  VerifyPolicy policy;
};

const t::TestKey& key_for(Alg alg) {
  switch (family(alg)) {
    case AlgFamily::rsa_pkcs1:
    case AlgFamily::rsa_pss: return t::rsa2048();
    case AlgFamily::eddsa: return t::ed25519();
    default: return alg == Alg::ES384 ? t::p384() : t::p256();
  }
}

Fixture make_fixture(Alg alg) {
  Fixture f;
  f.policy.issuer = std::string(kIss);
  f.policy.audiences = {std::string(kAud)};
  f.policy.allowed_algs = {alg};
  const std::string name(to_string(alg));
  if (is_hmac(alg)) {
    f.keys = *KeySet::from_hmac_secret(kSecret, std::string("hs-1"));
    f.token = t::mint_hmac(name, kSecret, R"({"alg":")" + name + R"(","typ":"JWT","kid":"hs-1"})", payload());
    return f;
  }
  const t::TestKey& k = key_for(alg);
  // The issuer publishes several keys, as real JWKS documents do; kid picks one.
  auto keys = KeySet::from_jwks_json(t::jwks_of({t::rsa2048().public_jwk(), t::p256().public_jwk(),
                                                 t::p384().public_jwk(), t::ed25519().public_jwk()}));
  if (!keys) return f;
  f.keys = *keys;
  f.token = t::mint(k, name, R"({"alg":")" + name + R"(","typ":"JWT","kid":")" + k.kid + R"("})", payload());
  return f;
}

void BM_ParseVerify(benchmark::State& state, Alg alg) {
  const Fixture f = make_fixture(alg);
  if (!f.keys) {
    state.SkipWithError("key set construction failed");
    return;
  }
  for (auto _ : state) {
    ParsedJwt jwt;
    std::error_code ec = parse_jwt(f.token, kDefaultMaxTokenBytes, jwt);
    if (!ec) ec = verify(jwt, *f.keys, f.policy, kNow);
    if (ec) {
      state.SkipWithError(ec.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(jwt);
  }
  state.counters["token_bytes"] = static_cast<double>(f.token.size());
}

void BM_Parse(benchmark::State& state, Alg alg) {
  const Fixture f = make_fixture(alg);
  for (auto _ : state) {
    ParsedJwt jwt;
    if (parse_jwt(f.token, kDefaultMaxTokenBytes, jwt)) {
      state.SkipWithError("parse_jwt failed");
      break;
    }
    benchmark::DoNotOptimize(jwt);
  }
  state.counters["token_bytes"] = static_cast<double>(f.token.size());
}

void BM_VerifySignature(benchmark::State& state, Alg alg) {
  const Fixture f = make_fixture(alg);
  ParsedJwt jwt;
  if (!f.keys || parse_jwt(f.token, kDefaultMaxTokenBytes, jwt)) {
    state.SkipWithError("fixture failed");
    return;
  }
  const Alg allowed[] = {alg};
  for (auto _ : state) {
    if (verify_signature(jwt, *f.keys, allowed)) {
      state.SkipWithError("verify_signature failed");
      break;
    }
  }
}

enum class JwksKind { rsa2048, p256, ed25519, mixed4 };

// Built inside the benchmark, not at registration, so listing tests generates no key.
std::vector<std::string> jwks_for(JwksKind kind) {
  switch (kind) {
    case JwksKind::rsa2048: return {t::rsa2048().public_jwk()};
    case JwksKind::p256: return {t::p256().public_jwk()};
    case JwksKind::ed25519: return {t::ed25519().public_jwk()};
    case JwksKind::mixed4: break;
  }
  return {t::rsa2048().public_jwk(), t::p256().public_jwk(), t::p384().public_jwk(),
          t::ed25519().public_jwk()};
}

void BM_KeySetFromJwks(benchmark::State& state, JwksKind kind) {
  const std::vector<std::string> jwks = jwks_for(kind);
  const std::string doc = t::jwks_of(jwks);
  for (auto _ : state) {
    auto keys = KeySet::from_jwks_json(doc);
    if (!keys || (*keys)->size() != jwks.size()) {
      state.SkipWithError("from_jwks_json did not keep every key");
      break;
    }
    benchmark::DoNotOptimize(keys);
  }
  state.counters["keys"] = static_cast<double>(jwks.size());
  state.counters["jwks_bytes"] = static_cast<double>(doc.size());
}

void BM_KeySetFromHmacSecret(benchmark::State& state) {
  for (auto _ : state) {
    auto keys = KeySet::from_hmac_secret(kSecret, std::string("hs-1"));
    benchmark::DoNotOptimize(keys);
  }
}

// kProofs proofs of one P-256 client key, each with its own jti (signed outside the timed loop).
constexpr std::size_t kProofs = 512;
constexpr std::string_view kHtu = "https://api.example.com/orders/42";
constexpr std::string_view kAccessToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl";

std::vector<std::string> dpop_proofs() {
  const t::TestKey& k = t::p256();
  const std::string header = R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + k.public_jwk() + "}";
  std::vector<std::string> proofs;
  for (std::size_t i = 0; i < kProofs; ++i)
    proofs.push_back(t::mint(k, "ES256", header,
                             R"({"jti":"bench-)" + std::to_string(i) + R"(","htm":"GET","htu":")" +
                                 std::string(kHtu) + R"(","iat":)" + std::to_string(kNow) + R"(,"ath":")" +
                                 dpop_ath(kAccessToken) + R"("})"));
  return proofs;
}

void BM_DpopProof(benchmark::State& state, std::size_t key_cache_entries) {
  const std::vector<std::string> proofs = dpop_proofs();
  boost::json::object jwk;
  const bool parsed = detail::parse_strict_object(t::p256().public_jwk(), jwk) == detail::JsonError::none;
  const auto jkt = jwk_thumbprint(jwk);
  if (!parsed || !jkt) {
    state.SkipWithError("thumbprint failed");
    return;
  }
  const DpopRequest request{"GET", kHtu, kAccessToken, *jkt};
  const DpopPolicy policy;
  DpopKeyCache keys(key_cache_entries);
  std::size_t i = 0;
  for (auto _ : state) {
    auto proof = verify_dpop_proof(proofs[i++ % kProofs], request, policy, kNow, &keys);
    if (!proof) {
      state.SkipWithError(proof.error().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
  state.counters["proof_bytes"] = static_cast<double>(proofs[0].size());
}

void BM_P256VerifyRaw(benchmark::State& state) {
  EVP_PKEY* pkey = t::p256().pkey.get();
  const std::string message = "a DPoP proof's signing input, hashed outside the loop";
  unsigned char digest[32];
  unsigned int digest_len = 0;
  unsigned char sig[80];
  std::size_t sig_len = sizeof sig;
  authgate::ossl::pkey_ctx_ptr sign_ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  authgate::ossl::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (EVP_Digest(message.data(), message.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1 ||
      EVP_PKEY_sign_init(sign_ctx.get()) != 1 ||
      EVP_PKEY_sign(sign_ctx.get(), sig, &sig_len, digest, digest_len) != 1 ||
      EVP_PKEY_verify_init(ctx.get()) != 1) {
    state.SkipWithError("P-256 set-up failed");
    return;
  }
  for (auto _ : state) {
    if (EVP_PKEY_verify(ctx.get(), sig, sig_len, digest, digest_len) != 1) {
      state.SkipWithError("verify failed");
      break;
    }
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_DpopProof, ES256/key_cache, 1000);
BENCHMARK_CAPTURE(BM_DpopProof, ES256/no_cache, 0);
BENCHMARK(BM_P256VerifyRaw);

BENCHMARK_CAPTURE(BM_ParseVerify, RS256, Alg::RS256);
BENCHMARK_CAPTURE(BM_ParseVerify, PS256, Alg::PS256);
BENCHMARK_CAPTURE(BM_ParseVerify, ES256, Alg::ES256);
BENCHMARK_CAPTURE(BM_ParseVerify, ES384, Alg::ES384);
BENCHMARK_CAPTURE(BM_ParseVerify, EdDSA, Alg::EdDSA);
BENCHMARK_CAPTURE(BM_ParseVerify, HS256, Alg::HS256);

BENCHMARK_CAPTURE(BM_Parse, RS256, Alg::RS256);
BENCHMARK_CAPTURE(BM_Parse, ES256, Alg::ES256);
BENCHMARK_CAPTURE(BM_Parse, HS256, Alg::HS256);

BENCHMARK_CAPTURE(BM_VerifySignature, RS256, Alg::RS256);
BENCHMARK_CAPTURE(BM_VerifySignature, ES256, Alg::ES256);

BENCHMARK_CAPTURE(BM_KeySetFromJwks, rsa2048, JwksKind::rsa2048);
BENCHMARK_CAPTURE(BM_KeySetFromJwks, p256, JwksKind::p256);
BENCHMARK_CAPTURE(BM_KeySetFromJwks, ed25519, JwksKind::ed25519);
BENCHMARK_CAPTURE(BM_KeySetFromJwks, mixed4, JwksKind::mixed4);
BENCHMARK(BM_KeySetFromHmacSecret);

// ---------------------------------------------------------------------------
// BM_ParseVerifyCached/<alg>: the hit path of the verified-token cache as the
// gateway takes it (access/access_control.cpp): look the raw token up in a
// common::ExpiringCache holding the parsed token, then re-check the claims
// (verify_claims against kNow) and extract the scopes -- no parse, no signature.
// Registered next to BM_ParseVerify so the report shows cached vs uncached.
// ---------------------------------------------------------------------------
void BM_ParseVerifyCached(benchmark::State& state, Alg alg) {
  const Fixture f = make_fixture(alg);
  if (!f.keys) {
    state.SkipWithError("key set construction failed");
    return;
  }
  authgate::common::ExpiringCache<std::shared_ptr<const ParsedJwt>> cache(100'000);
  auto jwt = std::make_shared<ParsedJwt>();
  if (parse_jwt(f.token, kDefaultMaxTokenBytes, *jwt) || verify(*jwt, *f.keys, f.policy, kNow)) {
    state.SkipWithError("warm-up verification failed");
    return;
  }
  cache.insert(f.token, jwt, kNow + 3600, kNow);
  for (auto _ : state) {
    auto hit = cache.find(f.token, kNow);
    if (!hit || verify_claims(**hit, f.policy, kNow)) {
      state.SkipWithError("cache miss or claim failure");
      break;
    }
    auto scopes = extract_scopes((*hit)->claims(), "scope");
    benchmark::DoNotOptimize(scopes);
  }
}
BENCHMARK_CAPTURE(BM_ParseVerifyCached, RS256, Alg::RS256);
BENCHMARK_CAPTURE(BM_ParseVerifyCached, ES256, Alg::ES256);
BENCHMARK_CAPTURE(BM_ParseVerifyCached, EdDSA, Alg::EdDSA);
