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
// the writer (the session's frames out) and one coroutine per stream.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/fields.hpp"
#include "metrics/metrics.hpp"
#include "proxy/connection.hpp"

namespace authgate::net {
class Stream;
}

namespace authgate::proxy {

// Takes over a connection that speaks HTTP/2: its buffered bytes (c->ws, if
// any) start with the client connection preface, or its TLS handshake selected h2.
void serve_h2(std::unique_ptr<ClientConnection> c);

// A wake-up for one waiting coroutine: notify() before wait() is not lost.
class Event {
 public:
  explicit Event(const boost::asio::any_io_executor& ex);
  // True when notified, false when `timeout` passed first. (Callers pass a named
  // Duration: a converted temporary inside co_await is destroyed twice by GCC 12.)
  boost::asio::awaitable<bool> wait(config::Duration timeout);
  void notify();

 private:
  boost::asio::steady_timer timer_;
  bool set_ = false;
};

class H2Connection;

// One request stream, shared by the codec's callbacks and its coroutine.
struct H2Stream {
  H2Stream(std::int32_t stream_id, const boost::asio::any_io_executor& ex) : id(stream_id), ev(ex) {}

  std::int32_t id;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // The request head as decoded (pseudo-header fields apart).
  std::string method, scheme, authority, path;
  bool has_authority = false, has_path = false;
  http::Fields fields;       // regular fields; cookie crumbs joined into one (RFC 9113 8.2.3)
  std::string cookie;
  std::uint64_t header_bytes = 0;  // RFC 9113 sizes (name + value + 32) of this block
  bool head_done = false;
  // The request body: DATA bytes not yet written upstream (bounded by the stream window).
  std::string in;
  std::uint64_t in_total = 0;
  bool end_stream = false;    // the client sent END_STREAM
  bool too_large = false;     // over limits.max_body_bytes
  bool discard = false;       // answered before the request ended: DATA read and dropped
  std::uint64_t discarded = 0;
  bool closed = false;        // nghttp2 closed the stream (reset, or done)
  std::uint32_t close_error = 0;
  // The response body piece nghttp2 takes as the window allows (its data source).
  std::span<const char> out;
  std::string local_body;     // a local reply's body
  bool out_eof = false;
  std::vector<std::pair<std::string, std::string>> trailers;  // sent after the body
  std::vector<std::pair<std::string, std::string>> req_trailers;  // the request's (h2/h2c upstreams forward them)
  bool responded = false;     // response HEADERS submitted
  net::Stream* upstream = nullptr;  // cancelled when the client resets the stream
  Event ev;                   // wakes the stream's coroutine
  std::unique_ptr<RequestWorkspace> ws;  // taken when its coroutine starts
};

class H2Connection : public std::enable_shared_from_this<H2Connection> {
 public:
  explicit H2Connection(std::unique_ptr<ClientConnection> c);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  void start();

  ClientConnection& client() { return *c_; }
  nghttp2_session* session() { return session_; }
  // The writer sends what the session has queued.
  void kick() { write_ev_.notify(); }
  bool dead() const { return dead_; }

  // Response HEADERS (lowercase names, connection-specific fields left out) with
  // the stream's `out`/`out_eof` as body source, or none when `end_stream`.
  void submit_response(H2Stream& s, unsigned status, const http::Fields& fields, bool end_stream);
  // The stream's body bytes went upstream: its window (and the connection's) reopens.
  void consumed(H2Stream& s, std::size_t n);
  void reset_stream(H2Stream& s, std::uint32_t error_code);

 private:
  friend struct H2Callbacks;
  boost::asio::awaitable<void> read_loop(std::shared_ptr<H2Connection> self);
  boost::asio::awaitable<void> write_loop(std::shared_ptr<H2Connection> self);
  void go_away(metrics::H2Goaway reason, std::uint32_t error_code);
  bool count_control_frame();
  void spawn_ready_streams();
  void update_idle();
  void shut();

  std::unique_ptr<ClientConnection> c_;
  config::Http2Config cfg_;          // of the Runtime the connection started on
  std::uint64_t max_body_bytes_ = 0;  // limits.max_body_bytes, per stream
  std::uint64_t max_linger_bytes_ = 0;  // limits.max_linger_bytes: a declined body read and dropped
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, std::shared_ptr<H2Stream>> streams_;
  std::vector<std::shared_ptr<H2Stream>> ready_;  // heads complete during this receive
  Event write_ev_;
  boost::asio::steady_timer write_timer_;  // bounds each write (timeouts.body_read)
  std::string out_;  // bytes being written
  std::array<char, 16 * 1024> in_;
  bool dead_ = false;
  bool goaway_ = false;  // authgate ended the session: flush, then close
  bool drain_goaway_ = false;  // the drain's GOAWAY (NO_ERROR) is out: no new streams
  std::uint64_t resets_ = 0;
  std::uint64_t control_frames_ = 0;
  std::chrono::steady_clock::time_point control_window_start_ = std::chrono::steady_clock::now();
  metrics::H2Goaway pending_reason_ = metrics::H2Goaway::protocol_error;
  bool pending_set_ = false;  // a callback asked for GOAWAY with pending_reason_
};

// A stream's life: the head checks, admit(), a local reply or the upstream exchange,
// the log line. Spawned when its head is complete (proxy/h2_stream.cpp).
boost::asio::awaitable<void> serve_h2_stream(std::shared_ptr<H2Connection> conn, std::shared_ptr<H2Stream> s);

// A local error reply on a stream (JSON, or gRPC trailers-only), then its log line.
void reply_error(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs, unsigned status,
                 std::string_view error, std::string_view www_authenticate = {},
                 std::string_view dpop_nonce = {});

}  // namespace authgate::proxy
