// Unit tests for auth/alg: names round-trip exactly, "none" is never an Alg.
#include <gtest/gtest.h>

#include "auth/alg.hpp"

namespace {

using namespace authgate::auth;

TEST(Alg, EveryAlgRoundTripsThroughItsName) {
  for (Alg a : kAllAlgs) {
    auto back = alg_from_string(to_string(a));
    ASSERT_TRUE(back) << to_string(a);
    EXPECT_EQ(*back, a);
  }
}

TEST(Alg, NamesAreCaseSensitiveAndNoneIsNotAnAlg) {
  EXPECT_FALSE(alg_from_string("rs256"));
  EXPECT_FALSE(alg_from_string("Rs256"));
  EXPECT_FALSE(alg_from_string("EDDSA"));
  EXPECT_FALSE(alg_from_string("none"));
  EXPECT_FALSE(alg_from_string("Ed448"));
  EXPECT_FALSE(alg_from_string(""));
  EXPECT_FALSE(alg_from_string("RS256 "));
}

TEST(Alg, NoneInAnySpelling) {
  for (const char* s : {"none", "None", "NONE", "nOnE", "NoNe"}) EXPECT_TRUE(is_none_alg(s)) << s;
  for (const char* s : {"", "non", "nonee", " none", "n0ne"}) EXPECT_FALSE(is_none_alg(s)) << s;
}

TEST(Alg, FamiliesAndHashSizes) {
  EXPECT_EQ(family(Alg::RS384), AlgFamily::rsa_pkcs1);
  EXPECT_EQ(family(Alg::PS512), AlgFamily::rsa_pss);
  EXPECT_EQ(family(Alg::ES384), AlgFamily::ecdsa);
  EXPECT_EQ(family(Alg::EdDSA), AlgFamily::eddsa);
  EXPECT_TRUE(is_hmac(Alg::HS512));
  EXPECT_FALSE(is_hmac(Alg::RS256));
  EXPECT_EQ(hash_size(Alg::ES256), 32u);
  EXPECT_EQ(hash_size(Alg::HS384), 48u);
  EXPECT_EQ(hash_size(Alg::PS512), 64u);
  EXPECT_EQ(hash_size(Alg::EdDSA), 0u);
}

}  // namespace
