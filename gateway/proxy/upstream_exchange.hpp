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

#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "http/request.hpp"
#include "http/request_head.hpp"
#include "net/upstream_pool.hpp"
#include "proxy/request_workspace.hpp"

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

// proxy_request, or proxy_request_h2 (proxy/h2_upstream.hpp) for an h2/h2c
// upstream. Not a coroutine: it returns the one it chose, so the caller's frame
// holds one awaitable either way.
boost::asio::awaitable<bool> proxy_request_any(ClientConnection& c, Runtime& rt, RequestState& rs,
                                               http::RequestHead& head, http::RequestParser& body,
                                               RouteRuntime& route, const config::Route& route_cfg,
                                               const access::Decision& decision);

// The pieces of the exchange HTTP/2 streams share (proxy/h2_stream.cpp).

// Why an exchange with the upstream failed, and whether it may be retried on a
// fresh connection (a stale pooled connection, nothing consumed from the client).
struct ExchangeError {
  ExchangeError(net::upstream_errc k, bool retry) : kind(k), retryable(retry) {}
  ExchangeError(unsigned status, std::string_view error) : client_status(status), client_error(error) {}
  net::upstream_errc kind{};
  bool retryable = false;
  // When the client side failed instead (body read), the local reply to send.
  unsigned client_status = 0;
  std::string_view client_error;
};

// The upstream request in `ws`: the client's fields (moved, not copied), the
// method, the canonical target and HTTP/1.1, shaped for forwarding
// (http/header_hygiene.hpp: hop-by-hop, identity headers, X-Forwarded-*), with the
// identity the access decision lets through. Not a coroutine.
UpstreamRequest& shape_upstream_request(const ClientConnection& c, RequestWorkspace& ws, Runtime& rt,
                                        const RequestState& rs, http::RequestHead& head,
                                        const config::Route& route_cfg, const config::Upstream& up_cfg,
                                        const access::Decision& decision, bool upgrade, bool expect_continue);

// Reads the upstream response header into `rp`, skipping interim 1xx (except a
// requested 101). `may_retry`: the request is replayable, so a stale pooled
// connection's failure is marked retryable.
boost::asio::awaitable<std::optional<ExchangeError>> read_response_header(
    const Runtime& rt, boost::beast::http::verb method, bool may_retry, bool upgrade_requested,
    net::UpstreamLease& lease, std::optional<ResponseParser>& rp);

}  // namespace authgate::proxy
