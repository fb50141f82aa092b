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
#include <exception>
#include <system_error>
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
  // Coroutine arguments are taken by reference and must be named objects of
  // the caller (GCC 12 destroys temporaries of a co_await expression twice).
  template <class Work>
  boost::asio::awaitable<Result> run(const std::string& key, const Work& work) {
    const auto always = [] { return true; };
    auto r = co_await run_if(key, work, always);
    co_return std::move(*r);
  }

  // As run(), but when no call for `key` is in flight, a new one starts only
  // if admit() (called under the lock) says so; nullopt otherwise.
  template <class Work, class Admit>
  boost::asio::awaitable<std::optional<Result>> run_if(const std::string& key, const Work& work,
                                                       const Admit& admit) {
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
    if (!leader) co_return co_await wait(flight.get());
    runs_.fetch_add(1, std::memory_order_relaxed);
    // Whatever happens to the leader (a result, an exception, its coroutine
    // destroyed at shutdown), the key is released and every waiter resumed.
    Finisher finisher{this, key, flight};
    Result result{};
    try {
      result = co_await work();
    } catch (...) {
      finisher.finish(std::current_exception(), Result{});
      throw;
    }
    finisher.finish(nullptr, result);
    co_return result;
  }

  std::uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }

 private:
  // A waiting caller: resumed by posting to its own executor (it may run on
  // another thread than the leader). An exception of the leader is rethrown in it.
  struct Handler {
    boost::asio::any_io_executor executor;
    boost::asio::any_completion_handler<void(std::exception_ptr, Result)> handler;
  };
  struct Flight {
    bool done = false;
    std::exception_ptr error;
    Result result{};
    std::vector<Handler> waiters;
  };

  struct Finisher {
    SingleFlight* self;
    std::string key;
    std::shared_ptr<Flight> flight;
    bool finished = false;
    void finish(std::exception_ptr error, const Result& r) {
      if (finished) return;
      finished = true;
      std::vector<Handler> waiters;
      {
        std::lock_guard lock(self->mu_);
        self->flights_.erase(key);
        flight->error = error;
        flight->result = r;
        flight->done = true;
        waiters.swap(flight->waiters);
      }
      for (auto& h : waiters) resume(std::move(h), error, r);
    }
    ~Finisher() {
      if (!finished)
        finish(std::make_exception_ptr(std::system_error(std::make_error_code(std::errc::operation_canceled))),
               Result{});
    }
  };

  static void resume(Handler w, std::exception_ptr error, const Result& r) {
    boost::asio::post(w.executor,
                      [h = std::move(w.handler), error, r]() mutable { std::move(h)(error, r); });
  }

  // `flight` stays alive: the caller (run_if) holds a shared_ptr while it waits.
  // The initiation lambda captures only raw pointers: GCC 12 destroys the
  // temporaries of a co_await expression twice, which is harmless only for
  // trivially destructible ones.
  boost::asio::awaitable<Result> wait(Flight* flight) {
    auto ex = co_await boost::asio::this_coro::executor;
    auto* exp = &ex;
    co_return co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                   void(std::exception_ptr, Result)>(
        [this, flight, exp](auto handler) {
          std::unique_lock lock(mu_);
          if (flight->done) {
            lock.unlock();
            resume(Handler{*exp, std::move(handler)}, flight->error, flight->result);
          } else {
            flight->waiters.push_back(Handler{*exp, std::move(handler)});
          }
        },
        boost::asio::use_awaitable);
  }

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  std::atomic<std::uint64_t> runs_{0};
};

}  // namespace authgate::idp
