#include "proxy/connection.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

#include "auth/cert_binding.hpp"
#include "net/tls.hpp"
#include "proxy/h2_connection.hpp"
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
  if (auto& tls = w.state().server_tls) return net::Stream(std::move(socket), *tls);
  return net::Stream(std::move(socket));
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
  if (!c.ws) c.ws = c.worker.take_workspace();
  const std::span<char> sink = c.ws->relay.get();
  c.deadline.arm(rt->cfg.timeouts.linger);
  while (discarded < rt->cfg.limits.max_linger_bytes) {
    auto [ec, n] = co_await c.stream.async_read_some(asio::buffer(sink.data(), sink.size()), use_tuple);
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
  // next_request tries a plain connection's next request with a non-blocking read
  // (proxy/request_reader.cpp); asynchronous operations are unaffected.
  if (!stream.is_tls()) stream.tcp().socket().non_blocking(true, ec);
  handle.stream = &stream;
  handle_pos = worker.add_connection(&handle);
}

ClientConnection::~ClientConnection() {
  worker.remove_connection(handle_pos);
  if (ws) ws->buffer.clear();  // what the client sent after its last request is dropped
  worker.give_back_workspace(std::move(ws));
  worker.state().metrics.connections_active.Decrement();
  worker.state().connections.fetch_sub(1);
}

namespace {

void spawn(Worker& worker, asio::awaitable<void> a) {
  asio::co_spawn(worker.io(), std::move(a), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("connection ended by exception: {}", ex.what());
    }
  });
}

void wait_idle(std::unique_ptr<ClientConnection> c);

// The HTTP/2 client connection preface (RFC 9113 3.4). On a listener with
// listen.h2c, a connection whose first bytes are (the start of) it speaks h2c
// with prior knowledge; "PRI" is no method an HTTP/1 client sends.
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
bool starts_h2c(const ClientConnection& c) {
  if (c.requests != 0 || !c.ws || c.stream.is_tls()) return false;
  const std::string_view data(static_cast<const char*>(c.ws->buffer.data().data()), c.ws->buffer.size());
  const std::size_t n = std::min(data.size(), kH2Preface.size());
  return n >= 3 && data.substr(0, n) == kH2Preface.substr(0, n) && c.worker.state().runtime.load()->cfg.listen.h2c;
}

// Requests, one after the other, for as long as the next one is already there;
// then the connection either waits idle (this coroutine ends) or closes.
asio::awaitable<void> serve_requests(std::unique_ptr<ClientConnection> owned) {
  ClientConnection& c = *owned;
  for (;;) {
    const NextRequest next = next_request(c);
    if (next == NextRequest::idle) {
      wait_idle(std::move(owned));
      co_return;
    }
    if (next == NextRequest::ready && starts_h2c(c)) {
      serve_h2(std::move(owned));
      co_return;
    }
    if (next == NextRequest::closed || !co_await serve_request(c)) break;
  }
  error_code ignored;
  if (c.body_unread && !c.stream.is_tls()) co_await linger(c);
  c.stream.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  c.stream.tcp().close();
}

// The idle wait ends: bytes came (the requests are served), or the connection
// idled out, was closed by the client or cancelled by the drain (it is closed).
void wake(std::unique_ptr<ClientConnection> c, error_code ec, bool timed_out) {
  c->handle.idle = false;
  if (ec) {
    if (timed_out) c->count_timeout(metrics::TimeoutPhase::keepalive_idle);
    return;  // closed by ~ClientConnection
  }
  Worker& worker = c->worker;
  spawn(worker, serve_requests(std::move(c)));
}

// An idle keep-alive connection is no coroutine: it is its ClientConnection and
// one pending wait whose handler owns it. Its workspace went back to the worker,
// and it holds no Runtime snapshot. 10,000 idle clients cost 10,000 of these
// (load-tests/RESULTS.md, "Idle connections"). Plain TCP waits for readability
// under the ReadDeadline; TLS reads the first byte (OpenSSL keeps the rest of its
// record) under the stream's own timeout.
void wait_idle(std::unique_ptr<ClientConnection> c) {
  if (c->draining()) return;
  ClientConnection& conn = *c;
  conn.worker.give_back_workspace(std::move(conn.ws));
  conn.handle.idle = true;
  const auto idle_timeout = conn.worker.state().runtime.load()->cfg.timeouts.keepalive_idle;
  if (!conn.stream.is_tls()) {
    conn.deadline.arm(idle_timeout);
    conn.stream.tcp().socket().async_wait(asio::socket_base::wait_read, [c = std::move(c)](error_code ec) mutable {
      c->deadline.disarm();
      const bool timed_out = c->deadline.fired();
      wake(std::move(c), ec, timed_out);
    });
    return;
  }
  conn.stream.tcp().expires_after(idle_timeout);
  conn.stream.async_read_some(asio::buffer(&conn.first_byte, 1),
                              [c = std::move(c)](error_code ec, std::size_t) mutable {
                                if (!ec) {
                                  c->ws = c->worker.take_workspace();
                                  *static_cast<char*>(c->ws->buffer.prepare(1).data()) = c->first_byte;
                                  c->ws->buffer.commit(1);
                                }
                                const bool timed_out = ec == beast::error::timeout;
                                wake(std::move(c), ec, timed_out);
                              });
}

asio::awaitable<void> handshake_and_serve(std::unique_ptr<ClientConnection> owned) {
  ClientConnection& c = *owned;
  c.stream.tcp().expires_after(c.worker.state().runtime.load()->cfg.timeouts.tls_handshake);
  auto [ec] = co_await c.stream.tls().async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    if (ec == beast::error::timeout) c.count_timeout(metrics::TimeoutPhase::tls_handshake);
    spdlog::debug("tls handshake from {} failed: {}", c.client_ip, ec.message());
    co_return;
  }
  // Verified against listen.tls.client_ca_file by the handshake.
  if (const X509* cert = SSL_get0_peer_certificate(c.stream.tls().native_handle())) {
    unsigned char* der = nullptr;
    if (const int n = i2d_X509(cert, &der); n > 0)
      c.client_certificate = auth::certificate_thumbprint({der, static_cast<std::size_t>(n)});
    OPENSSL_free(der);
  }
  if (net::negotiated_h2(c.stream.tls())) serve_h2(std::move(owned));
  else wait_idle(std::move(owned));
}

}  // namespace

void serve_connection(Worker& worker, asio::ip::tcp::socket socket) {
  auto c = std::make_unique<ClientConnection>(worker, std::move(socket));
  if (c->stream.is_tls()) spawn(worker, handshake_and_serve(std::move(c)));
  else spawn(worker, serve_requests(std::move(c)));
}

asio::awaitable<void> reply_error(ClientConnection& c, Runtime& rt, RequestState& rs, unsigned status,
                                  std::string_view error, bool keep_alive, std::string_view www_authenticate,
                                  std::string_view dpop_nonce) {
  http::LocalResponse res = http::error_response(rs.grpc, status, error, rs.request_id, keep_alive,
                                                 rt.cfg.timeouts.retry_after, www_authenticate, dpop_nonce);
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
