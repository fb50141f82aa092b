#include "proxy/connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "common/ascii.hpp"
#include "http/client_address.hpp"
#include "http/header_hygiene.hpp"
#include "http/request_head.hpp"
#include "http/wire.hpp"
#include "net/stream.hpp"
#include "auth/auth_errc.hpp"
#include "proxy/authenticator.hpp"
#include "session/session_manager.hpp"
#include "proxy/access_log.hpp"
#include "proxy/worker.hpp"
#include "routing/host.hpp"
#include "routing/path.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using net::upstream_errc;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Size of one body piece relayed at a time, each way. Bounds per-request memory.
constexpr std::size_t kRelayChunk = 64 * 1024;
// First read of a new request: enough for typical headers in one syscall.
constexpr std::size_t kFirstRead = 8 * 1024;

// Benign ends of a client connection: the peer closed between requests, or
// we cancelled/closed it during drain. None of them is worth a log line.
bool is_benign_close(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::bad_descriptor;
}

// A deadline that cancels the client socket's pending operations without
// closing it (Beast's own expiry closes the socket), so that a 408 can still
// be written after a header or body read times out.
class ReadDeadline {
 public:
  explicit ReadDeadline(net::Stream& s)
      : timer_(s.get_executor()), state_(std::make_shared<State>(State{&s})) {}
  ~ReadDeadline() {
    state_->stream = nullptr;  // a completion already queued must not touch the stream
    timer_.cancel();
  }

  void arm(config::Duration d) {
    state_->fired = false;
    state_->stream->tcp().expires_never();
    timer_.expires_after(d);
    timer_.async_wait([state = state_, armed = ++state_->generation](const error_code& ec) {
      if (ec || armed != state->generation || !state->stream) return;
      state->fired = true;
      error_code ignored;
      state->stream->tcp().socket().cancel(ignored);
    });
  }
  void disarm() {
    ++state_->generation;  // also voids a completion that is already queued
    timer_.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    net::Stream* stream;
    std::uint64_t generation = 0;
    bool fired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// Everything one request accumulates for the access log and metrics. One per
// connection, reset for each request: its strings keep their capacity, so a request
// id (32 characters, past the short-string buffer) costs no allocation.
struct RequestState {
  void reset() {
    start = Clock::now();
    request_id.clear();
    method.clear();
    path.clear();
    route = nullptr;
    upstream = nullptr;
    status = 0;
    bytes_in = bytes_out = 0;
    auth = "none";
    auth_reason = {};
    issuer.clear();
    sub.clear();
  }

  Clock::time_point start = Clock::now();
  std::string request_id;
  std::string method;
  std::string path;
  RouteRuntime* route = nullptr;
  UpstreamRuntime* upstream = nullptr;
  unsigned status = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::string_view auth = "none";
  std::string_view auth_reason;  // bearer routes: "ok" or the auth reason
  std::string issuer;            // the token issuer's config name
  std::string sub;
};

// Why an exchange with the upstream failed, and whether it may be retried on a
// fresh connection (a stale pooled connection, nothing consumed from the client).
struct ExchangeError {
  ExchangeError(upstream_errc k, bool retry) : kind(k), retryable(retry) {}
  ExchangeError(unsigned status, std::string_view error)
      : client_status(status), client_error(error) {}
  upstream_errc kind{};
  bool retryable = false;
  // When the client side failed instead (body read), the local reply to send.
  unsigned client_status = 0;
  std::string_view client_error;
};

class ClientSession {
 public:
  ClientSession(Worker& w, asio::ip::tcp::socket socket)
      : worker_(w), stream_(make_stream(w, std::move(socket))) {
    error_code ec;
    auto ep = stream_.tcp().socket().remote_endpoint(ec);
    if (!ec) {
      peer_ = ep.address();
      if (peer_.is_v6() && peer_.to_v6().is_v4_mapped())
        peer_ = asio::ip::make_address_v4(asio::ip::v4_mapped, peer_.to_v6());
      client_ip_ = peer_.to_string();
    }
    stream_.tcp().socket().set_option(asio::ip::tcp::no_delay(true), ec);
    handle_.stream = &stream_;
    handle_pos_ = worker_.add_connection(&handle_);
  }

  ~ClientSession() { worker_.remove_connection(handle_pos_); }

  asio::awaitable<void> run() {
    auto rt = worker_.state().runtime.load();
    if (stream_.is_tls()) {
      stream_.tcp().expires_after(rt->cfg.timeouts.tls_handshake);
      auto [ec] = co_await stream_.tls().async_handshake(asio::ssl::stream_base::server, use_tuple);
      if (ec) {
        if (ec == beast::error::timeout) count_timeout(metrics::TimeoutPhase::tls_handshake);
        spdlog::debug("tls handshake from {} failed: {}", client_ip_, ec.message());
        co_return;
      }
    }
    while (co_await serve_one()) {
    }
    error_code ignored;
    if (body_unread_ && !stream_.is_tls()) co_await linger();
    stream_.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.tcp().close();
  }

  // Closing a socket with unread bytes makes the kernel send a reset, and a
  // client still sending its body then often loses the reply we just wrote
  // (a 401 or 413). So: half-close, read and discard what the client is still
  // sending, bounded by limits.max_linger_bytes and timeouts.linger, then close.
  // (Plain TCP only: a TLS half-close would need a close_notify first.)
  asio::awaitable<void> linger() {
    const auto rt = worker_.state().runtime.load();
    error_code ignored;
    stream_.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    std::uint64_t discarded = 0;
    char* sink = relay_buffer();
    deadline_.arm(rt->cfg.timeouts.linger);
    while (discarded < rt->cfg.limits.max_linger_bytes) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink, kRelayChunk), use_tuple);
      if (ec) break;
      discarded += n;
    }
    deadline_.disarm();
  }

 private:
  static net::Stream make_stream(Worker& w, asio::ip::tcp::socket socket) {
    beast::tcp_stream tcp(std::move(socket));
    if (auto& tls = w.state().server_tls) return net::Stream(std::move(tcp), *tls);
    return net::Stream(std::move(tcp));
  }

  void count_timeout(metrics::TimeoutPhase phase) { worker_.state().metrics.timeout(phase).Increment(); }

  // Reads until the whole request header is buffered, so it can be checked
  // as bytes before Beast parses it (http/request_head.hpp): its size against
  // max_header_bytes as a whole (431), and obs-fold (a header line continued on
  // the next line), rejected outright (RFC 9112 5.2 allows rejecting it with 400)
  // rather than unfolded, so no two parsers on the path can disagree about it.
  asio::awaitable<error_code> read_whole_header(std::uint64_t max_header_bytes) {
    std::size_t scanned = 0;  // bytes already searched for the terminator
    for (;;) {
      const std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      const http::HeadScan scan = http::scan_request_head(data, max_header_bytes, scanned);
      if (scan == http::HeadScan::complete) co_return error_code{};
      if (scan == http::HeadScan::obs_fold) co_return bhttp::error::bad_value;
      if (scan == http::HeadScan::too_large) co_return bhttp::error::header_limit;
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kFirstRead), use_tuple);
      if (ec) co_return ec;
      buffer_.commit(n);
    }
  }

  // Returns true when the connection should wait for another request.
  asio::awaitable<bool> serve_one() {
    auto rt = worker_.state().runtime.load();  // this request's snapshot
    const auto& limits = rt->cfg.limits;
    const auto& timeouts = rt->cfg.timeouts;

    if (buffer_.size() == 0) {  // idle keep-alive wait for the first byte
      if (worker_.state().draining.load()) co_return false;
      // An idle connection holds no body buffer: 10,000 idle keep-alive clients would
      // otherwise keep 64 KiB each (load-tests/RESULTS.md). It goes back to the worker's
      // spares and the next body takes one from there.
      if (relay_) worker_.give_back_relay_buffer(std::move(relay_));
      handle_.idle = true;
      stream_.tcp().expires_after(timeouts.keepalive_idle);
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kFirstRead), use_tuple);
      handle_.idle = false;
      if (ec) {
        if (ec == beast::error::timeout) count_timeout(metrics::TimeoutPhase::keepalive_idle);
        co_return false;
      }
      buffer_.commit(n);
    }

    RequestState& rs = request_state_;
    rs.reset();
    body_unread_ = false;
    http::RequestParser parser;
    http::limit_request_parser(parser, limits);
    deadline_.arm(timeouts.header_read);
    error_code ec = co_await read_whole_header(limits.max_header_bytes);
    if (!ec) std::tie(ec, std::ignore) = co_await bhttp::async_read_header(stream_, buffer_, parser, use_tuple);
    deadline_.disarm();
    if (ec) {
      http::generate_request_id(rs.request_id);
      if (deadline_.fired()) {
        count_timeout(metrics::TimeoutPhase::header_read);
        co_await reply_local(*rt, rs, 408, "request_timeout", false);
      } else if (ec == bhttp::error::header_limit) {
        body_unread_ = true;  // the client may still be sending
        co_await reply_local(*rt, rs, 431, "request_header_fields_too_large", false);
      } else if (ec == bhttp::error::body_limit) {
        body_unread_ = true;
        co_await reply_local(*rt, rs, 413, "payload_too_large", false);
      } else if (is_benign_close(ec)) {
        co_return false;
      } else {
        spdlog::debug("bad request from {}: {}", client_ip_, ec.message());
        co_await reply_local(*rt, rs, 400, "bad_request", false);
      }
      co_return false;
    }

    auto& req = parser.get();
    // However this request ends, remember whether its body was left unread.
    struct UnreadGuard {
      bool& flag;
      const http::RequestParser& p;
      ~UnreadGuard() { flag = !p.is_done(); }
    } unread_guard{body_unread_, parser};
    rs.method.assign(req.method_string().data(), req.method_string().size());
    if (auto it = req.find("X-Request-Id");
        it != req.end() && http::is_well_formed_request_id(it->value()))
      rs.request_id.assign(it->value().data(), it->value().size());
    else
      http::generate_request_id(rs.request_id);

    // A request whose body we have not read cannot leave the connection reusable.
    ++requests_;  // every request counts toward the per-connection limit, local replies too
    auto can_keep = [&] {
      return req.keep_alive() && parser.is_done() && !worker_.state().draining.load() &&
             requests_ < limits.max_requests_per_connection;
    };

    if (const char* why = http::framing_error(req)) {
      rs.path = std::string(req.target().substr(0, req.target().find('?')));  // never log the query
      spdlog::debug("rejecting request {} from {}: {}", rs.request_id, client_ip_, why);
      co_await reply_local(*rt, rs, 400, "bad_request", false);
      co_return false;
    }

    // The Host routing matches and the upstream (X-Forwarded-Host) sees must be a
    // host name or IPv6 literal with an optional port (routing/host.hpp). An absent
    // Host (HTTP/1.0) matches only routes without a host.
    if (auto host = req.find(bhttp::field::host); host != req.end()) {
      routing::HostParts parts;
      std::error_code hec;
      if (!routing::validate_host(host->value(), parts, hec)) {
        rs.path = std::string(req.target().substr(0, req.target().find('?')));  // never log the query
        spdlog::debug("rejecting Host of {} from {}: {}", rs.request_id, client_ip_, hec.message());
        worker_.state().metrics.rejected(metrics::RejectReason::bad_host).Increment();
        co_await reply_local(*rt, rs, 400, "bad_host", can_keep());
        co_return can_keep();
      }
    }

    routing::CanonicalTarget target;
    std::error_code pec;
    routing::utf8_fault utf8 = routing::utf8_fault::none;
    if (!routing::canonicalize_target(req.target(), target, pec, &utf8)) {
      rs.path = std::string(req.target().substr(0, req.target().find('?')));  // never log the query
      spdlog::debug("rejecting path of {} from {}: {}{}{}", rs.request_id, client_ip_, pec.message(),
                    utf8 == routing::utf8_fault::none ? "" : ": ", utf8 == routing::utf8_fault::none ? "" : common::utf8_fault_name(utf8));
      worker_.state().metrics.rejected(pec == routing::path_errc::invalid_utf8 ? metrics::RejectReason::invalid_utf8
                                                                                : metrics::RejectReason::bad_path)
          .Increment();
      co_await reply_local(*rt, rs, 400, "bad_path", can_keep());
      co_return can_keep();
    }
    rs.path = target.path;
    const auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();

    // Session endpoints (login, callback, logout, session) are answered here.
    if (auto* sessions = rt->authenticator.sessions(); sessions && sessions->handles(target.path)) {
      // The login rate limit's key: the peer, or the trusted X-Forwarded-For client.
      const std::string client = http::client_address(
          peer_, req, [&rt](const asio::ip::address& a) { return rt->is_trusted_proxy(a); });
      const session::LocalReply reply =
          co_await sessions->handle(target.path, target.query, req, rs.method, client, now_unix);
      rs.auth = "session";
      co_await reply_session(*rt, rs, reply, can_keep());
      co_return can_keep();
    }

    const int route_index = rt->table.match(req[bhttp::field::host], req.method_string(), target.path);
    if (route_index < 0) {
      co_await reply_local(*rt, rs, 404, "not_found", can_keep());
      co_return can_keep();
    }
    RouteRuntime& route = rt->routes[static_cast<std::size_t>(route_index)];
    const config::Route& route_cfg = rt->cfg.routes[static_cast<std::size_t>(route_index)];
    rs.route = &route;

    const std::string full_target = target.query.empty() ? target.path : target.path + "?" + target.query;
    const RequestView view{req, req.method_string(), full_target};
    AccessDecision decision = rt->authenticator.decide(route_cfg, view, now_unix);
    if (decision.needs_io) decision = co_await rt->authenticator.decide_async(route_cfg, view, now_unix);
    rs.auth = decision.auth_label;
    if (route_cfg.auth != config::AuthMode::none) {
      rt->auth_counter(route, worker_.index(), decision.ec).Increment();
      rs.auth_reason = auth::reason(decision.ec);
      rs.issuer = decision.issuer;
      rs.sub = decision.sub;
    }
    if (!decision.allowed && !decision.reply.location.empty()) {
      session::LocalReply redirect;
      redirect.status = decision.reply.status;
      redirect.headers.emplace_back("Location", decision.reply.location);
      co_await reply_session(*rt, rs, redirect, can_keep());
      co_return can_keep();
    }
    if (!decision.allowed) {
      co_await reply_local(*rt, rs, decision.reply.status, decision.reply.error, can_keep(),
                           decision.reply.www_authenticate);
      co_return can_keep();
    }

    co_return co_await proxy(*rt, rs, parser, route, route_cfg, decision, target);
  }

  asio::awaitable<bool> proxy(Runtime& rt, RequestState& rs,
                              http::RequestParser& parser, RouteRuntime& route,
                              const config::Route& route_cfg, const AccessDecision& decision,
                              const routing::CanonicalTarget& target) {
    const auto& timeouts = rt.cfg.timeouts;
    auto& req = parser.get();
    UpstreamRuntime& up = rt.upstreams[route.upstream];
    const config::Upstream& up_cfg = rt.cfg.upstreams[route.upstream];
    rs.upstream = &up;

    // Only a WebSocket handshake may switch protocols: any other Upgrade (h2c
    // above all) would turn the connection into a tunnel past routing and auth.
    const bool upgrade = req.method() == bhttp::verb::get &&
                         common::iequals(req[bhttp::field::upgrade], "websocket") &&
                         common::list_has_token(req[bhttp::field::connection], "upgrade");
    const bool expect_continue = common::list_has_token(req[bhttp::field::expect], "100-continue");

    // Facts about the client request, kept before its header moves upstream.
    const bool client_keep_alive = req.keep_alive();
    const unsigned client_version = req.version();
    const bhttp::verb method = req.method();
    bhttp::request<bhttp::buffer_body, http::Fields> upstream_req;
    upstream_req.base() = std::move(req.base());
    upstream_req.version(11);
    upstream_req.target(target.target());
    http::ForwardContext fwd{client_ip_, rt.is_trusted_proxy(peer_),
                             stream_.is_tls() ? "https" : "http", rs.request_id, upgrade,
                             &rt.cfg.identity, &rt.cfg.headers};
    http::prepare_upstream_request(upstream_req.base(), fwd);
    rt.authenticator.forward_identity(upstream_req.base(), route_cfg, decision, rt.identity_headers);
    if (!up_cfg.host_header.empty()) upstream_req.set(bhttp::field::host, up_cfg.host_header);
    if (expect_continue) upstream_req.erase(bhttp::field::expect);

    if (expect_continue && !parser.is_done()) {
      // We answer 100 ourselves: the decision on the headers has been taken.
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      stream_.tcp().expires_after(timeouts.body_read);
      auto [ec, n] = co_await bhttp::async_write(stream_, cont, use_tuple);
      if (ec) co_return false;
    }

    auto& pool = *up.pools[worker_.index()];
    const auto upstream_start = Clock::now();
    std::optional<ExchangeError> failure;
    net::UpstreamLease lease;
    std::optional<bhttp::response_parser<bhttp::buffer_body, http::FieldAllocator<char>>> rp;
    const bool has_body = !parser.is_done();
    // A request may be replayed on a fresh connection only when the upstream
    // cannot have acted on it twice: no body consumed and an idempotent method.
    const bool replayable = !has_body && (method == bhttp::verb::get || method == bhttp::verb::head ||
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
      failure = co_await send_request(rt, rs, parser, upstream_req, lease, replayable);
      if (!failure) failure = co_await read_response_header(rt, method, replayable, upgrade, lease, rp);
      if (!failure || !failure->retryable || !lease->reused) break;
      lease = {};  // stale pooled connection: close it, try once more on a new one
    }

    if (failure) {
      if (failure->client_status) {
        co_await reply_local(rt, rs, failure->client_status, failure->client_error, false);
        co_return false;
      }
      rt.upstream_error_counter(up, failure->kind).Increment();
      spdlog::warn("request {} to upstream {} failed: {}", rs.request_id, up.name,
                   net::upstream_error_kind(failure->kind));
      const unsigned status = net::upstream_error_status(failure->kind);
      const bool keep = client_keep_alive && parser.is_done() && !worker_.state().draining.load();
      co_await reply_local(rt, rs, status, net::upstream_error_kind(failure->kind), keep);
      co_return keep;
    }
    up.duration->Observe(std::chrono::duration<double>(Clock::now() - upstream_start).count());

    auto& ures = rp->get();
    const bool switching = upgrade && ures.result() == bhttp::status::switching_protocols;
    const bool upstream_keep_alive = ures.keep_alive();
    const bool close_delimited = !rp->is_done() && !ures.has_content_length() && !ures.chunked();
    bhttp::response<bhttp::buffer_body, http::Fields> client_res;
    client_res.base() = std::move(ures.base());
    http::prepare_client_response(client_res.base(), rs.request_id, switching);
    bool keep = !switching && client_keep_alive && !worker_.state().draining.load() &&
                requests_ < rt.cfg.limits.max_requests_per_connection;
    if (close_delimited) {
      // Close-delimited upstream body: chunk it for HTTP/1.1 clients, else close.
      if (client_version >= 11) client_res.chunked(true);
      else keep = false;
    } else if (client_version < 11 && client_res.chunked()) {
      client_res.chunked(false);  // HTTP/1.0 knows no chunking: close-delimited instead
      keep = false;
    }
    client_res.version(client_version >= 11 ? 11 : 10);  // before keep_alive(): it depends on it
    if (!switching) client_res.keep_alive(keep);
    rs.status = client_res.result_int();

    const BodyRelay relay = co_await relay_body(lease->stream, lease->buffer, *rp, nullptr,
                                                timeouts.upstream_response, stream_, client_res,
                                                timeouts.body_read);
    rs.bytes_out += relay.bytes;
    if (relay.read_error) {
      // Headers may already be out: all we can do is cut the client off.
      rt.upstream_error_counter(up, relay.read_timed_out ? upstream_errc::response_timeout
                                                         : upstream_errc::bad_response)
          .Increment();
      spdlog::warn("request {}: upstream {} body failed: {}", rs.request_id, up.name,
                   relay.read_error.message());
    }
    const bool ok = !relay.read_error && !relay.write_error;
    if (ok && rp->is_done() && !switching && upstream_keep_alive) lease.keep();

    if (ok && switching) {
      co_await relay_upgraded(rt, rs, *lease, route_cfg, decision);
      finish(rt, rs);
      co_return false;
    }
    finish(rt, rs);
    lease.reset();
    co_return ok && keep && parser.is_done();
  }

  // Writes the request header and streams the body from the client.
  asio::awaitable<std::optional<ExchangeError>> send_request(
      Runtime& rt, RequestState& rs, http::RequestParser& parser,
      bhttp::request<bhttp::buffer_body, http::Fields>& upstream_req, net::UpstreamLease& lease, bool replayable) {
    const auto& timeouts = rt.cfg.timeouts;
    const bool had_body = !parser.is_done();
    const BodyRelay relay = co_await relay_body(stream_, buffer_, parser, &deadline_, timeouts.body_read,
                                                lease->stream, upstream_req,
                                                timeouts.upstream_response, rt.cfg.limits.min_body_rate);
    rs.bytes_in += relay.bytes;
    if (relay.read_error) {
      if (relay.read_error == bhttp::error::body_limit) co_return ExchangeError{413u, "payload_too_large"};
      if (relay.read_timed_out) {
        count_timeout(metrics::TimeoutPhase::body_read);
        co_return ExchangeError{408u, "request_timeout"};
      }
      co_return ExchangeError{400u, "bad_request"};
    }
    // Retrying is safe only while nothing of the body has been consumed.
    if (relay.write_error) co_return ExchangeError{upstream_errc::send_failed, replayable && !had_body};
    co_return std::nullopt;
  }

  struct BodyRelay {
    std::uint64_t bytes = 0;  // body bytes written
    error_code read_error;    // reading the body from `in` failed
    bool read_timed_out = false;
    error_code write_error;   // writing to `out` failed
  };

  // Streams one message from a parser to `out` in kRelayChunk pieces. The
  // header goes out together with the first body piece when that piece is
  // already buffered (one gathered write instead of two); otherwise it goes
  // out alone first, so a slow body never holds back headers. Fixed-length and
  // bodiless messages are written from our own rendered header
  // (http/wire.hpp); chunked ones through Beast's serializer.
  // Reads are bounded by `read_timeout` (through `deadline` when given, which
  // keeps the socket open for a 408), writes by `write_timeout`. With `min_rate`
  // (bytes/s, 0: off), a body that has not averaged that rate since its first
  // read once `read_timeout` has passed fails as a read timeout: each read of a
  // trickled body is quick, so only this bounds the whole body.
  template <bool isRequest>
  asio::awaitable<BodyRelay> relay_body(net::Stream& in, beast::flat_buffer& in_buffer,
                                        bhttp::parser<isRequest, bhttp::buffer_body, http::FieldAllocator<char>>& parser,
                                        ReadDeadline* deadline, config::Duration read_timeout,
                                        net::Stream& out,
                                        bhttp::message<isRequest, bhttp::buffer_body, http::Fields>& out_msg,
                                        config::Duration write_timeout, std::uint64_t min_rate = 0) {
    BodyRelay result;
    // A message without a body (HEAD, 204, 304, or a request with none) is its
    // header alone even when it says chunked: the serializer would add "0\r\n\r\n".
    const bool chunked = out_msg.chunked() && !parser.is_done();
    std::optional<bhttp::serializer<isRequest, bhttp::buffer_body, http::Fields>> sr;
    bool header_sent = false;
    if (chunked) sr.emplace(out_msg);
    else http::render_header(out_msg.base(), header_);

    // Writes the header (if still pending) and `n` body bytes at `data`.
    auto write = [&](const char* data, std::size_t n, bool more) -> asio::awaitable<error_code> {
      out.tcp().expires_after(write_timeout);
      if (sr) {
        auto& body = out_msg.body();
        body.data = const_cast<char*>(data);
        body.size = n;
        body.more = more;
        auto [ec, w] = co_await bhttp::async_write(out, *sr, use_tuple);
        header_sent = true;
        co_return ec == bhttp::error::need_buffer ? error_code{} : ec;
      }
      // Gathered write of header + piece; the header part is empty once sent.
      std::array<asio::const_buffer, 2> bufs{
          header_sent ? asio::const_buffer() : asio::buffer(header_), asio::buffer(data, n)};
      auto [ec, w] = co_await asio::async_write(out, bufs, use_tuple);
      header_sent = true;
      co_return ec;
    };

    if (parser.is_done()) {  // no body: the header alone
      result.write_error = co_await write(nullptr, 0, false);
      co_return result;
    }
    char* chunk = relay_buffer();
    const auto body_started = Clock::now();
    std::uint64_t body_read = 0;
    while (!parser.is_done()) {
      if (!header_sent && in_buffer.size() == 0) {
        if (sr) {
          out.tcp().expires_after(write_timeout);
          auto [ec, n] = co_await bhttp::async_write_header(out, *sr, use_tuple);
          result.write_error = ec;
          header_sent = true;
        } else {
          result.write_error = co_await write(nullptr, 0, true);
        }
        if (result.write_error) co_return result;
      }
      auto& in_body = parser.get().body();
      in_body.data = chunk;
      in_body.size = kRelayChunk;
      if (deadline) deadline->arm(read_timeout);
      else in.tcp().expires_after(read_timeout);
      auto [rec, rn] = co_await bhttp::async_read_some(in, in_buffer, parser, use_tuple);
      if (deadline) deadline->disarm();
      if (rec == bhttp::error::need_buffer) rec = {};
      if (rec) {
        result.read_error = rec;
        result.read_timed_out = deadline ? deadline->fired() : rec == beast::error::timeout;
        co_return result;
      }
      const std::size_t n = kRelayChunk - in_body.size;
      body_read += n;
      if (min_rate > 0 && !parser.is_done()) {
        const auto elapsed = Clock::now() - body_started;
        if (elapsed > read_timeout &&
            static_cast<double>(body_read) < static_cast<double>(min_rate) * std::chrono::duration<double>(elapsed).count()) {
          result.read_error = beast::error::timeout;
          result.read_timed_out = true;
          co_return result;
        }
      }
      const bool more = !parser.is_done();
      // An empty piece (only a chunk header was parsed) must not be written: the
      // chunked serializer would emit it as the terminating zero-size chunk.
      if (n == 0 && more) continue;
      result.bytes += n;
      result.write_error = co_await write(chunk, n, more);
      if (result.write_error) co_return result;
    }
    co_return result;
  }

  // Reads the upstream response header, skipping interim 1xx (except 101).
  // `may_retry`: the request is replayable (no body, idempotent method), so a
  // stale pooled connection can be replaced transparently.
  asio::awaitable<std::optional<ExchangeError>> read_response_header(
      Runtime& rt, bhttp::verb method, bool may_retry, bool upgrade_requested,
      net::UpstreamLease& lease, std::optional<bhttp::response_parser<bhttp::buffer_body, http::FieldAllocator<char>>>& rp) {
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

  // After a 101: relay raw bytes both ways until either side closes or idles out.
  // A tunnel on a route with auth also ends timeouts.websocket_max_lifetime after
  // the 101, and a session's tunnel once its session is gone (checked every
  // sessions.websocket_check_interval): the token or session that opened it
  // must not keep it open forever.
  asio::awaitable<void> relay_upgraded(Runtime& rt, RequestState& rs, net::UpstreamConnection& up,
                                       const config::Route& route_cfg, const AccessDecision& decision) {
    using namespace asio::experimental::awaitable_operators;
    const auto idle = rt.cfg.timeouts.websocket_idle;
    // Bytes that arrived behind the headers belong to the new protocol.
    if (up.buffer.size()) {
      stream_.tcp().expires_after(idle);
      auto [ec, n] = co_await asio::async_write(stream_, up.buffer.data(), use_tuple);
      if (ec) co_return;
      up.buffer.consume(up.buffer.size());
    }
    if (buffer_.size()) {
      up.stream.tcp().expires_after(idle);
      auto [ec, n] = co_await asio::async_write(up.stream, buffer_.data(), use_tuple);
      if (ec) co_return;
      buffer_.consume(buffer_.size());
    }
    if (route_cfg.auth == config::AuthMode::none) {
      co_await (pump(stream_, up.stream, idle) || pump(up.stream, stream_, idle));
    } else if (decision.session_id.empty() || !rt.authenticator.sessions()) {
      co_await (pump(stream_, up.stream, idle) || pump(up.stream, stream_, idle) || tunnel_lifetime(rt, rs));
    } else {
      co_await (pump(stream_, up.stream, idle) || pump(up.stream, stream_, idle) || tunnel_lifetime(rt, rs) ||
                watch_session(rt, rs, decision.session_id));
    }
  }

  asio::awaitable<void> tunnel_lifetime(Runtime& rt, RequestState& rs) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(rt.cfg.timeouts.websocket_max_lifetime);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;  // the tunnel ended first
    worker_.state().metrics.websocket_max_lifetime.Increment();
    spdlog::info("request {}: WebSocket tunnel closed after timeouts.websocket_max_lifetime ({} ms)", rs.request_id,
                 rt.cfg.timeouts.websocket_max_lifetime.count());
  }

  asio::awaitable<void> watch_session(Runtime& rt, RequestState& rs, const std::string& id) {
    auto* sessions = rt.authenticator.sessions();
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_after(rt.cfg.sessions->websocket_check_interval);
      auto [ec] = co_await timer.async_wait(use_tuple);
      if (ec) co_return;
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
      const bool alive = co_await sessions->session_alive(id, now);
      if (!alive) break;
    }
    worker_.state().metrics.websocket_session_ended.Increment();
    spdlog::info("request {}: WebSocket tunnel closed: its session has ended", rs.request_id);
  }

  static asio::awaitable<void> pump(net::Stream& from, net::Stream& to, config::Duration idle) {
    std::vector<char> data(kRelayChunk);
    for (;;) {
      from.tcp().expires_after(idle);
      auto [ec, n] = co_await from.async_read_some(asio::buffer(data), use_tuple);
      if (ec) co_return;
      to.tcp().expires_after(idle);
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(data.data(), n), use_tuple);
      if (wec) co_return;
    }
  }

  // Every 503 authgate answers itself says when to come back: timeouts.retry_after.
  static std::string retry_after_seconds(const Runtime& rt) {
    return std::to_string(std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(rt.cfg.timeouts.retry_after).count()));
  }

  // A reply of the session endpoints (or a redirect to the login): status,
  // headers and body as given, never cached; a 503 without
  // its own Retry-After gets timeouts.retry_after.
  asio::awaitable<void> reply_session(Runtime& rt, RequestState& rs, const session::LocalReply& reply,
                                      bool keep_alive) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), 11};
    for (const auto& [name, value] : reply.headers) res.insert(name, value);
    if (reply.status == 503 && res.find(bhttp::field::retry_after) == res.end())
      res.set(bhttp::field::retry_after, retry_after_seconds(rt));
    if (!reply.body.empty()) res.set(bhttp::field::content_type, reply.content_type);
    res.set(bhttp::field::cache_control, "no-store");
    res.set("X-Request-Id", rs.request_id);
    res.body() = reply.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    rs.status = reply.status;
    rs.bytes_out = res.body().size();
    stream_.tcp().expires_after(rt.cfg.timeouts.body_read);
    co_await bhttp::async_write(stream_, res, use_tuple);
    finish(rt, rs);
  }

  asio::awaitable<void> reply_local(Runtime& rt, RequestState& rs, unsigned status,
                                    std::string_view error, bool keep_alive,
                                    std::string_view www_authenticate = {}) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
    if (!www_authenticate.empty()) res.set(bhttp::field::www_authenticate, www_authenticate);
    if (status == 503) res.set(bhttp::field::retry_after, retry_after_seconds(rt));
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::cache_control, "no-store");
    res.set("X-Request-Id", rs.request_id);
    std::string body = "{\"error\":\"";
    append_json_escaped(body, error);
    body += "\",\"status\":" + std::to_string(status) + ",\"request_id\":\"";
    append_json_escaped(body, rs.request_id);
    body += "\"}\n";
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    rs.status = status;
    rs.bytes_out = res.body().size();
    stream_.tcp().expires_after(rt.cfg.timeouts.body_read);
    co_await bhttp::async_write(stream_, res, use_tuple);
    finish(rt, rs);
  }

  void finish(Runtime& rt, RequestState& rs) {
    const double seconds = std::chrono::duration<double>(Clock::now() - rs.start).count();
    RouteRuntime& route = rs.route ? *rs.route : rt.unmatched;
    rt.request_counter(route, worker_.index(), rs.method.empty() ? "other" : rs.method, rs.status)
        .Increment();
    route.duration->Observe(seconds);
    if (rt.access_log) {
      AccessRecord rec;
      rec.request_id = rs.request_id;
      rec.client = client_ip_;
      rec.method = rs.method;
      rec.path = rs.path;
      rec.route = route.name;
      rec.upstream = rs.upstream ? std::string_view(rs.upstream->name) : std::string_view();
      rec.status = rs.status;
      rec.bytes_in = rs.bytes_in;
      rec.bytes_out = rs.bytes_out;
      rec.duration_ms = seconds * 1000.0;
      rec.auth = rs.auth;
      rec.auth_reason = rs.auth_reason;
      rec.issuer = rs.issuer;
      rec.sub = rs.sub;
      write_access_log(*rt.access_log, rec);
    }
  }

  char* relay_buffer() {
    if (!relay_) relay_ = worker_.take_relay_buffer(kRelayChunk);
    return relay_.get();
  }

  Worker& worker_;
  net::Stream stream_;
  beast::flat_buffer buffer_;
  asio::ip::address peer_;
  std::string client_ip_;
  ConnectionHandle handle_;
  std::list<ConnectionHandle*>::iterator handle_pos_;
  ReadDeadline deadline_{stream_};
  std::unique_ptr<char[]> relay_;  // one body piece in flight, allocated on first body
  std::string header_;             // rendered header being written (reused across requests)
  RequestState request_state_;     // the request being served (reused across requests)
  std::uint64_t requests_ = 0;
  bool body_unread_ = false;  // the last request's body was not (fully) read
};

}  // namespace

asio::awaitable<void> serve_connection(Worker& worker, asio::ip::tcp::socket socket) {
  ClientSession session(worker, std::move(socket));
  co_await session.run();
}

}  // namespace authgate::proxy
