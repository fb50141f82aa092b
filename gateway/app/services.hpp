// What outlives a configuration: services the App creates once and every
// Runtime (each reload) borrows. Changing their config blocks (redis:,
// revocation:) needs a restart; reload warns.
//
// Usage:
//   app::Services services = app::Services::create(cfg, metrics);  // not started
//   services.start(control_executor);                              // connects, syncs
//   proxy::Runtime rt(cfg, metrics, workers, control, previous, services.redis, services.revocations);
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "access/issuers.hpp"
#include "config/config.hpp"
#include "redis/redis_client.hpp"
#include "revocation/revocation_service.hpp"

namespace authgate::metrics {
class Metrics;
}

namespace authgate::app {

struct Services {
  std::shared_ptr<redis::RedisClient> redis;                     // a redis: block
  std::shared_ptr<revocation::RevocationService> revocations;    // a revocation: block

  static Services create(const config::GatewayConfig& cfg, metrics::Metrics& metrics) {
    Services s;
    if (cfg.redis) s.redis = std::make_shared<redis::RedisClient>(*cfg.redis, metrics);
    if (cfg.revocation) {
      s.revocations = std::make_shared<revocation::RevocationService>(*cfg.revocation, s.redis, metrics);
      // Before the first sync; each Runtime (access::AccessControl) sets it again.
      s.revocations->keep_for_leeway(access::max_leeway_seconds(cfg));
    }
    return s;
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

}  // namespace authgate::app
