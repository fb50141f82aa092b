// The first stage of a request: finds whether the next one is there on a
// keep-alive connection, reads its whole head under the limits, and checks the head before anything
// acts on it (framing, Host, target), ending with the head as the rest of the
// pipeline sees it (http/request.hpp). Errors are values: what the client gets.
//
// Usage (proxy/connection.cpp, proxy/pipeline.cpp):
//   while (next_request(c) == NextRequest::ready && co_await serve_request(c)) {}  // the keep-alive loop
//   auto& parser = c.ws->parser.emplace(); limit_request_parser(parser, limits);
//   HeadRead read = co_await read_request_head(c, rt, parser);
//   if (read.closed) stop; if (read.status) reply read.status / read.error and close;
//   if (!framing_ok(c, req, rs)) 400 bad_request;  if (!host_ok(...)) 400 bad_host;
//   if (!canonicalize(c, req, rs, target)) 400 bad_path;
//   http::RequestHead head = http1_request_head(req, target);
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/request_head.hpp"
#include "routing/path.hpp"

namespace authgate::proxy {

class Runtime;
struct ClientConnection;
struct RequestState;

struct HeadRead {
  bool closed = false;      // nothing to answer: the client went away mid-head
  unsigned status = 0;      // 0: the head is parsed; else 408, 413, 431 or 400, and the connection closes
  std::string_view error;   // the JSON error name of `status`
  std::chrono::steady_clock::time_point started;  // the request's first byte was there
};

// Whether the connection's next request is there, without waiting: `ready` when its
// first bytes are in c.ws->buffer (pipelined, or read now with a non-blocking read;
// c.ws is held from here until the connection is idle again); `idle` when nothing
// is there yet (the connection then waits without its workspace:
// proxy/connection.cpp); `closed` when the client closed or reset the connection,
// or the gateway drains. A TLS connection without buffered bytes is always `idle`.
enum class NextRequest { ready, idle, closed };
NextRequest next_request(ClientConnection& c);

// The whole head under timeouts.header_read: its size as a whole against
// limits.max_header_bytes and obs-fold checked as bytes (http/request_head.hpp)
// before Beast parses it into `parser` (limits set by the caller). After
// next_request().
boost::asio::awaitable<HeadRead> read_request_head(ClientConnection& c, const Runtime& rt,
                                                   http::RequestParser& parser);

// However a request ends, records whether its body was left unread: the
// connection then lingers before it closes (proxy/connection.cpp).
struct BodyUnreadGuard {
  bool& flag;
  const http::RequestParser& parser;
  ~BodyUnreadGuard() { flag = !parser.is_done(); }
};

// The client's X-Request-Id when it is well formed, else a new one, written into
// `id` (which keeps its capacity across requests).
void take_request_id(const http::Fields& req, std::string& id);

// The head checks, each false when the request is rejected with 400 (logged,
// counted; rs.path set to the raw path without its query).
// Framing that two parsers could read differently (request smuggling).
bool framing_ok(const ClientConnection& c, const boost::beast::http::request_header<http::Fields>& req, RequestState& rs);
// Host: a host name or IPv6 literal with an optional port (routing/host.hpp); an
// absent Host (HTTP/1.0) matches only routes without a host.
bool host_ok(const ClientConnection& c, const boost::beast::http::request_header<http::Fields>& req, RequestState& rs);
// The target, canonicalised once (routing/path.hpp); rs.path is the canonical path.
bool canonicalize(const ClientConnection& c, const boost::beast::http::request_header<http::Fields>& req, RequestState& rs,
                  routing::CanonicalTarget& target);
// The same two checks on a host and a target however they came (HTTP/2:
// :authority or host, and :path).
bool host_ok(const ClientConnection& c, std::string_view host, std::string_view raw_target, RequestState& rs);
bool canonicalize(const ClientConnection& c, std::string_view raw_target, RequestState& rs,
                  routing::CanonicalTarget& target);

// The checked head, borrowing `req` and `target`.
http::RequestHead http1_request_head(http::RequestParser::value_type& req,
                                     const routing::CanonicalTarget& target);

}  // namespace authgate::proxy
