// A bounded keep-alive connection pool for one upstream, owned by one worker
// thread (no locks: only that thread's coroutines touch it).
//
// Usage (inside a coroutine on the worker's executor):
//   auto [ec, lease] = co_await pool.acquire();
//   if (ec) -> map with upstream_error_kind(ec) to 502/503/504;
//   use lease.stream() / lease.buffer(); lease.keep() when the exchange ended cleanly.
//   // the lease destructor returns the connection (kept) or closes it.
//
// Limits: cfg.max_connections busy+idle per worker (beyond: pool_exhausted),
// cfg.max_idle idle kept; idle ones unused for timeouts.upstream_idle are dropped.
// Connect covers resolve + TCP + TLS under timeouts.upstream_connect.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <system_error>

#include "config/config.hpp"
#include "net/stream.hpp"

namespace authgate::net {

// Outbound failures, each with its own metric label and HTTP status.
enum class upstream_errc {
  pool_exhausted = 1,  // 503
  resolve_failed,      // 502
  connect_refused,     // 502
  connect_timeout,     // 504
  tls_failed,          // 502
  send_failed,         // 502
  response_timeout,    // 504
  bad_response,        // 502 (reset, closed early, unparsable)
};
const boost::system::error_category& upstream_category();
boost::system::error_code make_error_code(upstream_errc e);
// The metric label ("connect_refused", ...) for an upstream_errc.
const char* upstream_error_kind(upstream_errc e);
unsigned upstream_error_status(upstream_errc e);

struct UpstreamConnection {
  // Beast reads at most the buffer's free capacity per syscall: start it at a
  // useful size so bodies do not crawl through in 512-byte reads.
  static constexpr std::size_t kReadBuffer = 16 * 1024;
  explicit UpstreamConnection(Stream s) : stream(std::move(s)) { buffer.reserve(kReadBuffer); }
  Stream stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point last_used{};
  bool reused = false;  // came from the idle list (may be stale)
};

// One new connection to the upstream: resolve, TCP, and for https the TLS
// handshake (SNI and verification from cfg.tls; with `alpn_h2`, ALPN offers
// only "h2" and a server that does not select it fails as tls_failed), all under
// timeouts.upstream_connect (name resolution apart: getaddrinfo cannot be cancelled).
// Completion: (error_code of upstream_errc, the connection or null).
asio::awaitable<std::pair<error_code, std::unique_ptr<UpstreamConnection>>> connect_upstream(
    const asio::any_io_executor& ex, const config::Upstream& cfg, const config::Timeouts& timeouts,
    asio::ssl::context* tls, const std::string& server_name, bool alpn_h2);

class UpstreamPool;

class UpstreamLease {
 public:
  UpstreamLease() = default;
  UpstreamLease(UpstreamPool* pool, std::unique_ptr<UpstreamConnection> c)
      : pool_(pool), conn_(std::move(c)) {}
  UpstreamLease(UpstreamLease&& o) noexcept { *this = std::move(o); }
  UpstreamLease& operator=(UpstreamLease&& o) noexcept;
  ~UpstreamLease() { reset(); }

  explicit operator bool() const { return conn_ != nullptr; }
  UpstreamConnection* operator->() const { return conn_.get(); }
  UpstreamConnection& operator*() const { return *conn_; }
  // The exchange completed cleanly and the connection may be reused.
  void keep() { keep_ = true; }
  // Returns the connection to the pool (kept) or closes it.
  void reset();

 private:
  UpstreamPool* pool_ = nullptr;
  std::unique_ptr<UpstreamConnection> conn_;
  bool keep_ = false;
};

class UpstreamPool {
 public:
  UpstreamPool(asio::any_io_executor ex, const config::Upstream& cfg, const config::Timeouts& t,
               asio::ssl::context* tls);
  ~UpstreamPool();

  // Completion: (error_code, UpstreamLease). Runs on the pool's executor.
  // `probe`: check an idle connection with a non-blocking peek before reuse.
  // Callers that can retry on a fresh connection (no request body consumed yet)
  // skip the syscall and retry instead.
  asio::awaitable<std::pair<error_code, UpstreamLease>> acquire(bool probe);

  // Like acquire(), but never reuses an idle connection (retry after a stale one).
  asio::awaitable<std::pair<error_code, UpstreamLease>> connect_new();

  std::size_t idle_count() const { return idle_.size(); }
  std::size_t busy_count() const { return busy_; }
  // The same two figures as last published by the owning thread, readable from
  // any thread (the status page on the control thread).
  std::size_t idle_published() const { return idle_seen_.load(std::memory_order_relaxed); }
  std::size_t busy_published() const { return busy_seen_.load(std::memory_order_relaxed); }

 private:
  friend class UpstreamLease;
  void release(std::unique_ptr<UpstreamConnection> c, bool keep);
  static bool looks_alive(UpstreamConnection& c);
  void publish() {
    idle_seen_.store(idle_.size(), std::memory_order_relaxed);
    busy_seen_.store(busy_, std::memory_order_relaxed);
  }

  asio::any_io_executor ex_;
  const config::Upstream& cfg_;
  const config::Timeouts& timeouts_;
  asio::ssl::context* tls_;
  std::string server_name_;
  std::deque<std::unique_ptr<UpstreamConnection>> idle_;  // most recently used at the back
  std::size_t busy_ = 0;
  std::atomic<std::size_t> idle_seen_{0};
  std::atomic<std::size_t> busy_seen_{0};
};

}  // namespace authgate::net

template <>
struct boost::system::is_error_code_enum<authgate::net::upstream_errc> : std::true_type {};
