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
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <variant>

namespace authgate::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

class Stream {
 public:
  using executor_type = asio::any_io_executor;
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

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
          if (s_.index() == 0) std::get<0>(s_).async_read_some(b, std::move(handler));
          else std::get<1>(s_).async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          if (s_.index() == 0) std::get<0>(s_).async_write_some(b, std::move(handler));
          else std::get<1>(s_).async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

 private:
  std::variant<beast::tcp_stream, TlsStream> s_;
};

}  // namespace authgate::net
