// Fills the status page's snapshot (admin/status_page.hpp) from the live
// objects: the current Runtime (routes, upstream pools, issuers and their key
// sets), the metrics registry (the same values /metrics serves) and what the
// App records about config loads. Runs on the control thread, per request of
// the page; nothing here is on the proxy's request path.
//
// Usage:
//   std::string fp;
//   auto cfg = app::load_config(path, fp);          // like config::load_file, + fingerprint
//   status.loaded(fp, now);                          // after a successful (re)load
//   auto snap = app::build_status_snapshot(*runtime, metrics, health, status, started, now);
#pragma once

#include <cstdint>
#include <string>

#include "admin/health.hpp"
#include "admin/status_page.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "proxy/runtime.hpp"

namespace authgate::app {

// What the App knows about the config file's loads (control thread only).
struct ConfigStatus {
  std::string path;
  std::uint64_t generation = 0;  // successful loads: 1 at start, +1 per reload
  std::string sha256;            // fingerprint of the bytes last loaded
  std::int64_t loaded_unix = 0;
  admin::StatusSnapshot::Reload last_reload;

  void loaded(std::string fingerprint, std::int64_t now_unix);
  void reload_failed(std::string errors, std::int64_t now_unix);
};

// The first 12 hex digits of the SHA-256 of `bytes`.
std::string fingerprint(std::string_view bytes);

// config::load_string of the file's bytes (errors as config::load_file reports
// them), and the fingerprint of exactly those bytes.
config::GatewayConfig load_config(const std::string& path, std::string& fingerprint_out);

admin::StatusSnapshot build_status_snapshot(const proxy::Runtime& rt, const metrics::Metrics& metrics,
                                            const admin::Health& health, const ConfigStatus& config,
                                            std::int64_t started_unix, std::int64_t now_unix);

}  // namespace authgate::app
