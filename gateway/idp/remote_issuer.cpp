#include "idp/remote_issuer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "auth/alg.hpp"
#include "net/tls.hpp"

namespace authgate::idp {

namespace asio = boost::asio;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const std::string kFlightKey = "keys";  // one flight per RemoteIssuer

std::string discovery_url(std::string issuer) {
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  return issuer + "/.well-known/openid-configuration";
}

}  // namespace

RemoteIssuer::RemoteIssuer(const config::Issuer& issuer, const config::GatewayConfig& gateway,
                           asio::any_io_executor control, metrics::Metrics& metrics)
    : name_(issuer.name),
      issuer_(issuer.issuer),
      cfg_(issuer),
      remote_keys_(issuer.remote_keys()),
      needs_discovery_(issuer.needs_discovery()),
      control_(std::move(control)),
      metrics_(metrics),
      keys_gauge_(&metrics.jwks_keys.Add({{"issuer", issuer.name}})),
      last_success_gauge_(&metrics.jwks_last_success.Add({{"issuer", issuer.name}})) {
  source_key_ = issuer.issuer + "|" + issuer.jwks_uri + "|" + (needs_discovery_ ? "d" : "-") + "|" +
                (remote_keys_ ? "k" : "-") + "|" + issuer.tls.ca_file + "|" +
                (issuer.tls.verify ? "v" : "-");
  for (const auto& a : issuer.algorithms) source_key_ += "|" + a;
  config::UpstreamTls tls;
  tls.ca_file = issuer.tls.ca_file;
  tls.verify = issuer.tls.verify;
  tls_ = net::make_client_context(tls);
  client_.timeout = gateway.timeouts.idp_request;
  client_.max_body = gateway.limits.max_idp_response_bytes;
  client_.tls = tls_.get();
  client_.verify = issuer.tls.verify;
  for (const auto& a : issuer.algorithms)
    if (auto alg = auth::alg_from_string(a)) key_options_.key.allowed_algs.push_back(*alg);
}

RemoteIssuer::~RemoteIssuer() = default;

void RemoteIssuer::adopt(const RemoteIssuer& previous) {
  if (previous.source_key_ != source_key_) return;
  keys_.store(previous.keys_.load());
  metadata_.store(previous.metadata_.load());
  keys_fetched_unix_.store(previous.keys_fetched_unix_.load());
  keys_fetched_ms_.store(previous.keys_fetched_ms_.load());
  if (auto k = keys_.load()) keys_gauge_->Set(static_cast<double>(k->size()));
  metadata_stale_ = false;
}

void RemoteIssuer::start() {
  asio::co_spawn(control_, [self = shared_from_this()] { return self->refresh_loop(); },
                 asio::detached);
}

void RemoteIssuer::stop() {
  if (stopped_.exchange(true)) return;
  asio::post(control_, [weak = weak_from_this()] {
    if (auto self = weak.lock(); self && self->timer_) self->timer_->cancel();
  });
}

auth::KeySetPtr RemoteIssuer::keys() const {
  auto k = keys_.load();
  if (k && keys_too_stale(std::chrono::milliseconds(keys_fetched_ms_.load(std::memory_order_relaxed)),
                          std::chrono::milliseconds(steady_ms()), cfg_.max_stale))
    return nullptr;  // stale beyond max_stale: no keys rather than keys the IdP may have revoked
  return k;
}

bool RemoteIssuer::ready() const {
  return (!remote_keys_ || keys()) && (!needs_discovery_ || metadata_.load());
}

std::optional<common::HttpUrl> RemoteIssuer::introspection_endpoint() const {
  if (!cfg_.introspection) return std::nullopt;
  if (!cfg_.introspection->endpoint.empty()) return common::parse_http_url(cfg_.introspection->endpoint);
  auto md = metadata_.load();
  if (!md || md->introspection_endpoint.empty()) return std::nullopt;
  return common::parse_http_url(md->introspection_endpoint);
}

RemoteIssuer::Status RemoteIssuer::status() const {
  Status st;
  if (remote_keys_ && !cfg_.jwks_uri.empty()) {
    st.source = "jwks_uri " + cfg_.jwks_uri;
  } else if (needs_discovery_) {
    st.source = "discovery " + discovery_url(issuer_);
    if (auto md = metadata_.load(); md && remote_keys_ && !md->jwks_uri.empty())
      st.source += " -> jwks_uri " + md->jwks_uri;
  }
  if (auto k = keys_.load())
    for (const auto& key : k->keys()) st.kids.push_back(key.kid().value_or(""));
  st.ready = ready();
  st.keys_fetched_unix = keys_fetched_unix_.load();
  st.next_refresh_unix = next_refresh_unix_;
  st.consecutive_failures = failures_;
  st.last_error = last_error_;
  st.last_error_unix = last_error_unix_;
  return st;
}

void RemoteIssuer::count(std::string_view result) {
  metrics_.jwks_fetches.Add({{"issuer", name_}, {"result", std::string(result)}}).Increment();
}

asio::awaitable<bool> RemoteIssuer::run_cycle(bool forced) {
  auto self = shared_from_this();
  const auto interval = cfg_.jwks_refetch_interval.count();
  // Only request-triggered cycles count against jwks_refetch_interval: a
  // background refresh that just ran must not delay picking up a new kid.
  auto admit = [this, forced, interval] {
    if (forced) return true;
    const auto now = steady_ms();
    if (now - last_refetch_ms_.load() < interval) return false;
    last_refetch_ms_.store(now);
    return true;
  };
  auto work = [self] { return asio::co_spawn(self->control_, self->fetch_cycle(), asio::use_awaitable); };
  auto r = co_await flight_.run_if(kFlightKey, work, admit);
  co_return r.value_or(false);
}

asio::awaitable<void> RemoteIssuer::refetch() { co_await run_cycle(false); }

asio::awaitable<void> RemoteIssuer::refresh_loop() {
  auto self = shared_from_this();
  timer_ = std::make_shared<asio::steady_timer>(control_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!stopped_) {
    const bool ok = co_await run_cycle(true);
    if (stopped_) break;
    const auto delay = ok ? jwks_refresh_delay(max_age_, cfg_.jwks_refresh_min, cfg_.jwks_refresh_max)
                          : jwks_retry_delay(failures_, cfg_.jwks_retry_interval,
                                             cfg_.jwks_refresh_min, unit(rng_));
    timer_->expires_after(delay);
    next_refresh_unix_ = unix_now() + std::chrono::ceil<std::chrono::seconds>(delay).count();
    auto [ec] = co_await timer_->async_wait(use_tuple);
    if (ec) break;
  }
  next_refresh_unix_ = 0;
  timer_.reset();
}

asio::awaitable<IdpResponse> RemoteIssuer::fetch(const std::string& url_text) {
  const auto url = common::parse_http_url(url_text);
  if (!url) {
    IdpResponse bad;
    bad.ec = idp_errc::bad_response;
    co_return bad;
  }
  const IdpRequest get;  // a named object: see idp_exchange
  co_return co_await idp_exchange(*url, get, client_);
}

asio::awaitable<bool> RemoteIssuer::fetch_cycle() {
  bool ok = true;
  if (needs_discovery_ && (!metadata_.load() || metadata_stale_)) {
    const std::string url_text = discovery_url(issuer_);
    IdpResponse r = co_await fetch(url_text);
    ProviderMetadata md;
    std::error_code ec = r.ec ? r.ec : parse_provider_metadata(r.body, issuer_, md);
    if (!ec && remote_keys_ && cfg_.jwks_uri.empty() && md.jwks_uri.empty()) ec = idp_errc::invalid_document;
    if (ec) {
      count("discovery_" + std::string(idp_error_label(ec)));
      last_error_ = "discovery_" + std::string(idp_error_label(ec)) + ": " + ec.message();
      last_error_unix_ = unix_now();
      spdlog::warn("issuer {}: discovery {} failed: {}{}", name_, url_text, ec.message(), describe(r));
      ok = false;
    } else {
      metadata_.store(std::make_shared<const ProviderMetadata>(std::move(md)));
      metadata_stale_ = false;
    }
  }
  if (ok && remote_keys_) {
    const std::string url_text = cfg_.jwks_uri.empty() ? metadata_.load()->jwks_uri : cfg_.jwks_uri;
    IdpResponse r = co_await fetch(url_text);
    std::error_code ec = r.ec;
    std::vector<auth::SkippedKey> skipped;
    if (!ec) {
      auto keys = auth::KeySet::from_jwks_json(r.body, key_options_, &skipped);
      if (keys) {
        const auto now = unix_now();
        keys_fetched_ms_.store(steady_ms());  // before the keys: a reader never sees new keys as stale
        keys_.store(*keys);
        keys_fetched_unix_.store(now);
        keys_gauge_->Set(static_cast<double>((*keys)->size()));
        last_success_gauge_->Set(static_cast<double>(now));
        max_age_ = cache_max_age(r.cache_control);
        count("success");
        for (const auto& s : skipped)
          spdlog::debug("issuer {}: JWKS key #{} (kid \"{}\") skipped: {}", name_, s.index, s.kid,
                        s.error.message());
        spdlog::debug("issuer {}: {} key(s) loaded from {}", name_, (*keys)->size(), url_text);
      } else {
        ec = idp_errc::invalid_document;
        spdlog::warn("issuer {}: JWKS from {} unusable: {}", name_, url_text, keys.error().message());
      }
    }
    if (ec) {
      count(idp_error_label(ec));
      last_error_ = std::string(idp_error_label(ec)) + ": " + ec.message();
      last_error_unix_ = unix_now();
      if (ec != idp_errc::invalid_document)
        spdlog::warn("issuer {}: JWKS fetch {} failed: {}{}", name_, url_text, ec.message(), describe(r));
      ok = false;
      metadata_stale_ = true;  // the jwks_uri may have moved: re-read discovery next time
    }
  }
  if (ok) {
    failures_ = 0;
  } else {
    ++failures_;
    if (keys_.load() && !keys()) {
      keys_gauge_->Set(0);
      spdlog::error("issuer {}: the last good keys are older than max_stale; tokens get 503 until a fetch succeeds",
                    name_);
    }
  }
  co_return ok;
}

}  // namespace authgate::idp
