// libFuzzer target: DPoP proof verification (RFC 9449, auth/dpop) on untrusted
// bytes. The input is the DPoP header's value. verify_dpop_proof runs on it
// against the request of RFC 9449 §5 Figure 2 (POST https://server.example.com/token
// at its iat), once with that key's thumbprint as the expected cnf.jkt and once
// with none; normalize_htu runs on the input as a URI.
//
// Invariants (a violation aborts):
//   - every refusal is a DPoP proof error of the auth category (never dpop_replayed:
//     replay is the caller's), and the two runs agree except for dpop_jkt_mismatch;
//   - an accepted proof parses as a JWT with typ dpop+jwt, an allowed asymmetric alg,
//     htm POST, a jti equal to the one returned, and a jwk whose RFC 7638 thumbprint is
//     the returned jkt (equal to the expected one in the first run);
//   - with a DpopKeyCache (one for the whole run, so a header accepted before is a
//     hit) the answer is the same as without: the same error, or the same jti, jkt, iat;
//   - normalize_htu is idempotent, and its result is an absolute http(s) URI with a path.
// The fuzzer cannot forge signatures: accepted proofs are the seed's.
#include "fuzz_env.hpp"

#include "auth/auth_errc.hpp"
#include "auth/dpop.hpp"
#include "auth/jwk.hpp"
#include "common/ascii.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace authgate;

namespace {

constexpr std::int64_t kIat = 1562262616;
constexpr std::string_view kHtu = "https://server.example.com/token";
constexpr std::string_view kJkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

common::Result<auth::DpopProof> verify(std::string_view proof, std::string_view jkt) {
  return auth::verify_dpop_proof(proof, {"POST", kHtu, {}, jkt}, auth::DpopPolicy{}, kIat);
}

void check_accepted(std::string_view proof, const auth::DpopProof& p) {
  auth::ParsedJwt jwt;
  FUZZ_CHECK(!auth::parse_jwt(proof, auth::DpopPolicy{}.max_proof_bytes, jwt));
  FUZZ_CHECK(jwt.typ() &&
             (common::iequals(*jwt.typ(), "dpop+jwt") || common::iequals(*jwt.typ(), "application/dpop+jwt")));
  const auto alg = auth::alg_from_string(jwt.alg());
  FUZZ_CHECK(alg && !auth::is_hmac(*alg));
  const auto* htm = jwt.claims().if_contains("htm");
  FUZZ_CHECK(htm && htm->is_string() && htm->get_string() == "POST");
  const auto* jti = jwt.claims().if_contains("jti");
  FUZZ_CHECK(jti && jti->is_string() && std::string_view(jti->get_string().data(), jti->get_string().size()) == p.jti);
  const auto* jwk = jwt.header().if_contains("jwk");
  FUZZ_CHECK(jwk && jwk->is_object());
  const auto jkt = auth::jwk_thumbprint(jwk->get_object());
  FUZZ_CHECK(jkt && *jkt == p.jkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const auto bound = verify(input, kJkt);
  const auto any_key = verify(input, {});
  for (const auto* r : {&bound, &any_key}) {
    if (r->has_value()) continue;
    fuzz::check_error(r->error());
    FUZZ_CHECK(auth::is_dpop_proof_error(r->error()) && r->error() != auth::auth_errc::dpop_replayed);
  }
  if (bound) {
    FUZZ_CHECK(bound->jkt == kJkt);
    check_accepted(input, *bound);
  }
  if (any_key) check_accepted(input, *any_key);
  // Without an expected jkt only the binding check can no longer fail.
  FUZZ_CHECK(bound.has_value() <= any_key.has_value());
  if (!bound && any_key) FUZZ_CHECK(bound.error() == auth::auth_errc::dpop_jkt_mismatch);
  if (!bound && !any_key) FUZZ_CHECK(bound.error() == any_key.error());

  static auth::DpopKeyCache keys(64);
  const auto cached = auth::verify_dpop_proof(input, {"POST", kHtu, {}, kJkt}, auth::DpopPolicy{}, kIat, &keys);
  FUZZ_CHECK(cached.has_value() == bound.has_value());
  if (bound) FUZZ_CHECK(cached->jti == bound->jti && cached->jkt == bound->jkt && cached->iat == bound->iat);
  else FUZZ_CHECK(cached.error() == bound.error());

  if (const auto n = auth::normalize_htu(input)) {
    FUZZ_CHECK(auth::normalize_htu(*n) == n);
    FUZZ_CHECK(n->starts_with("http://") || n->starts_with("https://"));
    FUZZ_CHECK(n->find('/', n->find("://") + 3) != std::string::npos);
  }
  return 0;
}

// For the replay driver: seed files named valid-* must verify.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  return verify(std::string_view(reinterpret_cast<const char*>(data), size), kJkt).has_value();
}
