// The proxy step for h2/h2c upstreams (proxy/h2_upstream.hpp), from either codec:
// an HTTP/2 client stream (proxy_stream_h2: both bodies stream at once, so
// client-, server- and bidi-streaming RPCs pass) or an HTTP/1 request
// (proxy_request_h2: the body goes up, then the response comes back).
//
// The upstream request is the one shape_upstream_request builds for HTTP/1
// (hop-by-hop fields, spoofed identity headers stripped, X-Forwarded-*, the
// identity the access decision forwards, upstreams[].host_header), translated:
// its Host becomes :authority, connection-specific fields are left out, and
// `te: trailers` goes up only when the client sent it (RFC 9113 8.2.2 allows no
// other TE). Response trailers go back as HTTP/2 trailers, or as chunked trailers
// to an HTTP/1.1 client that sent TE: trailers. Request trailers of an HTTP/2
// client go up as trailers.
//
// Failures before the response head are answered like the HTTP/1 pool's
// (upstream_error_status: 502/503/504, or the gRPC status for a gRPC request)
// and counted in authgate_upstream_errors_total; after it, the client's stream is
// reset with the upstream's error code (an HTTP/1 client's connection closes).
// A stream the upstream refused unprocessed (REFUSED_STREAM, GOAWAY) is opened
// once more when the request has no body.
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
#include "proxy/h2_connection.hpp"
#include "proxy/h2_upstream.hpp"
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

// The HTTP/2 request head of a shaped upstream request; nv points into `names`,
// `authority` and the request, which must outlive it.
struct RequestNv {
  std::vector<std::string> names;  // lowercased field names
  std::string authority;
  std::vector<nghttp2_nv> nv;
};

nghttp2_nv make_nv(std::string_view name, std::string_view value, std::uint8_t flags = NGHTTP2_NV_FLAG_NONE) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(), flags};
}

// Fields that HTTP/2 forbids (RFC 9113 8.2.2), or that become pseudo-header fields.
bool left_out(std::string_view name) {
  for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
                             "host", "http2-settings"})
    if (common::iequals(name, n)) return true;
  return false;
}

void request_nv(const UpstreamRequest& req, bool tls, bool te_trailers, const config::Upstream& up, RequestNv& out) {
  out.authority = req[bhttp::field::host];
  if (out.authority.empty()) out.authority = up.host + ":" + std::to_string(up.port);
  out.names.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
  for (const auto& f : req) {
    if (left_out(f.name_string())) continue;
    std::string& n = out.names.emplace_back(f.name_string());
    std::transform(n.begin(), n.end(), n.begin(), [](char ch) { return common::ascii_lower(ch); });
  }
  out.nv.reserve(out.names.size() + 5);
  out.nv.push_back(make_nv(":method", req.method_string()));
  out.nv.push_back(make_nv(":scheme", tls ? "https" : "http"));
  out.nv.push_back(make_nv(":authority", out.authority));
  out.nv.push_back(make_nv(":path", req.target()));
  std::size_t i = 0;
  for (const auto& f : req) {
    if (left_out(f.name_string())) continue;
    const std::string& n = out.names[i++];
    // Credentials stay out of the HPACK dynamic table (RFC 7541 7.1.3).
    const bool secret = n == "authorization" || n == "cookie" || n == "proxy-authorization";
    out.nv.push_back(make_nv(n, f.value(), secret ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE));
  }
  if (te_trailers) out.nv.push_back(make_nv("te", "trailers"));
}

// Why the exchange failed before a response head: an upstream error, or a refusal
// worth one more try on a fresh stream.
std::optional<ExchangeError> head_failure(const H2UpstreamStream& u, bool may_retry) {
  if (u.head_done) return std::nullopt;
  return ExchangeError{upstream_errc::bad_response, u.refused && may_retry};
}

void count_failure(Runtime& rt, UpstreamRuntime& up, const RequestState& rs, upstream_errc kind) {
  rt.upstream_error_counter(up, kind).Increment();
  spdlog::warn("request {} to upstream {} failed: {}", rs.request_id, up.name, net::upstream_error_kind(kind));
}

// Opens the stream (one more try when the upstream refused a bodiless request
// unprocessed) and, for a bodiless request, waits for the response head (or
// for `client` to reset its stream). With a body the caller sends it first and
// waits itself.
asio::awaitable<std::optional<ExchangeError>> open_stream(H2UpstreamPool& pool, std::shared_ptr<H2UpstreamStream>& u,
                                                          Event* wake, const RequestNv& rnv, bool has_body,
                                                          config::Duration response_timeout,
                                                          const H2Stream* client) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    u = std::make_shared<H2UpstreamStream>(wake);
    const error_code ec = co_await pool.open(u, rnv.nv, has_body);
    if (ec) co_return ExchangeError{static_cast<upstream_errc>(ec.value()), false};
    if (has_body) co_return std::nullopt;
    while (!u->head_done && !u->closed) {
      if (client && client->closed) co_return std::nullopt;
      const bool woke = co_await wake->wait(response_timeout);
      if (!woke) co_return ExchangeError{upstream_errc::response_timeout, false};
    }
    auto failure = head_failure(*u, /*may_retry=*/true);
    if (!failure || !failure->retryable || attempt == 1) co_return failure;
  }
  co_return std::nullopt;
}

// Ends the upstream side of an exchange however it went: the stream reset unless
// both sides ended (`clean`), the bytes it holds given back to the connection's window.
void release(std::shared_ptr<H2UpstreamStream>& u, std::size_t given, bool clean) {
  if (!u) return;
  u->wake = nullptr;
  if (!u->session) return;
  if (!clean) u->session->reset(*u, NGHTTP2_CANCEL);
  u->session->consumed(*u, given + u->in.size());
  u->in.clear();
}

}  // namespace

asio::awaitable<void> proxy_stream_h2(H2Connection& h, H2Stream& s, Runtime& rt, RequestState& rs,
                                      http::RequestHead& head, RouteRuntime& route, const config::Route& route_cfg,
                                      const access::Decision& decision) {
  RequestWorkspace& ws = *s.ws;
  const auto& timeouts = rt.cfg.timeouts;
  UpstreamRuntime& up = rt.upstreams[route.upstream];
  const config::Upstream& up_cfg = rt.cfg.upstreams[route.upstream];
  rs.upstream = &up;
  const bool te_trailers = common::list_has_token(s.fields[bhttp::field::te], "trailers");
  const bool has_body = !s.end_stream || !s.in.empty();
  UpstreamRequest& ureq = shape_upstream_request(h.client(), ws, rt, rs, head, route_cfg, up_cfg, decision,
                                                 /*upgrade=*/false, /*expect_continue=*/false);
  ureq.erase(bhttp::field::expect);
  RequestNv rnv;
  request_nv(ureq, up_cfg.protocol == config::UpstreamProtocol::h2, te_trailers, up_cfg, rnv);

  auto& pool = *up.h2_pools[h.client().worker.index()];
  const auto upstream_start = Clock::now();
  std::shared_ptr<H2UpstreamStream> u;
  std::optional<ExchangeError> failure =
      co_await open_stream(pool, u, &s.ev, rnv, has_body, timeouts.upstream_response, &s);

  // Both bodies at once: each wake-up moves what it can, each way.
  std::size_t req_piece = 0;  // request bytes handed upstream, their client window not yet reopened
  std::size_t given = 0;      // response bytes handed to the client, the upstream window not yet reopened
  std::string& resp = s.local_body;  // the response piece the client's window is taking (s.out)
  bool req_done = !has_body, head_sent = false, resp_done = false;
  while (!failure) {
    if (s.closed || h.dead()) break;  // the client reset the stream (or left): cancelled upstream below
    // Client -> upstream.
    if (req_piece && (u->out_taken() || u->closed)) {
      h.consumed(s, req_piece);
      rs.bytes_in += req_piece;
      req_piece = 0;
    }
    if (!req_done && u->closed) req_done = true;  // the upstream ended first: the rest is declined
    if (!req_done && !req_piece) {
      if (s.too_large) {
        failure = ExchangeError{413u, "payload_too_large"};
        break;
      }
      if (!s.in.empty()) {
        u->out.swap(s.in);
        s.in.clear();
        u->out_pos = 0;
        req_piece = u->out.size();
      }
      if (s.end_stream && s.in.empty()) {
        u->out_eof = true;
        u->out_trailers = std::move(s.req_trailers);
        req_done = true;
      }
      if (req_piece || req_done) u->session->resume(*u);
    }
    // Upstream -> client: the head, the body pieces, the trailers.
    if (!head_sent && u->head_done) {
      up.duration->Observe(std::chrono::duration<double>(Clock::now() - upstream_start).count());
      http::prepare_client_response(u->head, rs.request_id, false, decision.dpop_nonce);
      rs.status = u->status;
      const bool bodiless = u->end_stream && u->in.empty() && u->trailers.empty();
      s.out_eof = bodiless;
      h.submit_response(s, u->status, u->head, bodiless);
      head_sent = true;
      resp_done = bodiless;
    }
    if (head_sent && !resp_done && s.out.empty()) {
      if (given) {
        u->session->consumed(*u, given);
        given = 0;
      }
      if (!u->in.empty()) {
        resp.swap(u->in);
        u->in.clear();
        s.out = resp;
        given = resp.size();
        rs.bytes_out += given;
        nghttp2_session_resume_data(h.session(), s.id);
        h.kick();
      } else if (u->end_stream) {
        s.trailers = std::move(u->trailers);
        s.out_eof = true;
        nghttp2_session_resume_data(h.session(), s.id);
        h.kick();
        resp_done = true;
      }
    }
    if (resp_done && (req_done || u->closed)) break;
    if (u->closed && !u->end_stream) {  // reset by the upstream, or its connection failed
      if (!head_sent) {
        failure = head_failure(*u, false);
      } else {
        count_failure(rt, up, rs, upstream_errc::bad_response);
        s.out = {};
        h.reset_stream(s, u->error ? u->error : NGHTTP2_INTERNAL_ERROR);
      }
      break;
    }
    // While the request still comes and nothing came back, the client is awaited
    // (timeouts.body_read, 408); otherwise the upstream (timeouts.upstream_response).
    const bool client_turn = !req_done && !head_sent && s.in.empty() && !req_piece;
    const config::Duration wait = client_turn ? timeouts.body_read : timeouts.upstream_response;
    const bool woke = co_await s.ev.wait(wait);
    if (woke) continue;
    if (client_turn) {
      h.client().count_timeout(metrics::TimeoutPhase::body_read);
      failure = ExchangeError{408u, "request_timeout"};
    } else if (!head_sent) {
      failure = ExchangeError{upstream_errc::response_timeout, false};
    } else {
      count_failure(rt, up, rs, upstream_errc::response_timeout);
      s.out = {};
      h.reset_stream(s, NGHTTP2_CANCEL);
    }
    break;
  }
  if (!resp_done) s.out = {};  // `resp` is not read after this
  release(u, given, resp_done && req_done && !failure);
  if (req_piece) h.consumed(s, req_piece);
  if (s.closed || h.dead()) {
    if (!head_sent) rs.status = 499;
  } else if (failure && !head_sent) {
    if (failure->client_status) {
      reply_error(h, s, rt, rs, failure->client_status, failure->client_error);
      co_return;
    }
    count_failure(rt, up, rs, failure->kind);
    reply_error(h, s, rt, rs, net::upstream_error_status(failure->kind), net::upstream_error_kind(failure->kind));
    co_return;
  } else if (failure) {
    h.reset_stream(s, NGHTTP2_CANCEL);
  }
  finish_request(rt, rs, h.client().worker.index(), h.client().client_ip);
}

asio::awaitable<bool> proxy_request_h2(ClientConnection& c, Runtime& rt, RequestState& rs, http::RequestHead& head,
                                       http::RequestParser& body, RouteRuntime& route, const config::Route& route_cfg,
                                       const access::Decision& decision) {
  const auto& timeouts = rt.cfg.timeouts;
  UpstreamRuntime& up = rt.upstreams[route.upstream];
  const config::Upstream& up_cfg = rt.cfg.upstreams[route.upstream];
  rs.upstream = &up;
  const bool te_trailers = common::list_has_token((*head.fields)[bhttp::field::te], "trailers");
  const bool expect_continue = common::list_has_token((*head.fields)[bhttp::field::expect], "100-continue");
  const bool has_body = !body.is_done();
  UpstreamRequest& ureq = shape_upstream_request(c, *c.ws, rt, rs, head, route_cfg, up_cfg, decision,
                                                 /*upgrade=*/false, expect_continue);
  if (expect_continue && has_body) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    c.stream.tcp().expires_after(timeouts.body_read);
    auto [ec, n] = co_await asio::async_write(c.stream, asio::buffer(kContinue), use_tuple);
    if (ec) co_return false;
  }
  RequestNv rnv;
  request_nv(ureq, up_cfg.protocol == config::UpstreamProtocol::h2, te_trailers, up_cfg, rnv);

  Event ev(c.stream.get_executor());
  auto& pool = *up.h2_pools[c.worker.index()];
  const auto upstream_start = Clock::now();
  std::shared_ptr<H2UpstreamStream> u;
  std::optional<ExchangeError> failure = co_await open_stream(pool, u, &ev, rnv, has_body, timeouts.upstream_response, nullptr);

  // The request body, one piece at a time as the upstream's window takes it.
  if (!failure && has_body) {
    const std::span<char> chunk = c.ws->relay.get(body.content_length().value_or(RelayBuffer::kUnknownLength));
    while (!body.is_done() && !u->closed && !u->end_stream) {
      auto& b = body.get().body();
      b.data = chunk.data();
      b.size = chunk.size();
      c.deadline.arm(timeouts.body_read);
      auto [ec, n] = co_await bhttp::async_read_some(c.stream, c.ws->buffer, body, use_tuple);
      c.deadline.disarm();
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::body_limit) failure = ExchangeError{413u, "payload_too_large"};
      else if (ec && c.deadline.fired()) {
        c.count_timeout(metrics::TimeoutPhase::body_read);
        failure = ExchangeError{408u, "request_timeout"};
      } else if (ec) {
        failure = ExchangeError{400u, "bad_request"};
      }
      if (failure) break;
      const std::size_t got = chunk.size() - b.size;
      if (got == 0 && !body.is_done()) continue;
      u->out.assign(chunk.data(), got);
      u->out_pos = 0;
      u->out_eof = body.is_done();
      u->session->resume(*u);
      while (!u->out_taken() && !u->closed) {
        const bool woke = co_await ev.wait(timeouts.upstream_response);
        if (!woke) {
          failure = ExchangeError{upstream_errc::send_failed, false};
          break;
        }
      }
      if (failure) break;
      rs.bytes_in += got;
    }
    if (!failure && !u->out_eof && body.is_done()) {
      u->out_eof = true;
      u->session->resume(*u);
    }
    while (!failure && !u->head_done && !u->closed) {
      const bool woke = co_await ev.wait(timeouts.upstream_response);
      if (!woke) failure = ExchangeError{upstream_errc::response_timeout, false};
    }
    if (!failure) failure = head_failure(*u, false);
  }
  if (failure) {
    release(u, 0, false);
    if (failure->client_status) {
      co_await reply_error(c, rt, rs, failure->client_status, failure->client_error, false);
      co_return false;
    }
    count_failure(rt, up, rs, failure->kind);
    const bool keep = head.keep_alive && body.is_done() && !c.draining();
    co_await reply_error(c, rt, rs, net::upstream_error_status(failure->kind), net::upstream_error_kind(failure->kind),
                         keep);
    co_return keep;
  }
  up.duration->Observe(std::chrono::duration<double>(Clock::now() - upstream_start).count());

  // The response head, framed for the client's HTTP version: chunked when its
  // length is unknown or the client takes trailers (HTTP/1.1), else as is;
  // HTTP/1.0 without a length is close-delimited.
  ClientResponse& res = c.ws->client_response.emplace();
  res.result(u->status);
  static_cast<http::Fields&>(res.base()) = std::move(u->head);
  http::prepare_client_response(res.base(), rs.request_id, false, decision.dpop_nonce);
  const unsigned status = u->status;
  const bool no_body = head.method == bhttp::verb::head || status == 204 || status == 304;
  const bool has_length = res.find(bhttp::field::content_length) != res.end();
  const bool empty_now = u->end_stream && u->in.empty() && u->trailers.empty();
  bool keep = head.keep_alive && !c.draining() && c.requests < rt.cfg.limits.max_requests_per_connection;
  bool chunked = false;
  if (no_body) {
  } else if (empty_now && !has_length) {
    res.set(bhttp::field::content_length, "0");
  } else if (head.version >= 11 && (te_trailers || !has_length)) {
    res.erase(bhttp::field::content_length);
    res.set(bhttp::field::transfer_encoding, "chunked");
    chunked = true;
  } else if (!has_length) {
    keep = false;  // HTTP/1.0: close-delimited
  }
  res.version(head.version >= 11 ? 11 : 10);
  res.keep_alive(keep);
  rs.status = status;
  http::render_header(res.base(), c.ws->header);
  c.stream.tcp().expires_after(timeouts.body_read);
  auto [hec, hn] = co_await asio::async_write(c.stream, asio::buffer(c.ws->header), use_tuple);
  bool ok = !hec;

  // The body as it comes, each piece's window reopened once it went out; then
  // the end (with the trailers for a client that takes them).
  std::string& piece = c.ws->header;
  std::array<char, 20> size_line{};
  while (ok) {
    while (u->in.empty() && !u->end_stream && !u->closed) {
      const bool woke = co_await ev.wait(timeouts.upstream_response);
      if (!woke) break;
    }
    if (!u->in.empty()) {
      piece.clear();
      piece.swap(u->in);
      const std::size_t n = piece.size();
      std::array<asio::const_buffer, 3> bufs;
      std::size_t nb = 0;
      if (chunked) {
        auto [end, tec] = std::to_chars(size_line.data(), size_line.data() + 16, n, 16);
        *end++ = '\r';
        *end++ = '\n';
        bufs[nb++] = asio::buffer(size_line.data(), static_cast<std::size_t>(end - size_line.data()));
      }
      bufs[nb++] = asio::buffer(piece);
      if (chunked) bufs[nb++] = asio::buffer("\r\n", 2);
      if (!no_body) {
        c.stream.tcp().expires_after(timeouts.body_read);
        auto [wec, wn] = co_await asio::async_write(c.stream, std::span(bufs.data(), nb), use_tuple);
        if (wec) ok = false;
        rs.bytes_out += n;
      }
      u->session->consumed(*u, n);
      continue;
    }
    if (u->end_stream) {
      if (chunked) {
        piece.assign("0\r\n");
        if (te_trailers)
          for (const auto& [name, value] : u->trailers) piece.append(name).append(": ").append(value).append("\r\n");
        piece.append("\r\n");
        c.stream.tcp().expires_after(timeouts.body_read);
        auto [wec, wn] = co_await asio::async_write(c.stream, asio::buffer(piece), use_tuple);
        if (wec) ok = false;
      }
      break;
    }
    // Reset by the upstream, its connection failed, or it went silent: the client is cut off.
    count_failure(rt, up, rs, u->closed ? upstream_errc::bad_response : upstream_errc::response_timeout);
    ok = false;
  }
  release(u, 0, ok && u->end_stream && (!has_body || u->out_eof));
  finish(c, rt, rs);
  co_return ok && keep && body.is_done();
}

}  // namespace authgate::proxy
