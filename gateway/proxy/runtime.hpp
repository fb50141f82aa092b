// One immutable snapshot of everything a request needs: the config, the route
// table, per-route and per-upstream metric handles, upstream pools (one per
// worker), TLS contexts and the access log. SIGHUP builds a new Runtime and
// swaps it in atomically; requests in flight keep the one they started with
// (they hold a shared_ptr), so they finish on the old snapshot.
//
// Usage:
//   auto rt = std::make_shared<Runtime>(std::move(cfg), metrics, worker_executors, control, old.get());
//   rt->authenticator.start();
//   int route = rt->table.match(host, method, path);
//   rt->upstreams[rt->routes[route].upstream].pools[worker_index]->acquire();
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "net/upstream_pool.hpp"
#include "proxy/authenticator.hpp"
#include "routing/route_table.hpp"

namespace spdlog {
class logger;
}

namespace authgate::proxy {

// Per route (and one for "no route"): metric handles. Request counters are
// cached per worker (each worker touches only its own map: no locks).
struct RouteRuntime {
  std::string name;
  std::size_t upstream = 0;
  prometheus::Histogram* duration = nullptr;
  std::vector<std::unordered_map<std::uint32_t, prometheus::Counter*>> counters;  // [worker]
  std::vector<std::unordered_map<int, prometheus::Counter*>> auth_counters;      // [worker], by auth_errc
};

struct UpstreamRuntime {
  std::string name;
  std::shared_ptr<boost::asio::ssl::context> tls;         // https upstreams only
  std::vector<std::unique_ptr<net::UpstreamPool>> pools;  // [worker]
  prometheus::Histogram* duration = nullptr;
  std::array<prometheus::Counter*, 9> errors{};  // by upstream_errc value, resolved at construction
};

struct Network {
  boost::asio::ip::address address;
  unsigned prefix = 0;
  bool contains(const boost::asio::ip::address& a) const;
};

class Runtime {
 public:
  // Throws on start-up errors (TLS files, access log file, key files).
  // `control` runs the issuers' background fetches; `previous` (on reload)
  // hands over the remote key sets already loaded. Call start() once the
  // Runtime is published.
  Runtime(config::GatewayConfig cfg, metrics::Metrics& metrics,
          const std::vector<boost::asio::any_io_executor>& workers,
          boost::asio::any_io_executor control, const Runtime* previous = nullptr,
          const Services& services = {});
  ~Runtime();

  // The requests_total counter for (route, method, code), resolved once per worker.
  prometheus::Counter& request_counter(RouteRuntime& route, std::size_t worker,
                                       std::string_view method, unsigned code);
  // authgate_auth_decisions_total{route,result,reason}, resolved once per worker.
  prometheus::Counter& auth_counter(RouteRuntime& route, std::size_t worker, std::error_code ec);
  prometheus::Counter& upstream_error_counter(const UpstreamRuntime& up, net::upstream_errc e);
  bool is_trusted_proxy(const boost::asio::ip::address& peer) const;

  const config::GatewayConfig cfg;
  const routing::RouteTable table;
  Authenticator authenticator;  // key sets, remote issuers, token cache
  const std::vector<std::string> identity_headers;  // every route's forward.headers names
  std::vector<RouteRuntime> routes;  // parallel to cfg.routes
  RouteRuntime unmatched;            // label route="" for 400/404 before routing
  std::vector<UpstreamRuntime> upstreams;
  std::vector<Network> trusted_proxies;
  std::shared_ptr<spdlog::logger> access_log;  // null when log.access is off

 private:
  metrics::Metrics& metrics_;
};

}  // namespace authgate::proxy
