// Snapshot<T>: an immutable value that many threads read while another thread
// replaces it now and then (the runtime config, an issuer's key set and
// metadata, the revocation deny-list). Readers get a shared_ptr and keep the
// version they loaded for as long as they hold it; a writer publishes a whole
// new object.
//
//   common::Snapshot<const KeySet> keys;
//   keys.store(std::make_shared<const KeySet>(...));   // control thread
//   if (auto k = keys.load()) verify(*k);              // any worker
//
// Why not std::atomic<std::shared_ptr<T>>: libstdc++ 12 (Debian 12's g++)
// implements it with a lock bit whose unlock in load() is memory_order_relaxed,
// so nothing orders a reader's copy of the pointer before the next store's
// write of it (ThreadSanitizer reports the race: google/sanitizers#1558). A
// mutex held for one shared_ptr copy is the same shape as that lock bit (an
// atomic RMW to take it, one to release it; readers of one snapshot contend
// on it the same way) and is correct on every standard library.
// The replaced value is released after the lock is dropped, so a reader never
// waits for a destructor.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace authgate::common {

template <class T>
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<T> value) : value_(std::move(value)) {}
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  std::shared_ptr<T> load() const {
    std::lock_guard lock(mu_);
    return value_;
  }

  void store(std::shared_ptr<T> value) {
    {
      std::lock_guard lock(mu_);
      value_.swap(value);
    }
    // `value` (the replaced snapshot) is released here, outside the lock.
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<T> value_;
};

}  // namespace authgate::common
