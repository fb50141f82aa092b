// Liveness and readiness flags shared by the app (writer) and the admin
// listener (reader). `waiting_for` (set once before the admin listener
// starts) names what readiness still waits for, e.g. issuers without keys.
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
  bool ready() const { return listeners_up.load() && !draining.load(); }
};

}  // namespace authgate::admin
