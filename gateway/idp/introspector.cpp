#include "idp/introspector.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "auth/auth_errc.hpp"
#include "auth/jwt.hpp"
#include "common/ascii.hpp"
#include "common/form.hpp"
#include "idp/remote_issuer.hpp"

namespace authgate::idp {

using auth::auth_errc;

namespace {

// The cache's clock: monotonic, in milliseconds.
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Introspector::Introspector(const config::Issuer& issuer, const config::GatewayConfig& gateway,
                           std::shared_ptr<RemoteIssuer> remote, metrics::Metrics& metrics)
    : cfg_(issuer),
      remote_(std::move(remote)),
      authorization_(common::basic_credentials(issuer.introspection->client_id,
                                               issuer.introspection->client_secret)),
      cache_(gateway.limits.introspection_cache_entries, issuer.introspection->negative_cache_entries),
      metrics_(metrics),
      duration_(&metrics.introspection_duration.Add({{"issuer", issuer.name}},
                                                    metrics::Metrics::latency_buckets())),
      rejected_(&metrics.introspection_rejected.Add({{"issuer", issuer.name}})),
      negative_entries_(&metrics.introspection_negative_entries.Add({{"issuer", issuer.name}})) {}

Introspector::~Introspector() = default;

boost::asio::awaitable<IntrospectionResult> Introspector::introspect(const std::string& token) {
  if (auto hit = cache_.find(token, steady_ms())) {
    metrics_.introspection_cache_hit.Increment();
    co_return *hit;
  }
  metrics_.introspection_cache_miss.Increment();
  const auto work = [this, &token] { return call(token); };
  // Admitted under the single flight's lock: callers of a token already in flight share
  // that call and are never refused; a new token needs a free slot.
  const auto admit = [this] {
    if (in_flight_.load() >= cfg_.introspection->max_concurrent_calls) return false;
    in_flight_.fetch_add(1);
    return true;
  };
  if (auto r = co_await flights_.run_if(token, work, admit)) co_return std::move(*r);
  rejected_->Increment();
  note_rejection();
  IntrospectionResult busy;
  busy.ec = auth_errc::introspection_busy;
  co_return busy;
}

// One log line for the first refusal, then at most one every 10 s with the count.
void Introspector::note_rejection() {
  rejected_unlogged_.fetch_add(1);
  const std::int64_t now = steady_ms();
  std::int64_t last = last_reject_log_ms_.load();
  if (last != 0 && now - last < 10'000) return;
  if (!last_reject_log_ms_.compare_exchange_strong(last, now)) return;
  spdlog::warn("issuer {}: {} introspection call(s) refused (503): introspection.max_concurrent_calls ({}) in flight",
               cfg_.name, rejected_unlogged_.exchange(0), cfg_.introspection->max_concurrent_calls);
}

boost::asio::awaitable<IntrospectionResult> Introspector::call(const std::string& token) {
  // The slot admit() took, released however this ends (shutdown destroys the frame too).
  struct Slot {
    std::atomic<std::uint64_t>& n;
    ~Slot() { n.fetch_sub(1); }
  } slot{in_flight_};
  // A caller on another worker that missed the cache just before the previous call
  // for this token stored its answer leads a new flight once that one is released:
  // the answer is here now, and the IdP is not asked twice.
  if (auto hit = cache_.find(token, steady_ms())) co_return *hit;
  auto endpoint = remote_->introspection_endpoint();
  if (!endpoint) {  // discovery has not answered yet: wait for (or start) a fetch
    co_await remote_->refetch();
    endpoint = remote_->introspection_endpoint();
  }
  IntrospectionResult result;
  if (!endpoint) {
    metrics_.introspection_requests.Add({{"issuer", cfg_.name}, {"result", "no_endpoint"}}).Increment();
    result.ec = auth_errc::introspection_failed;
    co_return result;
  }
  IdpRequest req;
  req.post = true;
  req.content_type = "application/x-www-form-urlencoded";
  req.authorization = authorization_;
  req.body = "token=" + common::form_encode(token) + "&token_type_hint=access_token";
  const auto started = std::chrono::steady_clock::now();
  IdpResponse res = co_await idp_exchange(*endpoint, req, remote_->client_options());
  duration_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::string_view label;
  if (res.ec) {
    result.ec = auth_errc::introspection_failed;
    label = idp_error_label(res.ec);
    spdlog::warn("issuer {}: introspection call failed: {}{}", cfg_.name, res.ec.message(), describe(res));
  } else {
    const auto now_unix = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    result = parse_introspection(res.body, now_unix, *cfg_.introspection);
    label = !result.ec ? "active" : result.ec == auth_errc::introspection_inactive ? "inactive" : "invalid";
    if (result.ec == auth_errc::introspection_failed)
      spdlog::warn("issuer {}: introspection answer is not an RFC 7662 response", cfg_.name);
  }
  metrics_.introspection_requests.Add({{"issuer", cfg_.name}, {"result", std::string(label)}}).Increment();
  // The answer lives exactly cache_for from its arrival (never rounded to seconds).
  if (result.cache_for.count() > 0) {
    cache_.store(token, result, steady_ms());
    if (result.ec) negative_entries_->Set(static_cast<double>(cache_.negative_size()));
  }
  co_return result;
}

}  // namespace authgate::idp
