// Unit tests for session/refresh_policy: when a session's access token is due
// for a refresh, with a fixed clock (`now` passed in). The attack (issue 13):
// with refresh_before_expiry 30s and access tokens of 30 s or less, every token
// is due from the moment it arrives, so every request runs a refresh grant at
// the IdP. The margin is clamped to half the token's lifetime.
#include <gtest/gtest.h>

#include <cstdint>

#include "session/refresh_policy.hpp"

namespace {

using authgate::session::refresh_due;
using authgate::session::refresh_margin;
using authgate::session::Session;

constexpr std::int64_t kGrantAt = 1'767'225'600;  // the fixed clock: when the token arrived

Session granted(std::int64_t lifetime) {
  Session s;
  s.access_lifetime = lifetime;
  s.access_expires_at = kGrantAt + lifetime;
  return s;
}

TEST(RefreshPolicy, ThirtySecondTokensWithAThirtySecondMarginDoNotMakeEveryRequestARefreshGrant) {
  const Session s = granted(30);
  // Right after the grant, and up to half the lifetime: not due (was: due at once).
  for (std::int64_t t = 0; t < 15; ++t) EXPECT_FALSE(refresh_due(s, 30, kGrantAt + t)) << "t=" << t;
  // From half the lifetime on: due, until it has expired and after.
  for (std::int64_t t = 15; t <= 40; ++t) EXPECT_TRUE(refresh_due(s, 30, kGrantAt + t)) << "t=" << t;
}

TEST(RefreshPolicy, TokensShorterThanTheMarginAreRefreshedAtHalfTheirLifetime) {
  const Session s = granted(10);
  EXPECT_FALSE(refresh_due(s, 30, kGrantAt));
  EXPECT_FALSE(refresh_due(s, 30, kGrantAt + 4));
  EXPECT_TRUE(refresh_due(s, 30, kGrantAt + 5));
  const Session one = granted(1);  // margin 0: refreshed when it expires
  EXPECT_FALSE(refresh_due(one, 30, kGrantAt));
  EXPECT_TRUE(refresh_due(one, 30, kGrantAt + 1));
}

TEST(RefreshPolicy, LongLivedTokensKeepTheConfiguredMargin) {
  const Session s = granted(300);
  EXPECT_FALSE(refresh_due(s, 30, kGrantAt + 269));
  EXPECT_TRUE(refresh_due(s, 30, kGrantAt + 270));
  EXPECT_EQ(refresh_margin(30, 300).seconds, 30);
  EXPECT_FALSE(refresh_margin(30, 300).clamped);
  EXPECT_FALSE(refresh_margin(30, 60).clamped);  // exactly half: not clamped
  EXPECT_EQ(refresh_margin(30, 60).seconds, 30);
}

TEST(RefreshPolicy, TheMarginIsClampedToHalfTheLifetimeAndSaysSo) {
  EXPECT_EQ(refresh_margin(30, 30).seconds, 15);
  EXPECT_TRUE(refresh_margin(30, 30).clamped);
  EXPECT_EQ(refresh_margin(30, 59).seconds, 29);
  EXPECT_TRUE(refresh_margin(30, 59).clamped);
  EXPECT_EQ(refresh_margin(1, 1).seconds, 0);
  EXPECT_TRUE(refresh_margin(1, 1).clamped);
  EXPECT_EQ(refresh_margin(0, 1).seconds, 0);  // no margin: nothing to clamp
  EXPECT_FALSE(refresh_margin(0, 1).clamped);
}

TEST(RefreshPolicy, AnUnknownLifetimeKeepsTheConfiguredMargin) {
  Session s;  // a record stored before the lifetime was kept
  s.access_expires_at = kGrantAt + 30;
  EXPECT_TRUE(refresh_due(s, 30, kGrantAt));
  EXPECT_FALSE(refresh_margin(30, 0).clamped);
  EXPECT_EQ(refresh_margin(30, 0).seconds, 30);
}

}  // namespace
