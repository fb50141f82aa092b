// The socket-free core of an HTTP/2 client connection: nghttp2's server session
// with authgate's settings and callbacks (the request streams' heads and bodies,
// the flood bounds, the per-stream body limit and linger), bytes in and frames
// out. proxy/h2_connection.hpp drives it from the connection's socket and spawns
// one pipeline coroutine per complete head; tests/fuzz/h2_fuzz.cpp drives it from
// a byte string with a fixed clock.
//
// Usage:
//   H2Session s(cfg.http2, cfg.limits, executor);
//   const ssize_t rv = s.receive(data, n, Clock::now());  // < 0: GOAWAY with s.failure(rv)
//   for (auto& stream : s.take_ready()) ...;               // heads complete in that receive
//   nghttp2_session_mem_send(s.session(), &p);             // the frames to send
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/fields.hpp"
#include "metrics/metrics.hpp"

namespace authgate::net {
class Stream;
}

namespace authgate::proxy {

struct RequestWorkspace;

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
  RequestWorkspace* ws = nullptr;  // the stream coroutine's workspace (it owns it)
};

// The routing host of a stream's request: :authority, else host (RFC 9113 8.3.1).
// Both present and different would let two readers of the request disagree: then
// "\x01", which no Host check accepts.
std::string_view routing_authority(const H2Stream& s);

class H2Session {
 public:
  using Clock = std::chrono::steady_clock;

  // Submits the server's SETTINGS (http2.*) and the connection window.
  H2Session(const config::Http2Config& http2, const config::Limits& limits, const boost::asio::any_io_executor& ex);
  virtual ~H2Session();
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  nghttp2_session* session() { return session_; }
  // Bytes from the client into the session; `now` times the control-frame bound.
  // nghttp2_session_mem_recv()'s result: negative is a connection error.
  ssize_t receive(const std::uint8_t* data, std::size_t n, Clock::time_point now);
  // Why a receive() failed with `rv`: the GOAWAY reason (metric label).
  metrics::H2Goaway failure(ssize_t rv) const;
  // The streams whose request head completed since the last call.
  std::vector<std::shared_ptr<H2Stream>> take_ready() { return std::exchange(ready_, {}); }
  bool idle() const { return streams_.empty(); }
  // The session has output queued (the writer should run).
  virtual void kick() {}

  // Response HEADERS (lowercase names, connection-specific fields left out) with
  // the stream's `out`/`out_eof` as body source, or none when `end_stream`.
  void submit_response(H2Stream& s, unsigned status, const http::Fields& fields, bool end_stream);
  // The stream's body bytes went upstream: its window (and the connection's) reopens.
  void consumed(H2Stream& s, std::size_t n);
  void reset_stream(H2Stream& s, std::uint32_t error_code);

 protected:
  // A stream opened or closed (idle() may have changed).
  virtual void streams_changed() {}
  // nghttp2 closed the stream (reset or done); it leaves the table after this.
  virtual void stream_closed(H2Stream&) {}

  const config::Http2Config cfg_;
  std::unordered_map<std::int32_t, std::shared_ptr<H2Stream>> streams_;

 private:
  friend struct H2Callbacks;
  bool count_control_frame();

  std::uint64_t max_body_bytes_ = 0;    // limits.max_body_bytes, per stream
  std::uint64_t max_linger_bytes_ = 0;  // limits.max_linger_bytes: a declined body read and dropped
  boost::asio::any_io_executor ex_;     // the streams' events
  nghttp2_session* session_ = nullptr;
  std::vector<std::shared_ptr<H2Stream>> ready_;  // heads complete since take_ready()
  Clock::time_point now_{};
  std::uint64_t resets_ = 0;
  std::uint64_t control_frames_ = 0;
  Clock::time_point control_window_start_{};
  metrics::H2Goaway pending_reason_ = metrics::H2Goaway::protocol_error;
  bool pending_set_ = false;  // a callback asked for GOAWAY with pending_reason_
};

}  // namespace authgate::proxy
