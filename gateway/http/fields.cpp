#include "http/fields.hpp"

#include <array>
#include <cstdlib>

namespace authgate::http::detail {

namespace {

// Size classes 32, 64, ..., 4096 bytes: field nodes are a node header (~50 bytes) plus
// name and value, so almost every field falls in the first three.
constexpr std::size_t kMinShift = 5;
constexpr std::size_t kClasses = 8;
constexpr std::size_t kMaxBlock = std::size_t{1} << (kMinShift + kClasses - 1);
// A worker keeps at most 64 free blocks per class: a request in flight on each of
// several connections holds ~15 nodes; more than that is returned to free().
constexpr unsigned kRecycledBlocks = 64;

struct FreeBlock {
  FreeBlock* next;
};

std::size_t class_of(std::size_t bytes) {
  std::size_t c = 0;
  while ((std::size_t{1} << (kMinShift + c)) < bytes) ++c;
  return c;
}

struct Cache {
  std::array<FreeBlock*, kClasses> head{};
  std::array<unsigned, kClasses> count{};
  ~Cache();
};

// 0: not used yet on this thread, 1: live, 2: destroyed. A trivially destructible
// flag, so a deallocation during or after the thread's destruction of `cache_storage`
// (another thread_local's destructor) frees directly instead of touching it.
thread_local int cache_state = 0;
thread_local Cache cache_storage;

Cache::~Cache() {
  cache_state = 2;
  for (auto* h : head) {
    while (h) {
      FreeBlock* next = h->next;
      std::free(h);
      h = next;
    }
  }
}

Cache* current() {
  if (cache_state == 1) return &cache_storage;
  if (cache_state == 2) return nullptr;
  cache_state = 1;
  return &cache_storage;  // first use on this thread constructs it
}

}  // namespace

void* recycled_allocate(std::size_t bytes) {
  if (bytes > kMaxBlock) {
    if (void* p = std::malloc(bytes)) return p;
    throw std::bad_alloc();
  }
  const std::size_t c = class_of(bytes);
  if (Cache* k = current(); k && k->head[c]) {
    FreeBlock* b = k->head[c];
    k->head[c] = b->next;
    --k->count[c];
    return b;
  }
  if (void* p = std::malloc(std::size_t{1} << (kMinShift + c))) return p;
  throw std::bad_alloc();
}

void recycled_deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes <= kMaxBlock) {
    const std::size_t c = class_of(bytes);
    if (Cache* k = current(); k && k->count[c] < kRecycledBlocks) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = k->head[c];
      k->head[c] = b;
      ++k->count[c];
      return;
    }
  }
  std::free(p);
}

}  // namespace authgate::http::detail
