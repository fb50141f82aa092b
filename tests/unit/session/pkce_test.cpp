// Unit tests for session/pkce: the RFC 7636 Appendix B vector, and fresh pairs
// (43-character base64url verifiers, matching S256 challenges, distinct).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "session/pkce.hpp"

namespace {

using namespace authgate::session;

TEST(Pkce, Rfc7636AppendixB) {
  EXPECT_EQ(pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, ChallengeIsUnpaddedBase64url) {
  const std::string c = pkce_challenge_s256("x");
  EXPECT_EQ(c.size(), 43u);
  EXPECT_EQ(c.find_first_of("+/="), std::string::npos);
}

TEST(Pkce, FreshPair) {
  const PkcePair p = make_pkce();
  EXPECT_EQ(p.verifier.size(), 43u);  // RFC 7636 §4.1: 43..128
  EXPECT_EQ(p.verifier.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(p.challenge, pkce_challenge_s256(p.verifier));
}

TEST(Pkce, PairsDiffer) {
  std::set<std::string> verifiers;
  for (int i = 0; i < 100; ++i) verifiers.insert(make_pkce().verifier);
  EXPECT_EQ(verifiers.size(), 100u);
}

}  // namespace
