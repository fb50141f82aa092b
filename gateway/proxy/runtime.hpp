// One immutable snapshot of everything a request needs: the config, the route
// table, the issuers and the access decision, the browser sessions, per-route and
// per-upstream metric handles, upstream pools (one per worker), TLS contexts and
// the access log. SIGHUP builds a new Runtime and
// swaps it in atomically; requests in flight keep the one they started with
// (they hold a shared_ptr), so they finish on the old snapshot.
//
// Usage:
//   auto rt = std::make_shared<Runtime>(std::move(cfg), metrics, worker_executors, control, old.get(),
//                                       redis, revocations);
//   rt->start();                                   // remote issuers fetch, the session sweeper runs
//   int route = rt->table.match(host, method, path);
//   access::Verdict v = rt->access.check(rt->cfg.routes[route], request, now);
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
#include "access/access_control.hpp"
#include "access/issuers.hpp"
#include "access/resource_metadata.hpp"
#include "routing/route_table.hpp"

namespace spdlog {
class logger;
}

namespace authgate::redis {
class RedisClient;
}
namespace authgate::revocation {
class RevocationService;
}
namespace authgate::session {
class SessionManager;
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

class H2UpstreamPool;

struct UpstreamRuntime {
  std::string name;
  std::shared_ptr<boost::asio::ssl::context> tls;         // https upstreams only
  std::vector<std::unique_ptr<net::UpstreamPool>> pools;  // [worker]
  // [worker], h2/h2c upstreams only (empty for http1): their requests go through these.
  std::vector<std::unique_ptr<H2UpstreamPool>> h2_pools;
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
  // hands over the remote key sets already loaded, the session store and the
  // refresh single flight. `redis` and `revocations` outlive every Runtime (the
  // App's services; null without a redis: / revocation: block). Call start()
  // once the Runtime is published.
  Runtime(config::GatewayConfig cfg, metrics::Metrics& metrics,
          const std::vector<boost::asio::any_io_executor>& workers,
          boost::asio::any_io_executor control, const Runtime* previous = nullptr,
          std::shared_ptr<redis::RedisClient> redis = nullptr,
          std::shared_ptr<revocation::RevocationService> revocations = nullptr);
  ~Runtime();

  void start();  // remote issuers begin fetching; the session store's sweeper runs

  // The requests_total counter for (route, method, code, protocol), resolved once per worker.
  prometheus::Counter& request_counter(RouteRuntime& route, std::size_t worker,
                                       std::string_view method, unsigned code, bool h2 = false);
  // authgate_auth_decisions_total{route,result,reason}, resolved once per worker.
  prometheus::Counter& auth_counter(RouteRuntime& route, std::size_t worker, std::error_code ec);
  prometheus::Counter& upstream_error_counter(const UpstreamRuntime& up, net::upstream_errc e);
  bool is_trusted_proxy(const boost::asio::ip::address& peer) const;

  const config::GatewayConfig cfg;
  const routing::RouteTable table;
  access::Issuers issuers;  // key sets, remote issuers, introspectors
  // Browser sessions (null without a sessions: block): its endpoints are
  // served by the connection, its cookies turned into access tokens by `access`.
  std::unique_ptr<session::SessionManager> sessions;
  access::AccessControl access;  // the one access decision per request; token cache
  const access::ResourceMetadata resource_metadata;  // RFC 9728 documents, served before routing
  std::vector<RouteRuntime> routes;  // parallel to cfg.routes
  RouteRuntime unmatched;            // label route="" for 400/404 before routing
  std::vector<UpstreamRuntime> upstreams;
  std::vector<Network> trusted_proxies;
  std::shared_ptr<spdlog::logger> access_log;  // null when log.access is off

 private:
  metrics::Metrics& metrics_;
};

}  // namespace authgate::proxy
