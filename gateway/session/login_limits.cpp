#include "session/login_limits.hpp"

#include <algorithm>
#include <cmath>

namespace authgate::session {

LoginRateLimiter::LoginRateLimiter(Options o)
    : opt_{o.per_minute, std::max<std::uint64_t>(1, o.burst), std::max<std::uint64_t>(1, o.max_clients)},
      per_ms_(static_cast<double>(o.per_minute) / 60'000.0) {}

void LoginRateLimiter::refill(Bucket& b, std::int64_t now_ms) const {
  if (now_ms > b.updated_ms) {
    b.tokens = std::min(static_cast<double>(opt_.burst),
                        b.tokens + static_cast<double>(now_ms - b.updated_ms) * per_ms_);
    b.updated_ms = now_ms;
  }
}

LoginRateLimiter::Verdict LoginRateLimiter::take(std::string_view client, std::int64_t now_ms) {
  if (opt_.per_minute == 0) return {};
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    // Full: the least recently used address goes (O(1); it is the likeliest to
    // have refilled, and a refilled bucket is the same as no entry).
    while (buckets_.size() >= opt_.max_clients) {
      buckets_.erase(*lru_.back());
      lru_.pop_back();
    }
    it = buckets_.emplace(std::string(client), Bucket{static_cast<double>(opt_.burst), now_ms, {}}).first;
    lru_.push_front(&it->first);
    it->second.lru = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Bucket& b = it->second;
  refill(b, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait_ms = (1.0 - b.tokens) / per_ms_;
  return {false, std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait_ms / 1000.0)))};
}

std::size_t LoginRateLimiter::tracked() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

PendingLogins::PendingLogins(std::size_t max_pending, std::int64_t login_timeout_ms)
    : max_(std::max<std::size_t>(1, max_pending)), timeout_ms_(login_timeout_ms) {}

void PendingLogins::configure(std::size_t max_pending, std::int64_t login_timeout_ms) {
  std::lock_guard lock(mu_);
  max_ = std::max<std::size_t>(1, max_pending);
  timeout_ms_ = login_timeout_ms;
}

void PendingLogins::expire_locked(std::int64_t now_ms) {
  while (!order_.empty()) {
    auto it = entries_.find(*order_.front());
    if (now_ms - it->second.at_ms <= timeout_ms_) break;
    order_.pop_front();
    entries_.erase(it);
  }
}

bool PendingLogins::admit(const std::string& state, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  expire_locked(now_ms);
  if (entries_.contains(state)) return true;
  if (entries_.size() >= max_) return false;
  auto [it, inserted] = entries_.emplace(state, Entry{now_ms, {}});
  order_.push_back(&it->first);
  it->second.order = std::prev(order_.end());
  return true;
}

void PendingLogins::release(const std::string& state) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(state);
  if (it == entries_.end()) return;
  order_.erase(it->second.order);
  entries_.erase(it);
}

std::size_t PendingLogins::pending(std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  expire_locked(now_ms);
  return entries_.size();
}

}  // namespace authgate::session
