// The admin listener (default 127.0.0.1:9901), on the control thread so it
// stays responsive however busy the workers are.
//   GET /healthz  200 while the process is alive
//   GET /readyz   200 when config is loaded and listeners are up; 503 while draining
//   GET /metrics  Prometheus text format
//   GET /         the status page (admin/status_page.hpp), once set_status_page() was called
//   GET|POST /revocations  the deny-list (admin/revocation_api.hpp), once set_revocations() was called
// Anything else: 404. Requests with a body are refused (400), except POST
// /revocations (at most 64 KiB).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "admin/health.hpp"
#include "admin/status_page.hpp"
#include "metrics/metrics.hpp"

namespace authgate::revocation {
class RevocationService;
}

namespace authgate::admin {

struct AdminLimits {
  std::chrono::milliseconds read_timeout{10'000};
  std::uint32_t max_header_bytes = 16 * 1024;
  std::chrono::seconds retry_after{5};  // timeouts.retry_after, sent with every 503
};

class AdminServer {
 public:
  // `limits` is called per request, so reloads of timeouts apply.
  AdminServer(boost::asio::io_context& io, const Health& health, const metrics::Metrics& metrics,
              std::function<AdminLimits()> limits);
  ~AdminServer();
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);  // throws on bind errors
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // The status page at "/": `snapshot` is called per request, on this io_context.
  void set_status_page(std::function<StatusSnapshot()> snapshot);
  void set_revocations(std::shared_ptr<revocation::RevocationService> service);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authgate::admin
