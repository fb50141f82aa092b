// What outlives a configuration: services the App creates once and every
// Runtime (each reload) borrows. Changing their config blocks (redis:,
// revocation:) needs a restart; reload warns.
//
// Usage:
//   proxy::Services services = proxy::Services::create(cfg, metrics);  // not started
//   services.start(control_executor);                                  // connects, syncs
//   Runtime rt(cfg, metrics, workers, control, previous, services);
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "redis/redis_client.hpp"
#include "revocation/revocation_service.hpp"

namespace authgate::metrics {
class Metrics;
}

namespace authgate::proxy {

struct Services {
  std::shared_ptr<redis::RedisClient> redis;                     // a redis: block
  std::shared_ptr<revocation::RevocationService> revocations;    // a revocation: block

  static Services create(const config::GatewayConfig& cfg, metrics::Metrics& metrics) {
    Services s;
    if (cfg.redis) s.redis = std::make_shared<redis::RedisClient>(*cfg.redis, metrics);
    if (cfg.revocation) {
      s.revocations = std::make_shared<revocation::RevocationService>(*cfg.revocation, s.redis, metrics);
      s.revocations->keep_for_leeway(max_leeway_seconds(cfg));  // before the first sync; each reload sets it again
    }
    return s;
  }
  // The largest issuers[].leeway: how long past its `until` a deny-list entry still matters.
  static std::int64_t max_leeway_seconds(const config::GatewayConfig& cfg) {
    std::int64_t m = 0;
    for (const auto& ic : cfg.issuers)
      m = std::max<std::int64_t>(m, std::chrono::duration_cast<std::chrono::seconds>(ic.leeway).count());
    return m;
  }
  void start(boost::asio::any_io_executor control) const {
    if (redis) redis->start();
    if (revocations) revocations->start(std::move(control));
  }
  void stop() const {
    if (revocations) revocations->stop();
    if (redis) redis->stop();
  }
};

}  // namespace authgate::proxy
