// One request, start to finish, as the steps of docs/ARCHITECTURE.md ("The
// request pipeline"): read and check the head, answer the session endpoints,
// route, decide access, proxy, and log. Each step's helpers live in its stage
// file (request_reader, upstream_exchange, body_relay; replies in
// http/local_reply through connection).
//
// Usage (proxy/connection.cpp, while requests come; c.ws is held):
//   while (next_request(c) == NextRequest::ready && co_await serve_request(c)) {}
#pragma once

#include <boost/asio/awaitable.hpp>

namespace authgate::proxy {

struct ClientConnection;

// True when the connection should wait for another request.
boost::asio::awaitable<bool> serve_request(ClientConnection& c);

}  // namespace authgate::proxy
