// Liveness and readiness flags shared by the app (writer) and the admin
// listener (reader). Later issues add per-issuer key readiness and Redis state.
#pragma once

#include <atomic>

namespace authgate::admin {

struct Health {
  std::atomic<bool> listeners_up{false};  // proxy listeners bound and config loaded
  std::atomic<bool> draining{false};      // SIGTERM/SIGINT received
  bool ready() const { return listeners_up.load() && !draining.load(); }
};

}  // namespace authgate::admin
