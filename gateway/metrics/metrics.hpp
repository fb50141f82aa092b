// Prometheus metrics: families registered once, handles resolved at start-up
// or reload, so the request path only increments. Served by admin/ as text.
//
// Usage:
//   Metrics m("0.1.0");
//   auto& c = m.http_requests.Add({{"route","orders"},{"method","GET"},{"code","200"}});
//   c.Increment();
//   std::string body = m.render();
//
// Label values are bounded: route and upstream names from config, methods
// folded to a fixed set (method_label), status codes, fixed error kinds.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <string>
#include <string_view>

namespace authgate::metrics {

// Client-side timeout phases, each its own authgate_timeouts_total{phase} series.
enum class TimeoutPhase { header_read, body_read, keepalive_idle, tls_handshake };

// Requests refused with 400 before routing, each its own
// authgate_requests_rejected_total{reason} series: an invalid Host header, a path
// that is not well-formed UTF-8, any other path canonicalisation failure.
enum class RejectReason { bad_host, invalid_utf8, bad_path };

// Why authgate ended an HTTP/2 connection with GOAWAY, each its own
// authgate_h2_goaway_total{reason} series (proxy/h2_connection.cpp).
enum class H2Goaway {
  rapid_reset,         // client RST_STREAMs over http2.max_resets_per_connection (or nghttp2's reset rate limit)
  continuation_flood,  // CONTINUATION frames over http2.max_continuations
  header_list_size,    // a decoded header block over http2.max_header_list_bytes (HPACK bomb)
  control_flood,       // PING/SETTINGS/PRIORITY/WINDOW_UPDATE/empty DATA over http2.max_control_frames_per_second
  flooded,             // nghttp2's own bound on queued ACKs (SETTINGS/PING answered but never read)
  protocol_error,      // any other connection error
  idle,                // http2.idle_timeout without a stream
};
inline constexpr std::array<const char*, 7> kH2GoawayNames{
    "rapid_reset", "continuation_flood", "header_list_size", "control_flood", "flooded", "protocol_error", "idle"};

class Metrics {
 public:
  explicit Metrics(const std::string& version);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::string render() const;  // Prometheus text format 0.0.4
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Latency buckets (seconds) shared by the duration histograms.
  static const prometheus::Histogram::BucketBoundaries& latency_buckets();

  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& http_requests;        // route, method, code
  prometheus::Family<prometheus::Histogram>& http_duration;      // route
  prometheus::Family<prometheus::Histogram>& upstream_duration;  // upstream
  prometheus::Family<prometheus::Counter>& upstream_errors;      // upstream, kind
  prometheus::Family<prometheus::Counter>& timeouts;             // phase
  prometheus::Family<prometheus::Counter>& config_reloads;       // result
  prometheus::Family<prometheus::Counter>& auth_decisions;       // route, result, reason
  prometheus::Family<prometheus::Counter>& jwks_fetches;          // issuer, result
  prometheus::Family<prometheus::Gauge>& jwks_keys;                // issuer
  prometheus::Family<prometheus::Gauge>& jwks_last_success;        // issuer
  prometheus::Family<prometheus::Counter>& token_cache_lookups;    // result
  prometheus::Family<prometheus::Counter>& dpop_key_cache_lookups;  // result
  prometheus::Family<prometheus::Counter>& introspection_requests; // issuer, result
  prometheus::Family<prometheus::Histogram>& introspection_duration;  // issuer
  prometheus::Family<prometheus::Counter>& introspection_cache_lookups;  // result
  prometheus::Family<prometheus::Counter>& introspection_rejected;  // issuer: over max_concurrent_calls
  prometheus::Family<prometheus::Gauge>& introspection_negative_entries;  // issuer: inactive answers cached
  prometheus::Family<prometheus::Counter>& logins;                 // result
  prometheus::Family<prometheus::Counter>& refresh_grants;         // result
  prometheus::Family<prometheus::Histogram>& token_endpoint_duration;
  prometheus::Family<prometheus::Counter>& redis_commands;         // result
  prometheus::Family<prometheus::Histogram>& refresh_lock_duration;  // phase: hold, wait
  prometheus::Family<prometheus::Counter>& revocation_syncs;       // result
  prometheus::Family<prometheus::Counter>& revocations;            // kind: jti, sub
  prometheus::Family<prometheus::Gauge>& redis_up;                 // no labels; a child only with a redis: block
  prometheus::Family<prometheus::Counter>& requests_rejected;      // reason (RejectReason)
  prometheus::Histogram& redis_command_duration;
  prometheus::Family<prometheus::Counter>& redis_unresponsive;     // no labels; a child only with a redis: block
  prometheus::Gauge& revocation_entries;
  prometheus::Counter& logouts;
  prometheus::Gauge& sessions_active;
  prometheus::Counter& token_cache_hit;
  prometheus::Counter& token_cache_miss;
  prometheus::Counter& dpop_key_cache_hit;
  prometheus::Counter& dpop_key_cache_miss;
  prometheus::Counter& introspection_cache_hit;
  prometheus::Counter& introspection_cache_miss;
  prometheus::Gauge& connections_active;
  prometheus::Counter& connections_rejected;
  prometheus::Counter& reload_success;
  prometheus::Counter& reload_failure;
  prometheus::Counter& log_write_errors;  // access-log writes/flushes that failed (disk full, ...)
  // Browser-session defences (issue 13).
  prometheus::Family<prometheus::Counter>& login_rejections;  // reason: rate_limited, pending_full
  prometheus::Family<prometheus::Counter>& websocket_closed;  // reason: max_lifetime, session_ended
  prometheus::Counter& login_rate_limited;   // authgate_login_rejections_total{reason="rate_limited"}
  prometheus::Counter& login_pending_full;   // authgate_login_rejections_total{reason="pending_full"}
  prometheus::Counter& logout_rejected;      // authgate_logout_rejections_total: cross-site POST logout
  prometheus::Counter& websocket_max_lifetime;  // authgate_websocket_closed_total{reason="max_lifetime"}
  prometheus::Counter& websocket_session_ended;  // authgate_websocket_closed_total{reason="session_ended"}
  prometheus::Gauge& pending_logins;  // authgate_pending_logins: started here, not yet taken or expired
  prometheus::Counter& dpop_replays;  // authgate_dpop_replays_total: replay-cache hits (memory or Redis)
  prometheus::Counter& dpop_replay_skipped;  // authgate_dpop_replay_checks_skipped_total: Redis down, fail open
  prometheus::Family<prometheus::Counter>& h2_goaway;  // reason (H2Goaway)

  // Resolved once in the constructor: the failure paths only increment.
  prometheus::Counter& timeout(TimeoutPhase p) { return *timeout_counters_[static_cast<int>(p)]; }
  prometheus::Counter& rejected(RejectReason r) { return *rejected_counters_[static_cast<int>(r)]; }
  prometheus::Counter& goaway(H2Goaway r) { return *goaway_counters_[static_cast<int>(r)]; }

 private:
  std::array<prometheus::Counter*, 4> timeout_counters_{};
  std::array<prometheus::Counter*, 3> rejected_counters_{};
  std::array<prometheus::Counter*, kH2GoawayNames.size()> goaway_counters_{};
};

// GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE or "other".
std::string_view method_label(std::string_view method);

}  // namespace authgate::metrics
