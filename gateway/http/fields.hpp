// The header-field container of every HTTP message on the request path: Beast's
// basic_fields with an allocator that recycles its nodes per thread.
//
// Usage:
//   http::Fields f;                       // as beast::http::fields
//   bhttp::request<bhttp::buffer_body, http::Fields> req;
//   bhttp::request_parser<bhttp::buffer_body, http::FieldAllocator<char>> parser;
//
// Beast allocates one node per field (and one for a request target or a reason
// phrase): about 14 of the 24 heap allocations of a proxied request
// (load-tests/RESULTS.md, "Allocations per request: where they came from"). The
// allocator keeps the freed blocks of each size class in a per-thread list and
// hands them out again, so on a worker in steady state a request's fields cost
// no malloc. Blocks are plain malloc'd memory: one freed on another thread (or
// after its thread's cache is gone) simply joins that thread's list or goes back
// to free(). The allocator is stateless and every instance is equal, so moving
// a header between messages (parser -> upstream request) moves its nodes.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <new>

namespace authgate::http {

namespace detail {
// At most kRecycledBlocks free blocks per size class per thread; larger blocks than
// the biggest class go straight to malloc/free.
void* recycled_allocate(std::size_t bytes);
void recycled_deallocate(void* p, std::size_t bytes) noexcept;
}  // namespace detail

template <class T>
struct FieldAllocator {
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;

  FieldAllocator() noexcept = default;
  template <class U>
  FieldAllocator(const FieldAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(detail::recycled_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { detail::recycled_deallocate(p, n * sizeof(T)); }

  template <class U>
  bool operator==(const FieldAllocator<U>&) const noexcept { return true; }
};

using Fields = boost::beast::http::basic_fields<FieldAllocator<char>>;

}  // namespace authgate::http
