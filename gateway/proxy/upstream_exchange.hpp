// The proxy step of a request that was let through: its header shaped for the
// upstream (http/header_hygiene.hpp, the identity the access decision forwards),
// one exchange with the upstream (a pooled connection, the request sent with its
// body, the response head read), then the response relayed to the client, or
// the WebSocket tunnel after a 101.
//
// Usage (proxy/pipeline.cpp):
//   bool keep_alive = co_await proxy_request(c, rt, rs, head, parser, route, route_cfg, decision);
//
// The exchange replaces a stale pooled connection once, transparently, when the
// request may be replayed (no body, an idempotent method). A 1xx response head
// other than 101 is skipped; a 101 nobody asked for fails the exchange (502).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/config.hpp"
#include "http/request.hpp"
#include "http/request_head.hpp"

namespace authgate::access {
struct Decision;
}

namespace authgate::proxy {

class Runtime;
struct ClientConnection;
struct RequestState;
struct RouteRuntime;

// True when the connection may carry another request. Writes the access-log
// line and metrics of the request (finish_request) however it ends.
// `head.fields` are moved into the upstream request; `body` is the request's
// parser, read only for its body.
boost::asio::awaitable<bool> proxy_request(ClientConnection& c, Runtime& rt, RequestState& rs,
                                           http::RequestHead& head, http::RequestParser& body,
                                           RouteRuntime& route, const config::Route& route_cfg,
                                           const access::Decision& decision);

}  // namespace authgate::proxy
