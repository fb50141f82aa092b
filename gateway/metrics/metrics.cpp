#include "metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <array>

namespace authgate::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

Metrics::Metrics(const std::string& version)
    : http_requests(BuildCounter()
                        .Name("authgate_http_requests_total")
                        .Help("Requests answered, by route, method and status code")
                        .Register(registry)),
      http_duration(BuildHistogram()
                        .Name("authgate_http_request_duration_seconds")
                        .Help("Time from request headers read to response completed, by route")
                        .Register(registry)),
      upstream_duration(BuildHistogram()
                            .Name("authgate_upstream_request_duration_seconds")
                            .Help("Time from upstream connection acquired to response headers, by upstream")
                            .Register(registry)),
      upstream_errors(BuildCounter()
                          .Name("authgate_upstream_errors_total")
                          .Help("Upstream failures by upstream and kind")
                          .Register(registry)),
      timeouts(BuildCounter()
                   .Name("authgate_timeouts_total")
                   .Help("Client-side timeouts by phase (header_read, body_read, keepalive_idle, tls_handshake)")
                   .Register(registry)),
      config_reloads(BuildCounter()
                         .Name("authgate_config_reloads_total")
                         .Help("Configuration reloads (SIGHUP) by result")
                         .Register(registry)),
      auth_decisions(BuildCounter()
                         .Name("authgate_auth_decisions_total")
                         .Help("Access decisions on auth: bearer routes by route, result (allow|deny) and reason")
                         .Register(registry)),
      connections_active(BuildGauge()
                             .Name("authgate_connections_active")
                             .Help("Open client connections")
                             .Register(registry)
                             .Add({})),
      connections_rejected(BuildCounter()
                               .Name("authgate_connections_rejected_total")
                               .Help("Client connections closed at accept because limits.max_connections was reached")
                               .Register(registry)
                               .Add({})),
      reload_success(config_reloads.Add({{"result", "success"}})),
      reload_failure(config_reloads.Add({{"result", "failure"}})) {
  BuildGauge()
      .Name("authgate_build_info")
      .Help("Build information; always 1")
      .Register(registry)
      .Add({{"version", version}})
      .Set(1);
  const char* phases[] = {"header_read", "body_read", "keepalive_idle", "tls_handshake"};  // TimeoutPhase order
  for (int i = 0; i < 4; ++i) timeout_counters_[i] = &timeouts.Add({{"phase", phases[i]}});
}

const prometheus::Histogram::BucketBoundaries& Metrics::latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries b{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return b;
}

std::string Metrics::render() const {
  return prometheus::TextSerializer{}.Serialize(registry.Collect());
}

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> known{
      "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (auto k : known)
    if (k == method) return k;
  return "other";
}

}  // namespace authgate::metrics
