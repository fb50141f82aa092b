// Unit tests for auth/jwk and auth/key_set: JWK -> EVP_PKEY for each supported
// key type, every reason a JWKS entry is skipped, and key selection by kid/alg.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

#include "auth/base64url.hpp"
#include "auth/key_set.hpp"
#include "test_signer.hpp"

namespace {

using namespace authgate::auth;
namespace t = authgate::auth::test;

Jwk::Result jwk(std::string_view json, const KeyOptions& options = {}) {
  return Jwk::from_json(boost::json::parse(json).as_object(), options);
}

std::error_code jwk_error(std::string_view json, const KeyOptions& options = {}) {
  auto k = jwk(json, options);
  return k ? std::error_code{} : k.error();
}

std::string str(const boost::json::value& v) {
  const auto& s = v.as_string();
  return std::string(s.data(), s.size());
}
boost::json::value json_string(const std::string& s) {
  return boost::json::value(boost::json::string_view(s.data(), s.size()));
}

// Replaces the value of member `name` in a JWK JSON text.
std::string with_member(std::string json, std::string_view name, std::string_view value_json) {
  auto obj = boost::json::parse(json).as_object();
  obj[name] = boost::json::parse(value_json);
  return boost::json::serialize(obj);
}

// RFC 7517 A.1 P-256 public key (used again in rfc_vectors_test.cpp).
constexpr std::string_view kRfcP256 =
    R"({"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",)"
    R"("y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"})";

TEST(Jwk, LoadsEachSupportedKeyType) {
  struct Case {
    const t::TestKey* key;
    KeyType type;
    Curve curve;
    std::size_t bits;
    Alg alg;
  };
  const Case cases[] = {{&t::rsa2048(), KeyType::rsa, Curve::none, 2048, Alg::RS256},
                        {&t::p256(), KeyType::ec, Curve::p256, 256, Alg::ES256},
                        {&t::p384(), KeyType::ec, Curve::p384, 384, Alg::ES384},
                        {&t::ed25519(), KeyType::okp, Curve::ed25519, 256, Alg::EdDSA}};
  for (const Case& c : cases) {
    auto k = jwk(c.key->public_jwk());
    ASSERT_TRUE(k) << c.key->kid << ": " << k.error().message();
    EXPECT_EQ(k->type(), c.type);
    EXPECT_EQ(k->curve(), c.curve);
    EXPECT_EQ(k->bits(), c.bits);
    EXPECT_EQ(k->kid(), c.key->kid);
    EXPECT_NE(k->pkey(), nullptr);
    EXPECT_TRUE(k->secret().empty());
    EXPECT_TRUE(k->compatible_with(c.alg));
  }
  const auto p521 = t::make_ec("P-521", "ec-521");
  auto k = jwk(p521.public_jwk());
  ASSERT_TRUE(k);
  EXPECT_EQ(k->curve(), Curve::p521);
  EXPECT_TRUE(k->compatible_with(Alg::ES512));
}

TEST(Jwk, CompatibilityFollowsKtyCrvAndTheKeysOwnAlg) {
  auto rsa = jwk(t::rsa2048().public_jwk());
  ASSERT_TRUE(rsa);
  for (Alg a : {Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512}) {
    EXPECT_TRUE(rsa->compatible_with(a));
  }
  for (Alg a : {Alg::ES256, Alg::EdDSA, Alg::HS256}) EXPECT_FALSE(rsa->compatible_with(a));

  auto ec = jwk(t::p256().public_jwk());
  ASSERT_TRUE(ec);
  EXPECT_TRUE(ec->compatible_with(Alg::ES256));
  EXPECT_FALSE(ec->compatible_with(Alg::ES384));  // crv must match the alg's curve
  EXPECT_FALSE(ec->compatible_with(Alg::RS256));

  auto pinned = jwk(t::rsa2048().public_jwk(R"("alg":"PS256")"));
  ASSERT_TRUE(pinned);
  EXPECT_EQ(pinned->alg(), Alg::PS256);
  EXPECT_TRUE(pinned->compatible_with(Alg::PS256));
  EXPECT_FALSE(pinned->compatible_with(Alg::RS256));  // the key names its one alg
}

TEST(Jwk, UseAndKeyOps) {
  EXPECT_FALSE(jwk_error(t::rsa2048().public_jwk(R"("use":"sig")")));
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("use":"enc")")), auth_errc::key_mismatch);
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("use":"SIG")")), auth_errc::key_mismatch);
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("use":1)")), auth_errc::jwk_invalid);
  EXPECT_FALSE(jwk_error(t::rsa2048().public_jwk(R"("key_ops":["verify"])")));
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("key_ops":["encrypt"])")), auth_errc::key_mismatch);
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("key_ops":"verify")")), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(kRfcP256), auth_errc::key_mismatch);
}

TEST(Jwk, AlgMember) {
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("alg":"ES256")")), auth_errc::key_mismatch);
  EXPECT_EQ(jwk_error(t::p256().public_jwk(R"("alg":"ES384")")), auth_errc::key_mismatch);
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("alg":"RSA-OAEP")")), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("alg":"none")")), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("alg":5)")), auth_errc::jwk_invalid);
  KeyOptions only_es;
  only_es.allowed_algs = {Alg::ES256};
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(R"("alg":"RS256")"), only_es), auth_errc::alg_not_allowed);
  EXPECT_FALSE(jwk_error(t::rsa2048().public_jwk(), only_es));  // no alg: kept, checked per token
}

TEST(Jwk, RsaParameters) {
  const std::string good = t::rsa2048().public_jwk();
  EXPECT_EQ(jwk_error(with_member(good, "n", R"("")")), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(good, "n", R"("AQAB=")")), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(good, "e", R"(65537)")), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(good, "e", R"("AQ")")), auth_errc::jwk_invalid);   // e = 1
  EXPECT_EQ(jwk_error(with_member(good, "e", R"("AQAA")")), auth_errc::jwk_invalid);  // even e
  EXPECT_EQ(jwk_error(R"({"kty":"RSA","e":"AQAB"})"), auth_errc::jwk_invalid);

  // A leading zero octet in n is tolerated (some IdPs emit one).
  auto obj = boost::json::parse(good).as_object();
  std::string n;
  ASSERT_TRUE(base64url_decode(str(obj["n"]), n));
  obj["n"] = json_string(t::b64(std::string(1, '\0') + n));
  auto k = jwk(boost::json::serialize(obj));
  ASSERT_TRUE(k);
  EXPECT_EQ(k->bits(), 2048u);
}

TEST(Jwk, RsaModulusBounds) {
  const auto small = t::make_rsa(1024, "small");
  EXPECT_EQ(jwk_error(small.public_jwk()), auth_errc::jwk_too_weak);
  KeyOptions lenient;
  lenient.min_rsa_bits = 1024;
  EXPECT_FALSE(jwk_error(small.public_jwk(), lenient));
  KeyOptions tight;
  tight.max_rsa_bits = 1536;
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(), tight), auth_errc::jwk_unsupported);
}

TEST(Jwk, EcParameters) {
  const std::string good = t::p256().public_jwk();
  auto obj = boost::json::parse(good).as_object();
  std::string y;
  ASSERT_TRUE(base64url_decode(str(obj["y"]), y));

  // Point not on the curve: y with its last bit flipped.
  std::string bad_y = y;
  bad_y.back() = static_cast<char>(bad_y.back() ^ 1);
  EXPECT_EQ(jwk_error(with_member(good, "y", "\"" + t::b64(bad_y) + "\"")), auth_errc::jwk_invalid);
  // Coordinates must have the curve's exact length.
  EXPECT_EQ(jwk_error(with_member(good, "y", "\"" + t::b64(y.substr(1)) + "\"")), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(good, "y", "\"" + t::b64(std::string(1, '\0') + y) + "\"")),
            auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(good, "crv", R"("secp256k1")")), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(with_member(good, "crv", R"("P-384")")), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(good, "crv", R"(256)")), auth_errc::jwk_invalid);
  // (0, 0) and all-zero coordinates.
  const std::string zero = "\"" + t::b64(std::string(32, '\0')) + "\"";
  EXPECT_EQ(jwk_error(with_member(with_member(good, "x", zero), "y", zero)), auth_errc::jwk_invalid);
}

TEST(Jwk, OkpParameters) {
  const std::string good = t::ed25519().public_jwk();
  EXPECT_EQ(jwk_error(with_member(good, "crv", R"("Ed448")")), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(with_member(good, "crv", R"("X25519")")), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(with_member(good, "x", "\"" + t::b64(std::string(31, 'a')) + "\"")),
            auth_errc::jwk_invalid);
}

TEST(Jwk, FamiliesNeverMix) {
  const std::string secret_jwk = R"({"kty":"oct","k":")" + t::b64(std::string(32, 's')) + R"(","kid":"h"})";
  EXPECT_EQ(jwk_error(secret_jwk), auth_errc::jwk_unsupported);  // no oct in a JWKS
  const KeyOptions hmac = KeySet::hmac_options();
  auto k = jwk(secret_jwk, hmac);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->type(), KeyType::oct);
  EXPECT_EQ(k->secret().size(), 32u);
  EXPECT_EQ(k->pkey(), nullptr);
  EXPECT_TRUE(k->compatible_with(Alg::HS256));
  EXPECT_FALSE(k->compatible_with(Alg::HS384));  // shorter than the hash: RFC 7518 §3.2
  EXPECT_EQ(jwk_error(t::rsa2048().public_jwk(), hmac), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(R"({"kty":"oct","k":")" + t::b64("short") + R"("})", hmac), auth_errc::jwk_too_weak);
}

TEST(Jwk, Kty) {
  EXPECT_EQ(jwk_error(R"({"n":"AQAB","e":"AQAB"})"), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(R"({"kty":"rsa"})"), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(R"({"kty":"DSA"})"), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_error(R"({"kty":7})"), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_error(with_member(t::rsa2048().public_jwk(), "kid", "7")), auth_errc::jwk_invalid);
}

// --- KeySet::from_jwks_json ---

TEST(KeySet, SkipsUnusableKeysAndKeepsTheRest) {
  const auto small = t::make_rsa(1024, "small");
  auto off_curve = boost::json::parse(t::p256().public_jwk()).as_object();
  off_curve["kid"] = "off-curve";
  {
    std::string y;
    ASSERT_TRUE(base64url_decode(str(off_curve["y"]), y));
    y.back() = static_cast<char>(y.back() ^ 1);
    off_curve["y"] = json_string(t::b64(y));
  }
  const std::string jwks = t::jwks_of({
      R"({"kty":"DSA","kid":"dsa"})",                                  // 0 unsupported kty
      t::rsa2048_b().public_jwk(R"("use":"enc")"),                     // 1 encryption key
      small.public_jwk(),                                             // 2 RSA-1024
      boost::json::serialize(off_curve),                              // 3 EC point off the curve
      t::rsa2048().public_jwk(R"("use":"sig","alg":"RS256")"),         // 4 usable
      R"("not an object")",                                           // 5
      t::p256().public_jwk(),                                         // 6 usable
      R"({"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0IQ","kid":"h"})",  // 7 oct in JWKS
      t::ed25519().public_jwk(),                                      // 8 usable
  });
  std::vector<SkippedKey> skipped;
  auto set = KeySet::from_jwks_json(jwks, {}, &skipped);
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ((*set)->size(), 3u);
  EXPECT_FALSE((*set)->is_hmac());
  ASSERT_EQ(skipped.size(), 6u);
  EXPECT_EQ(skipped[0].index, 0u);
  EXPECT_EQ(skipped[0].kid, "dsa");
  EXPECT_EQ(skipped[0].error, auth_errc::jwk_unsupported);  // the first error, for logs
  EXPECT_EQ(skipped[1].kid, "rsa-2");
  EXPECT_EQ(skipped[1].error, auth_errc::key_mismatch);
  EXPECT_EQ(skipped[2].error, auth_errc::jwk_too_weak);
  EXPECT_EQ(skipped[3].kid, "off-curve");
  EXPECT_EQ(skipped[3].error, auth_errc::jwk_invalid);
  EXPECT_EQ(skipped[4].index, 5u);
  EXPECT_EQ(skipped[4].error, auth_errc::jwk_invalid);
  EXPECT_EQ(skipped[5].index, 7u);
  EXPECT_EQ(skipped[5].error, auth_errc::jwk_unsupported);
}

TEST(KeySet, FailsWhenNothingIsUsable) {
  const auto small = t::make_rsa(1024, "small");
  std::vector<SkippedKey> skipped;
  auto set = KeySet::from_jwks_json(
      t::jwks_of({small.public_jwk(), t::rsa2048().public_jwk(R"("use":"enc")")}), {}, &skipped);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error(), auth_errc::jwks_no_usable_keys);
  EXPECT_EQ(skipped.size(), 2u);
  EXPECT_EQ(KeySet::from_jwks_json(R"({"keys":[]})").error(), auth_errc::jwks_no_usable_keys);
}

TEST(KeySet, RejectsDocumentsThatAreNotAJwks) {
  for (const char* doc : {"", "[]", R"({"keys":{}})", R"({"key":[]})", R"({"keys":[],"keys":[]})", "{"}) {
    auto set = KeySet::from_jwks_json(doc);
    ASSERT_FALSE(set) << doc;
    EXPECT_EQ(set.error(), auth_errc::jwks_malformed) << doc;
  }
  // A duplicate member inside a key refuses the whole document (strict JSON).
  auto set = KeySet::from_jwks_json(R"({"keys":[{"kty":"RSA","kty":"EC"}]})");
  EXPECT_EQ(set.error(), auth_errc::jwks_malformed);
}

TEST(KeySet, MaxKeys) {
  KeySetOptions opts;
  opts.max_keys = 1;
  std::vector<SkippedKey> skipped;
  auto set = KeySet::from_jwks_json(t::jwks_of({t::rsa2048().public_jwk(), t::p256().public_jwk()}), opts,
                                    &skipped);
  ASSERT_TRUE(set);
  EXPECT_EQ((*set)->size(), 1u);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].error, auth_errc::jwks_malformed);
}

TEST(KeySet, HmacSecretSet) {
  auto set = KeySet::from_hmac_secret(std::string(64, 'k'), "hs-1");
  ASSERT_TRUE(set);
  EXPECT_TRUE((*set)->is_hmac());
  EXPECT_EQ(KeySet::from_hmac_secret("too short").error(), auth_errc::jwk_too_weak);
  EXPECT_EQ(KeySet::from_hmac_secret("").error(), auth_errc::jwk_invalid);
  // from_keys refuses a key of the other family.
  auto rsa = Jwk::from_json(boost::json::parse(t::rsa2048().public_jwk()).as_object(), {});
  ASSERT_TRUE(rsa);
  std::vector<Jwk> keys;
  keys.push_back(std::move(*rsa));
  EXPECT_EQ(KeySet::from_keys(std::move(keys), KeyFamily::hmac).error(), auth_errc::jwk_unsupported);
}

// --- KeySet::find ---

class KeySetFind : public ::testing::Test {
 protected:
  static KeySetPtr load(const std::vector<std::string>& jwks) {
    auto set = KeySet::from_jwks_json(t::jwks_of(jwks));
    EXPECT_TRUE(set);
    return set ? *set : nullptr;
  }
  static std::error_code find_error(const KeySet& s, std::optional<std::string> kid, Alg alg) {
    auto k = s.find(kid, alg);
    return k ? std::error_code{} : k.error();
  }
};

TEST_F(KeySetFind, ByKidThenAlg) {
  auto s = load({t::rsa2048().public_jwk(), t::rsa2048_b().public_jwk(), t::p256().public_jwk()});
  auto k = s->find(std::string("rsa-2"), Alg::RS256);
  ASSERT_TRUE(k);
  EXPECT_EQ((*k)->kid(), "rsa-2");
  EXPECT_EQ(find_error(*s, "nope", Alg::RS256), auth_errc::kid_unknown);
  EXPECT_EQ(find_error(*s, "ec-256", Alg::RS256), auth_errc::key_mismatch);
  EXPECT_EQ(find_error(*s, "ec-256", Alg::ES384), auth_errc::key_mismatch);
  EXPECT_FALSE(find_error(*s, "ec-256", Alg::ES256));
}

TEST_F(KeySetFind, WithoutKidASingleCompatibleKeyIsUsed) {
  auto s = load({t::rsa2048().public_jwk(), t::p256().public_jwk()});
  auto k = s->find(std::nullopt, Alg::ES256);
  ASSERT_TRUE(k);
  EXPECT_EQ((*k)->kid(), "ec-256");
  EXPECT_EQ(find_error(*s, std::nullopt, Alg::EdDSA), auth_errc::key_mismatch);
  auto two = load({t::rsa2048().public_jwk(), t::rsa2048_b().public_jwk()});
  EXPECT_EQ(find_error(*two, std::nullopt, Alg::RS256), auth_errc::kid_unknown);  // ambiguous
}

TEST_F(KeySetFind, KeysWithoutKidServeTokensWhoseKidIsNotInTheSet) {
  auto no_kid = boost::json::parse(t::rsa2048().public_jwk()).as_object();
  no_kid.erase("kid");
  auto s = load({boost::json::serialize(no_kid), t::p256().public_jwk()});
  EXPECT_FALSE(find_error(*s, "whatever", Alg::RS256));
  EXPECT_EQ(find_error(*s, "whatever", Alg::ES256), auth_errc::key_mismatch);
  EXPECT_FALSE(find_error(*s, "ec-256", Alg::ES256));
  // With only kid-bearing keys, an unknown kid is unknown.
  auto t2 = load({t::rsa2048().public_jwk()});
  EXPECT_EQ(find_error(*t2, "whatever", Alg::RS256), auth_errc::kid_unknown);
}

}  // namespace
