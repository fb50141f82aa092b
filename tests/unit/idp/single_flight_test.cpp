// Unit tests for idp/single_flight: N concurrent callers on two io_contexts
// (one thread each, like two workers) share one run of the work and are each
// resumed on their own executor; a later call runs again; different keys run
// independently; run_if's admission rule.
//
// Every io_context is run with run_for(), so a wedged flight fails the test
// instead of hanging it.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "idp/single_flight.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using authgate::idp::SingleFlight;

constexpr auto kBound = 10s;  // no test here should come close

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// The work: waits `d` on the leader's executor, counts itself, returns `value`.
asio::awaitable<int> slow_value(std::atomic<int>& executed, std::chrono::milliseconds d, int value) {
  executed.fetch_add(1);
  co_await sleep_for(d);
  co_return value;
}

// Counts completions and exceptions of spawned coroutines.
struct Outcomes {
  std::atomic<int> done{0};
  std::atomic<int> errors{0};
  auto handler() {
    return [this](std::exception_ptr e) {
      if (e) errors.fetch_add(1);
      done.fetch_add(1);
    };
  }
};

void run_two(asio::io_context& a, asio::io_context& b) {
  std::thread ta([&] { a.run_for(kBound); });
  std::thread tb([&] { b.run_for(kBound); });
  ta.join();
  tb.join();
}

TEST(SingleFlight, HundredCallersOnTwoWorkersShareOneRun) {
  constexpr int kCallers = 100;
  asio::io_context ctx[2];
  SingleFlight<int> flights;
  std::atomic<int> executed{0}, got42{0}, other_value{0}, wrong_executor{0}, arrived{0};
  Outcomes out;

  auto caller = [&](asio::io_context& own) -> asio::awaitable<void> {
    arrived.fetch_add(1);
    const int v = co_await flights.run("k", [&] { return slow_value(executed, 50ms, 42); });
    if (v == 42) got42.fetch_add(1);
    else other_value.fetch_add(1);
    // A waiter is resumed on its own worker, not on the leader's thread.
    if (!own.get_executor().running_in_this_thread()) wrong_executor.fetch_add(1);
  };
  // Spawned before either thread runs, so all of them start within the 50 ms.
  for (int i = 0; i < kCallers; ++i) {
    asio::io_context& own = ctx[i % 2];
    asio::co_spawn(own, [&caller, &own] { return caller(own); }, out.handler());
  }
  run_two(ctx[0], ctx[1]);

  EXPECT_EQ(out.done.load(), kCallers);
  EXPECT_EQ(out.errors.load(), 0);
  EXPECT_EQ(arrived.load(), kCallers);
  EXPECT_EQ(got42.load(), kCallers);
  EXPECT_EQ(other_value.load(), 0);
  EXPECT_EQ(wrong_executor.load(), 0);
  EXPECT_EQ(flights.runs(), 1u);
  EXPECT_EQ(executed.load(), 1);

  // The flight is over: the next call for the same key runs the work again.
  asio::io_context again;
  std::optional<int> later;
  asio::co_spawn(
      again,
      [&]() -> asio::awaitable<void> {
        later = co_await flights.run("k", [&] { return slow_value(executed, 1ms, 43); });
      },
      out.handler());
  again.run_for(kBound);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(*later, 43);
  EXPECT_EQ(flights.runs(), 2u);
  EXPECT_EQ(executed.load(), 2);
  EXPECT_EQ(out.errors.load(), 0);
}

TEST(SingleFlight, DifferentKeysRunIndependently) {
  asio::io_context ctx[2];
  SingleFlight<int> flights;
  std::atomic<int> executed_a{0}, executed_b{0}, got_a{0}, got_b{0}, wrong{0};
  std::atomic<std::int64_t> a_done_ns{0}, b_done_ns{0};
  const auto t0 = std::chrono::steady_clock::now();
  auto since_t0 = [t0] { return (std::chrono::steady_clock::now() - t0).count(); };
  Outcomes out;

  for (int i = 0; i < 20; ++i) {
    asio::io_context& own = ctx[i % 2];
    if (i % 2 == 0) {
      // "a" is slow.
      asio::co_spawn(
          own,
          [&]() -> asio::awaitable<void> {
            const int v = co_await flights.run("a", [&] { return slow_value(executed_a, 200ms, 1); });
            (v == 1 ? got_a : wrong).fetch_add(1);
            a_done_ns.store(since_t0());
          },
          out.handler());
    } else {
      // "b" is fast and must not wait for "a".
      asio::co_spawn(
          own,
          [&]() -> asio::awaitable<void> {
            const int v = co_await flights.run("b", [&] { return slow_value(executed_b, 10ms, 2); });
            (v == 2 ? got_b : wrong).fetch_add(1);
            b_done_ns.store(since_t0());
          },
          out.handler());
    }
  }
  run_two(ctx[0], ctx[1]);

  EXPECT_EQ(out.done.load(), 20);
  EXPECT_EQ(out.errors.load(), 0);
  EXPECT_EQ(got_a.load(), 10);
  EXPECT_EQ(got_b.load(), 10);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(executed_a.load(), 1);
  EXPECT_EQ(executed_b.load(), 1);
  EXPECT_EQ(flights.runs(), 2u);
  EXPECT_LT(b_done_ns.load(), a_done_ns.load()) << "the fast key finished after the slow one";
}

TEST(SingleFlight, RunIfNotAdmittedAndNothingInFlightDoesNotRun) {
  asio::io_context ctx;
  SingleFlight<int> flights;
  std::atomic<int> executed{0};
  int admit_calls = 0;
  bool finished = false;
  std::optional<int> r = 99;
  Outcomes out;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        r = co_await flights.run_if(
            "k", [&] { return slow_value(executed, 1ms, 42); },
            [&] {
              ++admit_calls;
              return false;
            });
        finished = true;
      },
      out.handler());
  ctx.run_for(kBound);
  EXPECT_TRUE(finished);
  EXPECT_EQ(out.errors.load(), 0);
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(admit_calls, 1);
  EXPECT_EQ(executed.load(), 0);
  EXPECT_EQ(flights.runs(), 0u);
}

TEST(SingleFlight, RunIfAdmittedRuns) {
  asio::io_context ctx;
  SingleFlight<int> flights;
  std::atomic<int> executed{0};
  std::optional<int> r;
  Outcomes out;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        r = co_await flights.run_if("k", [&] { return slow_value(executed, 1ms, 42); }, [] { return true; });
      },
      out.handler());
  ctx.run_for(kBound);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(flights.runs(), 1u);
}

TEST(SingleFlight, RunIfJoinsAnInFlightRunEvenIfNotAdmitted) {
  asio::io_context ctx[2];
  SingleFlight<int> flights;
  std::atomic<int> executed{0}, joiner_executed{0};
  std::optional<int> leader, joiner;
  std::atomic<bool> joiner_on_own_executor{false};
  Outcomes out;
  // The leader starts a 200 ms run on ctx[0].
  asio::co_spawn(
      ctx[0],
      [&]() -> asio::awaitable<void> {
        leader = co_await flights.run("k", [&] { return slow_value(executed, 200ms, 42); });
      },
      out.handler());
  // Once the leader's run has begun (not after a fixed delay: a loaded machine can start
  // ctx[0]'s thread late), on the other worker, run_if with an admission that refuses.
  asio::co_spawn(
      ctx[1],
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2000 && executed.load() == 0; ++i) co_await sleep_for(1ms);
        joiner = co_await flights.run_if(
            "k", [&] { return slow_value(joiner_executed, 1ms, 7); }, [] { return false; });
        joiner_on_own_executor = ctx[1].get_executor().running_in_this_thread();
      },
      out.handler());
  run_two(ctx[0], ctx[1]);

  EXPECT_EQ(out.done.load(), 2);
  EXPECT_EQ(out.errors.load(), 0);
  ASSERT_TRUE(leader.has_value());
  EXPECT_EQ(*leader, 42);
  ASSERT_TRUE(joiner.has_value()) << "run_if must join the flight in progress";
  EXPECT_EQ(*joiner, 42);
  EXPECT_TRUE(joiner_on_own_executor.load());
  EXPECT_EQ(joiner_executed.load(), 0);
  EXPECT_EQ(flights.runs(), 1u);
}

TEST(SingleFlight, ResultIsCopiedToEveryWaiter) {
  // A non-trivial Result (the Introspector's is a struct with a shared_ptr).
  asio::io_context ctx;
  SingleFlight<std::string> flights;
  std::vector<std::string> got;
  Outcomes out;
  auto work = []() -> asio::awaitable<std::string> {
    co_await sleep_for(20ms);
    co_return std::string(1000, 'r');
  };
  for (int i = 0; i < 10; ++i)
    asio::co_spawn(
        ctx, [&]() -> asio::awaitable<void> { got.push_back(co_await flights.run("k", work)); }, out.handler());
  ctx.run_for(kBound);
  ASSERT_EQ(got.size(), 10u);
  for (const auto& s : got) EXPECT_EQ(s, std::string(1000, 'r'));
  EXPECT_EQ(flights.runs(), 1u);
}

TEST(SingleFlight, AFailedLeaderDoesNotWedgeTheKey) {
  // If the work throws (or the leader's coroutine is torn down), the flight
  // must still end: callers waiting on it must be resumed (with the error or
  // a fresh run), and a later call for the key must run the work again.
  asio::io_context ctx;
  SingleFlight<int> flights;
  std::atomic<int> executed{0};
  std::optional<int> waiter, later;
  Outcomes out;
  auto throwing = [&]() -> asio::awaitable<int> {
    executed.fetch_add(1);
    co_await sleep_for(50ms);
    throw std::runtime_error("IdP call blew up");
  };
  asio::co_spawn(
      ctx, [&]() -> asio::awaitable<void> { (void)co_await flights.run("k", throwing); }, out.handler());
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        co_await sleep_for(10ms);  // joins the failing flight
        waiter = co_await flights.run("k", [&] { return slow_value(executed, 1ms, 42); });
      },
      out.handler());
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        co_await sleep_for(200ms);  // well after the failure
        later = co_await flights.run("k", [&] { return slow_value(executed, 1ms, 42); });
      },
      out.handler());
  ctx.run_for(1s);

  EXPECT_EQ(out.done.load(), 3) << "a caller of the key never completed";
  EXPECT_GE(out.errors.load(), 1) << "the leader's exception must reach the leader";
  ASSERT_TRUE(later.has_value()) << "the key is wedged after a failed run";
  EXPECT_EQ(*later, 42);
}

}  // namespace
