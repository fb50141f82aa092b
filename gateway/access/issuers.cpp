#include "access/issuers.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "auth/alg.hpp"
#include "common/file.hpp"
#include "idp/introspector.hpp"
#include "idp/remote_issuer.hpp"

namespace authgate::access {

namespace {

std::string read_file(const std::string& path) {
  common::Result<std::string> text = common::read_file(path);
  if (!text) throw std::runtime_error("cannot read " + path);
  return std::move(*text);
}

std::string local_key_source(const config::Issuer& ic) {
  return !ic.secret_source.empty() ? "secret " + ic.secret_source
         : !ic.jwks_file.empty()   ? "jwks_file " + ic.jwks_file
                                   : "inline jwks";
}

}  // namespace

auth::VerifyPolicy verify_policy(const config::GatewayConfig& cfg, const config::Issuer& ic) {
  auth::VerifyPolicy p;
  p.issuer = ic.issuer;
  p.audiences = ic.audiences;
  p.allowed_algs.clear();
  for (const auto& a : ic.algorithms)
    if (auto alg = auth::alg_from_string(a)) p.allowed_algs.push_back(*alg);
  p.leeway_seconds = std::chrono::duration_cast<std::chrono::seconds>(ic.leeway).count();
  p.require_at_jwt = ic.require_at_jwt;
  p.reject_id_tokens = ic.reject_id_tokens;
  p.required_claims = ic.required_claims;
  if (cfg.sessions) p.login_client_ids = {cfg.sessions->client.client_id};  // its ID tokens
  return p;
}

auth::KeySetPtr Issuer::keys() const { return static_keys ? static_keys : remote->keys(); }

bool Issuer::accepted_by(const config::Route& route) const {
  return route.issuers.empty() ||
         std::find(route.issuers.begin(), route.issuers.end(), cfg->name) != route.issuers.end();
}

Issuers::Issuers(const config::GatewayConfig& cfg, metrics::Metrics& metrics, boost::asio::any_io_executor control,
                 const Issuers* previous) {
  issuers_.reserve(cfg.issuers.size());
  for (std::size_t i = 0; i < cfg.issuers.size(); ++i) {
    const auto& ic = cfg.issuers[i];
    Issuer ir;
    ir.cfg = &ic;
    ir.policy = verify_policy(cfg, ic);

    if (!ic.remote_keys()) {
      auto keys = !ic.secret.empty() ? auth::KeySet::from_hmac_secret(ic.secret)
                                     : auth::KeySet::from_jwks_json(ic.jwks_file.empty() ? ic.jwks : read_file(ic.jwks_file));
      if (!keys) {
        const std::string source = !ic.secret_source.empty() ? ic.secret_source : local_key_source(ic);
        throw std::runtime_error("issuers[" + std::to_string(i) + "] (" + ic.name + "): " + source +
                                 ": " + keys.error().message());
      }
      ir.static_keys = *keys;
    }
    if (ic.remote_keys() || ic.introspection || ic.needs_discovery()) {
      ir.remote = std::make_shared<idp::RemoteIssuer>(ic, cfg, control, metrics);
      if (previous)
        for (const auto& old : previous->issuers_)
          if (old.remote && old.cfg->name == ic.name) ir.remote->adopt(*old.remote);
    }
    if (ic.introspection) ir.introspector = std::make_unique<idp::Introspector>(ic, cfg, ir.remote, metrics);
    issuers_.push_back(std::move(ir));
  }
  if (cfg.sessions) {  // the session layer logs in through this issuer's discovered endpoints
    const Issuer* login = find(cfg.sessions->client.issuer);
    if (!login || !login->remote)
      throw std::runtime_error("sessions.client.issuer \"" + cfg.sessions->client.issuer +
                               "\" needs discovery (an http(s) issuer URL)");
  }
}

Issuers::~Issuers() {
  for (auto& ir : issuers_)
    if (ir.remote) ir.remote->stop();
}

void Issuers::start() {
  for (auto& ir : issuers_)
    if (ir.remote) ir.remote->start();
}

const Issuer* Issuers::find(std::string_view name) const {
  const auto it = std::find_if(issuers_.begin(), issuers_.end(), [&](const Issuer& ir) { return ir.cfg->name == name; });
  return it == issuers_.end() ? nullptr : &*it;
}

std::vector<std::string> Issuers::not_ready() const {
  std::vector<std::string> names;
  for (const auto& ir : issuers_)
    if (ir.remote && !ir.remote->ready()) names.push_back(ir.cfg->name);
  return names;
}

std::vector<Issuers::State> Issuers::states() const {
  std::vector<State> out;
  for (const auto& ir : issuers_) {
    State st;
    st.cfg = ir.cfg;
    if (ir.static_keys) {
      st.key_source = local_key_source(*ir.cfg);
      for (const auto& k : ir.static_keys->keys()) st.kids.push_back(k.kid().value_or(""));
      st.usable = true;
    }
    if (ir.remote) {
      auto rs = ir.remote->status();
      st.remote = true;
      if (!ir.static_keys) {
        st.key_source = rs.source;
        st.kids = std::move(rs.kids);
        st.keys_fetched_unix = rs.keys_fetched_unix;
      }
      st.usable = rs.ready;
      st.next_refresh_unix = rs.next_refresh_unix;
      st.consecutive_failures = rs.consecutive_failures;
      st.last_error = std::move(rs.last_error);
      st.last_error_unix = rs.last_error_unix;
      if (auto ep = ir.remote->introspection_endpoint())
        st.introspection_endpoint = ep->scheme + "://" + ep->authority() + ep->target;
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::int64_t max_leeway_seconds(const config::GatewayConfig& cfg) {
  std::int64_t m = 0;
  for (const auto& ic : cfg.issuers)
    m = std::max<std::int64_t>(m, std::chrono::duration_cast<std::chrono::seconds>(ic.leeway).count());
  return m;
}

}  // namespace authgate::access
