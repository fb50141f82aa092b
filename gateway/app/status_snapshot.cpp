#include "app/status_snapshot.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <span>

#include "common/file.hpp"
#include "common/hex.hpp"
#include "config/loader.hpp"
#include "version.hpp"

namespace authgate::app {

namespace {

const char* path_kind(config::PathMatch k) {
  switch (k) {
    case config::PathMatch::exact: return "exact";
    case config::PathMatch::prefix: return "prefix";
    case config::PathMatch::regex: return "regex";
  }
  return "?";
}

const char* auth_mode(config::AuthMode m) {
  switch (m) {
    case config::AuthMode::none: return "none";
    case config::AuthMode::bearer: return "bearer";
    case config::AuthMode::session: return "session";
    case config::AuthMode::any: return "any";
  }
  return "?";
}

std::string label(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label)
    if (l.name == name) return l.value;
  return {};
}

// Every sample of one family (counters and gauges).
template <typename F>
void each_sample(const prometheus::Family<F>& family, const std::function<void(const prometheus::ClientMetric&, double)>& fn) {
  for (const auto& mf : family.Collect())
    for (const auto& m : mf.metric) fn(m, mf.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value);
}

std::vector<admin::NamedCount> to_list(const std::map<std::string, double>& m) {
  std::vector<admin::NamedCount> out;
  for (const auto& [k, v] : m)
    if (v != 0) out.emplace_back(k, v);
  return out;
}

std::string url_of(const config::Upstream& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  return u.scheme + "://" + (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
}

}  // namespace

void ConfigStatus::loaded(std::string fp, std::int64_t now_unix) {
  ++generation;
  sha256 = std::move(fp);
  loaded_unix = now_unix;
  if (generation > 1) last_reload = {true, true, {}, now_unix};
}

void ConfigStatus::reload_failed(std::string errors, std::int64_t now_unix) {
  last_reload = {true, false, std::move(errors), now_unix};
}

std::string fingerprint(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  return common::hex_encode(std::span<const unsigned char>(md, std::min(len, 6u)));  // 12 digits
}

config::GatewayConfig load_config(const std::string& path, std::string& fingerprint_out) {
  const common::Result<std::string> text = common::read_file(path);
  if (!text) throw config::ConfigError({path + ":0:0: (file): cannot open"});
  auto cfg = config::load_string(*text, path);
  fingerprint_out = fingerprint(*text);
  return cfg;
}

admin::StatusSnapshot build_status_snapshot(const proxy::Runtime& rt, const metrics::Metrics& metrics,
                                            const admin::Health& health, const ConfigStatus& config,
                                            std::int64_t started_unix, std::int64_t now_unix) {
  admin::StatusSnapshot s;
  s.version = kVersion;
  s.now_unix = now_unix;
  s.started_unix = started_unix;
  s.ready = health.ready();
  s.draining = health.draining.load();
  if (health.waiting_for) s.waiting_for = health.waiting_for();
  s.config = {config.path, config.generation, config.sha256, config.loaded_unix};
  s.last_reload = config.last_reload;

  // Where a certificate-bound token's certificate can come from (the listener's, for every route).
  std::string client_certificate;
  if (const auto& tls = rt.cfg.listen.tls; tls && tls->client_auth != config::ClientAuth::none)
    client_certificate = std::string("checked: TLS client certificate ") +
                         (tls->client_auth == config::ClientAuth::required ? "required" : "optional");
  if (!rt.cfg.listen.client_cert_header.empty())
    client_certificate += (client_certificate.empty() ? "checked: " : "; or ") + std::string("header ") +
                          rt.cfg.listen.client_cert_header + " from trusted proxies";
  for (const auto& r : rt.cfg.routes) {
    admin::StatusSnapshot::Route out;
    out.name = r.name;
    out.host = r.match.host;
    out.path_kind = path_kind(r.match.path_kind);
    out.path = r.match.path;
    out.methods = r.match.methods;
    out.auth = auth_mode(r.auth);
    out.issuers = r.issuers;
    out.scopes_all = r.require.scopes_all;
    out.scopes_any = r.require.scopes_any;
    for (const auto& c : r.require.claims) out.claims.emplace_back(c.name, c.values);
    out.step_up_acr = r.require.acr;
    if (r.require.max_auth_age)
      out.step_up_max_auth_age = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*r.require.max_auth_age).count()) + "s";
    out.resource_metadata = r.resource_metadata_url;
    out.dpop = r.dpop == config::DpopMode::required ? "required" : r.dpop == config::DpopMode::allowed ? "allowed" : "off";
    out.dpop_nonce = r.dpop != config::DpopMode::off && r.dpop_nonce.value_or(rt.cfg.dpop.nonce.enabled);
    out.client_certificate = client_certificate;
    out.upstream = r.upstream;
    s.routes.push_back(std::move(out));
  }

  std::map<std::string, double> fetch_errors;  // issuer -> failed fetches
  each_sample(metrics.jwks_fetches, [&](const prometheus::ClientMetric& m, double v) {
    if (label(m, "result") != "success") fetch_errors[label(m, "issuer")] += v;
  });
  for (auto& st : rt.issuers.states()) {
    admin::StatusSnapshot::Issuer out;
    out.name = st.cfg->name;
    out.issuer = st.cfg->issuer;
    out.key_source = std::move(st.key_source);
    out.validation = st.cfg->validation == config::Validation::introspection ? "introspection" : "jwt";
    out.remote = st.remote;
    out.usable = st.usable;
    out.kids = std::move(st.kids);
    out.last_success_unix = st.keys_fetched_unix;
    out.next_refresh_unix = st.next_refresh_unix;
    out.consecutive_failures = st.consecutive_failures;
    out.last_error = std::move(st.last_error);
    out.last_error_unix = st.last_error_unix;
    out.fetch_errors = fetch_errors[out.name];
    out.introspection_endpoint = std::move(st.introspection_endpoint);
    s.issuers.push_back(std::move(out));
  }

  std::map<std::string, std::map<std::string, double>> upstream_errors;  // upstream -> kind -> n
  each_sample(metrics.upstream_errors, [&](const prometheus::ClientMetric& m, double v) {
    upstream_errors[label(m, "upstream")][label(m, "kind")] += v;
  });
  for (std::size_t i = 0; i < rt.upstreams.size() && i < rt.cfg.upstreams.size(); ++i) {
    const auto& ucfg = rt.cfg.upstreams[i];
    admin::StatusSnapshot::Upstream out;
    out.name = ucfg.name;
    out.url = url_of(ucfg);
    out.max_connections = ucfg.max_connections;
    out.max_idle = ucfg.max_idle;
    for (const auto& pool : rt.upstreams[i].pools) {
      out.idle += pool->idle_published();
      out.busy += pool->busy_published();
    }
    out.errors = to_list(upstream_errors[ucfg.name]);
    s.upstreams.push_back(std::move(out));
  }

  auto& c = s.counters;
  std::map<std::string, double> by_class, denials, grants, logins;
  each_sample(metrics.http_requests, [&](const prometheus::ClientMetric& m, double v) {
    c.requests += v;
    const auto code = label(m, "code");
    by_class[code.empty() ? "?" : code.substr(0, 1) + "xx"] += v;
  });
  each_sample(metrics.auth_decisions, [&](const prometheus::ClientMetric& m, double v) {
    if (label(m, "result") == "allow") c.allowed += v;
    else denials[label(m, "reason")] += v;
  });
  each_sample(metrics.refresh_grants, [&](const prometheus::ClientMetric& m, double v) { grants[label(m, "result")] += v; });
  each_sample(metrics.logins, [&](const prometheus::ClientMetric& m, double v) { logins[label(m, "result")] += v; });
  c.requests_by_class = to_list(by_class);
  c.denials = to_list(denials);
  c.refresh_grants = to_list(grants);
  c.logins = to_list(logins);
  c.token_cache_hits = metrics.token_cache_hit.Value();
  c.token_cache_misses = metrics.token_cache_miss.Value();
  c.introspection_cache_hits = metrics.introspection_cache_hit.Value();
  c.introspection_cache_misses = metrics.introspection_cache_miss.Value();
  c.sessions_active = metrics.sessions_active.Value();
  c.connections_active = metrics.connections_active.Value();
  c.reloads_ok = metrics.reload_success.Value();
  c.reloads_failed = metrics.reload_failure.Value();

  auto& f = s.fleet;
  if (rt.cfg.sessions) f.session_store = rt.cfg.sessions->store;
  if (rt.cfg.redis) {
    f.redis_address = rt.cfg.redis->address_text();
    each_sample(metrics.redis_up, [&](const prometheus::ClientMetric&, double v) { f.redis_up = v > 0; });
    std::map<std::string, double> commands;
    each_sample(metrics.redis_commands, [&](const prometheus::ClientMetric& m, double v) { commands[label(m, "result")] += v; });
    f.redis_commands = to_list(commands);
  }
  if (rt.cfg.revocation) {
    f.revocation_store = rt.cfg.revocation->store;
    f.revocation_entries = metrics.revocation_entries.Value();
    std::map<std::string, double> revoked;
    each_sample(metrics.revocations, [&](const prometheus::ClientMetric& m, double v) { revoked[label(m, "kind")] += v; });
    f.revoked = to_list(revoked);
  }
  return s;
}

}  // namespace authgate::app
