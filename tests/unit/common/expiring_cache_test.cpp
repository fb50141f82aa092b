// Unit tests for common/expiring_cache: hits and misses, expiry at fixed
// clock values, the disabled cache, the size bound, the eviction order of a
// full shard (expired first, then oldest inserted), full-key comparison, and
// a short multi-threaded smoke test.
//
// Eviction-order tests use one shard (the second constructor argument), so
// that every key lands in the same shard whatever std::hash says.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "common/expiring_cache.hpp"

namespace {

using authgate::common::ExpiringCache;

TEST(ExpiringCache, HitAndMiss) {
  ExpiringCache<int> c(100);
  EXPECT_TRUE(c.enabled());
  EXPECT_FALSE(c.find("a", 0));
  c.insert("a", 1, 100, 0);
  c.insert("b", 2, 100, 0);
  ASSERT_TRUE(c.find("a", 0));
  EXPECT_EQ(*c.find("a", 0), 1);
  EXPECT_EQ(*c.find("b", 50), 2);
  EXPECT_FALSE(c.find("c", 50));
  EXPECT_FALSE(c.find("", 50));
  EXPECT_EQ(c.size(), 2u);
}

TEST(ExpiringCache, InsertReplacesTheValueAndExpiry) {
  ExpiringCache<int> c(100);
  c.insert("a", 1, 100, 0);
  c.insert("a", 2, 200, 10);
  EXPECT_EQ(c.size(), 1u);
  ASSERT_TRUE(c.find("a", 150));
  EXPECT_EQ(*c.find("a", 150), 2);
  // A shorter expiry replaces a longer one too.
  c.insert("a", 3, 160, 150);
  EXPECT_EQ(*c.find("a", 159), 3);
  EXPECT_FALSE(c.find("a", 160));
}

TEST(ExpiringCache, NeverReturnedAtOrAfterExpiry) {
  ExpiringCache<int> c(100);
  c.insert("tok", 7, 1000, 900);
  ASSERT_TRUE(c.find("tok", 900));
  ASSERT_TRUE(c.find("tok", 999));
  EXPECT_FALSE(c.find("tok", 1000));
  EXPECT_FALSE(c.find("tok", 1001));
  // Once seen expired it is gone, even if the clock is read earlier again.
  EXPECT_FALSE(c.find("tok", 999));
  EXPECT_EQ(c.size(), 0u);

  c.insert("late", 8, 1000, 900);
  EXPECT_FALSE(c.find("late", 5000));
  c.insert("neg", 9, -5, -10);  // negative clock values are just numbers
  EXPECT_TRUE(c.find("neg", -6));
  EXPECT_FALSE(c.find("neg", -5));
}

TEST(ExpiringCache, InsertAlreadyExpiredIsIgnored) {
  ExpiringCache<int> c(100);
  c.insert("equal", 1, 100, 100);
  c.insert("past", 2, 99, 100);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(c.find("equal", 0));
  EXPECT_FALSE(c.find("past", 0));
  // An expired insert does not remove a live entry under the same key either.
  c.insert("k", 3, 200, 100);
  c.insert("k", 4, 100, 100);
  ASSERT_TRUE(c.find("k", 150));
  EXPECT_EQ(*c.find("k", 150), 3);
}

TEST(ExpiringCache, ZeroEntriesDisablesTheCache) {
  ExpiringCache<int> c(0);
  EXPECT_FALSE(c.enabled());
  c.insert("a", 1, 100, 0);
  EXPECT_FALSE(c.find("a", 0));
  EXPECT_EQ(c.size(), 0u);
  ExpiringCache<int> c0(0, 0);
  EXPECT_FALSE(c0.enabled());
  ExpiringCache<int> c1(1, 0);  // zero shards asked: still one
  EXPECT_TRUE(c1.enabled());
  c1.insert("a", 1, 100, 0);
  EXPECT_EQ(*c1.find("a", 0), 1);
}

std::string key(int i) { return "token-" + std::to_string(i); }

// The documented bound is the cache's max_entries.
void expect_bounded(std::size_t max_entries, std::size_t shards, int inserts) {
  ExpiringCache<int> c(max_entries, shards);
  std::size_t largest = 0;
  for (int i = 0; i < inserts; ++i) {
    c.insert(key(i), i, 1'000'000, 0);
    largest = std::max(largest, c.size());
  }
  EXPECT_LE(largest, max_entries) << "max_entries=" << max_entries << " shards=" << shards;
  EXPECT_GT(c.size(), 0u);
  // The most recent insert is always kept.
  ASSERT_TRUE(c.find(key(inserts - 1), 0));
  EXPECT_EQ(*c.find(key(inserts - 1), 0), inserts - 1);
}

TEST(ExpiringCache, BoundedWhenEntriesDivideAmongShards) {
  expect_bounded(64, 16, 5000);
  expect_bounded(1, 16, 200);
  expect_bounded(5, 16, 500);  // fewer entries than shards
  expect_bounded(10, 1, 500);
}

TEST(ExpiringCache, BoundedByMaxEntriesWhateverTheShardCount) {
  // 100 entries over 16 shards: each shard holds ceil(100/16) = 7, so up to
  // 112 entries in all unless the total is bounded too.
  expect_bounded(100, 16, 5000);
  expect_bounded(17, 16, 2000);
}

TEST(ExpiringCache, FullShardDropsExpiredEntriesFirst) {
  ExpiringCache<int> c(3, 1);
  c.insert("a", 1, 1000, 0);  // oldest, but still live
  c.insert("b", 2, 100, 0);   // expires first
  c.insert("c", 3, 1000, 0);
  c.insert("d", 4, 1000, 150);  // full: b is expired, so b goes, not a
  EXPECT_TRUE(c.find("a", 150));
  EXPECT_FALSE(c.find("b", 50)) << "the expired entry must have been dropped";
  EXPECT_TRUE(c.find("c", 150));
  EXPECT_TRUE(c.find("d", 150));
  EXPECT_EQ(c.size(), 3u);
}

TEST(ExpiringCache, FullShardDropsEveryExpiredEntry) {
  ExpiringCache<int> c(4, 1);
  c.insert("a", 1, 100, 0);
  c.insert("b", 2, 100, 0);
  c.insert("c", 3, 100, 0);
  c.insert("d", 4, 1000, 0);
  c.insert("e", 5, 1000, 200);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_TRUE(c.find("d", 200));
  EXPECT_TRUE(c.find("e", 200));
}

TEST(ExpiringCache, FullShardThenDropsTheOldestInserted) {
  ExpiringCache<int> c(3, 1);
  c.insert("a", 1, 1000, 0);
  c.insert("b", 2, 1000, 1);
  c.insert("c", 3, 1000, 2);
  c.insert("d", 4, 1000, 3);
  EXPECT_FALSE(c.find("a", 3));
  EXPECT_TRUE(c.find("b", 3));
  EXPECT_TRUE(c.find("c", 3));
  EXPECT_TRUE(c.find("d", 3));
  c.insert("e", 5, 1000, 4);
  EXPECT_FALSE(c.find("b", 4));
  EXPECT_TRUE(c.find("c", 4));
  EXPECT_TRUE(c.find("d", 4));
  EXPECT_TRUE(c.find("e", 4));
  EXPECT_EQ(c.size(), 3u);
}

TEST(ExpiringCache, ReinsertedAfterExpiryCountsAsNewlyInserted) {
  // The Introspector's pattern: a token's entry expires, find() drops it, the
  // token is introspected again and re-inserted. Its new entry is the most
  // recent insert, so a full shard must drop the older "b" first.
  ExpiringCache<int> c(2, 1);
  c.insert("a", 1, 100, 0);
  EXPECT_FALSE(c.find("a", 100));  // expired: dropped
  c.insert("b", 2, 1000, 100);
  c.insert("a", 3, 1000, 101);  // a is now newer than b
  c.insert("c", 4, 1000, 102);  // full: the oldest inserted live entry is b
  EXPECT_TRUE(c.find("c", 102));
  EXPECT_FALSE(c.find("b", 102)) << "b was the oldest insert and should have been dropped";
  EXPECT_TRUE(c.find("a", 102)) << "a (re-inserted after b) was dropped instead of b";
}

TEST(ExpiringCache, KeysSharingALongPrefixAreDistinct) {
  ExpiringCache<int> c(100'000);
  const std::string prefix(4096, 'x');
  for (int i = 0; i < 1000; ++i) c.insert(prefix + std::to_string(i), i, 1000, 0);
  for (int i = 0; i < 1000; ++i) {
    const auto v = c.find(prefix + std::to_string(i), 0);
    ASSERT_TRUE(v) << i;
    EXPECT_EQ(*v, i);
  }
  // Neither the bare prefix nor a longer key with a known key as prefix hits.
  EXPECT_FALSE(c.find(prefix, 0));
  EXPECT_FALSE(c.find(prefix + "1000", 0));
  EXPECT_FALSE(c.find(prefix + "12x", 0));
  // JWT-like keys differing only in the last character.
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
  c.insert(jwt + "A", 1, 1000, 0);
  c.insert(jwt + "B", 2, 1000, 0);
  EXPECT_EQ(*c.find(jwt + "A", 0), 1);
  EXPECT_EQ(*c.find(jwt + "B", 0), 2);
  EXPECT_FALSE(c.find(jwt + "C", 0));
  EXPECT_FALSE(c.find(jwt, 0));
}

TEST(ExpiringCache, KeysWithEmbeddedNulAreComparedInFull) {
  ExpiringCache<int> c(100);
  const std::string a("k\0a", 3), b("k\0b", 3);
  c.insert(a, 1, 1000, 0);
  c.insert(b, 2, 1000, 0);
  EXPECT_EQ(*c.find(a, 0), 1);
  EXPECT_EQ(*c.find(b, 0), 2);
  EXPECT_FALSE(c.find("k", 0));
}

TEST(ExpiringCache, ConcurrentInsertsAndFindsStayBoundedAndCorrect) {
  constexpr std::size_t kMax = 64;
  ExpiringCache<std::string> c(kMax);
  std::atomic<int> wrong{0};
  std::atomic<std::size_t> largest{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        const std::int64_t now = i / 10;
        // Overlapping key space across threads; the value is the key itself.
        const std::string k = "tok-" + std::to_string((i * 7 + t * 13) % 500);
        if (auto v = c.find(k, now)) {
          if (*v != k) wrong.fetch_add(1);
        } else {
          c.insert(k, k, now + 1 + (i % 5), now);
        }
        if (i % 100 == 0) {
          const std::size_t s = c.size();
          std::size_t prev = largest.load();
          while (s > prev && !largest.compare_exchange_weak(prev, s)) {
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0) << "a find returned another key's value";
  EXPECT_LE(largest.load(), kMax);
  EXPECT_LE(c.size(), kMax);
}

// claim(): a replay cache's check-and-set. It never drops a live entry to make room: a dropped key
// could be claimed (replayed) again.
TEST(ExpiringCacheClaim, AKeyIsFreshOnceThenSeenUntilItExpires) {
  using Claim = ExpiringCache<char>::Claim;
  ExpiringCache<char> c(100);
  EXPECT_EQ(c.claim("jkt:1", 0, 1'060, 1'000), Claim::fresh);
  EXPECT_EQ(c.claim("jkt:1", 0, 1'060, 1'030), Claim::seen);
  EXPECT_EQ(c.claim("jkt:1", 0, 1'120, 1'060), Claim::fresh) << "expired: may be claimed again";
}

TEST(ExpiringCacheClaim, AFullCacheRefusesNewKeysInsteadOfDroppingALiveOne) {
  using Claim = ExpiringCache<char>::Claim;
  ExpiringCache<char> c(4, 1);  // one shard of 4
  for (int i = 0; i < 4; ++i) ASSERT_EQ(c.claim("k" + std::to_string(i), 0, 2'000, 1'000), Claim::fresh);
  EXPECT_EQ(c.claim("k4", 0, 2'000, 1'000), Claim::full);
  EXPECT_EQ(c.claim("k0", 0, 2'000, 1'500), Claim::seen) << "k0 was not dropped to make room";
  // Once entries expire, their room is taken again.
  EXPECT_EQ(c.claim("k4", 0, 3'000, 2'000), Claim::fresh);
}

TEST(ExpiringCacheClaim, AnOffCacheClaimsNothing) {
  ExpiringCache<char> c(0);
  EXPECT_EQ(c.claim("k", 0, 2'000, 1'000), ExpiringCache<char>::Claim::full) << "no replay check: refuse, not accept";
}

}  // namespace
