#include "proxy/runtime.hpp"

#include "proxy/h2_upstream.hpp"

#include <spdlog/spdlog.h>

#include "auth/auth_errc.hpp"
#include "proxy/access_log.hpp"
#include "redis/redis_client.hpp"
#include "revocation/revocation_service.hpp"
#include "session/session_manager.hpp"
#include "net/tls.hpp"

namespace authgate::proxy {

namespace {

Network parse_network(const std::string& text) {
  auto slash = text.find('/');
  Network n;
  n.address = boost::asio::ip::make_address(text.substr(0, slash));
  unsigned max = n.address.is_v4() ? 32 : 128;
  n.prefix = slash == std::string::npos ? max : static_cast<unsigned>(std::stoul(text.substr(slash + 1)));
  return n;
}

}  // namespace

bool Network::contains(const boost::asio::ip::address& a) const {
  auto bytes_of = [](const boost::asio::ip::address& x) {
    std::array<unsigned char, 16> out{};
    if (x.is_v4()) {
      auto b = x.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), out.begin());
    } else {
      auto b = x.to_v6().to_bytes();
      std::copy(b.begin(), b.end(), out.begin());
    }
    return out;
  };
  auto peer = a;
  if (peer.is_v6() && peer.to_v6().is_v4_mapped() && address.is_v4())
    peer = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.to_v6());
  if (peer.is_v4() != address.is_v4()) return false;
  auto x = bytes_of(peer);
  auto y = bytes_of(address);
  for (unsigned bit = 0; bit < prefix; ++bit) {
    const unsigned mask = 0x80u >> (bit % 8);
    if ((x[bit / 8] & mask) != (y[bit / 8] & mask)) return false;
  }
  return true;
}

namespace {

std::unique_ptr<session::SessionManager> make_sessions(const config::GatewayConfig& cfg,
                                                       const access::Issuers& issuers, metrics::Metrics& metrics,
                                                       boost::asio::any_io_executor control,
                                                       const session::SessionManager* previous,
                                                       std::shared_ptr<redis::RedisClient> redis,
                                                       std::shared_ptr<revocation::RevocationService> revocations) {
  if (!cfg.sessions) return nullptr;
  const access::Issuer* login = issuers.find(cfg.sessions->client.issuer);  // checked by Issuers: remote
  return std::make_unique<session::SessionManager>(*cfg.sessions, login->remote, login->policy, metrics,
                                                   std::move(control), previous, std::move(redis),
                                                   std::move(revocations));
}

}  // namespace

Runtime::Runtime(config::GatewayConfig c, metrics::Metrics& metrics,
                 const std::vector<boost::asio::any_io_executor>& workers,
                 boost::asio::any_io_executor control, const Runtime* previous,
                 std::shared_ptr<redis::RedisClient> redis,
                 std::shared_ptr<revocation::RevocationService> revocations)
    : cfg(std::move(c)),
      table(cfg.routes, cfg.routing.case_insensitive_paths),
      issuers(cfg, metrics, control, previous ? &previous->issuers : nullptr),
      sessions(make_sessions(cfg, issuers, metrics, control, previous ? previous->sessions.get() : nullptr,
                             redis, revocations)),
      access(cfg, issuers, sessions.get(), std::move(revocations), metrics, redis,
             previous ? &previous->access : nullptr),
      resource_metadata(cfg.resources),
      metrics_(metrics) {
  const auto& buckets = metrics::Metrics::latency_buckets();
  upstreams.resize(cfg.upstreams.size());
  for (std::size_t i = 0; i < cfg.upstreams.size(); ++i) {
    const auto& ucfg = cfg.upstreams[i];
    auto& up = upstreams[i];
    up.name = ucfg.name;
    if (ucfg.scheme == "https") up.tls = net::make_client_context(ucfg.tls);
    for (const auto& ex : workers)
      up.pools.push_back(std::make_unique<net::UpstreamPool>(ex, ucfg, cfg.timeouts, up.tls.get()));
    if (ucfg.protocol != config::UpstreamProtocol::http1)
      for (const auto& ex : workers)
        up.h2_pools.push_back(std::make_unique<H2UpstreamPool>(ex, ucfg, cfg.timeouts, cfg.http2,
                                                               cfg.limits.max_response_header_bytes, up.tls.get()));
    up.duration = &metrics.upstream_duration.Add({{"upstream", ucfg.name}}, buckets);
    for (int e = 1; e < static_cast<int>(up.errors.size()); ++e)
      up.errors[e] = &metrics.upstream_errors.Add(
          {{"upstream", ucfg.name}, {"kind", net::upstream_error_kind(static_cast<net::upstream_errc>(e))}});
  }
  auto make_route = [&](const std::string& name, std::size_t upstream) {
    RouteRuntime r;
    r.name = name;
    r.upstream = upstream;
    r.duration = &metrics.http_duration.Add({{"route", name}}, buckets);
    r.counters.resize(workers.size());
    r.auth_counters.resize(workers.size());
    return r;
  };
  for (const auto& rc : cfg.routes) {
    std::size_t up = 0;
    while (up < cfg.upstreams.size() && cfg.upstreams[up].name != rc.upstream) ++up;
    routes.push_back(make_route(rc.name, up));
  }
  unmatched = make_route("", 0);
  for (const auto& t : cfg.listen.trusted_proxies) trusted_proxies.push_back(parse_network(t.text));
  if (cfg.log.access != "off") access_log = make_access_logger(cfg.log.access, metrics.log_write_errors);
}

Runtime::~Runtime() {
  if (access_log) access_log->flush();
}

void Runtime::start() {
  issuers.start();
  if (sessions) sessions->start();
}

prometheus::Counter& Runtime::request_counter(RouteRuntime& route, std::size_t worker,
                                              std::string_view method, unsigned code, bool h2) {
  const auto label = metrics::method_label(method);
  // Bit 31 is free: a method label starts with an ASCII letter (< 0x80).
  const std::uint32_t key = (h2 ? 0x80000000u : 0u) | (static_cast<std::uint32_t>(label.front()) << 24) |
                            (static_cast<std::uint32_t>(label.size()) << 16) | code;
  auto& cache = route.counters[worker];
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto& c = metrics_.http_requests.Add(
      {{"route", route.name}, {"method", std::string(label)}, {"code", std::to_string(code)},
       {"protocol", h2 ? "h2" : "http/1.1"}});
  cache.emplace(key, &c);
  return c;
}

prometheus::Counter& Runtime::auth_counter(RouteRuntime& route, std::size_t worker,
                                           std::error_code ec) {
  auto& cache = route.auth_counters[worker];
  const int key = ec ? ec.value() : 0;
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto& c = metrics_.auth_decisions.Add({{"route", route.name},
                                         {"result", ec ? "deny" : "allow"},
                                         {"reason", std::string(auth::reason(ec))}});
  cache.emplace(key, &c);
  return c;
}

prometheus::Counter& Runtime::upstream_error_counter(const UpstreamRuntime& up,
                                                     net::upstream_errc e) {
  return *up.errors[static_cast<std::size_t>(e)];
}

bool Runtime::is_trusted_proxy(const boost::asio::ip::address& peer) const {
  for (const auto& n : trusted_proxies)
    if (n.contains(peer)) return true;
  return false;
}

}  // namespace authgate::proxy
