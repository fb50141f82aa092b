// The remote side of one issuer: OpenID discovery and its JWKS, fetched over
// http(s) on the control thread and published as an immutable key set that
// request threads read as one pointer copy (common::Snapshot).
//
// Usage:
//   auto ri = std::make_shared<RemoteIssuer>(issuer_cfg, gateway_cfg, control_executor, metrics);
//   ri->adopt(previous_runtime_issuer);   // on reload: keep serving the keys we had
//   ri->start();                          // first fetch now, then refresh in the background
//   auth::KeySetPtr keys = ri->keys();   // null: none loaded, or staler than max_stale
//   co_await ri->refetch();   // unknown kid / no keys: joins a fetch in flight, or starts one
//                             // unless another request started one within jwks_refetch_interval
//   ri->stop();               // from the owner's destructor
//
// Schedule: after a good fetch, the IdP's Cache-Control max-age clamped to
// [jwks_refresh_min, jwks_refresh_max]; after a failure, jwks_retry_interval
// doubling up to jwks_refresh_min, jittered. A failed fetch keeps the last good
// keys until max_stale has passed since they were fetched. Discovery is
// re-read after any failure (the jwks_uri may have moved).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "auth/key_set.hpp"
#include "common/snapshot.hpp"
#include "common/url.hpp"
#include "config/config.hpp"
#include "idp/discovery.hpp"
#include "idp/http_client.hpp"
#include "idp/single_flight.hpp"
#include "metrics/metrics.hpp"

namespace authgate::idp {

class RemoteIssuer : public std::enable_shared_from_this<RemoteIssuer> {
 public:
  RemoteIssuer(const config::Issuer& issuer, const config::GatewayConfig& gateway,
               boost::asio::any_io_executor control, metrics::Metrics& metrics);
  ~RemoteIssuer();

  // Same issuer and same remote sources: take over its keys and metadata.
  void adopt(const RemoteIssuer& previous);
  void start();
  void stop();

  const std::string& name() const { return name_; }
  // max_stale is measured on the steady clock, to the millisecond.
  auth::KeySetPtr keys() const;
  std::shared_ptr<const ProviderMetadata> metadata() const { return metadata_.load(); }
  // Keys loaded (when this issuer's keys are remote) and metadata read (when
  // discovery is needed).
  bool ready() const;
  // Wait for fresh keys/metadata (see the class comment). Resumes on the caller's executor.
  boost::asio::awaitable<void> refetch();
  // The introspection endpoint: configured, or from discovery (null until then).
  std::optional<common::HttpUrl> introspection_endpoint() const;
  // For building the introspection client: same TLS and limits as the JWKS fetches.
  const IdpClientOptions& client_options() const { return client_; }

  // Fetch cycles actually run (tests: "N waiting requests, 1 fetch").
  std::uint64_t fetch_cycles() const { return flight_.runs(); }
  // A stable description of the remote sources; adopt() only between equal ones.
  const std::string& source_key() const { return source_key_; }

  // What the status page shows. Call on the control executor (the fetches run
  // there and write these fields).
  struct Status {
    std::string source;             // "discovery <url> -> jwks_uri <url>", "jwks_uri <url>", ...
    std::vector<std::string> kids;  // of the current key set; "" for a key without kid
    bool ready = false;             // ready()
    std::int64_t keys_fetched_unix = 0;  // last successful JWKS fetch (0: never)
    std::int64_t next_refresh_unix = 0;  // next background cycle (0: none scheduled)
    unsigned consecutive_failures = 0;
    std::string last_error;              // "<result label>: <message>" of the last failed fetch
    std::int64_t last_error_unix = 0;
  };
  Status status() const;

 private:
  boost::asio::awaitable<bool> fetch_cycle();  // on the control executor
  boost::asio::awaitable<IdpResponse> fetch(const std::string& url_text);  // GET
  boost::asio::awaitable<void> refresh_loop();
  boost::asio::awaitable<bool> run_cycle(bool forced);  // single-flight wrapper around fetch_cycle
  void count(std::string_view result);

  const std::string name_;
  const std::string issuer_;
  const config::Issuer cfg_;
  const bool remote_keys_;
  const bool needs_discovery_;
  std::string source_key_;
  boost::asio::any_io_executor control_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  IdpClientOptions client_;
  auth::KeySetOptions key_options_;

  common::Snapshot<const auth::KeySet> keys_;
  common::Snapshot<const ProviderMetadata> metadata_;
  std::atomic<std::int64_t> keys_fetched_unix_{0};  // for the status page and metrics
  std::atomic<std::int64_t> keys_fetched_ms_{0};    // steady clock, ms: the max_stale clock
  std::atomic<std::int64_t> last_refetch_ms_{INT64_MIN / 2};  // steady clock, ms; request-triggered only
  std::atomic<bool> stopped_{false};
  SingleFlight<bool> flight_;

  // Control-thread only.
  std::optional<std::chrono::seconds> max_age_;
  unsigned failures_ = 0;
  bool metadata_stale_ = true;
  std::minstd_rand rng_{std::random_device{}()};
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::int64_t next_refresh_unix_ = 0;
  std::string last_error_;
  std::int64_t last_error_unix_ = 0;

  metrics::Metrics& metrics_;
  prometheus::Gauge* keys_gauge_;
  prometheus::Gauge* last_success_gauge_;
};

}  // namespace authgate::idp
