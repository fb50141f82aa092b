// Bodies and tunnels: streams one HTTP message (its header, then its body in
// pieces of the RelayBuffer (proxy/request_workspace.hpp), fixed-length or chunked) from a parser to the other
// side, and relays raw bytes both ways after a 101 (WebSocket).
//
// Usage:
//   BodyRelay r = co_await relay_body(client, client_buffer, request_parser, &deadline, timeouts.body_read,
//                                     upstream, upstream_request, timeouts.upstream_response,
//                                     c.ws->relay, c.ws->header, limits.min_body_rate);
//   if (r.read_error) ...; if (r.write_error) ...;
//   co_await websocket_tunnel(c, rt, rs, upstream_connection, {bounded, sessions, session_id});
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "http/fields.hpp"
#include "net/stream.hpp"

namespace authgate::net {
struct UpstreamConnection;
}
namespace authgate::session {
class SessionManager;
}

namespace authgate::proxy {

class ReadDeadline;
class RelayBuffer;
class Runtime;
struct ClientConnection;
struct RequestState;

struct BodyRelay {
  std::uint64_t bytes = 0;          // body bytes written
  boost::system::error_code read_error;   // reading the body from `in` failed
  bool read_timed_out = false;
  boost::system::error_code write_error;  // writing to `out` failed
};

// Streams one message from `parser` to `out`. The header goes out together
// with the first body piece when that piece is already buffered (one gathered
// write instead of two); otherwise it goes out alone first, so a slow body
// never holds back headers. Fixed-length and bodiless messages are written from
// our own rendered header (http/wire.hpp, into `header`); chunked ones through
// Beast's serializer. Reads are bounded by `read_timeout` (through `deadline`
// when given, which keeps the socket open for a 408), writes by `write_timeout`.
// With `min_rate` (bytes/s, 0: off), a body that has not averaged that rate
// since its first read once `read_timeout` has passed fails as a read timeout:
// each read of a trickled body is quick, so only this bounds the whole body.
// Instantiated for requests (client -> upstream) and responses (upstream -> client).
template <bool isRequest>
boost::asio::awaitable<BodyRelay> relay_body(
    net::Stream& in, boost::beast::flat_buffer& in_buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body, http::FieldAllocator<char>>& parser, ReadDeadline* deadline,
    config::Duration read_timeout, net::Stream& out,
    boost::beast::http::message<isRequest, boost::beast::http::buffer_body, http::Fields>& out_msg,
    config::Duration write_timeout, RelayBuffer& relay, std::string& header, std::uint64_t min_rate = 0);

// What bounds a WebSocket tunnel besides its idle timeout.
struct TunnelBounds {
  bool max_lifetime = false;                    // the route has auth: timeouts.websocket_max_lifetime
  session::SessionManager* sessions = nullptr;  // with `session_id`: end with the session
  const std::string* session_id = nullptr;
};

// After a 101: relays raw bytes both ways until either side closes or idles
// out (timeouts.websocket_idle). A tunnel on a route with auth also ends
// timeouts.websocket_max_lifetime after the 101, and a session's tunnel once
// its session is gone (checked every sessions.websocket_check_interval): the
// token or session that opened it must not keep it open forever.
boost::asio::awaitable<void> websocket_tunnel(ClientConnection& c, Runtime& rt, RequestState& rs,
                                              net::UpstreamConnection& up, const TunnelBounds& bounds);

}  // namespace authgate::proxy
