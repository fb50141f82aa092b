// Unit tests for session/memory_session_store: the SessionStore interface
// through co_spawn on an io_context (bounded run_for), idle and absolute
// expiry, LRU eviction when full, update() never resurrecting, one-time and
// expiring login states with their own bound, sweep(), and a 4-thread stress
// test on overlapping ids (bounded size, no crash; also meant for TSan).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth_errc.hpp"
#include "session/memory_session_store.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using authgate::session::LoadResult;
using authgate::session::LoginState;
using authgate::session::MemorySessionStore;
using authgate::session::Session;
using authgate::session::SessionStore;

constexpr auto kBound = 5s;
constexpr std::int64_t kT0 = 1'700'000'000;

Session session(std::string id, std::int64_t now, std::string at = "at") {
  Session s;
  s.id = std::move(id);
  s.sub = "user";
  s.access_token = std::move(at);
  s.refresh_token = "rt";
  s.created_at = now;
  s.last_seen_at = now;
  s.access_expires_at = now + 300;
  return s;
}

LoginState login(std::string state, std::int64_t now) {
  LoginState l;
  l.state = std::move(state);
  l.verifier = "verifier";
  l.nonce = "nonce";
  l.redirect = "/app";
  l.created_at = now;
  return l;
}

// Runs `body` as a coroutine on a fresh io_context, bounded; fails on an exception.
template <class Body>
void run_coro(Body body) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  io.run_for(kBound);
  ASSERT_TRUE(done) << "coroutine did not finish";
  if (error) std::rethrow_exception(error);
}

// idle 600 s, absolute 3600 s, login 60 s.
MemorySessionStore make_store(std::size_t max_sessions = 100, std::size_t max_logins = 0) {
  return MemorySessionStore(max_sessions, 600s, 3600s, 60s, max_logins);
}

TEST(MemorySessionStore, AsyncInterfaceRoundTrip) {
  MemorySessionStore store = make_store();
  SessionStore& iface = store;
  run_coro([&]() -> asio::awaitable<void> {
    const Session s = session("id1", kT0);
    co_await iface.save(s);
    EXPECT_EQ(iface.size(), 1u);

    const std::string id = "id1";
    const std::int64_t later = kT0 + 10;
    LoadResult loaded = co_await iface.load(id, later);
    EXPECT_FALSE(loaded.ec);
    std::optional<Session> got = loaded.session;
    EXPECT_TRUE(got.has_value());
    if (got) {
      EXPECT_EQ(got->id, "id1");
      EXPECT_EQ(got->access_token, "at");
      EXPECT_EQ(got->last_seen_at, later);  // touched
      EXPECT_EQ(got->created_at, kT0);
    }

    Session refreshed = *got;
    refreshed.access_token = "at2";
    refreshed.refresh_token = "rt2";
    const std::error_code updated = co_await iface.update(refreshed);
    EXPECT_FALSE(updated);
    auto r1 = co_await iface.load(id, later);
    got = r1.session;
    EXPECT_EQ(got->access_token, "at2");
    EXPECT_EQ(got->refresh_token, "rt2");

    co_await iface.erase(id);
    auto r2 = co_await iface.load(id, later);
    got = r2.session;
    EXPECT_FALSE(got.has_value());
    EXPECT_EQ(iface.size(), 0u);
    const std::error_code gone = co_await iface.update(refreshed);
    EXPECT_EQ(gone, authgate::auth::auth_errc::session_missing);  // update never brings a session back
    EXPECT_EQ(iface.size(), 0u);

    const std::string missing = "nope";
    auto r3 = co_await iface.load(missing, later);
    got = r3.session;
    EXPECT_FALSE(got.has_value());
    co_await iface.erase(missing);  // no-op
  });
}

TEST(MemorySessionStore, AsyncLoginIsOneTime) {
  MemorySessionStore store = make_store();
  SessionStore& iface = store;
  run_coro([&]() -> asio::awaitable<void> {
    const LoginState l = login("st", kT0);
    co_await iface.save_login(l);
    const std::string state = "st";
    const std::int64_t now = kT0 + 5;
    auto r4 = co_await iface.take_login(state, now);
    std::optional<LoginState> got = r4.login;
    EXPECT_TRUE(got.has_value());
    if (got) {
      EXPECT_EQ(got->verifier, "verifier");
      EXPECT_EQ(got->nonce, "nonce");
      EXPECT_EQ(got->redirect, "/app");
    }
    auto r5 = co_await iface.take_login(state, now);
    got = r5.login;
    EXPECT_FALSE(got.has_value());  // replay
  });
}

TEST(MemorySessionStore, IdleExpiry) {
  MemorySessionStore store = make_store();
  store.save_sync(session("a", kT0));
  EXPECT_TRUE(store.load_sync("a", kT0 + 600));   // exactly the idle timeout: alive, touched
  EXPECT_TRUE(store.load_sync("a", kT0 + 1200));  // 600 after the last touch: alive
  EXPECT_FALSE(store.load_sync("a", kT0 + 1801)); // 601 idle: gone
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.load_sync("a", kT0 + 1200));  // erased, not just hidden
}

TEST(MemorySessionStore, AbsoluteExpiryDespiteActivity) {
  MemorySessionStore store = make_store();
  store.save_sync(session("a", kT0));
  for (std::int64_t t = kT0; t <= kT0 + 3600; t += 300) EXPECT_TRUE(store.load_sync("a", t)) << t - kT0;
  EXPECT_FALSE(store.load_sync("a", kT0 + 3601));
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemorySessionStore, LastSeenNeverGoesBack) {
  MemorySessionStore store = make_store();
  store.save_sync(session("a", kT0));
  EXPECT_EQ(store.load_sync("a", kT0 + 100)->last_seen_at, kT0 + 100);
  EXPECT_EQ(store.load_sync("a", kT0 + 50)->last_seen_at, kT0 + 100);
}

TEST(MemorySessionStore, SaveReplaces) {
  MemorySessionStore store = make_store();
  store.save_sync(session("a", kT0, "one"));
  store.save_sync(session("a", kT0, "two"));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.load_sync("a", kT0)->access_token, "two");
}

TEST(MemorySessionStore, UpdateNeverResurrects) {
  MemorySessionStore store = make_store();
  Session s = session("a", kT0);
  store.save_sync(s);
  store.erase_sync("a");  // logout while a refresh was in flight
  s.access_token = "late";
  EXPECT_FALSE(store.update_sync(s));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.load_sync("a", kT0));
}

TEST(MemorySessionStore, UpdateKeepsCreatedAtAndLatestLastSeen) {
  MemorySessionStore store = make_store();
  store.save_sync(session("a", kT0));
  ASSERT_TRUE(store.load_sync("a", kT0 + 100));
  Session s = session("a", kT0 + 50, "new");  // a stale copy claiming a later creation
  EXPECT_TRUE(store.update_sync(s));
  const auto got = store.load_sync("a", kT0 + 100);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->access_token, "new");
  EXPECT_EQ(got->created_at, kT0);
  EXPECT_EQ(got->last_seen_at, kT0 + 100);
}

TEST(MemorySessionStore, FullEvictsLeastRecentlyUsed) {
  MemorySessionStore store = make_store(3);
  store.save_sync(session("a", kT0));
  store.save_sync(session("b", kT0));
  store.save_sync(session("c", kT0));
  ASSERT_TRUE(store.load_sync("a", kT0 + 1));  // a is now the most recent; b the least
  store.save_sync(session("d", kT0 + 2));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.evictions(), 1u);
  EXPECT_FALSE(store.load_sync("b", kT0 + 3));
  EXPECT_TRUE(store.load_sync("a", kT0 + 3));
  EXPECT_TRUE(store.load_sync("c", kT0 + 3));
  EXPECT_TRUE(store.load_sync("d", kT0 + 3));
  // Replacing an existing id never evicts.
  store.save_sync(session("c", kT0 + 4));
  EXPECT_EQ(store.evictions(), 1u);
  EXPECT_EQ(store.size(), 3u);
}

TEST(MemorySessionStore, ZeroMaxMeansOne) {
  MemorySessionStore store = make_store(0);
  store.save_sync(session("a", kT0));
  store.save_sync(session("b", kT0));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.load_sync("b", kT0));
}

TEST(MemorySessionStore, LoginExpires) {
  MemorySessionStore store = make_store();
  store.save_login_sync(login("fresh", kT0));
  store.save_login_sync(login("stale", kT0));
  EXPECT_TRUE(store.take_login_sync("fresh", kT0 + 60));
  EXPECT_FALSE(store.take_login_sync("stale", kT0 + 61));
  EXPECT_EQ(store.login_count(), 0u);  // the expired one was removed too
  EXPECT_FALSE(store.take_login_sync("never", kT0));
}

TEST(MemorySessionStore, LoginsBoundedExpiredFirstThenOldest) {
  MemorySessionStore store = make_store(100, 3);
  store.save_login_sync(login("old", kT0));
  store.save_login_sync(login("l1", kT0 + 50));
  store.save_login_sync(login("l2", kT0 + 55));
  store.save_login_sync(login("l3", kT0 + 70));  // full: "old" has expired at kT0+70 and goes
  EXPECT_EQ(store.login_count(), 3u);
  EXPECT_FALSE(store.take_login_sync("old", kT0 + 70));
  store.save_login_sync(login("l4", kT0 + 72));
  store.save_login_sync(login("l5", kT0 + 73));  // full, none expired: the oldest (l1, l2) go
  EXPECT_EQ(store.login_count(), 3u);
  EXPECT_FALSE(store.take_login_sync("l1", kT0 + 73));
  EXPECT_FALSE(store.take_login_sync("l2", kT0 + 73));
  EXPECT_TRUE(store.take_login_sync("l3", kT0 + 73));
  EXPECT_TRUE(store.take_login_sync("l4", kT0 + 73));
  EXPECT_TRUE(store.take_login_sync("l5", kT0 + 73));
  EXPECT_EQ(store.size(), 0u);  // sessions untouched by login pressure
}

TEST(MemorySessionStore, SweepDropsExpiredOnly) {
  MemorySessionStore store = make_store();
  store.save_sync(session("idle", kT0));
  store.save_sync(session("busy", kT0));
  store.save_sync(session("young", kT0 + 3000));
  store.save_login_sync(login("l-old", kT0));
  store.save_login_sync(login("l-new", kT0 + 3280));
  // Keep "busy" active until the idle one has been idle past 600 s.
  for (std::int64_t t = kT0 + 300; t <= kT0 + 3300; t += 300) ASSERT_TRUE(store.load_sync("busy", t));
  ASSERT_TRUE(store.load_sync("young", kT0 + 3300));

  auto swept = store.sweep_sync(kT0 + 3300);
  EXPECT_EQ(swept.sessions, 1u);  // idle
  EXPECT_EQ(swept.logins, 1u);    // l-old
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.login_count(), 1u);

  ASSERT_TRUE(store.load_sync("busy", kT0 + 3600));
  swept = store.sweep_sync(kT0 + 3601);  // "busy" reached its absolute lifetime, l-new its timeout
  EXPECT_EQ(swept.sessions, 1u);
  EXPECT_EQ(swept.logins, 1u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.load_sync("young", kT0 + 3601));

  swept = store.sweep_sync(kT0 + 3601 + 601);  // and "young" idles out
  EXPECT_EQ(swept.sessions, 1u);
  EXPECT_EQ(swept.logins, 0u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.login_count(), 0u);
  swept = store.sweep_sync(kT0 + 10'000);
  EXPECT_EQ(swept.sessions, 0u);
  EXPECT_EQ(swept.logins, 0u);
}

// 4 threads, each a bounded loop of save/load/update/erase/login on ids shared
// with the others; the bound holds throughout and nothing crashes.
TEST(MemorySessionStore, ConcurrentStress) {
  constexpr std::size_t kMax = 64;
  constexpr int kThreads = 4;
  constexpr int kIterations = 50'000;  // ~40 ms here, ~1 s under TSan
  constexpr int kIds = 200;  // > kMax: evictions happen
  MemorySessionStore store(kMax, 600s, 3600s, 60s, 32);
  std::vector<std::string> ids;
  for (int i = 0; i < kIds; ++i) ids.push_back("id-" + std::to_string(i));

  std::atomic<bool> broken{false};
  std::atomic<int> loaded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::uint32_t x = 2463534242u + static_cast<std::uint32_t>(t);
      for (int i = 0; i < kIterations; ++i) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;  // xorshift
        const std::string& id = ids[x % kIds];
        const std::int64_t now = kT0 + i / 100;
        switch ((x >> 8) % 6) {
          case 0:
          case 1: store.save_sync(session(id, now)); break;
          case 2:
            if (auto s = store.load_sync(id, now)) {
              if (s->id != id) broken = true;  // a record under the wrong key
              loaded.fetch_add(1, std::memory_order_relaxed);
            }
            break;
          case 3: store.update_sync(session(id, now, "refreshed")); break;
          case 4: store.erase_sync(id); break;
          case 5:
            store.save_login_sync(login(id, now));
            store.take_login_sync(ids[(x >> 3) % kIds], now);
            break;
        }
        if (i % 512 == 0) {
          if (store.size() > kMax || store.login_count() > 32) broken = true;
          if (t == 0) store.sweep_sync(now);
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_FALSE(broken.load());
  EXPECT_LE(store.size(), kMax);
  EXPECT_LE(store.login_count(), 32u);
  EXPECT_GT(loaded.load(), 0);
  EXPECT_GT(store.evictions(), 0u);
}

}  // namespace
