#include "proxy/upstream_exchange.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>
#include <utility>

#include "common/ascii.hpp"
#include "http/header_hygiene.hpp"
#include "http/wire.hpp"
#include "net/upstream_pool.hpp"
#include "access/access_control.hpp"
#include "proxy/body_relay.hpp"
#include "proxy/connection.hpp"
#include "proxy/h2_upstream.hpp"
#include "proxy/request_state.hpp"
#include "proxy/runtime.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using net::upstream_errc;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Writes the request header and streams the body from the client.
asio::awaitable<std::optional<ExchangeError>> send_request(ClientConnection& c, Runtime& rt, RequestState& rs,
                                                           http::RequestParser& body,
                                                           UpstreamRequest& upstream_req,
                                                           net::UpstreamLease& lease, bool replayable) {
  const auto& timeouts = rt.cfg.timeouts;
  const bool had_body = !body.is_done();
  if (!had_body) {
    // Most requests have no body: their header is written here. Through relay_body it
    // would cost that coroutine's frame (1,088 bytes, over Asio's 1,020-byte recycling
    // limit, so a fresh heap block every time) and its write lambda's. The bytes are
    // the same: relay_body renders a bodiless message's header this way too
    // (http/wire.hpp), never through the chunked serializer.
    http::render_header(upstream_req.base(), c.ws->header);
    lease->stream.tcp().expires_after(timeouts.upstream_response);
    auto [ec, n] = co_await asio::async_write(lease->stream, asio::buffer(c.ws->header), use_tuple);
    if (ec) co_return ExchangeError{upstream_errc::send_failed, replayable};
    co_return std::nullopt;
  }
  const BodyRelay relay = co_await relay_body(c.stream, c.ws->buffer, body, &c.deadline, timeouts.body_read,
                                              lease->stream, upstream_req, timeouts.upstream_response, c.ws->relay,
                                              c.ws->header, rt.cfg.limits.min_body_rate);
  rs.bytes_in += relay.bytes;
  if (relay.read_error) {
    if (relay.read_error == bhttp::error::body_limit) co_return ExchangeError{413u, "payload_too_large"};
    if (relay.read_timed_out) {
      c.count_timeout(metrics::TimeoutPhase::body_read);
      co_return ExchangeError{408u, "request_timeout"};
    }
    co_return ExchangeError{400u, "bad_request"};
  }
  // Retrying is safe only while nothing of the body has been consumed.
  if (relay.write_error) co_return ExchangeError{upstream_errc::send_failed, replayable && !had_body};
  co_return std::nullopt;
}

}  // namespace

// Reads the upstream response header, skipping interim 1xx (except 101).
// `may_retry`: the request is replayable (no body, idempotent method), so a
// stale pooled connection can be replaced transparently.
asio::awaitable<std::optional<ExchangeError>> read_response_header(const Runtime& rt, bhttp::verb method,
                                                                   bool may_retry, bool upgrade_requested,
                                                                   net::UpstreamLease& lease,
                                                                   std::optional<ResponseParser>& rp) {
  for (;;) {
    rp.emplace();
    rp->header_limit(static_cast<std::uint32_t>(
        std::min<std::uint64_t>(rt.cfg.limits.max_response_header_bytes, UINT32_MAX)));
    rp->body_limit(boost::none);
    if (method == bhttp::verb::head) rp->skip(true);
    lease->stream.tcp().expires_after(rt.cfg.timeouts.upstream_response);
    auto [ec, n] = co_await bhttp::async_read_header(lease->stream, lease->buffer, *rp, use_tuple);
    if (ec == beast::error::timeout) co_return ExchangeError{upstream_errc::response_timeout, false};
    if (ec) {
      // A pooled connection closed by the upstream before any byte came back.
      const bool stale = ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
                         ec == asio::error::eof;
      co_return ExchangeError{upstream_errc::bad_response, stale && n == 0 && may_retry};
    }
    const unsigned code = rp->get().result_int();
    // A 101 nobody asked for would leave a protocol-switched connection behind.
    if (code == 101 && !upgrade_requested) co_return ExchangeError{upstream_errc::bad_response, false};
    if (code >= 100 && code < 200 && code != 101) continue;
    co_return std::nullopt;
  }
}

// The upstream request in the workspace: the client's fields (moved, not copied),
// our method, the canonical target and HTTP/1.1, shaped for forwarding
// (http/header_hygiene.hpp), with the identity the access decision lets through.
// Not a coroutine: its locals stay out of proxy_request's frame.
UpstreamRequest& shape_upstream_request(const ClientConnection& c, RequestWorkspace& ws, Runtime& rt, const RequestState& rs,
                                        http::RequestHead& head, const config::Route& route_cfg,
                                        const config::Upstream& up_cfg, const access::Decision& decision,
                                        bool upgrade, bool expect_continue) {
  UpstreamRequest& upstream_req = ws.upstream_request.emplace();
  static_cast<http::Fields&>(upstream_req.base()) = std::move(*head.fields);
  if (head.method != bhttp::verb::unknown) upstream_req.method(head.method);
  else upstream_req.method_string(head.method_name);
  upstream_req.version(11);
  if (!head.has_query) {
    upstream_req.target(head.path);
  } else {
    std::string target;
    target.reserve(head.path.size() + 1 + head.query.size());
    target.append(head.path).append(1, '?').append(head.query);
    upstream_req.target(target);
  }
  http::ForwardContext fwd{c.client_ip, rt.is_trusted_proxy(c.peer), c.stream.is_tls() ? "https" : "http",
                           rs.request_id, upgrade, &rt.cfg.identity, &rt.cfg.headers};
  http::prepare_upstream_request(upstream_req.base(), fwd);
  rt.access.forward_identity(upstream_req.base(), route_cfg, decision);
  if (!up_cfg.host_header.empty()) upstream_req.set(bhttp::field::host, up_cfg.host_header);
  if (expect_continue) upstream_req.erase(bhttp::field::expect);
  return upstream_req;
}

asio::awaitable<bool> proxy_request_any(ClientConnection& c, Runtime& rt, RequestState& rs, http::RequestHead& head,
                                        http::RequestParser& body, RouteRuntime& route, const config::Route& route_cfg,
                                        const access::Decision& decision) {
  if (!rt.upstreams[route.upstream].h2_pools.empty())
    return proxy_request_h2(c, rt, rs, head, body, route, route_cfg, decision);
  return proxy_request(c, rt, rs, head, body, route, route_cfg, decision);
}

asio::awaitable<bool> proxy_request(ClientConnection& c, Runtime& rt, RequestState& rs, http::RequestHead& head,
                                    http::RequestParser& body, RouteRuntime& route, const config::Route& route_cfg,
                                    const access::Decision& decision) {
  const auto& timeouts = rt.cfg.timeouts;
  http::Fields& fields = *head.fields;
  UpstreamRuntime& up = rt.upstreams[route.upstream];
  const config::Upstream& up_cfg = rt.cfg.upstreams[route.upstream];
  rs.upstream = &up;

  // Only a WebSocket handshake may switch protocols: any other Upgrade (h2c
  // above all) would turn the connection into a tunnel past routing and auth.
  const bool upgrade = head.method == bhttp::verb::get &&
                       common::iequals(fields[bhttp::field::upgrade], "websocket") &&
                       common::list_has_token(fields[bhttp::field::connection], "upgrade");
  const bool expect_continue = common::list_has_token(fields[bhttp::field::expect], "100-continue");

  UpstreamRequest& upstream_req =
      shape_upstream_request(c, *c.ws, rt, rs, head, route_cfg, up_cfg, decision, upgrade, expect_continue);
  if (expect_continue && !body.is_done()) {
    // We answer 100 ourselves: the decision on the headers has been taken.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    c.stream.tcp().expires_after(timeouts.body_read);
    auto [ec, n] = co_await asio::async_write(c.stream, asio::buffer(kContinue), use_tuple);
    if (ec) co_return false;
  }

  // The exchange: acquire, send, response head; one retry on a stale pooled connection.
  auto& pool = *up.pools[c.worker.index()];
  const auto upstream_start = Clock::now();
  std::optional<ExchangeError> failure;
  net::UpstreamLease lease;
  std::optional<ResponseParser>& rp = c.ws->response;
  // A request may be replayed on a fresh connection only when the upstream
  // cannot have acted on it twice: no body consumed and an idempotent method.
  const bhttp::verb method = head.method;
  const bool replayable = body.is_done() && (method == bhttp::verb::get || method == bhttp::verb::head ||
                                             method == bhttp::verb::options || method == bhttp::verb::put ||
                                             method == bhttp::verb::delete_ || method == bhttp::verb::trace);
  for (int attempt = 0; attempt < 2; ++attempt) {
    // (No co_await inside ?: — GCC 12 miscompiles that.)
    std::pair<error_code, net::UpstreamLease> acquired;
    if (attempt == 0) acquired = co_await pool.acquire(/*probe=*/!replayable);
    else acquired = co_await pool.connect_new();
    if (acquired.first) {
      failure = ExchangeError{static_cast<upstream_errc>(acquired.first.value()), false};
      break;
    }
    lease = std::move(acquired.second);
    failure = co_await send_request(c, rt, rs, body, upstream_req, lease, replayable);
    if (!failure) failure = co_await read_response_header(rt, method, replayable, upgrade, lease, rp);
    if (!failure || !failure->retryable || !lease->reused) break;
    lease = {};  // stale pooled connection: close it, try once more on a new one
  }
  if (failure) {
    if (failure->client_status) {
      co_await reply_error(c, rt, rs, failure->client_status, failure->client_error, false);
      co_return false;
    }
    rt.upstream_error_counter(up, failure->kind).Increment();
    spdlog::warn("request {} to upstream {} failed: {}", rs.request_id, up.name,
                 net::upstream_error_kind(failure->kind));
    const unsigned status = net::upstream_error_status(failure->kind);
    const bool keep = head.keep_alive && body.is_done() && !c.draining();
    co_await reply_error(c, rt, rs, status, net::upstream_error_kind(failure->kind), keep);
    co_return keep;
  }
  up.duration->Observe(std::chrono::duration<double>(Clock::now() - upstream_start).count());

  // The response, framed for the client's HTTP version.
  auto& ures = rp->get();
  const bool switching = upgrade && ures.result() == bhttp::status::switching_protocols;
  const bool upstream_keep_alive = ures.keep_alive();
  const bool close_delimited = !rp->is_done() && !ures.has_content_length() && !ures.chunked();
  ClientResponse& client_res = c.ws->client_response.emplace();
  client_res.base() = std::move(ures.base());
  http::prepare_client_response(client_res.base(), rs.request_id, switching, decision.dpop_nonce);
  bool keep = !switching && head.keep_alive && !c.draining() && c.requests < rt.cfg.limits.max_requests_per_connection;
  if (close_delimited) {
    // Close-delimited upstream body: chunk it for HTTP/1.1 clients, else close.
    if (head.version >= 11) client_res.chunked(true);
    else keep = false;
  } else if (head.version < 11 && client_res.chunked()) {
    client_res.chunked(false);  // HTTP/1.0 knows no chunking: close-delimited instead
    keep = false;
  }
  client_res.version(head.version >= 11 ? 11 : 10);  // before keep_alive(): it depends on it
  if (!switching) client_res.keep_alive(keep);
  rs.status = client_res.result_int();

  const BodyRelay relay = co_await relay_body(lease->stream, lease->buffer, *rp, nullptr, timeouts.upstream_response,
                                              c.stream, client_res, timeouts.body_read, c.ws->relay, c.ws->header);
  rs.bytes_out += relay.bytes;
  if (relay.read_error) {
    // Headers may already be out: all we can do is cut the client off.
    rt.upstream_error_counter(up, relay.read_timed_out ? upstream_errc::response_timeout : upstream_errc::bad_response)
        .Increment();
    spdlog::warn("request {}: upstream {} body failed: {}", rs.request_id, up.name, relay.read_error.message());
  }
  const bool ok = !relay.read_error && !relay.write_error;
  if (ok && rp->is_done() && !switching && upstream_keep_alive) lease.keep();

  if (ok && switching) {
    const TunnelBounds bounds{route_cfg.auth != config::AuthMode::none, rt.sessions.get(),
                              &decision.session_id};
    co_await websocket_tunnel(c, rt, rs, *lease, bounds);
    finish(c, rt, rs);
    co_return false;
  }
  finish(c, rt, rs);
  lease.reset();
  co_return ok && keep && body.is_done();
}

}  // namespace authgate::proxy
