// Shared helpers for the integration tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "support/gateway_process.hpp"
#include "support/http.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/metrics.hpp"
#include "support/net.hpp"
#include "support/upstream_server.hpp"

namespace it {

using namespace std::chrono_literals;
using support::Clock;
using support::GatewayConfig;
using support::GatewayProcess;
using support::Header;
using support::HttpClient;
using support::Response;
using support::RouteSpec;
using support::UpstreamServer;
using support::UpstreamSpec;

// One upstream "app" behind one prefix route "api".
inline GatewayConfig one_route(const UpstreamServer& up, std::string prefix = "/api") {
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", up.url()});
  cfg.routes.push_back(RouteSpec{"api", "app", std::move(prefix)});
  return cfg;
}

// The wall clock in whole seconds (JWT exp/nbf/iat).
inline std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The wall clock with sub-second precision, and a bounded sleep until it reaches a time
// (at most 30 s): for waiting out a token's exp.
inline double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
inline void sleep_until_unix(double unix_seconds) {
  const double left = std::min(30.0, unix_seconds - unix_now());
  if (left > 0) std::this_thread::sleep_for(std::chrono::duration<double>(left));
}

// The token of an `Authorization: Bearer` header the upstream saw ("" without one).
inline std::string bearer_of(const support::RequestHead& h) {
  const std::string a = h.headers.get("Authorization").value_or("");
  return a.rfind("Bearer ", 0) == 0 ? a.substr(7) : std::string();
}

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Describes an optional response for failure messages.
inline std::string describe(const std::optional<Response>& r, const HttpClient* c = nullptr) {
  if (!r) return "no response" + (c ? " (" + c->error() + ")" : std::string());
  return r->head_raw + r->body.substr(0, 1500);
}

// The metric value, 0 when absent.
inline double metric_or_zero(const GatewayProcess& gw, const std::string& name,
                             const std::map<std::string, std::string>& labels = {}) {
  auto samples = support::parse_prometheus(gw.metrics_text());
  return support::metric_value(samples, name, labels).value_or(0);
}

}  // namespace it

namespace it {
// Status of an optional response, -1 when there is none.
inline int status_of(const std::optional<support::Response>& r) { return r ? r->status : -1; }
}  // namespace it
