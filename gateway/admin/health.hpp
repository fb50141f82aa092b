// Liveness and readiness flags shared by the app (writer) and the admin
// listener (reader). `waiting_for` (set once before the admin listener
// starts) names what readiness still waits for, e.g. issuers without keys:
// /readyz is 503 while it is not empty. `degraded` names dependencies that
// worked once and are failing now (Redis): /readyz stays 200 and lists them,
// because every instance shares them and failing readiness fleet-wide would
// also take down the routes that do not need them (bearer routes).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace authgate::admin {

struct Health {
  std::atomic<bool> listeners_up{false};  // proxy listeners bound and config loaded
  std::atomic<bool> draining{false};      // SIGTERM/SIGINT received
  std::function<std::vector<std::string>()> waiting_for;
  std::function<std::vector<std::string>()> degraded;
  bool ready() const { return listeners_up.load() && !draining.load(); }
};

}  // namespace authgate::admin
