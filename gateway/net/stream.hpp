// A byte stream that is plain TCP or TLS over TCP, chosen at run time, so the
// HTTP relay is compiled once for all four client/upstream combinations.
// Timeouts come from the underlying beast::tcp_stream (expires_after), which
// also bounds TLS reads and writes because they go through it.
//
// Usage:
//   Stream s(beast::tcp_stream(std::move(socket)));               // plain
//   Stream t(beast::tcp_stream(std::move(socket)), ssl_ctx);      // TLS (handshake separately)
//   s.tcp().expires_after(timeout);
//   co_await http::async_read_header(s, buffer, parser, use_tuple);
//
// Completion signature of async_read_some/async_write_some:
// void(error_code, std::size_t). Supports terminal cancellation (as tcp_stream does).
// Must be used from the one thread that runs its executor.
//
// The reads and writes are type-erased at this boundary: the caller's buffers are
// copied into a BufferList (at most kMaxBuffers non-empty buffers: a *_some
// operation may transfer less than it was given) and its handler into an
// any_completion_handler, so the TCP and TLS operations (Asio's SSL io_op, Beast's
// flat_stream) are instantiated once, in stream.cpp, instead of once per Beast
// composed operation and buffer type in every translation unit that relays HTTP.
// That was most of the compile time of proxy/connection.cpp (load-tests/RESULTS.md,
// "CI budget"). The erased handler is allocated through Asio's per-thread recycling
// allocator, so a steady stream of reads and writes makes no heap allocation.
#pragma once

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstddef>
#include <variant>

namespace authgate::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

// Up to kMaxBuffers buffers of one kind (asio::mutable_buffer or asio::const_buffer),
// a buffer sequence with a type that does not depend on the caller's.
template <class Buffer>
class BufferList {
 public:
  static constexpr std::size_t kMaxBuffers = 16;

  template <class BufferSequence>
  explicit BufferList(const BufferSequence& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers), end = asio::buffer_sequence_end(buffers);
         it != end && size_ < kMaxBuffers; ++it) {
      Buffer b(*it);
      if (b.size() != 0) buffers_[size_++] = b;
    }
  }

  const Buffer* begin() const { return buffers_.data(); }
  const Buffer* end() const { return buffers_.data() + size_; }

 private:
  std::array<Buffer, kMaxBuffers> buffers_{};
  std::size_t size_ = 0;
};

// The type-erased completion handler of a read or write. It carries the caller's
// executor as an any_io_executor: Beast's tcp_stream posts completions with
// blocking.never, which Boost 1.81's any_completion_executor (the executor an
// any_completion_handler reports) does not support. Cancellation slot and
// allocator are the erased handler's.
class ErasedHandler {
 public:
  using executor_type = asio::any_io_executor;
  using Erased = asio::any_completion_handler<void(error_code, std::size_t)>;
  using allocator_type = Erased::allocator_type;
  using cancellation_slot_type = Erased::cancellation_slot_type;

  ErasedHandler(Erased handler, executor_type ex) : handler_(std::move(handler)), ex_(std::move(ex)) {}

  executor_type get_executor() const noexcept { return ex_; }
  allocator_type get_allocator() const noexcept { return handler_.get_allocator(); }
  cancellation_slot_type get_cancellation_slot() const noexcept { return handler_.get_cancellation_slot(); }

  void operator()(error_code ec, std::size_t n) { std::move(handler_)(ec, n); }

 private:
  Erased handler_;
  executor_type ex_;
};

class Stream {
 public:
  using executor_type = asio::any_io_executor;
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  // From an accepted socket. (Beast's stream allocates a new state block on every
  // move, so building it in place saves two allocations per connection.)
  explicit Stream(asio::ip::tcp::socket socket) : s_(std::in_place_index<0>, std::move(socket)) {}
  Stream(asio::ip::tcp::socket socket, asio::ssl::context& ctx) : s_(std::in_place_index<1>, std::move(socket), ctx) {}
  explicit Stream(beast::tcp_stream tcp) : s_(std::in_place_index<0>, std::move(tcp)) {}
  Stream(beast::tcp_stream tcp, asio::ssl::context& ctx)
      : s_(std::in_place_index<1>, std::move(tcp), ctx) {}

  executor_type get_executor() { return tcp().get_executor(); }

  beast::tcp_stream& tcp() {
    return s_.index() == 0 ? std::get<0>(s_) : beast::get_lowest_layer(std::get<1>(s_));
  }
  bool is_tls() const { return s_.index() == 1; }
  TlsStream& tls() { return std::get<1>(s_); }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBufferSequence& b) {
          start_read(BufferList<asio::mutable_buffer>(b), erase(std::move(handler)));
        },
        token, buffers);
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          start_write(BufferList<asio::const_buffer>(b), erase(std::move(handler)));
        },
        token, buffers);
  }

 private:
  template <class H>
  ErasedHandler erase(H&& handler) {
    executor_type ex = asio::get_associated_executor(handler, get_executor());
    return ErasedHandler(
        ErasedHandler::Erased(asio::bind_allocator(asio::recycling_allocator<void>(), std::forward<H>(handler))),
        std::move(ex));
  }
  void start_read(const BufferList<asio::mutable_buffer>& buffers, ErasedHandler handler);
  void start_write(const BufferList<asio::const_buffer>& buffers, ErasedHandler handler);

  std::variant<beast::tcp_stream, TlsStream> s_;
};

}  // namespace authgate::net
