// libFuzzer target: the claim and header checks behind a VALID signature.
// jwt_fuzz cannot forge signatures, so it rarely gets past step 4 of verify();
// here the input is raw JSON text, "<header JSON>\n<payload JSON>" (split at the
// first '\n'; no '\n' means an empty payload), and the target signs it itself:
// with the fixed HMAC secret for "HS256"/"HS384"/"HS512" (and any other alg),
// with the fixed Ed25519 key for "EdDSA" (fuzz_env.hpp). The token then goes
// through parse_jwt and verify() against both fixed key sets.
//
// Invariants (a violation aborts), on top of jwt_fuzz's (verify_and_check):
//   - parsing does not depend on the signature bytes;
//   - a correctly signed token of an allowed alg whose kid names the signing key
//     (or is absent) always passes the signature step;
//   - every accepted token meets the policy (check_accepted: iss, aud, exp, nbf,
//     iat, nonce, required claims, typ, alg family).
#include "fuzz_env.hpp"

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "auth/base64url.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace authgate;
namespace t = authgate::auth::test;

namespace {

// The compact token for header/payload JSON, signed for the alg its header names.
// Returns false when the unsigned token does not even parse.
bool sign(std::string_view header, std::string_view payload, std::string& token) {
  const fuzz::Env& env = fuzz::env();
  const std::string input = auth::base64url_encode(header) + "." + auth::base64url_encode(payload);

  // The alg is read from the parsed header: parse with an empty signature first.
  auth::ParsedJwt unsigned_jwt;
  const std::error_code ec = auth::parse_jwt(input + ".", auth::kDefaultMaxTokenBytes, unsigned_jwt);
  fuzz::check_error(ec);
  if (ec) return false;
  const auto alg = auth::alg_from_string(unsigned_jwt.alg());
  std::string signature;
  if (alg == auth::Alg::EdDSA) {
    signature = t::sign(*env.ed25519, "EdDSA", input);
  } else {
    const std::string_view hs = alg && auth::is_hmac(*alg) ? auth::to_string(*alg) : "HS256";
    signature = t::hmac(hs, fuzz::kHmacSecret, input);
  }
  token = input + "." + auth::base64url_encode(signature);
  return true;
}

// Whether `kid` selects the signing key in its set: absent, or the key's own kid.
bool kid_selects(const auth::ParsedJwt& jwt, std::string_view key_kid) {
  return !jwt.kid() || *jwt.kid() == key_kid;
}

bool allowed(const auth::VerifyPolicy& p, auth::Alg alg) {
  for (auth::Alg a : p.allowed_algs) {
    if (a == alg) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Env& env = fuzz::env();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  const std::string_view header = in.substr(0, nl);
  const std::string_view payload = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);

  std::string token;
  if (!sign(header, payload, token)) return 0;

  auth::ParsedJwt jwt;
  const std::error_code ec = auth::parse_jwt(token, auth::kDefaultMaxTokenBytes, jwt);
  // Parsing looked at the same header and payload a moment ago; only the size cap
  // can tell a signed token from the unsigned one.
  if (ec) {
    FUZZ_CHECK(ec == auth::auth_errc::token_malformed && token.size() > auth::kDefaultMaxTokenBytes);
    return 0;
  }
  FUZZ_CHECK(jwt.token() == token);

  const bool asym_ok = fuzz::verify_and_check(jwt, *env.asym, env.asym_policy, false);
  const bool hmac_ok = fuzz::verify_and_check(jwt, *env.hmac, env.hmac_policy, true);
  FUZZ_CHECK(!(asym_ok && hmac_ok));

  // A good signature with the right key is never refused at the signature step.
  const auto alg = auth::alg_from_string(jwt.alg());
  if (alg == auth::Alg::EdDSA && allowed(env.asym_policy, *alg) && kid_selects(jwt, "ed-1")) {
    FUZZ_CHECK(!auth::verify_signature(jwt, *env.asym, env.asym_policy.allowed_algs));
  }
  if (alg && auth::is_hmac(*alg) && allowed(env.hmac_policy, *alg) && kid_selects(jwt, fuzz::kHmacKid)) {
    FUZZ_CHECK(!auth::verify_signature(jwt, *env.hmac, env.hmac_policy.allowed_algs));
  }
  return 0;
}

// For the replay driver: seed files named valid-* must verify once signed.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  const fuzz::Env& env = fuzz::env();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string token;
  if (!sign(in.substr(0, nl), in.substr(nl + 1), token)) return 0;
  auth::ParsedJwt jwt;
  if (auth::parse_jwt(token, auth::kDefaultMaxTokenBytes, jwt)) return 0;
  return !auth::verify(jwt, *env.asym, env.asym_policy, fuzz::kNow) ||
         !auth::verify(jwt, *env.hmac, env.hmac_policy, fuzz::kNow);
}
