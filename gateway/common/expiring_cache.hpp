// A bounded, sharded map from a token (the whole string) to a value that
// expires at a given time. Used for verified JWTs (auth) and introspection
// results (idp). Pure: the clock is a parameter.
//
// Usage:
//   ExpiringCache<std::shared_ptr<const Entry>> cache(100'000);
//   cache.insert(token, value, expires_at_unix, now_unix);
//   if (auto v = cache.find(token, now_unix)) use(*v);
//
// Keys are hashed with std::hash over the whole token and compared in full on
// every hit, so a collision or a shared prefix never returns another token's
// entry. Each shard has its own mutex and holds at most max_entries/shards
// entries; a full shard first drops expired entries, then the oldest inserted
// one. An entry is never returned at or after its expiry. max_entries 0 turns
// the cache off (find always misses, insert does nothing).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace authgate::common {

template <class Value>
class ExpiringCache {
 public:
  explicit ExpiringCache(std::size_t max_entries, std::size_t shards = 16)
      : shards_(max_entries == 0 ? 0 : std::max<std::size_t>(1, std::min(shards, max_entries))),
        per_shard_(shards_.empty() ? 0 : (max_entries + shards_.size() - 1) / shards_.size()) {}

  bool enabled() const { return !shards_.empty(); }

  std::optional<Value> find(std::string_view key, std::int64_t now) {
    if (!enabled()) return std::nullopt;
    const std::size_t h = std::hash<std::string_view>{}(key);
    Shard& s = shard(h);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(h);
    if (it == s.map.end() || it->second.key != key) return std::nullopt;
    if (now >= it->second.expires_at) {
      s.map.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  void insert(std::string_view key, Value value, std::int64_t expires_at, std::int64_t now) {
    if (!enabled() || expires_at <= now) return;
    const std::size_t h = std::hash<std::string_view>{}(key);
    Shard& s = shard(h);
    std::lock_guard lock(s.mu);
    if (auto it = s.map.find(h); it != s.map.end()) {
      it->second = Entry{std::string(key), std::move(value), expires_at};
      return;
    }
    if (s.map.size() >= per_shard_) make_room(s, now);
    s.map.emplace(h, Entry{std::string(key), std::move(value), expires_at});
    s.order.push_back(h);
  }

  std::size_t size() {
    std::size_t n = 0;
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.map.size();
    }
    return n;
  }

 private:
  struct Entry {
    std::string key;
    Value value;
    std::int64_t expires_at;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::size_t, Entry> map;
    std::deque<std::size_t> order;  // insertion order; may hold hashes already erased
  };

  Shard& shard(std::size_t h) { return shards_[(h >> 7) % shards_.size()]; }

  void make_room(Shard& s, std::int64_t now) {
    std::erase_if(s.map, [&](const auto& kv) { return now >= kv.second.expires_at; });
    while (s.map.size() >= per_shard_ && !s.order.empty()) {
      s.map.erase(s.order.front());
      s.order.pop_front();
    }
    if (s.order.size() > 2 * per_shard_ + 16) {  // drop hashes of entries already gone
      std::deque<std::size_t> live;
      for (auto h : s.order)
        if (s.map.count(h)) live.push_back(h);
      s.order.swap(live);
    }
  }

  std::vector<Shard> shards_;
  std::size_t per_shard_;
};

}  // namespace authgate::common
