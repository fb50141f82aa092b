// A memory resource for the JSON DOM of one token (its JOSE header and its
// claims), embedded in ParsedJwt. Internal to the auth module. Pure.
//
// Usage (what ParsedJwt does):
//   JsonArena arena;                                        // lives as long as the values
//   boost::json::object claims(boost::json::storage_ptr(&arena));
//   detail::parse_strict_object(text, claims);              // built in the arena
//   arena.seal();                                           // before the values are shared
//
// Parsing a token built about twenty small heap blocks (each object's table,
// each long string, each key) that were all freed together when the token
// died. Here they are bump-allocated from an inline buffer; a request that does
// not fit goes to the heap. Freeing a block of the buffer is a no-op.
//
// Once sealed, every allocation goes to the heap, so copying a value out of a
// shared, cached token (which allocates from the value's own resource) stays
// safe from any thread: the bump pointer is written only before the seal, by
// the thread that parses. reset() rewinds it; only when no value still lives
// in the buffer.
#pragma once

#include <boost/container/pmr/memory_resource.hpp>

#include <cstddef>
#include <cstdint>
#include <new>

namespace authgate::auth::detail {

class JsonArena final : public boost::container::pmr::memory_resource {
 public:
  // Enough for the DOM of a typical access token (a ~350-byte payload needs
  // about 900 bytes); bigger tokens spill to the heap.
  static constexpr std::size_t kInlineBytes = 1536;

  JsonArena() = default;
  JsonArena(const JsonArena&) = delete;
  JsonArena& operator=(const JsonArena&) = delete;

  void seal() noexcept { sealed_ = true; }
  void reset() noexcept {
    used_ = 0;
    sealed_ = false;
  }
  std::size_t used() const noexcept { return used_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (!sealed_) {
      const std::size_t start = (used_ + alignment - 1) & ~(alignment - 1);
      if (alignment <= alignof(std::max_align_t) && start <= kInlineBytes && bytes <= kInlineBytes - start) {
        used_ = start + bytes;
        return buffer_ + start;
      }
    }
    return ::operator new(bytes, std::align_val_t(alignment));
  }

  void do_deallocate(void* p, std::size_t /*bytes*/, std::size_t alignment) override {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const auto base = reinterpret_cast<std::uintptr_t>(buffer_);
    if (a >= base && a < base + kInlineBytes) return;  // released with the arena
    // The unsized form: clang declares the sized one only with -fsized-deallocation.
    ::operator delete(p, std::align_val_t(alignment));
  }

  bool do_is_equal(const boost::container::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  alignas(std::max_align_t) unsigned char buffer_[kInlineBytes];
  std::size_t used_ = 0;
  bool sealed_ = false;
};

}  // namespace authgate::auth::detail
