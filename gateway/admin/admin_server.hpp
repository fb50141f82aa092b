// The admin listener (default 127.0.0.1:9901), on the control thread so it
// stays responsive however busy the workers are.
//   GET /healthz  200 while the process is alive
//   GET /readyz   200 when config is loaded and listeners are up; 503 while draining
//   GET /metrics  Prometheus text format
// Anything else: 404. Requests with a body are refused (400).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>

#include "admin/health.hpp"
#include "metrics/metrics.hpp"

namespace authgate::admin {

struct AdminLimits {
  std::chrono::milliseconds read_timeout{10'000};
  std::uint32_t max_header_bytes = 16 * 1024;
};

class AdminServer {
 public:
  // `limits` is called per request, so reloads of timeouts apply.
  AdminServer(boost::asio::io_context& io, const Health& health, const metrics::Metrics& metrics,
              std::function<AdminLimits()> limits);
  ~AdminServer();
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);  // throws on bind errors
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authgate::admin
