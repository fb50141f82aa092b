// Unit tests for auth/jwt_verifier with tokens minted at test time (keys from
// test_signer.cpp, fixed clock kNow):
//   - every supported algorithm verifies;
//   - a table of forged tokens, one row per rejection reason (habit 23/25);
//   - a signature mutation sweep: flipped bits, truncations and extensions are
//     always signature_invalid or token_malformed, never accepted (habit 24).
#include <gtest/gtest.h>

#include <openssl/err.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/base64url.hpp"
#include "auth/jwt_verifier.hpp"
#include "test_signer.hpp"

namespace {

using namespace authgate::auth;
namespace t = authgate::auth::test;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kIss = "https://idp.example.com/";
constexpr std::string_view kAud = "api://orders";
constexpr std::string_view kLoginClient = "web-login";
// 64 bytes: long enough for HS512 (RFC 7518 §3.2).
const std::string kSecret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// The claims of a good access token, each field overridable.
struct Claims {
  std::optional<std::string> iss = std::string(kIss);
  std::optional<std::string> aud_json = "\"" + std::string(kAud) + "\"";
  std::optional<std::int64_t> exp = kNow + 300;
  std::optional<std::int64_t> nbf;
  std::optional<std::int64_t> iat = kNow - 10;
  std::string extra;  // more members, JSON text without braces

  std::string json() const {
    std::string out = R"({"sub":"user-1","scope":"read:orders")";
    if (iss) out += R"(,"iss":")" + *iss + "\"";
    if (aud_json) out += R"(,"aud":)" + *aud_json;
    if (exp) out += R"(,"exp":)" + std::to_string(*exp);
    if (nbf) out += R"(,"nbf":)" + std::to_string(*nbf);
    if (iat) out += R"(,"iat":)" + std::to_string(*iat);
    if (!extra.empty()) out += "," + extra;
    return out + "}";
  }
};

std::string header(std::string_view alg, std::string_view kid, std::string_view extra = {}) {
  std::string out = R"({"alg":")" + std::string(alg) + "\"";
  if (!kid.empty()) out += R"(,"kid":")" + std::string(kid) + "\"";
  if (!extra.empty()) out += "," + std::string(extra);
  return out + "}";
}

std::string rs256(const Claims& c = {}, std::string_view header_extra = {}) {
  return t::mint(t::rsa2048(), "RS256", header("RS256", "rsa-1", header_extra), c.json());
}
std::string es256_input(const Claims& c = {}) {
  return t::b64(header("ES256", "ec-256")) + "." + t::b64(c.json());
}

// --- Key sets and policy ---

const KeySet& standard_keys() {
  // rsa-2 is published for encryption only: skipped at load time.
  static const KeySetPtr keys = *KeySet::from_jwks_json(
      t::jwks_of({t::rsa2048().public_jwk(), t::p256().public_jwk(), t::p384().public_jwk(),
                  t::ed25519().public_jwk(), t::rsa2048_b().public_jwk(R"("use":"enc")")}));
  return *keys;
}
const KeySet& two_rsa_keys() {
  static const KeySetPtr keys =
      *KeySet::from_jwks_json(t::jwks_of({t::rsa2048().public_jwk(), t::rsa2048_b().public_jwk()}));
  return *keys;
}
const KeySet& hmac_keys() {
  static const KeySetPtr keys = *KeySet::from_hmac_secret(kSecret);
  return *keys;
}

VerifyPolicy base_policy() {
  VerifyPolicy p;
  p.issuer = std::string(kIss);
  p.audiences = {std::string(kAud), "api://other"};
  // HS256 is allowed on purpose: key confusion must be stopped by the key set's
  // family, not only by the allowlist.
  p.allowed_algs = {Alg::RS256, Alg::PS256, Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::HS256};
  p.login_client_ids = {std::string(kLoginClient)};
  return p;
}

std::error_code check(std::string_view token, const KeySet& keys, const VerifyPolicy& policy,
                      std::int64_t now = kNow) {
  ParsedJwt jwt;
  if (auto ec = parse_jwt(token, kDefaultMaxTokenBytes, jwt)) return ec;
  return verify(jwt, keys, policy, now);
}

// --- Every algorithm ---

TEST(JwtVerifier, EverySupportedAlgorithmVerifies) {
  const auto p521 = t::make_ec("P-521", "ec-521");
  auto keys = KeySet::from_jwks_json(t::jwks_of({t::rsa2048().public_jwk(), t::p256().public_jwk(),
                                                  t::p384().public_jwk(), p521.public_jwk(),
                                                  t::ed25519().public_jwk()}));
  ASSERT_TRUE(keys);
  VerifyPolicy policy = base_policy();
  policy.allowed_algs.assign(std::begin(kAllAlgs), std::end(kAllAlgs));
  struct Case {
    const t::TestKey* key;
    const char* alg;
  };
  for (Case c : {Case{&t::rsa2048(), "RS256"}, Case{&t::rsa2048(), "RS384"}, Case{&t::rsa2048(), "RS512"},
                 Case{&t::rsa2048(), "PS256"}, Case{&t::rsa2048(), "PS384"}, Case{&t::rsa2048(), "PS512"},
                 Case{&t::p256(), "ES256"}, Case{&t::p384(), "ES384"}, Case{&p521, "ES512"},
                 Case{&t::ed25519(), "EdDSA"}}) {
    const std::string token = t::mint(*c.key, c.alg, header(c.alg, c.key->kid), Claims{}.json());
    EXPECT_FALSE(check(token, **keys, policy)) << c.alg << ": " << check(token, **keys, policy).message();
  }
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    const std::string token = t::mint_hmac(alg, kSecret, header(alg, ""), Claims{}.json());
    EXPECT_FALSE(check(token, hmac_keys(), policy)) << alg;
  }
}

TEST(JwtVerifier, EcdsaSignaturesOfEveryShapeConvertToDer) {
  // Many signatures cover r/s with a high bit set (DER needs a 0x00 pad) and with
  // leading zero bytes (trimmed); P-521 needs the long-form DER length.
  const auto p521 = t::make_ec("P-521", "ec-521");
  auto keys = KeySet::from_jwks_json(t::jwks_of({t::p256().public_jwk(), p521.public_jwk()}));
  ASSERT_TRUE(keys);
  VerifyPolicy policy = base_policy();
  policy.allowed_algs = {Alg::ES256, Alg::ES512};
  for (int i = 0; i < 150; ++i) {
    Claims c;
    c.extra = R"("n":)" + std::to_string(i);
    const std::string t256 = t::mint(t::p256(), "ES256", header("ES256", "ec-256"), c.json());
    ASSERT_FALSE(check(t256, **keys, policy)) << i;
    if (i % 3 == 0) {
      const std::string t521 = t::mint(p521, "ES512", header("ES512", "ec-521"), c.json());
      ASSERT_FALSE(check(t521, **keys, policy)) << i;
    }
  }
}

TEST(JwtVerifier, ChronoOverloadAndSignatureOnly) {
  ParsedJwt jwt;
  ASSERT_FALSE(parse_jwt(rs256(), kDefaultMaxTokenBytes, jwt));
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
  EXPECT_FALSE(verify(jwt, standard_keys(), base_policy(), now));
  EXPECT_EQ(verify(jwt, standard_keys(), base_policy(), now + std::chrono::hours(1)), auth_errc::expired);
  const Alg rs[] = {Alg::RS256};
  const Alg es[] = {Alg::ES256};
  EXPECT_FALSE(verify_signature(jwt, standard_keys(), rs));
  EXPECT_EQ(verify_signature(jwt, standard_keys(), es), auth_errc::alg_not_allowed);
  // The verified-token cache re-checks only claims.
  EXPECT_FALSE(verify_claims(jwt, base_policy(), kNow));
  EXPECT_EQ(verify_claims(jwt, base_policy(), kNow + 400), auth_errc::expired);
}

TEST(JwtVerifier, FailuresLeaveNoOpenSslErrors) {
  const std::string token = rs256();
  std::string bad = token;
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  ERR_clear_error();
  EXPECT_EQ(check(bad, standard_keys(), base_policy()), auth_errc::signature_invalid);
  EXPECT_EQ(ERR_peek_error(), 0u);
  auto input = es256_input();
  const std::string short_sig = t::sign(t::p256(), "ES256", input).substr(1);
  EXPECT_EQ(check(input + "." + t::b64(short_sig), standard_keys(), base_policy()),
            auth_errc::signature_invalid);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// --- Forged tokens: one row per rejection reason ---

enum class Keys { standard, two_rsa, hmac };

struct Row {
  const char* name;                        // test name suffix
  std::function<std::string()> token;      // minted when the test runs
  std::error_code expected;                // {} = accepted
  Keys keys = Keys::standard;
  std::function<void(VerifyPolicy&)> tweak = {};
};

const KeySet& keys_of(Keys k) {
  switch (k) {
    case Keys::standard: return standard_keys();
    case Keys::two_rsa: return two_rsa_keys();
    case Keys::hmac: return hmac_keys();
  }
  return standard_keys();
}

Claims with(std::function<void(Claims&)> f) {
  Claims c;
  f(c);
  return c;
}

// A good RS256 token with its signature part replaced by `sig_b64`.
std::string replace_signature(const std::string& token, std::string_view sig_b64) {
  return token.substr(0, token.rfind('.') + 1) + std::string(sig_b64);
}

std::vector<Row> forged_rows() {
  using E = auth_errc;
  const std::error_code ok{};
  return {
      // Sanity: the baseline of every row is accepted.
      {"baseline_rs256", [] { return rs256(); }, ok},
      {"baseline_es256", [] { return t::mint(t::p256(), "ES256", header("ES256", "ec-256"), Claims{}.json()); }, ok},
      {"baseline_eddsa", [] { return t::mint(t::ed25519(), "EdDSA", header("EdDSA", "ed-1"), Claims{}.json()); }, ok},
      {"baseline_hs256_with_secret", [] { return t::mint_hmac("HS256", kSecret, header("HS256", ""), Claims{}.json()); },
       ok, Keys::hmac},

      // alg
      {"alg_none", [] { return t::assemble(header("none", "rsa-1"), Claims{}.json(), ""); }, E::alg_not_allowed},
      {"alg_None", [] { return t::assemble(header("None", "rsa-1"), Claims{}.json(), ""); }, E::alg_not_allowed},
      {"alg_NONE", [] { return t::assemble(header("NONE", ""), Claims{}.json(), ""); }, E::alg_not_allowed},
      {"alg_none_with_hmac_set", [] { return t::assemble(header("none", ""), Claims{}.json(), ""); },
       E::alg_not_allowed, Keys::hmac},
      {"alg_unknown", [] { return t::mint(t::rsa2048(), "RS256", header("RS257", "rsa-1"), Claims{}.json()); },
       E::alg_not_allowed},
      {"alg_lowercase", [] { return t::mint(t::rsa2048(), "RS256", header("rs256", "rsa-1"), Claims{}.json()); },
       E::alg_not_allowed},
      {"alg_not_in_allowlist", [] { return t::mint(t::rsa2048(), "RS384", header("RS384", "rsa-1"), Claims{}.json()); },
       E::alg_not_allowed},
      {"hs256_signed_with_rsa_public_key_key_confusion",
       [] { return t::mint_hmac("HS256", t::rsa2048().public_jwk(), header("HS256", "rsa-1"), Claims{}.json()); },
       E::alg_not_allowed},
      {"rs256_against_hmac_secret_set", [] { return rs256(); }, E::alg_not_allowed, Keys::hmac},

      // crit / b64
      {"crit", [] { return rs256({}, R"("crit":["exp"],"exp":1)"); }, E::crit_unsupported},
      {"b64_false", [] { return rs256({}, R"("b64":false,"crit":["b64"])"); }, E::crit_unsupported},

      // structure
      {"two_parts", [] { auto tk = rs256(); return tk.substr(0, tk.rfind('.')); }, E::token_malformed},
      {"four_parts", [] { return rs256() + ".AAAA"; }, E::token_malformed},
      {"five_parts_jwe", [] { return t::b64(R"({"alg":"RSA-OAEP","enc":"A256GCM"})") + ".AAAA.AAAA.AAAA.AAAA"; },
       E::token_malformed},
      {"padding_in_header", [] { auto tk = rs256(); return tk.insert(tk.find('.'), "="); }, E::token_malformed},
      {"padding_in_signature", [] { return rs256() + "="; }, E::token_malformed},
      {"standard_base64_chars", [] { auto tk = rs256(); tk[tk.size() - 3] = '+'; return tk; }, E::token_malformed},
      {"whitespace_in_token", [] { auto tk = rs256(); return tk.insert(tk.find('.') + 1, " "); }, E::token_malformed},
      {"header_not_an_object", [] { return t::mint(t::rsa2048(), "RS256", R"(["RS256"])", Claims{}.json()); },
       E::token_malformed},
      {"payload_an_array", [] { return t::mint(t::rsa2048(), "RS256", header("RS256", "rsa-1"), R"([{"sub":"x"}])"); },
       E::token_malformed},
      {"duplicate_member_in_header",
       [] { return t::mint(t::rsa2048(), "RS256", R"({"alg":"RS256","kid":"rsa-1","kid":"ec-256"})", Claims{}.json()); },
       E::token_malformed},
      {"duplicate_member_in_payload",
       [] { return rs256(with([](Claims& c) { c.extra = R"("sub":"admin")"; })); }, E::token_malformed},
      {"exp_as_string",
       [] {
         return rs256(with([](Claims& c) {
           c.exp.reset();
           c.extra = R"("exp":")" + std::to_string(kNow + 300) + "\"";
         }));
       },
       E::token_malformed},
      {"aud_as_number", [] { return rs256(with([](Claims& c) { c.aud_json = "42"; })); }, E::token_malformed},
      {"kid_as_number", [] { return t::mint(t::rsa2048(), "RS256", R"({"alg":"RS256","kid":1})", Claims{}.json()); },
       E::token_malformed},
      {"oversized_token",
       [] { return rs256(with([](Claims& c) { c.extra = R"("pad":")" + std::string(20000, 'x') + "\""; })); },
       E::token_malformed},

      // typ
      {"typ_jwt_ok", [] { return rs256({}, R"("typ":"JWT")"); }, ok},
      {"typ_at_jwt_any_case_ok", [] { return rs256({}, R"("typ":"AT+JWT")"); }, ok},
      {"typ_application_at_jwt_ok", [] { return rs256({}, R"("typ":"application/at+jwt")"); }, ok},
      {"typ_not_allowed", [] { return rs256({}, R"("typ":"JOSE")"); }, E::type_not_allowed},
      {"typ_dpop_not_allowed", [] { return rs256({}, R"("typ":"dpop+jwt")"); }, E::type_not_allowed},
      {"require_at_jwt_with_typ_jwt", [] { return rs256({}, R"("typ":"JWT")"); }, E::type_not_allowed,
       Keys::standard, [](VerifyPolicy& p) { p.require_at_jwt = true; }},
      {"require_at_jwt_without_typ", [] { return rs256(); }, E::type_not_allowed, Keys::standard,
       [](VerifyPolicy& p) { p.require_at_jwt = true; }},
      {"require_at_jwt_with_at_jwt", [] { return rs256({}, R"("typ":"at+jwt")"); }, ok, Keys::standard,
       [](VerifyPolicy& p) { p.require_at_jwt = true; }},

      // keys
      {"unknown_kid", [] { return t::mint(t::rsa2048(), "RS256", header("RS256", "rotated-away"), Claims{}.json()); },
       E::kid_unknown},
      {"kid_of_an_encryption_key", [] { return t::mint(t::rsa2048_b(), "RS256", header("RS256", "rsa-2"), Claims{}.json()); },
       E::kid_unknown},
      {"kty_alg_mismatch_es256_on_rsa_key",
       [] { return t::mint(t::p256(), "ES256", header("ES256", "rsa-1"), Claims{}.json()); }, E::key_mismatch},
      {"crv_alg_mismatch_es384_on_p256_key",
       [] { return t::mint(t::p384(), "ES384", header("ES384", "ec-256"), Claims{}.json()); }, E::key_mismatch},
      {"no_kid_single_compatible_key_ok",
       [] { return t::mint(t::p256(), "ES256", header("ES256", ""), Claims{}.json()); }, ok},
      {"no_kid_several_compatible_keys",
       [] { return t::mint(t::rsa2048(), "RS256", header("RS256", ""), Claims{}.json()); }, E::kid_unknown,
       Keys::two_rsa},

      // signatures
      {"signed_by_another_key", [] { return t::mint(t::rsa2048_b(), "RS256", header("RS256", "rsa-1"), Claims{}.json()); },
       E::signature_invalid},
      {"empty_signature", [] { return replace_signature(rs256(), ""); }, E::signature_invalid},
      {"pss_signature_under_rs256",
       [] {
         const std::string input = t::b64(header("RS256", "rsa-1")) + "." + t::b64(Claims{}.json());
         return input + "." + t::b64(t::sign(t::rsa2048(), "PS256", input));
       },
       E::signature_invalid},
      {"hs256_wrong_secret",
       [] { return t::mint_hmac("HS256", std::string(64, 'x'), header("HS256", ""), Claims{}.json()); },
       E::signature_invalid, Keys::hmac},
      {"ecdsa_der_signature",
       [] {
         const auto input = es256_input();
         return input + "." + t::b64(t::sign(t::p256(), "ES256", input, /*ecdsa_der=*/true));
       },
       E::signature_invalid},
      {"ecdsa_raw_one_byte_short",
       [] {
         const auto input = es256_input();
         return input + "." + t::b64(t::sign(t::p256(), "ES256", input).substr(1));
       },
       E::signature_invalid},
      {"ecdsa_raw_one_byte_long",
       [] {
         const auto input = es256_input();
         return input + "." + t::b64(std::string(1, '\0') + t::sign(t::p256(), "ES256", input));
       },
       E::signature_invalid},
      {"ecdsa_r_zero",
       [] {
         const auto input = es256_input();
         const std::string sig = t::sign(t::p256(), "ES256", input);
         return input + "." + t::b64(std::string(32, '\0') + sig.substr(32));
       },
       E::signature_invalid},
      {"ecdsa_s_zero",
       [] {
         const auto input = es256_input();
         const std::string sig = t::sign(t::p256(), "ES256", input);
         return input + "." + t::b64(sig.substr(0, 32) + std::string(32, '\0'));
       },
       E::signature_invalid},
      {"eddsa_signature_truncated",
       [] {
         const std::string tk = t::mint(t::ed25519(), "EdDSA", header("EdDSA", "ed-1"), Claims{}.json());
         std::string sig;
         EXPECT_TRUE(base64url_decode(tk.substr(tk.rfind('.') + 1), sig));
         return replace_signature(tk, t::b64(sig.substr(0, 63)));
       },
       E::signature_invalid},

      // time
      {"expired_beyond_leeway", [] { return rs256(with([](Claims& c) { c.exp = kNow - 31; })); }, E::expired},
      {"expired_at_leeway_edge", [] { return rs256(with([](Claims& c) { c.exp = kNow - 30; })); }, E::expired},
      {"exp_within_leeway_ok", [] { return rs256(with([](Claims& c) { c.exp = kNow - 29; })); }, ok},
      {"expired_without_leeway", [] { return rs256(with([](Claims& c) { c.exp = kNow; })); }, E::expired,
       Keys::standard, [](VerifyPolicy& p) { p.leeway_seconds = 0; }},
      {"exp_as_real_is_floored_ok",
       [] {
         return rs256(with([](Claims& c) {
           c.exp.reset();
           c.extra = R"("exp":)" + std::to_string(kNow + 10) + ".75";
         }));
       },
       ok},
      {"exp_missing", [] { return rs256(with([](Claims& c) { c.exp.reset(); })); }, E::claim_mismatch},
      {"exp_missing_not_required_ok", [] { return rs256(with([](Claims& c) { c.exp.reset(); })); }, ok,
       Keys::standard, [](VerifyPolicy& p) { p.require_exp = false; }},
      {"nbf_in_future", [] { return rs256(with([](Claims& c) { c.nbf = kNow + 31; })); }, E::not_yet_valid},
      {"nbf_within_leeway_ok", [] { return rs256(with([](Claims& c) { c.nbf = kNow + 30; })); }, ok},
      {"iat_in_future", [] { return rs256(with([](Claims& c) { c.iat = kNow + 3600; })); }, E::issued_in_future},
      {"iat_in_future_allowed", [] { return rs256(with([](Claims& c) { c.iat = kNow + 3600; })); }, ok,
       Keys::standard, [](VerifyPolicy& p) { p.reject_future_iat = false; }},

      // issuer
      {"wrong_iss", [] { return rs256(with([](Claims& c) { c.iss = "https://evil.example.com/"; })); },
       E::issuer_mismatch},
      {"iss_without_trailing_slash",
       [] { return rs256(with([](Claims& c) { c.iss = "https://idp.example.com"; })); }, E::issuer_mismatch},
      {"iss_missing", [] { return rs256(with([](Claims& c) { c.iss.reset(); })); }, E::issuer_mismatch},
      {"policy_issuer_empty_fails_closed", [] { return rs256(); }, E::issuer_mismatch, Keys::standard,
       [](VerifyPolicy& p) { p.issuer.clear(); }},

      // audience
      {"wrong_aud", [] { return rs256(with([](Claims& c) { c.aud_json = R"("api://billing")"; })); },
       E::audience_mismatch},
      {"aud_missing", [] { return rs256(with([](Claims& c) { c.aud_json.reset(); })); }, E::audience_mismatch},
      {"aud_empty_array", [] { return rs256(with([](Claims& c) { c.aud_json = "[]"; })); }, E::audience_mismatch},
      {"aud_array_containing_one_good_ok",
       [] { return rs256(with([](Claims& c) { c.aud_json = R"(["api://billing","api://orders"])"; })); }, ok},
      {"aud_case_differs", [] { return rs256(with([](Claims& c) { c.aud_json = R"("API://orders")"; })); },
       E::audience_mismatch},

      // ID tokens
      {"nonce_present_is_id_token", [] { return rs256(with([](Claims& c) { c.extra = R"("nonce":"n-0S6_WzA2Mj")"; })); },
       E::id_token_rejected},
      {"aud_is_login_client_id",
       [] { return rs256(with([](Claims& c) { c.aud_json = R"("web-login")"; })); }, E::id_token_rejected},
      {"aud_includes_login_client_id",
       [] { return rs256(with([](Claims& c) { c.aud_json = R"(["api://orders","web-login"])"; })); },
       E::id_token_rejected},
      {"nonce_accepted_when_id_token_check_off",
       [] { return rs256(with([](Claims& c) { c.extra = R"("nonce":"n")"; })); }, ok, Keys::standard,
       [](VerifyPolicy& p) { p.reject_id_tokens = false; }},

      // required claims
      {"required_claim_missing", [] { return rs256(); }, E::claim_mismatch, Keys::standard,
       [](VerifyPolicy& p) { p.required_claims = {"sub", "client_id"}; }},
      {"required_claim_null", [] { return rs256(with([](Claims& c) { c.extra = R"("client_id":null)"; })); },
       E::claim_mismatch, Keys::standard, [](VerifyPolicy& p) { p.required_claims = {"client_id"}; }},
      {"required_claims_present_ok", [] { return rs256(with([](Claims& c) { c.extra = R"("client_id":"c1")"; })); },
       ok, Keys::standard, [](VerifyPolicy& p) { p.required_claims = {"sub", "client_id"}; }},
  };
}

class ForgedTokens : public ::testing::TestWithParam<Row> {};

TEST_P(ForgedTokens, IsRejectedWithItsReason) {
  const Row& row = GetParam();
  VerifyPolicy policy = base_policy();
  if (row.tweak) row.tweak(policy);
  const std::string token = row.token();
  const std::error_code ec = check(token, keys_of(row.keys), policy);
  EXPECT_EQ(ec, row.expected) << "got: " << (ec ? ec.message() : "accepted")
                              << "\nwanted: " << (row.expected ? row.expected.message() : "accepted");
}

INSTANTIATE_TEST_SUITE_P(Table, ForgedTokens, ::testing::ValuesIn(forged_rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return std::string(info.param.name); });

// --- Mutation sweep ---

// Calls f with variants of `token` whose signature is damaged: every bit flipped
// (one at a time), every truncation, extensions, and text-level edits.
template <class F>
void for_each_signature_mutation(const std::string& token, F&& f) {
  const std::size_t dot = token.rfind('.');
  const std::string prefix = token.substr(0, dot + 1);
  std::string sig;
  ASSERT_TRUE(base64url_decode(token.substr(dot + 1), sig));
  for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
    std::string m = sig;
    m[bit / 8] = static_cast<char>(m[bit / 8] ^ (1 << (bit % 8)));
    f(prefix + t::b64(m));
  }
  for (std::size_t len = 0; len < sig.size(); ++len) f(prefix + t::b64(sig.substr(0, len)));
  f(prefix + t::b64(sig + std::string(1, '\0')));
  f(prefix + t::b64(sig + sig));
  f(prefix + t::b64(std::string(sig.size(), '\0')));
  f(prefix + t::b64(std::string(sig.size(), '\xff')));
  f(token.substr(0, token.size() - 1));
  f(token + "A");
  f(prefix);
}

TEST(SignatureMutationSweep, NeverAccepted) {
  struct Case {
    const char* alg;
    std::string token;
    const KeySet* keys;
  };
  const Claims c;
  const std::vector<Case> cases = {
      {"RS256", t::mint(t::rsa2048(), "RS256", header("RS256", "rsa-1"), c.json()), &standard_keys()},
      {"PS256", t::mint(t::rsa2048(), "PS256", header("PS256", "rsa-1"), c.json()), &standard_keys()},
      {"ES256", t::mint(t::p256(), "ES256", header("ES256", "ec-256"), c.json()), &standard_keys()},
      {"ES384", t::mint(t::p384(), "ES384", header("ES384", "ec-384"), c.json()), &standard_keys()},
      {"EdDSA", t::mint(t::ed25519(), "EdDSA", header("EdDSA", "ed-1"), c.json()), &standard_keys()},
      {"HS256", t::mint_hmac("HS256", kSecret, header("HS256", ""), c.json()), &hmac_keys()},
  };
  const VerifyPolicy policy = base_policy();
  for (const Case& k : cases) {
    ASSERT_FALSE(check(k.token, *k.keys, policy)) << k.alg;
    std::size_t variants = 0;
    for_each_signature_mutation(k.token, [&](const std::string& mutated) {
      ++variants;
      const std::error_code ec = check(mutated, *k.keys, policy);
      EXPECT_TRUE(ec == auth_errc::signature_invalid || ec == auth_errc::token_malformed)
          << k.alg << " variant " << variants << ": " << (ec ? ec.message() : "ACCEPTED");
    });
    EXPECT_GT(variants, 100u) << k.alg;
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SignatureMutationSweep, SignedBytesCannotChange) {
  // Flip bits of the decoded header and payload and re-encode, keeping the
  // original signature: nothing that still parses may verify.
  const Claims c;
  const std::string hdr = header("ES256", "ec-256");
  const std::string payload = c.json();
  const std::string good = t::mint(t::p256(), "ES256", hdr, payload);
  const std::string sig_part = good.substr(good.rfind('.') + 1);
  const VerifyPolicy policy = base_policy();
  auto run = [&](const std::string& h, const std::string& p) {
    const std::string tk = t::b64(h) + "." + t::b64(p) + "." + sig_part;
    const std::error_code ec = check(tk, standard_keys(), policy);
    EXPECT_TRUE(ec) << "accepted a modified token: " << h << " " << p;
  };
  for (std::size_t bit = 0; bit < payload.size() * 8; bit += 3) {
    std::string p = payload;
    p[bit / 8] = static_cast<char>(p[bit / 8] ^ (1 << (bit % 8)));
    run(hdr, p);
  }
  for (std::size_t bit = 0; bit < hdr.size() * 8; ++bit) {
    std::string h = hdr;
    h[bit / 8] = static_cast<char>(h[bit / 8] ^ (1 << (bit % 8)));
    run(h, payload);
  }
}

}  // namespace
