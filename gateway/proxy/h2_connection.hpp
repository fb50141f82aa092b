// The HTTP/2 codec of a client connection (h2 over TLS by ALPN, h2c with prior
// knowledge): nghttp2's server session does the framing, HPACK, flow control and
// RFC 9113 message validation; authgate does the I/O on the connection's socket.
// Each request stream becomes one request through the same pipeline as HTTP/1
// (proxy/h2_stream.cpp: the head checks, proxy/pipeline.hpp admit(), the
// upstream exchange on the HTTP/1 pool, request_state's log line and metrics).
//
// Usage (proxy/connection.cpp):
//   if (h2c preface in c->ws->buffer || net::negotiated_h2(c->stream.tls())) serve_h2(std::move(c));
//
// Bounds (config http2.*), each ending in GOAWAY and authgate_h2_goaway_total{reason}:
// concurrent streams, header list size (HPACK bomb), CONTINUATION frames per
// block, client resets per connection (rapid reset), control frames per second
// (PING/SETTINGS/PRIORITY/WINDOW_UPDATE/empty DATA floods), nghttp2's bound on
// queued ACKs, and the idle timeout. Request bodies are held only up to the
// stream and connection windows: a window is given back (WINDOW_UPDATE) only
// once its bytes went upstream. Responses are handed to nghttp2 one relay piece
// at a time, as the client's window allows.
//
// Everything runs on the worker's thread: the reader (bytes into the session),
// the writer (the session's frames out) and one coroutine per stream. The
// session itself (nghttp2, the callbacks, the stream table, the bounds) is
// proxy/h2_session.hpp, which has no socket.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "metrics/metrics.hpp"
#include "proxy/connection.hpp"
#include "proxy/h2_session.hpp"

namespace authgate::proxy {

// Takes over a connection that speaks HTTP/2: its buffered bytes (c->ws, if
// any) start with the client connection preface, or its TLS handshake selected h2.
void serve_h2(std::unique_ptr<ClientConnection> c);

class H2Connection : public H2Session, public std::enable_shared_from_this<H2Connection> {
 public:
  explicit H2Connection(std::unique_ptr<ClientConnection> c);
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  void start();

  ClientConnection& client() { return *c_; }
  // The writer sends what the session has queued.
  void kick() override { write_ev_.notify(); }
  bool dead() const { return dead_; }

 private:
  boost::asio::awaitable<void> read_loop(std::shared_ptr<H2Connection> self);
  boost::asio::awaitable<void> write_loop(std::shared_ptr<H2Connection> self);
  void go_away(metrics::H2Goaway reason, std::uint32_t error_code);
  void spawn_ready_streams();
  void streams_changed() override { update_idle(); }
  void stream_closed(H2Stream& s) override;
  void update_idle();
  void shut();

  std::unique_ptr<ClientConnection> c_;
  Event write_ev_;
  boost::asio::steady_timer write_timer_;  // bounds each write (timeouts.body_read)
  std::string out_;  // bytes being written; released while the connection is idle
  // Reads go into in_ (16 KiB, on the heap) while a stream is open, else into the
  // small in_idle_: an idle connection holds no large buffer.
  std::unique_ptr<char[]> in_;
  std::array<char, 512> in_idle_;
  bool dead_ = false;
  bool goaway_ = false;  // authgate ended the session: flush, then close
  bool drain_goaway_ = false;  // the drain's GOAWAY (NO_ERROR) is out: no new streams
};

// A stream's life: the head checks, admit(), a local reply or the upstream exchange,
// the log line. Spawned when its head is complete (proxy/h2_stream.cpp).
boost::asio::awaitable<void> serve_h2_stream(std::shared_ptr<H2Connection> conn, std::shared_ptr<H2Stream> s);

// A local error reply on a stream (JSON, or gRPC trailers-only), then its log line.
void reply_error(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs, unsigned status,
                 std::string_view error, std::string_view www_authenticate = {},
                 std::string_view dpop_nonce = {});

}  // namespace authgate::proxy
