// One HTTP/2 request stream through the pipeline (proxy/h2_connection.hpp):
// the head from its pseudo-header fields, the same checks as HTTP/1 (Host from
// :authority or host, the canonical :path), admit() (session endpoints, route,
// access decision), then a local reply (http/local_reply.hpp, as HEADERS +
// DATA) or the exchange with the HTTP/1 upstream pool (an h2/h2c upstream's:
// proxy/h2_upstream_exchange.cpp): the request body streamed
// from DATA frames (chunked upstream when its length is unknown), the response
// streamed back as the client's window allows, chunked trailers as HTTP/2
// trailers. The log line and metrics come from request_state like HTTP/1's.
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <array>
#include <charconv>

#include "access/access_control.hpp"
#include "common/ascii.hpp"
#include "http/header_hygiene.hpp"
#include "http/wire.hpp"
#include "net/upstream_pool.hpp"
#include "proxy/h2_connection.hpp"
#include "proxy/h2_upstream.hpp"
#include "proxy/pipeline.hpp"
#include "proxy/request_reader.hpp"
#include "proxy/request_state.hpp"
#include "proxy/runtime.hpp"
#include "proxy/upstream_exchange.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using net::upstream_errc;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A local reply as HEADERS (+ DATA with its body), then the log line.
void reply_local(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs, http::LocalResponse&& res) {
  rs.status = res.result_int();
  rs.bytes_out = res.body().size();
  if (!s.closed) {
    s.local_body = std::move(res.body());
    s.out = s.local_body;
    s.out_eof = true;
    res.erase(bhttp::field::content_length);
    if (!s.local_body.empty()) res.set(bhttp::field::content_length, std::to_string(s.local_body.size()));
    h.submit_response(s, rs.status, res.base(), s.local_body.empty());
  }
  finish_request(rt, rs, h.client().worker.index(), h.client().client_ip);
}

}  // namespace

void reply_error(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs, unsigned status,
                 std::string_view error, std::string_view www_authenticate, std::string_view dpop_nonce) {
  reply_local(h, s, rt, rs,
              http::error_response(rs.grpc, status, error, rs.request_id, true, rt.cfg.timeouts.retry_after,
                                   www_authenticate, dpop_nonce));
}

namespace {

// Waits until the client's window took the whole piece in s.out (or the stream ended).
asio::awaitable<bool> drain_out(H2Connection& h, H2Stream& s, config::Duration timeout) {
  while (!s.out.empty() && !s.closed && !h.dead()) {
    const bool woke = co_await s.ev.wait(timeout);
    if (!woke) co_return false;
  }
  co_return !s.closed && !h.dead();
}

// The request body from DATA frames to the upstream, chunked when its length
// is unknown. Each piece written gives its window back to the client.
asio::awaitable<std::optional<ExchangeError>> send_body(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs,
                                                        net::UpstreamLease& lease, bool chunked) {
  const auto& timeouts = rt.cfg.timeouts;
  std::string piece;
  std::array<char, 20> size_line{};
  for (;;) {
    while (s.in.empty() && !s.end_stream && !s.closed && !s.too_large && !h.dead()) {
      const config::Duration body_read = timeouts.body_read;
      const bool woke = co_await s.ev.wait(body_read);
      if (!woke) {
        h.client().count_timeout(metrics::TimeoutPhase::body_read);
        co_return ExchangeError{408u, "request_timeout"};
      }
    }
    if (s.too_large) co_return ExchangeError{413u, "payload_too_large"};
    if (s.closed || h.dead()) co_return ExchangeError{upstream_errc::send_failed, false};
    piece.swap(s.in);
    s.in.clear();
    const bool last = s.end_stream && s.in.empty();
    std::array<asio::const_buffer, 4> bufs;
    std::size_t nb = 0;
    if (chunked && !piece.empty()) {
      auto [end, ec] = std::to_chars(size_line.data(), size_line.data() + 16, piece.size(), 16);
      *end++ = '\r';
      *end++ = '\n';
      bufs[nb++] = asio::buffer(size_line.data(), static_cast<std::size_t>(end - size_line.data()));
    }
    if (!piece.empty()) bufs[nb++] = asio::buffer(piece);
    if (chunked && !piece.empty()) bufs[nb++] = asio::buffer("\r\n", 2);
    if (chunked && last) bufs[nb++] = asio::buffer("0\r\n\r\n", 5);
    lease->stream.tcp().expires_after(timeouts.upstream_response);
    auto [ec, n] = co_await asio::async_write(lease->stream, std::span(bufs.data(), nb), use_tuple);
    if (ec) co_return ExchangeError{upstream_errc::send_failed, false};
    rs.bytes_in += piece.size();
    h.consumed(s, piece.size());
    if (last) co_return std::nullopt;
  }
}

// Steps 7-8 for a stream: the exchange with the HTTP/1 upstream, the response
// relayed. Writes the log line however it ends.
asio::awaitable<void> proxy_stream(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs,
                                   http::RequestHead& head, RouteRuntime& route, const config::Route& route_cfg,
                                   const access::Decision& decision) {
  RequestWorkspace& ws = *s.ws;
  const auto& timeouts = rt.cfg.timeouts;
  UpstreamRuntime& up = rt.upstreams[route.upstream];
  const config::Upstream& up_cfg = rt.cfg.upstreams[route.upstream];
  rs.upstream = &up;
  const bool has_body = !s.end_stream || !s.in.empty();
  UpstreamRequest& ureq = shape_upstream_request(h.client(), ws, rt, rs, head, route_cfg, up_cfg, decision,
                                                 /*upgrade=*/false, /*expect_continue=*/false);
  ureq.erase(bhttp::field::expect);
  // HTTP/2 frames the body itself; HTTP/1 needs a length or chunks.
  const bool chunked = has_body && ureq.find(bhttp::field::content_length) == ureq.end();
  if (chunked) ureq.set(bhttp::field::transfer_encoding, "chunked");
  http::render_header(ureq.base(), ws.header);

  auto& pool = *up.pools[h.client().worker.index()];
  const auto upstream_start = Clock::now();
  const bhttp::verb method = head.method;
  const bool replayable = !has_body && (method == bhttp::verb::get || method == bhttp::verb::head ||
                                        method == bhttp::verb::options);
  std::optional<ExchangeError> failure;
  net::UpstreamLease lease;
  std::optional<ResponseParser>& rp = ws.response;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::pair<error_code, net::UpstreamLease> acquired;
    if (attempt == 0) acquired = co_await pool.acquire(/*probe=*/!replayable);
    else acquired = co_await pool.connect_new();
    if (acquired.first) {
      failure = ExchangeError{static_cast<upstream_errc>(acquired.first.value()), false};
      break;
    }
    lease = std::move(acquired.second);
    if (s.closed || h.dead()) break;  // reset while connecting: no request goes upstream
    s.upstream = &lease->stream;
    lease->stream.tcp().expires_after(timeouts.upstream_response);
    auto [ec, n] = co_await asio::async_write(lease->stream, asio::buffer(ws.header), use_tuple);
    failure.reset();
    if (ec) failure = ExchangeError{upstream_errc::send_failed, replayable};
    if (!failure && has_body) failure = co_await send_body(h, s, rt, rs, lease, chunked);
    if (!failure) failure = co_await read_response_header(rt, method, replayable, false, lease, rp);
    if (!failure || !failure->retryable || !lease->reused || s.closed) break;
    s.upstream = nullptr;
    lease = {};
  }
  if (s.closed || h.dead()) {  // the client reset the stream (or left): nothing to answer
    s.upstream = nullptr;
    rs.status = 499;
    finish_request(rt, rs, h.client().worker.index(), h.client().client_ip);
    co_return;
  }
  if (failure) {
    s.upstream = nullptr;
    if (failure->client_status) {
      reply_error(h, s, rt, rs, failure->client_status, failure->client_error);
      co_return;
    }
    rt.upstream_error_counter(up, failure->kind).Increment();
    spdlog::warn("request {} to upstream {} failed: {}", rs.request_id, up.name, net::upstream_error_kind(failure->kind));
    reply_error(h, s, rt, rs, net::upstream_error_status(failure->kind), net::upstream_error_kind(failure->kind));
    co_return;
  }
  up.duration->Observe(std::chrono::duration<double>(Clock::now() - upstream_start).count());

  // The response head: hop-by-hop fields out (and every connection-specific one
  // in submit_response), X-Request-Id; fields the upstream adds after the body
  // (chunked trailers) are the HTTP/2 trailers.
  auto& ures = rp->get();
  http::prepare_client_response(ures.base(), rs.request_id, false, decision.dpop_nonce);
  ures.erase(bhttp::field::trailer);
  const std::size_t head_fields = static_cast<std::size_t>(std::distance(ures.begin(), ures.end()));
  const bool upstream_keep_alive = ures.keep_alive();
  rs.status = ures.result_int();
  const bool bodiless = rp->is_done();
  if (bodiless) s.out_eof = true;
  h.submit_response(s, rs.status, ures.base(), bodiless);

  bool ok = true;
  const std::span<char> chunk = ws.relay.get(rp->content_length().value_or(RelayBuffer::kUnknownLength));
  while (!rp->is_done()) {
    auto& body = ures.body();
    body.data = chunk.data();
    body.size = chunk.size();
    lease->stream.tcp().expires_after(timeouts.upstream_response);
    auto [ec, n] = co_await bhttp::async_read_some(lease->stream, lease->buffer, *rp, use_tuple);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec || s.closed || h.dead()) {
      if (ec && !s.closed) {
        rt.upstream_error_counter(up, ec == beast::error::timeout ? upstream_errc::response_timeout
                                                                  : upstream_errc::bad_response)
            .Increment();
        spdlog::warn("request {}: upstream {} body failed: {}", rs.request_id, up.name, ec.message());
        h.reset_stream(s, NGHTTP2_INTERNAL_ERROR);
      }
      ok = false;
      break;
    }
    const std::size_t got = chunk.size() - body.size;
    if (got == 0) continue;
    rs.bytes_out += got;
    s.out = std::span<const char>(chunk.data(), got);
    nghttp2_session_resume_data(h.session(), s.id);
    h.kick();
    const bool drained = co_await drain_out(h, s, timeouts.body_read);
    if (!drained) {  // the client's window stayed shut (or the stream ended): the response is cut off
      s.out = {};
      h.reset_stream(s, NGHTTP2_CANCEL);
      ok = false;
      break;
    }
  }
  s.upstream = nullptr;
  if (ok && !bodiless) {
    std::size_t i = 0;
    for (const auto& f : ures) {
      if (i++ < head_fields) continue;
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](char ch) { return common::ascii_lower(ch); });
      s.trailers.emplace_back(std::move(name), std::string(f.value()));
    }
    s.out_eof = true;
    nghttp2_session_resume_data(h.session(), s.id);
    h.kick();
  }
  if (ok && upstream_keep_alive) lease.keep();
  lease.reset();
  finish_request(rt, rs, h.client().worker.index(), h.client().client_ip);
}

// Steps 1-3 for a stream: the head from its pseudo-header fields, checked the
// way HTTP/1's is. Returns false when it was answered (400/413).
bool check_head(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs, routing::CanonicalTarget& target,
                http::RequestHead& head) {
  const std::string_view authority = routing_authority(s);
  std::string_view rejected;
  if (!authority.empty() && !host_ok(h.client(), authority, s.path, rs)) rejected = "bad_host";
  else if (!canonicalize(h.client(), s.has_path ? std::string_view(s.path) : std::string_view("*"), rs, target))
    rejected = "bad_path";
  if (!rejected.empty()) {
    reply_error(h, s, rt, rs, 400, rejected);
    return false;
  }
  // The upstream gets the routing host as Host (HTTP/1 requires one).
  if (s.has_authority) s.fields.set(bhttp::field::host, s.authority);
  if (const auto cl = s.fields.find(bhttp::field::content_length); cl != s.fields.end()) {
    std::uint64_t n = 0;
    const auto v = cl->value();
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc{} && n > rt.cfg.limits.max_body_bytes) {
      reply_error(h, s, rt, rs, 413, "payload_too_large");
      return false;
    }
  }
  head.method = bhttp::string_to_verb(s.method);
  head.method_name = s.method;
  head.path = target.path;
  head.query = target.query;
  head.has_query = target.has_query;
  head.authority = authority;
  head.fields = &s.fields;
  head.version = 11;
  head.keep_alive = true;
  return true;
}

}  // namespace

asio::awaitable<void> serve_h2_stream(std::shared_ptr<H2Connection> conn, std::shared_ptr<H2Stream> sp) {
  H2Connection& h = *conn;
  H2Stream& s = *sp;
  if (s.closed || h.dead()) co_return;
  const auto rt = h.client().worker.state().runtime.load();  // this request's snapshot
  std::unique_ptr<RequestWorkspace> owned = h.client().worker.take_workspace();
  s.ws = owned.get();
  RequestWorkspace& ws = *owned;
  RequestState& rs = ws.request;
  rs.reset();
  rs.start = s.started;
  rs.h2 = true;
  rs.method = s.method;
  take_request_id(s.fields, rs.request_id);
  rs.grpc = http::is_grpc_content_type(s.fields[bhttp::field::content_type]);

  http::RequestHead head;
  if (check_head(h, s, *rt, rs, ws.target, head)) {
    Admission& adm = ws.admission;
    co_await admit(*rt, ws, head, h.client(), adm);
    const auto retry_after = rt->cfg.timeouts.retry_after;
    switch (adm.kind) {
      case Admission::Kind::page:
        reply_local(h, s, *rt, rs, http::page_response(adm.page, rs.request_id, true, retry_after));
        break;
      case Admission::Kind::redirect:
        reply_local(h, s, *rt, rs, http::redirect_response(adm.status, adm.location, rs.request_id, true, retry_after));
        break;
      case Admission::Kind::error:
        reply_error(h, s, *rt, rs, adm.status, adm.error, adm.www_authenticate, adm.dpop_nonce);
        break;
      case Admission::Kind::proxy:
        if (rt->upstreams[adm.route->upstream].h2_pools.empty())
          co_await proxy_stream(h, s, *rt, rs, head, *adm.route, *adm.route_cfg, ws.verdict->decision());
        else
          co_await proxy_stream_h2(h, s, *rt, rs, head, *adm.route, *adm.route_cfg, ws.verdict->decision());
        break;
    }
  }
  // A response sent before the request ended: the rest of the request is
  // declined once the response's last frame is out (h2_connection.cpp, on_frame_send).
  if (!s.in.empty() && !s.closed) {
    h.consumed(s, s.in.size());
    s.in.clear();
  }
  s.ws = nullptr;
  h.client().worker.give_back_workspace(std::move(owned));
}

}  // namespace authgate::proxy
