// HTTP/2 to upstreams (upstreams[].protocol: h2 over TLS with ALPN "h2", or h2c
// with prior knowledge): nghttp2's client session does the framing, HPACK and
// flow control; authgate does the I/O on a net::Stream from net::connect_upstream.
//
// Per worker thread and upstream, an H2UpstreamPool keeps at most
// upstreams[].h2_connections multiplexed connections. A request opens a stream on
// one with a free slot (fewer open streams than the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS), else on a new connection while the bound
// allows, else it waits for a slot; none within timeouts.upstream_connect:
// pool_exhausted (503). A connection that failed, got GOAWAY or was idle for
// timeouts.upstream_idle takes no new streams and closes when its last one ends.
//
// Usage (proxy/h2_upstream_exchange.cpp, on the worker's thread):
//   auto u = std::make_shared<H2UpstreamStream>(&event);
//   error_code ec = co_await pool.open(u, nv, has_body);   // u->session set
//   ... u->out / out_eof (request body), u->in / head / trailers (response),
//   u->session->resume(*u), consumed(*u, n), reset(*u, code); u->wake = nullptr when done.
//
// Flow control both ways: request bytes are handed to nghttp2 one piece at a
// time (u->out, NGHTTP2_ERR_DEFERRED until the next piece); response DATA is
// held in u->in only up to the stream window this side advertises
// (http2.stream_window_bytes; http2.connection_window_bytes per connection),
// and the window reopens (consumed()) only once the client took the bytes.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/fields.hpp"
#include "http/request.hpp"
#include "http/request_head.hpp"
#include "net/upstream_pool.hpp"
#include "proxy/h2_connection.hpp"

namespace authgate::access {
struct Decision;
}

namespace authgate::proxy {

class H2UpstreamSession;
struct H2PoolState;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request's stream on an upstream connection, shared by the session's
// callbacks and the exchange's coroutine (which `wake` wakes).
struct H2UpstreamStream {
  explicit H2UpstreamStream(Event* w) : wake(w) {}
  void notify() {
    if (wake) wake->notify();
  }

  Event* wake;
  std::shared_ptr<H2UpstreamSession> session;  // set by H2UpstreamPool::open
  std::int32_t id = -1;
  // The request body: `out` from `out_pos` is what nghttp2 may still take.
  std::string out;
  std::size_t out_pos = 0;
  bool out_eof = false;   // the body ends after `out` (then `out_trailers`, if any)
  HeaderList out_trailers;
  bool out_taken() const { return out_pos == out.size(); }
  // The response.
  unsigned status = 0;
  http::Fields head;      // the final response's fields (1xx skipped)
  bool head_done = false;
  HeaderList trailers;    // fields after the body (gRPC's grpc-status lives there)
  std::uint64_t header_bytes = 0;
  std::string in;         // DATA not yet passed on (bounded by the stream window)
  bool end_stream = false;  // the upstream sent END_STREAM
  bool closed = false;      // the stream is gone (ended, reset, or the connection failed)
  std::uint32_t error = 0;  // its RST_STREAM / GOAWAY error code (NO_ERROR when it ended cleanly)
  bool refused = false;     // the upstream never processed it (REFUSED_STREAM, or above GOAWAY's last stream)
};

// One multiplexed connection. Lives while its reader runs or a stream holds it.
class H2UpstreamSession : public std::enable_shared_from_this<H2UpstreamSession> {
 public:
  struct Limits {
    std::uint64_t stream_window = 0, connection_window = 0, max_header_list = 0;
    config::Duration write_timeout{}, idle_timeout{};
  };
  H2UpstreamSession(std::unique_ptr<net::UpstreamConnection> conn, bool tls, const Limits& limits,
                    std::weak_ptr<H2PoolState> pool);
  ~H2UpstreamSession();
  H2UpstreamSession(const H2UpstreamSession&) = delete;
  H2UpstreamSession& operator=(const H2UpstreamSession&) = delete;

  void start();
  // Takes a new stream: fewer open than the peer allows, no GOAWAY, alive.
  bool has_slot() const;
  // HEADERS for `u` (with a body source unless !has_body); false when nghttp2 refuses it.
  bool submit(const std::shared_ptr<H2UpstreamStream>& u, std::span<const nghttp2_nv> nv, bool has_body);
  // The request body has more (or its end): nghttp2 asks the source again.
  void resume(H2UpstreamStream& u);
  // `n` response bytes were passed on: the windows reopen.
  void consumed(H2UpstreamStream& u, std::size_t n);
  void reset(H2UpstreamStream& u, std::uint32_t error_code);
  // No new streams; closes once the last one ended.
  void retire();
  bool is_tls() const { return tls_; }
  // Takes no new streams (failed, GOAWAY, retired).
  bool gone() const { return dead_ || goaway_; }

 private:
  friend struct H2UpstreamCallbacks;
  boost::asio::awaitable<void> read_loop(std::shared_ptr<H2UpstreamSession> self);
  boost::asio::awaitable<void> write_loop(std::shared_ptr<H2UpstreamSession> self);
  void kick() { write_ev_.notify(); }
  void stream_closed();
  void shut();

  std::unique_ptr<net::UpstreamConnection> conn_;
  bool tls_;
  Limits limits_;
  std::weak_ptr<H2PoolState> pool_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, std::shared_ptr<H2UpstreamStream>> streams_;
  Event write_ev_;
  boost::asio::steady_timer write_timer_;
  boost::asio::steady_timer idle_timer_;
  std::string wbuf_;
  std::array<char, 16 * 1024> rbuf_;
  bool dead_ = false;
  bool goaway_ = false;    // received, or retired: no new streams
};

// The connections of one upstream on one worker thread.
class H2UpstreamPool {
 public:
  H2UpstreamPool(boost::asio::any_io_executor ex, const config::Upstream& cfg, const config::Timeouts& timeouts,
                 const config::Http2Config& http2, std::uint64_t max_response_header_bytes,
                 boost::asio::ssl::context* tls);
  // May run on another thread (the Runtime's last owner): the connections are
  // retired on the worker's thread.
  ~H2UpstreamPool();

  // Opens `u` on a connection (its `session` set) with the request head `nv`.
  // Completion: an upstream_errc (pool_exhausted, a connect failure) or success.
  boost::asio::awaitable<boost::system::error_code> open(const std::shared_ptr<H2UpstreamStream>& u,
                                                         std::span<const nghttp2_nv> nv, bool has_body);

 private:
  boost::asio::any_io_executor ex_;
  const config::Upstream& cfg_;
  const config::Timeouts& timeouts_;
  boost::asio::ssl::context* tls_;
  std::string server_name_;
  H2UpstreamSession::Limits limits_;
  std::shared_ptr<H2PoolState> state_;
};

class Runtime;
struct RequestState;
struct RouteRuntime;

// Steps 7-8 to an h2/h2c upstream (proxy/h2_upstream_exchange.cpp), like
// proxy_stream (an HTTP/2 client's stream) and proxy_request (an HTTP/1 request,
// through proxy_request_any): the log line and metrics however it ends.
boost::asio::awaitable<void> proxy_stream_h2(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs,
                                             http::RequestHead& head, RouteRuntime& route,
                                             const config::Route& route_cfg, const access::Decision& decision);
boost::asio::awaitable<bool> proxy_request_h2(ClientConnection& c, Runtime& rt, RequestState& rs,
                                              http::RequestHead& head, http::RequestParser& body,
                                              RouteRuntime& route, const config::Route& route_cfg,
                                              const access::Decision& decision);

}  // namespace authgate::proxy
