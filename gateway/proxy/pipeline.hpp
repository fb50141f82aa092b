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
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <string_view>

#include "config/config.hpp"
#include "http/local_reply.hpp"
#include "http/request.hpp"

namespace authgate::proxy {

class Runtime;
struct ClientConnection;
struct RequestState;
struct RequestWorkspace;
struct RouteRuntime;

// True when the connection should wait for another request.
boost::asio::awaitable<bool> serve_request(ClientConnection& c);

// What steps 4-6 decided for a checked head, whatever protocol carried it: a
// local reply (the session endpoints' page, 404, the access decision's deny or
// login redirect), or proxy on `route` with the decision in ws.verdict. The
// codec writes it: HTTP/1 here, HTTP/2 in proxy/h2_stream.cpp.
struct Admission {
  enum class Kind { proxy, error, page, redirect };
  // Everything but `page`, which only the session endpoints and the metadata documents fill (assigning a fresh
  // Admission would build a LocalReply, whose default content type is a heap string).
  void reset() {
    kind = Kind::proxy;
    status = 0;
    error = www_authenticate = location = dpop_nonce = {};
    route = nullptr;
    route_cfg = nullptr;
  }
  Kind kind = Kind::proxy;
  unsigned status = 0;                 // error, redirect
  std::string_view error;              // error: the JSON error name (or grpc-message)
  std::string_view www_authenticate;   // error: 401/403 challenge
  std::string_view dpop_nonce;         // error: a DPoP-Nonce header (RFC 9449 §8), "" for none
  std::string_view location;           // redirect
  http::LocalReply page;               // page: the session endpoint's reply
  RouteRuntime* route = nullptr;       // proxy
  const config::Route* route_cfg = nullptr;
};

// Steps 4-7 on a head that passed step 3: session endpoints, the RFC 9728 metadata documents,
// route, the access decision (one call; suspends only when the decision is pending). Fills
// `out` (kept in the workspace, so the views in it outlive this call) and the
// request's log facts (route, auth). From `c`: the peer (the login rate limit's client address,
// trusted proxies), TLS or not and the client certificate (DPoP htu, RFC 8705), the worker.
boost::asio::awaitable<void> admit(Runtime& rt, RequestWorkspace& ws, http::RequestHead& head,
                                   const ClientConnection& c, Admission& out);

}  // namespace authgate::proxy
