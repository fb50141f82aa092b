// libFuzzer target: the bearer-token path of the gateway on untrusted bytes.
// The input is the token text. parse_jwt runs on it; when it parses, verify()
// runs against the fixed asymmetric key set and, separately, the fixed HMAC key
// set (fuzz_env.hpp: fixed keys, policies and clock).
//
// Invariants (a violation aborts):
//   - parse_jwt keeps the token as received, the signing input is its first two
//     parts, and the signature re-encodes to the third part (canonical base64url);
//   - every error is of the auth category;
//   - verify() accepts only an allowed alg of the key set's own family, and only
//     claims that meet the policy (checked independently, check_accepted);
//   - verify() == verify_signature() + check_type() + verify_claims(), first failure wins.
// The fuzzer cannot forge signatures, so accepted tokens are the seed tokens (and
// ECDSA's (r, n-s) twins); jwt_claims_fuzz signs its inputs to reach the claim checks.
#include "fuzz_env.hpp"

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "auth/base64url.hpp"
#include "auth/scopes.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace authgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Env& env = fuzz::env();
  const std::string_view token(reinterpret_cast<const char*>(data), size);

  auth::ParsedJwt jwt;
  const std::error_code ec = auth::parse_jwt(token, auth::kDefaultMaxTokenBytes, jwt);
  fuzz::check_error(ec);
  if (ec) {
    FUZZ_CHECK(ec == auth::auth_errc::token_malformed || ec == auth::auth_errc::crit_unsupported);
    return 0;
  }

  // Shape of a parsed token.
  FUZZ_CHECK(size <= auth::kDefaultMaxTokenBytes);
  FUZZ_CHECK(jwt.token() == token);
  FUZZ_CHECK(std::count(token.begin(), token.end(), '.') == 2);
  const std::string_view input = jwt.signing_input();
  FUZZ_CHECK(input.size() < token.size() && token.substr(0, input.size()) == input);
  FUZZ_CHECK(token[input.size()] == '.');
  FUZZ_CHECK(std::count(input.begin(), input.end(), '.') == 1);
  FUZZ_CHECK(auth::base64url_encode(jwt.signature()) == token.substr(input.size() + 1));
  const boost::json::value* alg = jwt.header().if_contains("alg");
  FUZZ_CHECK(alg && alg->is_string());
  FUZZ_CHECK(std::string_view(alg->get_string().data(), alg->get_string().size()) == jwt.alg());
  FUZZ_CHECK(!jwt.header().contains("crit") && !jwt.header().contains("b64"));
  FUZZ_CHECK(jwt.has_aud() || jwt.aud().empty());
  (void)auth::extract_scopes(jwt.claims());
  (void)auth::extract_scopes(jwt.claims(), "roles");

  // A size cap below the token's size refuses it before anything else.
  if (size > 0) {
    auth::ParsedJwt capped;
    FUZZ_CHECK(auth::parse_jwt(token, size - 1, capped) == auth::auth_errc::token_malformed);
  }

  const bool asym_ok = fuzz::verify_and_check(jwt, *env.asym, env.asym_policy, false);
  const bool hmac_ok = fuzz::verify_and_check(jwt, *env.hmac, env.hmac_policy, true);
  FUZZ_CHECK(!(asym_ok && hmac_ok));  // no alg belongs to both families
  return 0;
}

// For the replay driver: seed files named valid-* must verify.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  const fuzz::Env& env = fuzz::env();
  auth::ParsedJwt jwt;
  if (auth::parse_jwt(std::string_view(reinterpret_cast<const char*>(data), size), auth::kDefaultMaxTokenBytes,
                      jwt)) {
    return 0;
  }
  return !auth::verify(jwt, *env.asym, env.asym_policy, fuzz::kNow) ||
         !auth::verify(jwt, *env.hmac, env.hmac_policy, fuzz::kNow);
}
