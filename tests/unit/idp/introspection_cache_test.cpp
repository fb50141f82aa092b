// Unit tests for idp/introspection_cache.hpp: active and inactive answers in
// separate bounded caches, so that a flood of random (inactive) tokens cannot
// evict the active entries. A fake IdP counts the introspection calls a lookup
// makes on a miss, the way the Introspector does: the counts are the proof.
#include <gtest/gtest.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <map>
#include <set>
#include <string>

#include "auth/auth_errc.hpp"
#include "idp/introspection_cache.hpp"

namespace {

using namespace std::chrono_literals;
using authgate::auth::auth_errc;
using authgate::idp::IntrospectionCache;
using authgate::idp::IntrospectionResult;

// An IdP that knows a set of active tokens; every other token is inactive.
struct FakeIdp {
  std::set<std::string> active;
  int calls = 0;
  std::map<std::string, int> calls_for;

  IntrospectionResult introspect(const std::string& token) {
    ++calls;
    ++calls_for[token];
    IntrospectionResult r;
    if (active.count(token)) {
      r.claims = std::make_shared<const boost::json::object>(boost::json::object{{"active", true}, {"sub", token}});
      r.cache_for = 300s;
    } else {
      r.ec = auth_errc::introspection_inactive;
      r.cache_for = 10s;
    }
    return r;
  }
};

// What Introspector::introspect does: the cache, then the IdP on a miss, then store.
IntrospectionResult lookup(IntrospectionCache& cache, FakeIdp& idp, const std::string& token, std::int64_t now) {
  if (auto hit = cache.find(token, now)) return *hit;
  IntrospectionResult r = idp.introspect(token);
  cache.store(token, r, now);
  return r;
}

std::string random_token(std::mt19937_64& rng) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string t(43, 'x');
  for (auto& c : t) c = alphabet[rng() % 64];
  return t;
}

constexpr std::int64_t kNow = 1'000'000;

TEST(IntrospectionCache, AFloodOfRandomInactiveTokensDoesNotEvictActiveEntries) {
  IntrospectionCache cache(/*active=*/1000, /*negative=*/100);
  FakeIdp idp;
  std::vector<std::string> users;
  for (int i = 0; i < 50; ++i) {
    users.push_back("active-token-" + std::to_string(i));
    idp.active.insert(users.back());
  }
  for (const auto& t : users) ASSERT_FALSE(lookup(cache, idp, t, kNow).ec);
  ASSERT_EQ(idp.calls, 50);

  // The flood: 20 times more random tokens than both caches hold together, each one call.
  std::mt19937_64 rng(13);
  constexpr int kFlood = 22'000;
  for (int i = 0; i < kFlood; ++i) {
    auto r = lookup(cache, idp, random_token(rng), kNow + 1);
    ASSERT_EQ(r.ec, auth_errc::introspection_inactive);
  }
  EXPECT_EQ(idp.calls, 50 + kFlood);
  EXPECT_LE(cache.negative_size(), 100u) << "the negative cache stays bounded";
  EXPECT_EQ(cache.active_size(), 50u) << "no active entry was evicted";

  // Every active token, asked N times after the flood: still its one call.
  constexpr int kRequests = 20;
  for (const auto& t : users)
    for (int i = 0; i < kRequests; ++i) ASSERT_FALSE(lookup(cache, idp, t, kNow + 2).ec) << t;
  for (const auto& t : users) EXPECT_EQ(idp.calls_for[t], 1) << t << ": " << kRequests << " requests, 1 call";
  EXPECT_EQ(idp.calls, 50 + kFlood);
}

TEST(IntrospectionCache, InactiveAnswersAreCachedInTheirOwnCacheForTheirTtl) {
  IntrospectionCache cache(1000, 100);
  FakeIdp idp;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lookup(cache, idp, "revoked", kNow).ec, auth_errc::introspection_inactive);
  EXPECT_EQ(idp.calls, 1) << "5 requests, 1 call";
  EXPECT_EQ(cache.negative_hits(), 4u);
  EXPECT_EQ(cache.negative_size(), 1u);
  EXPECT_EQ(cache.active_size(), 0u);
  // negative_ttl (10 s here), to the millisecond.
  EXPECT_TRUE(cache.find("revoked", kNow + 9'999));
  EXPECT_FALSE(cache.find("revoked", kNow + 10'000));
}

TEST(IntrospectionCache, NegativeCacheOfZeroKeepsNoInactiveAnswersButStillTheActiveOnes) {
  IntrospectionCache cache(1000, 0);
  FakeIdp idp;
  idp.active.insert("good");
  for (int i = 0; i < 3; ++i) lookup(cache, idp, "bad", kNow);
  for (int i = 0; i < 3; ++i) lookup(cache, idp, "good", kNow);
  EXPECT_EQ(idp.calls_for["bad"], 3);
  EXPECT_EQ(idp.calls_for["good"], 1);
}

TEST(IntrospectionCache, FailuresAreNeverCached) {
  IntrospectionCache cache(1000, 100);
  IntrospectionResult failed;
  failed.ec = auth_errc::introspection_failed;
  cache.store("t", failed, kNow);
  IntrospectionResult busy;
  busy.ec = auth_errc::introspection_busy;
  busy.cache_for = 10s;  // even if a caller set a lifetime
  cache.store("u", busy, kNow);
  EXPECT_FALSE(cache.find("t", kNow));
  EXPECT_FALSE(cache.find("u", kNow));
}

TEST(IntrospectionCache, AnInactiveAnswerReplacesTheTokensActiveEntry) {
  IntrospectionCache cache(1000, 100);
  IntrospectionResult active;
  active.claims = std::make_shared<const boost::json::object>();
  active.cache_for = 300s;
  cache.store("t", active, kNow);
  IntrospectionResult inactive;
  inactive.ec = auth_errc::introspection_inactive;
  inactive.cache_for = 10s;
  cache.store("t", inactive, kNow + 1);
  auto hit = cache.find("t", kNow + 2);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ec, auth_errc::introspection_inactive);
  EXPECT_EQ(cache.active_size(), 0u);
}

}  // namespace
