// Limits on `GET {prefix}login` (issue 13, login floods). Every login start
// writes a pending-login record that lives sessions.login_timeout, in memory or
// in Redis; without a bound, one client can fill the store. Two pure,
// thread-safe cores, both told the time (no clock inside, so tests use a fixed one):
//
//   LoginRateLimiter limiter({per_minute, burst, max_clients});
//   LoginRateLimiter::Verdict v = limiter.take(client_address, steady_ms);
//   if (!v.allowed) reply 429 with Retry-After: v.retry_after_s;
//
//   PendingLogins pending(max_pending, login_timeout_ms);
//   if (!pending.admit(state, steady_ms)) reply 503 (pending_full);
//   ... after the callback took the login: pending.release(state);
//
// Rules:
// - LoginRateLimiter is a token bucket per client address: `burst` tokens at
//   first, refilled at per_minute / 60 per second up to `burst`; a login takes
//   one. per_minute 0 turns the limiter off (every take() is allowed).
// - It tracks at most max_clients addresses (its own memory bound). A new
//   address in a full table pushes out the least recently used one (which
//   then starts again with a full bucket: a client with more than max_clients
//   addresses is held by the PendingLogins bound instead).
// - PendingLogins counts the pending logins THIS instance started that are
//   neither taken (release) nor older than the login timeout, at most
//   max_pending. It is separate from the sessions: a flood of login starts is
//   refused once the bound is reached and never pushes out a session. With
//   Redis, a login finished on another instance stays counted here until it
//   expires: the bound errs on the safe side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace authgate::session {

class LoginRateLimiter {
 public:
  struct Options {
    std::uint64_t per_minute = 60;  // refill rate; 0: off
    std::uint64_t burst = 20;       // bucket size (at least 1)
    std::uint64_t max_clients = 10'000;  // addresses tracked (at least 1)
  };
  struct Verdict {
    bool allowed = true;
    std::int64_t retry_after_s = 0;  // when refused: whole seconds until one token is there (>= 1)
  };

  explicit LoginRateLimiter(Options o);

  Verdict take(std::string_view client, std::int64_t now_ms);
  std::size_t tracked();  // addresses in the table
  const Options& options() const { return opt_; }

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
    std::list<const std::string*>::iterator lru;  // front: most recently used
  };
  void refill(Bucket& b, std::int64_t now_ms) const;

  const Options opt_;
  const double per_ms_;  // tokens per millisecond
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<const std::string*> lru_;
};

class PendingLogins {
 public:
  PendingLogins(std::size_t max_pending, std::int64_t login_timeout_ms);

  // Counts `state` as pending from now_ms; false (and nothing counted) when
  // max_pending logins started in the last login_timeout are still pending.
  bool admit(const std::string& state, std::int64_t now_ms);
  void release(const std::string& state);
  std::size_t pending(std::int64_t now_ms);
  // A reload may change the bound and the timeout; the pending logins stay counted.
  void configure(std::size_t max_pending, std::int64_t login_timeout_ms);

 private:
  void expire_locked(std::int64_t now_ms);
  struct Entry {
    std::int64_t at_ms;
    std::list<const std::string*>::iterator order;
  };
  std::mutex mu_;
  std::size_t max_;
  std::int64_t timeout_ms_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<const std::string*> order_;  // front: oldest
};

}  // namespace authgate::session
