#include "net/upstream_pool.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/error_category.hpp"
#include "net/tls.hpp"

namespace authgate::net {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

const boost::system::error_category& upstream_category() {
  static const common::ErrorCategory<upstream_errc, boost::system::error_category> c("authgate.upstream",
                                                                                  upstream_error_kind);
  return c;
}

boost::system::error_code make_error_code(upstream_errc e) {
  return {static_cast<int>(e), upstream_category()};
}

const char* upstream_error_kind(upstream_errc e) {
  switch (e) {
    case upstream_errc::pool_exhausted: return "pool_exhausted";
    case upstream_errc::resolve_failed: return "resolve_failed";
    case upstream_errc::connect_refused: return "connect_refused";
    case upstream_errc::connect_timeout: return "connect_timeout";
    case upstream_errc::tls_failed: return "tls_failed";
    case upstream_errc::send_failed: return "send_failed";
    case upstream_errc::response_timeout: return "response_timeout";
    case upstream_errc::bad_response: return "bad_response";
  }
  return "unknown";
}

unsigned upstream_error_status(upstream_errc e) {
  switch (e) {
    case upstream_errc::pool_exhausted: return 503;
    case upstream_errc::connect_timeout:
    case upstream_errc::response_timeout: return 504;
    default: return 502;
  }
}

UpstreamLease& UpstreamLease::operator=(UpstreamLease&& o) noexcept {
  if (this != &o) {
    reset();
    pool_ = std::exchange(o.pool_, nullptr);
    conn_ = std::move(o.conn_);
    keep_ = std::exchange(o.keep_, false);
  }
  return *this;
}

void UpstreamLease::reset() {
  if (pool_) pool_->release(std::move(conn_), keep_);
  pool_ = nullptr;
  conn_.reset();
  keep_ = false;
}

UpstreamPool::UpstreamPool(asio::any_io_executor ex, const config::Upstream& cfg,
                           const config::Timeouts& t, asio::ssl::context* tls)
    : ex_(std::move(ex)),
      cfg_(cfg),
      timeouts_(t),
      tls_(tls),
      server_name_(cfg.tls.server_name.empty() ? cfg.host : cfg.tls.server_name) {}

UpstreamPool::~UpstreamPool() = default;

// A pooled connection the peer has closed (or sent unsolicited bytes on) is
// useless; one non-blocking peek finds out before a request is written to it.
bool UpstreamPool::looks_alive(UpstreamConnection& c) {
  char byte;
  auto fd = c.stream.tcp().socket().native_handle();
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

asio::awaitable<std::pair<error_code, UpstreamLease>> UpstreamPool::acquire(bool probe) {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (now - c->last_used < timeouts_.upstream_idle && (!probe || looks_alive(*c))) {
      c->reused = true;
      ++busy_;
      publish();
      co_return std::pair{error_code{}, UpstreamLease(this, std::move(c))};
    }
  }
  co_return co_await connect_new();
}

asio::awaitable<std::pair<error_code, UpstreamLease>> UpstreamPool::connect_new() {
  if (busy_ + idle_.size() >= cfg_.max_connections) {
    if (idle_.empty()) {
      publish();
      co_return std::pair{error_code(upstream_errc::pool_exhausted), UpstreamLease()};
    }
    idle_.pop_front();  // make room: drop the least recently used idle one
  }
  ++busy_;  // counted from here so concurrent connects respect the bound
  publish();
  auto [ec, c] = co_await connect_upstream(ex_, cfg_, timeouts_, tls_, server_name_, /*alpn_h2=*/false);
  if (ec) {
    --busy_;
    publish();
    co_return std::pair{ec, UpstreamLease()};
  }
  co_return std::pair{error_code{}, UpstreamLease(this, std::move(c))};
}

asio::awaitable<std::pair<error_code, std::unique_ptr<UpstreamConnection>>> connect_upstream(
    const asio::any_io_executor& ex, const config::Upstream& cfg, const config::Timeouts& timeouts,
    asio::ssl::context* tls, const std::string& server_name, bool alpn_h2) {
  using Result = std::pair<error_code, std::unique_ptr<UpstreamConnection>>;
  auto fail = [](upstream_errc e) { return Result{error_code(e), nullptr}; };
  const auto deadline = std::chrono::steady_clock::now() + timeouts.upstream_connect;
  asio::ip::tcp::resolver resolver(ex);
  // getaddrinfo cannot be cancelled, so name resolution is outside the connect
  // deadline; IP-literal upstreams (the common case behind a gateway) resolve at once.
  beast::tcp_stream tcp(ex);
  auto [rec, results] = co_await resolver.async_resolve(cfg.host, std::to_string(cfg.port), use_tuple);
  if (rec) co_return fail(upstream_errc::resolve_failed);
  tcp.expires_at(deadline);
  auto [cec, ep] = co_await tcp.async_connect(results, use_tuple);
  if (cec == beast::error::timeout) co_return fail(upstream_errc::connect_timeout);
  if (cec) co_return fail(upstream_errc::connect_refused);
  tcp.socket().set_option(asio::ip::tcp::no_delay(true));

  std::unique_ptr<UpstreamConnection> c;
  if (cfg.scheme == "https") {
    c = std::make_unique<UpstreamConnection>(Stream(std::move(tcp), *tls));
    if (!configure_client_stream(c->stream.tls(), server_name, cfg.tls.verify))
      co_return fail(upstream_errc::tls_failed);
    // ALPN protocol list (RFC 7301): length-prefixed names.
    static constexpr unsigned char kH2[] = {2, 'h', '2'};
    if (alpn_h2 && SSL_set_alpn_protos(c->stream.tls().native_handle(), kH2, sizeof kH2) != 0)
      co_return fail(upstream_errc::tls_failed);
    c->stream.tcp().expires_at(deadline);
    auto [hec] = co_await c->stream.tls().async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec == beast::error::timeout) co_return fail(upstream_errc::connect_timeout);
    if (hec) co_return fail(upstream_errc::tls_failed);
    if (alpn_h2) {
      const unsigned char* proto = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(c->stream.tls().native_handle(), &proto, &len);
      if (len != 2 || std::memcmp(proto, "h2", 2) != 0) co_return fail(upstream_errc::tls_failed);
    }
  } else {
    c = std::make_unique<UpstreamConnection>(Stream(std::move(tcp)));
  }
  c->stream.tcp().expires_never();
  co_return Result{error_code{}, std::move(c)};
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> c, bool keep) {
  --busy_;
  if (!c || !keep || idle_.size() >= cfg_.max_idle || c->buffer.size() != 0) {
    publish();
    return;
  }
  c->stream.tcp().expires_never();
  c->last_used = std::chrono::steady_clock::now();
  c->reused = false;
  idle_.push_back(std::move(c));
  publish();
}

}  // namespace authgate::net
