// Login floods (issue 13): the per-client token bucket and the per-instance
// bound on pending logins, with a fixed clock (times are passed in).
#include "session/login_limits.hpp"

#include <gtest/gtest.h>

#include <string>

namespace authgate::session {
namespace {

LoginRateLimiter::Options opts(std::uint64_t per_minute, std::uint64_t burst, std::uint64_t max_clients = 100) {
  return {per_minute, burst, max_clients};
}

TEST(LoginRateLimiter, LoginFloodFromOneClientIsRefusedAfterTheBurst) {
  LoginRateLimiter l(opts(60, 5));  // one token per second
  const std::int64_t t0 = 1'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.take("198.51.100.7", t0).allowed) << i;
  for (int i = 0; i < 100; ++i) {
    const auto v = l.take("198.51.100.7", t0);
    EXPECT_FALSE(v.allowed) << i;
    EXPECT_EQ(v.retry_after_s, 1) << i;
  }
}

TEST(LoginRateLimiter, RefillsAtTheConfiguredRateUpToTheBurst) {
  LoginRateLimiter l(opts(6, 2));  // one token per 10 s
  const std::int64_t t0 = 0;
  EXPECT_TRUE(l.take("a", t0).allowed);
  EXPECT_TRUE(l.take("a", t0).allowed);
  auto v = l.take("a", t0);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after_s, 10);
  v = l.take("a", t0 + 7'500);  // 0.75 token: 2.5 s to go, rounded up
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.retry_after_s, 3);
  EXPECT_TRUE(l.take("a", t0 + 10'000).allowed);  // 1.0 token (the refused take cost nothing)
  EXPECT_FALSE(l.take("a", t0 + 10'000).allowed);
  // A long pause refills to the burst, not beyond.
  EXPECT_TRUE(l.take("a", t0 + 1'000'000).allowed);
  EXPECT_TRUE(l.take("a", t0 + 1'000'000).allowed);
  EXPECT_FALSE(l.take("a", t0 + 1'000'000).allowed);
}

TEST(LoginRateLimiter, ClientsHaveTheirOwnBuckets) {
  LoginRateLimiter l(opts(60, 1));
  EXPECT_TRUE(l.take("a", 0).allowed);
  EXPECT_FALSE(l.take("a", 0).allowed);
  EXPECT_TRUE(l.take("b", 0).allowed);
  EXPECT_TRUE(l.take("2001:db8::1", 0).allowed);
}

TEST(LoginRateLimiter, AClockGoingBackwardsAddsNoTokens) {
  LoginRateLimiter l(opts(60, 1));
  EXPECT_TRUE(l.take("a", 10'000).allowed);
  EXPECT_FALSE(l.take("a", 0).allowed);
  EXPECT_FALSE(l.take("a", 10'500).allowed);
  EXPECT_TRUE(l.take("a", 11'000).allowed);
}

TEST(LoginRateLimiter, ZeroRateIsOff) {
  LoginRateLimiter l(opts(0, 1));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(l.take("a", 0).allowed);
  EXPECT_EQ(l.tracked(), 0u);
}

TEST(LoginRateLimiter, FloodFromManyAddressesKeepsTheTableBounded) {
  LoginRateLimiter l(opts(60, 1, 50));
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_TRUE(l.take("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), 0).allowed);
    ASSERT_LE(l.tracked(), 50u);
  }
  EXPECT_EQ(l.tracked(), 50u);
}

TEST(LoginRateLimiter, TheLeastRecentlyUsedAddressIsTheOneForgotten) {
  LoginRateLimiter l(opts(60, 1, 2));
  EXPECT_TRUE(l.take("a", 0).allowed);
  EXPECT_TRUE(l.take("b", 0).allowed);
  EXPECT_FALSE(l.take("a", 0).allowed);  // a is now the most recently used
  EXPECT_TRUE(l.take("c", 0).allowed);   // b goes
  EXPECT_FALSE(l.take("a", 0).allowed);  // a's empty bucket was kept
  EXPECT_EQ(l.tracked(), 2u);
}

TEST(PendingLogins, LoginFloodIsRefusedAtTheBound) {
  PendingLogins p(3, 600'000);
  EXPECT_TRUE(p.admit("s1", 0));
  EXPECT_TRUE(p.admit("s2", 1));
  EXPECT_TRUE(p.admit("s3", 2));
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(p.admit("flood" + std::to_string(i), 3));
  EXPECT_EQ(p.pending(3), 3u);
}

TEST(PendingLogins, ATakenLoginFreesItsPlace) {
  PendingLogins p(1, 600'000);
  EXPECT_TRUE(p.admit("s1", 0));
  EXPECT_FALSE(p.admit("s2", 0));
  p.release("s1");
  p.release("unknown");
  EXPECT_TRUE(p.admit("s2", 0));
}

TEST(PendingLogins, ExpiredLoginsStopCountingAfterTheLoginTimeout) {
  PendingLogins p(2, 600'000);
  EXPECT_TRUE(p.admit("s1", 0));
  EXPECT_TRUE(p.admit("s2", 100'000));
  EXPECT_FALSE(p.admit("s3", 600'000));   // s1 is exactly login_timeout old: still pending
  EXPECT_TRUE(p.admit("s3", 600'001));    // s1 expired
  EXPECT_FALSE(p.admit("s4", 700'000));   // s2 still pending (100 s + 10 min)
  EXPECT_EQ(p.pending(700'001), 1u);      // s2 gone, s3 left
}

TEST(PendingLogins, AReloadChangesTheBoundAndKeepsTheCount) {
  PendingLogins p(3, 600'000);
  EXPECT_TRUE(p.admit("s1", 0));
  EXPECT_TRUE(p.admit("s2", 0));
  p.configure(2, 600'000);
  EXPECT_FALSE(p.admit("s3", 0));
  EXPECT_EQ(p.pending(0), 2u);
}

}  // namespace
}  // namespace authgate::session
