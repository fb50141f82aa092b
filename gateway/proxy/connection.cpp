#include "proxy/connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

#include "proxy/pipeline.hpp"
#include "proxy/request_reader.hpp"
#include "proxy/request_state.hpp"
#include "proxy/runtime.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

net::Stream make_stream(Worker& w, asio::ip::tcp::socket socket) {
  beast::tcp_stream tcp(std::move(socket));
  if (auto& tls = w.state().server_tls) return net::Stream(std::move(tcp), *tls);
  return net::Stream(std::move(tcp));
}

// Closing a socket with unread bytes makes the kernel send a reset, and a
// client still sending its body then often loses the reply we just wrote
// (a 401 or 413). So: half-close, read and discard what the client is still
// sending, bounded by limits.max_linger_bytes and timeouts.linger, then close.
// (Plain TCP only: a TLS half-close would need a close_notify first.)
asio::awaitable<void> linger(ClientConnection& c) {
  const auto rt = c.worker.state().runtime.load();
  error_code ignored;
  c.stream.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  std::uint64_t discarded = 0;
  char* sink = c.relay.get();
  c.deadline.arm(rt->cfg.timeouts.linger);
  while (discarded < rt->cfg.limits.max_linger_bytes) {
    auto [ec, n] = co_await c.stream.async_read_some(asio::buffer(sink, kRelayChunk), use_tuple);
    if (ec) break;
    discarded += n;
  }
  c.deadline.disarm();
}

// A local reply's facts for the log, and its write deadline. (The write itself
// stays in each reply_* coroutine: one frame per reply, not two.)
void before_write(ClientConnection& c, const Runtime& rt, RequestState& rs, const http::LocalResponse& res) {
  rs.status = res.result_int();
  rs.bytes_out = res.body().size();
  c.stream.tcp().expires_after(rt.cfg.timeouts.body_read);
}

}  // namespace

ReadDeadline::ReadDeadline(net::Stream& s)
    : timer_(s.get_executor()), state_(std::make_shared<State>(State{&s})) {}

ReadDeadline::~ReadDeadline() {
  state_->stream = nullptr;  // a completion already queued must not touch the stream
  timer_.cancel();
}

void ReadDeadline::arm(config::Duration d) {
  state_->fired = false;
  state_->stream->tcp().expires_never();
  timer_.expires_after(d);
  timer_.async_wait([state = state_, armed = ++state_->generation](const error_code& ec) {
    if (ec || armed != state->generation || !state->stream) return;
    state->fired = true;
    error_code ignored;
    state->stream->tcp().socket().cancel(ignored);
  });
}

void ReadDeadline::disarm() {
  ++state_->generation;  // also voids a completion that is already queued
  timer_.cancel();
}

ClientConnection::ClientConnection(Worker& w, asio::ip::tcp::socket socket)
    : worker(w), stream(make_stream(w, std::move(socket))) {
  error_code ec;
  auto ep = stream.tcp().socket().remote_endpoint(ec);
  if (!ec) {
    peer = ep.address();
    if (peer.is_v6() && peer.to_v6().is_v4_mapped()) peer = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
    client_ip = peer.to_string();
  }
  stream.tcp().socket().set_option(asio::ip::tcp::no_delay(true), ec);
  // await_request tries a plain connection's next request with a non-blocking read
  // first (proxy/request_reader.cpp); asynchronous operations are unaffected.
  if (!stream.is_tls()) stream.tcp().socket().non_blocking(true, ec);
  handle.stream = &stream;
  handle_pos = worker.add_connection(&handle);
}

ClientConnection::~ClientConnection() { worker.remove_connection(handle_pos); }

asio::awaitable<void> serve_connection(Worker& worker, asio::ip::tcp::socket socket) {
  ClientConnection c(worker, std::move(socket));
  if (c.stream.is_tls()) {
    c.stream.tcp().expires_after(worker.state().runtime.load()->cfg.timeouts.tls_handshake);
    auto [ec] = co_await c.stream.tls().async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (ec) {
      if (ec == beast::error::timeout) c.count_timeout(metrics::TimeoutPhase::tls_handshake);
      spdlog::debug("tls handshake from {} failed: {}", c.client_ip, ec.message());
      co_return;
    }
  }
  for (;;) {  // an idle connection holds no Runtime snapshot: each request loads its own
    const auto idle_timeout = worker.state().runtime.load()->cfg.timeouts.keepalive_idle;
    if (!co_await await_request(c, idle_timeout) || !co_await serve_request(c)) break;
  }
  error_code ignored;
  if (c.body_unread && !c.stream.is_tls()) co_await linger(c);
  c.stream.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  c.stream.tcp().close();
  if (c.ws) c.ws->buffer.clear();  // what the client sent after its last request is dropped
  worker.give_back_workspace(std::move(c.ws));
}

asio::awaitable<void> reply_error(ClientConnection& c, Runtime& rt, RequestState& rs, unsigned status,
                                  std::string_view error, bool keep_alive, std::string_view www_authenticate) {
  http::LocalResponse res = http::json_error_response(status, error, rs.request_id, keep_alive,
                                                      rt.cfg.timeouts.retry_after, www_authenticate);
  before_write(c, rt, rs, res);
  co_await bhttp::async_write(c.stream, res, use_tuple);
  finish(c, rt, rs);
}

asio::awaitable<void> reply_page(ClientConnection& c, Runtime& rt, RequestState& rs, const http::LocalReply& reply,
                                 bool keep_alive) {
  http::LocalResponse res = http::page_response(reply, rs.request_id, keep_alive, rt.cfg.timeouts.retry_after);
  before_write(c, rt, rs, res);
  co_await bhttp::async_write(c.stream, res, use_tuple);
  finish(c, rt, rs);
}

asio::awaitable<void> reply_redirect(ClientConnection& c, Runtime& rt, RequestState& rs, unsigned status,
                                     std::string_view location, bool keep_alive) {
  http::LocalResponse res =
      http::redirect_response(status, location, rs.request_id, keep_alive, rt.cfg.timeouts.retry_after);
  before_write(c, rt, rs, res);
  co_await bhttp::async_write(c.stream, res, use_tuple);
  finish(c, rt, rs);
}

void finish(ClientConnection& c, Runtime& rt, RequestState& rs) {
  finish_request(rt, rs, c.worker.index(), c.client_ip);
}

}  // namespace authgate::proxy
