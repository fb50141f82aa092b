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
        per_shard_(shards_.empty() ? 0 : max_entries / shards_.size()) {}  // >= 1; total <= max_entries

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
    insert_locked(s, h, key, std::move(value), expires_at, now);
  }

  // A replay cache's check-and-set, as one step under the shard's lock: claims `key` until
  // expires_at. seen: a live entry has this key (a replay). full: storing it would drop a live
  // entry (a live entry of another key has its hash, or the shard holds max entries that are all
  // live, or the cache is off) -- unlike insert(), a claim never evicts a live one: an evicted
  // key could be replayed. The caller refuses the request then (fail closed).
  enum class Claim { fresh, seen, full };
  Claim claim(std::string_view key, Value value, std::int64_t expires_at, std::int64_t now) {
    if (!enabled()) return Claim::full;
    if (expires_at <= now) return Claim::fresh;  // nothing to remember
    const std::size_t h = std::hash<std::string_view>{}(key);
    Shard& s = shard(h);
    std::lock_guard lock(s.mu);
    if (auto it = s.map.find(h); it != s.map.end() && now < it->second.expires_at)
      return it->second.key == key ? Claim::seen : Claim::full;
    else if (it == s.map.end() && s.map.size() >= per_shard_) {
      std::erase_if(s.map, [&](const auto& kv) { return now >= kv.second.expires_at; });
      if (s.map.size() >= per_shard_) return Claim::full;
    }
    insert_locked(s, h, key, std::move(value), expires_at, now);
    return Claim::fresh;
  }

  void erase(std::string_view key) {
    if (!enabled()) return;
    const std::size_t h = std::hash<std::string_view>{}(key);
    Shard& s = shard(h);
    std::lock_guard lock(s.mu);
    if (auto it = s.map.find(h); it != s.map.end() && it->second.key == key) s.map.erase(it);
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
    std::uint64_t seq;  // insertion number: which `order` record is this entry's current one
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::size_t, Entry> map;
    // Insertion order as (hash, seq); records whose entry was erased or
    // re-inserted since are stale and skipped (and compacted away).
    std::deque<std::pair<std::size_t, std::uint64_t>> order;
    std::uint64_t next_seq = 0;
  };

  Shard& shard(std::size_t h) { return shards_[(h >> 7) % shards_.size()]; }

  void insert_locked(Shard& s, std::size_t h, std::string_view key, Value value, std::int64_t expires_at,
                     std::int64_t now) {
    const std::uint64_t seq = ++s.next_seq;
    if (auto it = s.map.find(h); it != s.map.end()) {
      it->second = Entry{std::string(key), std::move(value), expires_at, seq};
    } else {
      if (s.map.size() >= per_shard_) make_room(s, now);
      s.map.emplace(h, Entry{std::string(key), std::move(value), expires_at, seq});
    }
    s.order.emplace_back(h, seq);
    if (s.order.size() > 2 * s.map.size() + 16) compact_order(s);
  }

  static bool current(const Shard& s, const std::pair<std::size_t, std::uint64_t>& rec) {
    auto it = s.map.find(rec.first);
    return it != s.map.end() && it->second.seq == rec.second;
  }

  void make_room(Shard& s, std::int64_t now) {
    std::erase_if(s.map, [&](const auto& kv) { return now >= kv.second.expires_at; });
    while (s.map.size() >= per_shard_ && !s.order.empty()) {  // then the oldest inserted
      if (current(s, s.order.front())) s.map.erase(s.order.front().first);
      s.order.pop_front();
    }
  }

  static void compact_order(Shard& s) {
    std::erase_if(s.order, [&](const auto& rec) { return !current(s, rec); });
  }

  std::vector<Shard> shards_;
  std::size_t per_shard_;
};

}  // namespace authgate::common
