#include "proxy/body_relay.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>
#include <memory>
#include <vector>

#include "http/wire.hpp"
#include "net/upstream_pool.hpp"
#include "proxy/connection.hpp"
#include "proxy/request_state.hpp"
#include "proxy/runtime.hpp"
#include "session/session_manager.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> pump(net::Stream& from, net::Stream& to, config::Duration idle) {
  std::vector<char> data(kRelayChunk);
  for (;;) {
    from.tcp().expires_after(idle);
    auto [ec, n] = co_await from.async_read_some(asio::buffer(data), use_tuple);
    if (ec) co_return;
    to.tcp().expires_after(idle);
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(data.data(), n), use_tuple);
    if (wec) co_return;
  }
}

asio::awaitable<void> tunnel_lifetime(ClientConnection& c, Runtime& rt, RequestState& rs) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(rt.cfg.timeouts.websocket_max_lifetime);
  auto [ec] = co_await timer.async_wait(use_tuple);
  if (ec) co_return;  // the tunnel ended first
  c.worker.state().metrics.websocket_max_lifetime.Increment();
  spdlog::info("request {}: WebSocket tunnel closed after timeouts.websocket_max_lifetime ({} ms)", rs.request_id,
               rt.cfg.timeouts.websocket_max_lifetime.count());
}

asio::awaitable<void> watch_session(ClientConnection& c, Runtime& rt, RequestState& rs,
                                    session::SessionManager& sessions, const std::string& id) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(rt.cfg.sessions->websocket_check_interval);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    const bool alive = co_await sessions.session_alive(id, now);
    if (!alive) break;
  }
  c.worker.state().metrics.websocket_session_ended.Increment();
  spdlog::info("request {}: WebSocket tunnel closed: its session has ended", rs.request_id);
}

}  // namespace

template <bool isRequest>
asio::awaitable<BodyRelay> relay_body(net::Stream& in, beast::flat_buffer& in_buffer,
                                      bhttp::parser<isRequest, bhttp::buffer_body, http::FieldAllocator<char>>& parser, ReadDeadline* deadline,
                                      config::Duration read_timeout, net::Stream& out,
                                      bhttp::message<isRequest, bhttp::buffer_body, http::Fields>& out_msg,
                                      config::Duration write_timeout, RelayBuffer& relay, std::string& header,
                                      std::uint64_t min_rate) {
  BodyRelay result;
  // A message without a body (HEAD, 204, 304, or a request with none) is its
  // header alone even when it says chunked: the serializer would add "0\r\n\r\n".
  const bool chunked = out_msg.chunked() && !parser.is_done();
  // On the heap, and only for a chunked message: inline, the serializer would take
  // this coroutine's frame past Asio's 1,020-byte recycling limit, and every
  // fixed-length or bodiless message would pay a fresh frame for it.
  std::unique_ptr<bhttp::serializer<isRequest, bhttp::buffer_body, http::Fields>> sr;
  bool header_sent = false;
  if (chunked) sr = std::make_unique<bhttp::serializer<isRequest, bhttp::buffer_body, http::Fields>>(out_msg);
  else http::render_header(out_msg.base(), header);

  // Writes the header (if still pending) and `n` body bytes at `data`.
  auto write = [&](const char* data, std::size_t n, bool more) -> asio::awaitable<error_code> {
    out.tcp().expires_after(write_timeout);
    if (sr) {
      auto& body = out_msg.body();
      body.data = const_cast<char*>(data);
      body.size = n;
      body.more = more;
      auto [ec, w] = co_await bhttp::async_write(out, *sr, use_tuple);
      header_sent = true;
      co_return ec == bhttp::error::need_buffer ? error_code{} : ec;
    }
    // Gathered write of header + piece; the header part is empty once sent.
    std::array<asio::const_buffer, 2> bufs{header_sent ? asio::const_buffer() : asio::buffer(header),
                                           asio::buffer(data, n)};
    auto [ec, w] = co_await asio::async_write(out, bufs, use_tuple);
    header_sent = true;
    co_return ec;
  };

  if (parser.is_done()) {  // no body: the header alone
    result.write_error = co_await write(nullptr, 0, false);
    co_return result;
  }
  const std::span<char> chunk = relay.get(parser.content_length().value_or(RelayBuffer::kUnknownLength));
  const auto body_started = Clock::now();
  std::uint64_t body_read = 0;
  while (!parser.is_done()) {
    if (!header_sent && in_buffer.size() == 0) {
      if (sr) {
        out.tcp().expires_after(write_timeout);
        auto [ec, n] = co_await bhttp::async_write_header(out, *sr, use_tuple);
        result.write_error = ec;
        header_sent = true;
      } else {
        result.write_error = co_await write(nullptr, 0, true);
      }
      if (result.write_error) co_return result;
    }
    auto& in_body = parser.get().body();
    in_body.data = chunk.data();
    in_body.size = chunk.size();
    if (deadline) deadline->arm(read_timeout);
    else in.tcp().expires_after(read_timeout);
    auto [rec, rn] = co_await bhttp::async_read_some(in, in_buffer, parser, use_tuple);
    if (deadline) deadline->disarm();
    if (rec == bhttp::error::need_buffer) rec = {};
    if (rec) {
      result.read_error = rec;
      result.read_timed_out = deadline ? deadline->fired() : rec == beast::error::timeout;
      co_return result;
    }
    const std::size_t n = chunk.size() - in_body.size;
    body_read += n;
    if (min_rate > 0 && !parser.is_done()) {
      const auto elapsed = Clock::now() - body_started;
      if (elapsed > read_timeout &&
          static_cast<double>(body_read) < static_cast<double>(min_rate) * std::chrono::duration<double>(elapsed).count()) {
        result.read_error = beast::error::timeout;
        result.read_timed_out = true;
        co_return result;
      }
    }
    const bool more = !parser.is_done();
    // An empty piece (only a chunk header was parsed) must not be written: the
    // chunked serializer would emit it as the terminating zero-size chunk.
    if (n == 0 && more) continue;
    result.bytes += n;
    result.write_error = co_await write(chunk.data(), n, more);
    if (result.write_error) co_return result;
  }
  co_return result;
}

template asio::awaitable<BodyRelay> relay_body<true>(net::Stream&, beast::flat_buffer&,
                                                     bhttp::parser<true, bhttp::buffer_body, http::FieldAllocator<char>>&, ReadDeadline*,
                                                     config::Duration, net::Stream&,
                                                     bhttp::message<true, bhttp::buffer_body, http::Fields>&, config::Duration,
                                                     RelayBuffer&, std::string&, std::uint64_t);
template asio::awaitable<BodyRelay> relay_body<false>(net::Stream&, beast::flat_buffer&,
                                                      bhttp::parser<false, bhttp::buffer_body, http::FieldAllocator<char>>&, ReadDeadline*,
                                                      config::Duration, net::Stream&,
                                                      bhttp::message<false, bhttp::buffer_body, http::Fields>&, config::Duration,
                                                      RelayBuffer&, std::string&, std::uint64_t);

asio::awaitable<void> websocket_tunnel(ClientConnection& c, Runtime& rt, RequestState& rs,
                                       net::UpstreamConnection& up, const TunnelBounds& bounds) {
  using namespace asio::experimental::awaitable_operators;
  const auto idle = rt.cfg.timeouts.websocket_idle;
  // Bytes that arrived behind the headers belong to the new protocol.
  if (up.buffer.size()) {
    c.stream.tcp().expires_after(idle);
    auto [ec, n] = co_await asio::async_write(c.stream, up.buffer.data(), use_tuple);
    if (ec) co_return;
    up.buffer.consume(up.buffer.size());
  }
  if (auto& buffer = c.ws->buffer; buffer.size()) {
    up.stream.tcp().expires_after(idle);
    auto [ec, n] = co_await asio::async_write(up.stream, buffer.data(), use_tuple);
    if (ec) co_return;
    buffer.consume(buffer.size());
  }
  if (!bounds.max_lifetime) {
    co_await (pump(c.stream, up.stream, idle) || pump(up.stream, c.stream, idle));
  } else if (!bounds.sessions || !bounds.session_id || bounds.session_id->empty()) {
    co_await (pump(c.stream, up.stream, idle) || pump(up.stream, c.stream, idle) || tunnel_lifetime(c, rt, rs));
  } else {
    co_await (pump(c.stream, up.stream, idle) || pump(up.stream, c.stream, idle) || tunnel_lifetime(c, rt, rs) ||
              watch_session(c, rt, rs, *bounds.sessions, *bounds.session_id));
  }
}

}  // namespace authgate::proxy
