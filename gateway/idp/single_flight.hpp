// Single flight: concurrent callers asking for the same key share one run of
// the work. The first caller (the leader) runs it on its own executor; the
// others wait and are resumed on their own executors with the leader's result.
// Thread-safe: callers may come from any worker thread.
//
// Usage:
//   SingleFlight<IntrospectionResult> flights;
//   auto r = co_await flights.run(token_hash, [&]() -> asio::awaitable<IntrospectionResult> { ... });
//   flights.runs()   // how many times work actually ran (tests prove "N callers, 1 run")
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace authgate::idp {

template <class Result>
class SingleFlight {
 public:
  template <class Work>
  boost::asio::awaitable<Result> run(const std::string& key, Work work) {
    co_return *co_await run_if(key, std::move(work), [] { return true; });
  }

  // As run(), but when no call for `key` is in flight, a new one starts only
  // if admit() (called under the lock) says so; nullopt otherwise.
  template <class Work, class Admit>
  boost::asio::awaitable<std::optional<Result>> run_if(const std::string& key, Work work, Admit admit) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      std::lock_guard lock(mu_);
      auto it = flights_.find(key);
      if (it == flights_.end()) {
        if (!admit()) co_return std::nullopt;
        it = flights_.emplace(key, std::make_shared<Flight>()).first;
        leader = true;
      }
      flight = it->second;
    }
    if (!leader) co_return co_await wait(flight);
    runs_.fetch_add(1, std::memory_order_relaxed);
    Result result = co_await work();
    std::vector<Handler> waiters;
    {
      std::lock_guard lock(mu_);
      flights_.erase(key);
      flight->result = result;
      flight->done = true;
      waiters.swap(flight->waiters);
    }
    for (auto& h : waiters) resume(std::move(h), result);
    co_return result;
  }

  std::uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }

 private:
  // A waiting caller: resumed by posting to its own executor (it may run on
  // another thread than the leader).
  struct Handler {
    boost::asio::any_io_executor executor;
    boost::asio::any_completion_handler<void(Result)> handler;
  };
  struct Flight {
    bool done = false;
    Result result{};
    std::vector<Handler> waiters;
  };

  static void resume(Handler w, const Result& r) {
    boost::asio::post(w.executor, [h = std::move(w.handler), r]() mutable { std::move(h)(r); });
  }

  boost::asio::awaitable<Result> wait(std::shared_ptr<Flight> flight) {
    auto ex = co_await boost::asio::this_coro::executor;
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Result)>(
        [this, flight, ex](auto handler) {
          std::unique_lock lock(mu_);
          if (flight->done) {
            lock.unlock();
            resume(Handler{ex, std::move(handler)}, flight->result);
          } else {
            flight->waiters.push_back(Handler{ex, std::move(handler)});
          }
        },
        boost::asio::use_awaitable);
  }

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  std::atomic<std::uint64_t> runs_{0};
};

}  // namespace authgate::idp
