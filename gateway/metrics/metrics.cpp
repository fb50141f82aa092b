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
                        .Help("Requests answered, by route, method, status code and protocol (http/1.1, h2)")
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
      jwks_fetches(BuildCounter()
                       .Name("authgate_jwks_fetches_total")
                       .Help("Discovery and JWKS fetches by issuer and result (success, http_error, timeout, invalid, discovery_*, ...)")
                       .Register(registry)),
      jwks_keys(BuildGauge()
                    .Name("authgate_jwks_keys")
                    .Help("Usable keys in the issuer's current key set (0: none, or staler than max_stale)")
                    .Register(registry)),
      jwks_last_success(BuildGauge()
                            .Name("authgate_jwks_last_success_timestamp_seconds")
                            .Help("Unix time of the issuer's last successful JWKS fetch")
                            .Register(registry)),
      token_cache_lookups(BuildCounter()
                              .Name("authgate_token_cache_lookups_total")
                              .Help("Verified-JWT cache lookups by result (hit, miss)")
                              .Register(registry)),
      dpop_key_cache_lookups(BuildCounter()
                                 .Name("authgate_dpop_key_cache_lookups_total")
                                 .Help("DPoP proof-key cache lookups by result (hit, miss), one per proof that verifies")
                                 .Register(registry)),
      introspection_requests(BuildCounter()
                                 .Name("authgate_introspection_requests_total")
                                 .Help("RFC 7662 introspection calls by issuer and result (active, inactive, or an error kind)")
                                 .Register(registry)),
      introspection_duration(BuildHistogram()
                                 .Name("authgate_introspection_duration_seconds")
                                 .Help("Introspection call latency by issuer")
                                 .Register(registry)),
      introspection_cache_lookups(BuildCounter()
                                      .Name("authgate_introspection_cache_lookups_total")
                                      .Help("Introspection cache lookups by result (hit, miss)")
                                      .Register(registry)),
      introspection_rejected(BuildCounter()
                                 .Name("authgate_introspection_rejected_total")
                                 .Help("Introspection calls refused (503) because max_concurrent_calls were in flight for the issuer")
                                 .Register(registry)),
      introspection_negative_entries(BuildGauge()
                                         .Name("authgate_introspection_negative_cache_entries")
                                         .Help("Inactive (active=false) introspection answers held in the issuer's negative cache")
                                         .Register(registry)),
      logins(BuildCounter()
                 .Name("authgate_logins_total")
                 .Help("Browser logins (callback) by result (success, idp_error, bad_state, rejected, bad_response, bad_id_token, idp_unavailable, store_unavailable)")
                 .Register(registry)),
      refresh_grants(BuildCounter()
                         .Name("authgate_refresh_grants_total")
                         .Help("refresh_token grants run for sessions by result (success, invalid_grant, error, timeout, bad_response, no_refresh_token, store_failed)")
                         .Register(registry)),
      token_endpoint_duration(BuildHistogram()
                                  .Name("authgate_token_endpoint_duration_seconds")
                                  .Help("Token endpoint calls (code exchange, refresh) latency")
                                  .Register(registry)),
      redis_commands(BuildCounter()
                         .Name("authgate_redis_commands_total")
                         .Help("Redis commands by result (ok, error_reply, timeout, unavailable, protocol)")
                         .Register(registry)),
      refresh_lock_duration(BuildHistogram()
                                .Name("authgate_refresh_lock_seconds")
                                .Help("Fleet refresh lock: how long the holder held it (phase=hold) and how long the others waited for its result (phase=wait)")
                                .Register(registry)),
      revocation_syncs(BuildCounter()
                           .Name("authgate_revocation_syncs_total")
                           .Help("Deny-list reads from Redis by result (unchanged, updated, error)")
                           .Register(registry)),
      revocations(BuildCounter()
                      .Name("authgate_revoked_tokens_total")
                      .Help("Requests refused because their token is on the deny-list, by entry kind (jti, sub)")
                      .Register(registry)),
      redis_up(BuildGauge()
                   .Name("authgate_redis_up")
                   .Help("1 while a Redis connection is ready (it answered PING) and no command has waited redis.down_after for its reply, else 0 (absent without a redis: block)")
                   .Register(registry)),
      requests_rejected(BuildCounter()
                            .Name("authgate_requests_rejected_total")
                            .Help("Requests refused with 400 before routing, by reason (bad_host, invalid_utf8, bad_path)")
                            .Register(registry)),
      redis_command_duration(BuildHistogram()
                                 .Name("authgate_redis_command_duration_seconds")
                                 .Help("Redis command latency, submit to reply")
                                 .Register(registry)
                                 .Add({}, latency_buckets())),
      redis_unresponsive(BuildCounter()
                             .Name("authgate_redis_unresponsive_total")
                             .Help("Times Redis was reported down because a command or health PING had no reply within redis.down_after")
                             .Register(registry)),
      revocation_entries(BuildGauge()
                             .Name("authgate_revocation_entries")
                             .Help("Entries on the deny-list this instance holds")
                             .Register(registry)
                             .Add({})),
      logouts(BuildCounter()
                  .Name("authgate_logouts_total")
                  .Help("Sessions ended by logout")
                  .Register(registry)
                  .Add({})),
      sessions_active(BuildGauge()
                          .Name("authgate_sessions_active")
                          .Help("Sessions in the store")
                          .Register(registry)
                          .Add({})),
      token_cache_hit(token_cache_lookups.Add({{"result", "hit"}})),
      token_cache_miss(token_cache_lookups.Add({{"result", "miss"}})),
      dpop_key_cache_hit(dpop_key_cache_lookups.Add({{"result", "hit"}})),
      dpop_key_cache_miss(dpop_key_cache_lookups.Add({{"result", "miss"}})),
      introspection_cache_hit(introspection_cache_lookups.Add({{"result", "hit"}})),
      introspection_cache_miss(introspection_cache_lookups.Add({{"result", "miss"}})),
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
      reload_failure(config_reloads.Add({{"result", "failure"}})),
      log_write_errors(BuildCounter()
                           .Name("authgate_log_write_errors_total")
                           .Help("Access-log writes or flushes that failed (disk full, closed pipe); the lines are lost, serving goes on")
                           .Register(registry)
                           .Add({})),
      login_rejections(BuildCounter()
                           .Name("authgate_login_rejections_total")
                           .Help("Login starts refused: rate_limited (429, per client address), pending_full (503, sessions.max_pending_logins)")
                           .Register(registry)),
      websocket_closed(BuildCounter()
                           .Name("authgate_websocket_closed_total")
                           .Help("Authenticated WebSocket tunnels closed by authgate: max_lifetime, session_ended")
                           .Register(registry)),
      login_rate_limited(login_rejections.Add({{"reason", "rate_limited"}})),
      login_pending_full(login_rejections.Add({{"reason", "pending_full"}})),
      logout_rejected(BuildCounter()
                          .Name("authgate_logout_rejections_total")
                          .Help("Logout POSTs refused (403) for want of a same-origin Origin or Referer")
                          .Register(registry)
                          .Add({})),
      websocket_max_lifetime(websocket_closed.Add({{"reason", "max_lifetime"}})),
      websocket_session_ended(websocket_closed.Add({{"reason", "session_ended"}})),
      pending_logins(BuildGauge()
                         .Name("authgate_pending_logins")
                         .Help("Pending logins (login to callback) this instance started, bounded by sessions.max_pending_logins")
                         .Register(registry)
                         .Add({})),
      dpop_replays(BuildCounter()
                       .Name("authgate_dpop_replays_total")
                       .Help("DPoP proofs refused because their jti was seen within the iat window (replay-cache hits)")
                       .Register(registry)
                       .Add({})),
      dpop_replay_skipped(BuildCounter()
                              .Name("authgate_dpop_replay_checks_skipped_total")
                              .Help("DPoP proofs accepted without a replay check: Redis unreachable and dpop.replay_fail_open")
                              .Register(registry)
                              .Add({})),
      h2_goaway(BuildCounter()
                    .Name("authgate_h2_goaway_total")
                    .Help("HTTP/2 connections ended by authgate with GOAWAY, by reason (floods, limits, idle)")
                    .Register(registry)) {
  for (std::size_t i = 0; i < kH2GoawayNames.size(); ++i) goaway_counters_[i] = &h2_goaway.Add({{"reason", kH2GoawayNames[i]}});
  BuildGauge()
      .Name("authgate_build_info")
      .Help("Build information; always 1")
      .Register(registry)
      .Add({{"version", version}})
      .Set(1);
  const char* phases[] = {"header_read", "body_read", "keepalive_idle", "tls_handshake"};  // TimeoutPhase order
  for (int i = 0; i < 4; ++i) timeout_counters_[i] = &timeouts.Add({{"phase", phases[i]}});
  const char* reasons[] = {"bad_host", "invalid_utf8", "bad_path"};  // RejectReason order
  for (int i = 0; i < 3; ++i) rejected_counters_[i] = &requests_rejected.Add({{"reason", reasons[i]}});
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
