#include "access/access_control.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>

#include "access/bearer.hpp"
#include "access/identity.hpp"
#include "auth/auth_errc.hpp"
#include "auth/cert_binding.hpp"
#include "auth/scopes.hpp"
#include "idp/introspector.hpp"
#include "idp/remote_issuer.hpp"
#include "common/ascii.hpp"
#include "policy/policy.hpp"
#include "redis/redis_client.hpp"
#include "revocation/revocation_service.hpp"
#include "session/cookie_codec.hpp"
#include "session/session_manager.hpp"

#include <spdlog/spdlog.h>

namespace authgate::access {

namespace bhttp = boost::beast::http;
using auth::auth_errc;

namespace {

// A denied decision for `ec` on `route`; the reply comes from auth_reply.
Decision denial(const config::Route& route, std::error_code ec, std::string issuer,
                std::string_view missing_scopes = {}) {
  Decision d;
  d.auth_label = "bearer";
  d.allowed = false;
  d.ec = ec;
  d.reply = auth_reply(ec, {missing_scopes, &route.require, route.resource_metadata_url});
  d.issuer = std::move(issuer);
  return d;
}

}  // namespace

struct AccessControl::Attempt {
  Decision d;
  Need need = Need::nothing;
  const Issuer* issuer = nullptr;
  std::string_view token;
};

AccessControl::AccessControl(const config::GatewayConfig& cfg, const Issuers& issuers,
                             session::SessionManager* sessions,
                             std::shared_ptr<revocation::RevocationService> revocations, metrics::Metrics& metrics,
                             std::shared_ptr<redis::RedisClient> redis, const AccessControl* previous)
    : issuers_(issuers),
      sessions_(sessions),
      revocations_(std::move(revocations)),
      identity_headers_(identity_header_names(cfg)),
      max_token_bytes_(cfg.limits.max_token_bytes),
      cache_(cfg.limits.token_cache_entries, metrics),
      metrics_(metrics),
      dpop_origin_(cfg.dpop.public_url),
      dpop_redis_(cfg.dpop.replay_store == "redis" ? std::move(redis) : nullptr),
      dpop_fail_open_(cfg.dpop.replay_fail_open),
      dpop_nonce_default_(cfg.dpop.nonce.enabled),
      dpop_seen_entries_(cfg.dpop.replay_cache_entries),
      dpop_seen_(previous && previous->dpop_seen_entries_ == dpop_seen_entries_
                     ? previous->dpop_seen_
                     : std::make_shared<common::ExpiringCache<char>>(dpop_seen_entries_)),
      dpop_keys_(previous && previous->dpop_keys_->max_entries() == cfg.dpop.key_cache_entries
                     ? previous->dpop_keys_
                     : std::make_shared<auth::DpopKeyCache>(cfg.dpop.key_cache_entries)) {
  if (revocations_) revocations_->keep_for_leeway(max_leeway_seconds(cfg));
  if (cfg.dpop.replay_store == "redis" && !dpop_redis_)
    throw std::runtime_error("dpop.replay_store: redis needs a redis: block");
  auto settings = [](const std::vector<std::string>& algs, config::Duration iat_window) {
    DpopSettings s;
    s.policy.allowed_algs.clear();
    for (const auto& name : algs)
      if (auto alg = auth::alg_from_string(name); alg && !auth::is_hmac(*alg)) {
        s.policy.allowed_algs.push_back(*alg);
        s.algs += (s.algs.empty() ? "" : " ") + name;
      }
    s.policy.iat_window_seconds = std::chrono::duration_cast<std::chrono::seconds>(iat_window).count();
    return s;
  };
  dpop_ = settings(cfg.dpop.algs, cfg.dpop.iat_window);
  for (const auto& ir : issuers_)
    dpop_issuers_.push_back(settings(ir.cfg->dpop.algs.value_or(cfg.dpop.algs),
                                     ir.cfg->dpop.iat_window.value_or(cfg.dpop.iat_window)));
  if (!cfg.dpop.nonce.secret.empty())
    dpop_nonces_.emplace(cfg.dpop.nonce.secret,
                         std::chrono::duration_cast<std::chrono::seconds>(cfg.dpop.nonce.rotate_interval).count());
}

const AccessControl::DpopSettings& AccessControl::dpop_settings(std::string_view issuer_name) const {
  for (std::size_t i = 0; i < issuers_.size(); ++i)
    if (issuers_[i].cfg->name == issuer_name) return dpop_issuers_[i];
  return dpop_;
}

std::string AccessControl::request_origin(const Request& request) const {
  if (!dpop_origin_.empty()) return dpop_origin_;
  std::string_view scheme = request.scheme;
  auto host = std::string_view(request.fields[bhttp::field::host]);
  if (request.peer_trusted) {  // the first proxy's view: the first item of each list
    auto first = [&](std::string_view name) {
      const auto v = std::string_view(request.fields[name]);
      return common::trim_ows(v.substr(0, v.find(',')));
    };
    if (auto v = first("X-Forwarded-Proto"); !v.empty()) scheme = v;
    if (auto v = first("X-Forwarded-Host"); !v.empty()) host = v;
  }
  return std::string(scheme) + "://" + std::string(host);
}

std::error_code AccessControl::check_dpop(const config::Route& route, const Issuer& issuer, Presentation& p,
                                          const boost::json::object& claims, std::int64_t now) const {
  std::string_view jkt;  // RFC 7800 cnf, RFC 9449 §6: JWT claim or introspection member
  if (const auto* cnf = claims.if_contains("cnf"); cnf && cnf->is_object())
    if (const auto* j = cnf->get_object().if_contains("jkt"); j && j->is_string())
      jkt = std::string_view(j->get_string().data(), j->get_string().size());
  if (!p.dpop) {
    if (!jkt.empty()) return auth_errc::dpop_bound_token_as_bearer;
    return route.dpop == config::DpopMode::required ? std::error_code(auth_errc::dpop_token_unbound)
                                                    : std::error_code{};
  }
  if (jkt.empty() && route.dpop == config::DpopMode::required) return auth_errc::dpop_token_unbound;
  const auth::DpopPolicy& policy = dpop_issuers_[issuers_.index_of(issuer)].policy;
  auto proof = auth::verify_dpop_proof(p.proof, {p.method, p.htu, p.token, jkt}, policy, now, dpop_keys_.get());
  if (!proof) return proof.error();
  (proof->key_cached ? metrics_.dpop_key_cache_hit : metrics_.dpop_key_cache_miss).Increment();
  // RFC 9449 §8, §9: a nonce of this slot or the previous one; else use_dpop_nonce with a fresh
  // one. One from the previous slot passes, and the reply hands out the current one (§8.2).
  if (dpop_nonces_ && route.dpop_nonce.value_or(dpop_nonce_default_)) {
    const auto slot = dpop_nonces_->check(proof->nonce, now);
    if (!slot || *slot == auth::DpopNonces::Slot::previous) p.nonce = dpop_nonces_->mint(now);
    if (!slot) return slot.error();
  }
  // Remembered for as long as the proof would verify (iat + window), by key and
  // jti: another client's jti never collides (a thumbprint has no ':').
  std::string key = proof->jkt + ":" + proof->jti;
  const std::int64_t until = proof->iat + policy.iat_window_seconds + 1;
  if (dpop_redis_) {
    p.replay_key = dpop_redis_->key("dpop:" + key);
    p.replay_ttl = until - now;
    return {};
  }
  switch (dpop_seen_->claim(key, 0, until, now)) {
    case DpopSeen::Claim::fresh: return {};
    case DpopSeen::Claim::seen:
      metrics_.dpop_replays.Increment();
      return auth_errc::dpop_replayed;
    case DpopSeen::Claim::full:  // every entry is a live proof: dropping one would let it be replayed
      return auth_errc::dpop_replay_unavailable;
  }
  return auth_errc::dpop_replay_unavailable;
}

Decision AccessControl::challenged(const config::Route& route, Decision d) const {
  if (!d.allowed && route.dpop != config::DpopMode::off)
    add_dpop_challenge(d.reply, d.ec, dpop_settings(d.issuer).algs, route.dpop == config::DpopMode::allowed);
  return d;
}

// Fleet mode: the proof's jti is claimed in Redis (SET NX PX), so a proof
// accepted by one instance is refused by all.
boost::asio::awaitable<Decision> AccessControl::replay_pending(const config::Route& route, Decision d,
                                                               std::string key, std::int64_t ttl) const {
  const std::vector<std::string> cmd{"SET", key, "1", "NX", "PX", std::to_string(ttl * 1000)};
  const redis::RedisResult r = co_await dpop_redis_->exec(cmd);
  std::error_code ec;
  if (r.ec) {
    if (!dpop_fail_open_) {
      ec = auth_errc::dpop_replay_unavailable;
    } else {  // dpop.replay_fail_open: accepted unchecked, and said so
      metrics_.dpop_replay_skipped.Increment();
      spdlog::warn("DPoP replay check skipped (dpop.replay_fail_open): Redis: {}", r.ec.message());
    }
  } else if (r.value.is_nil()) {  // NX: the key was there
    metrics_.dpop_replays.Increment();
    ec = auth_errc::dpop_replayed;
  }
  if (ec) {
    std::string nonce = std::move(d.dpop_nonce);
    d = challenged(route, denial(route, ec, std::move(d.issuer)));
    d.dpop_nonce = std::move(nonce);
  }
  co_return d;
}

Decision AccessControl::allow_claims(const config::Route& route, const Issuer& issuer,
                                     std::shared_ptr<const boost::json::object> claims, std::int64_t now,
                                     Presentation* p) const {
  if (revocations_) {  // before the policy: a revoked token is no token (401, not 403)
    const auto string_claim = [&](std::string_view name) {
      const auto* v = claims->if_contains(name);
      return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
    };
    std::optional<std::int64_t> iat;
    if (const auto* v = claims->if_contains("iat"); v && v->is_number()) {
      boost::system::error_code ec;
      const auto n = v->to_number<std::int64_t>(ec);
      if (!ec) iat = n;
    }
    // The issuer's leeway: the token verifies that long past its exp, so its entry applies as long.
    if (revocations_->check(string_claim("jti"), string_claim("sub"), iat, now, issuer.policy.leeway_seconds))
      return denial(route, auth_errc::token_revoked, issuer.cfg->name);
  }
  // A fresh DPoP-Nonce that check_dpop asked for goes on the reply, whatever it is.
  auto with_nonce = [p](Decision d) {
    if (p) d.dpop_nonce = std::move(p->nonce);
    return d;
  };
  // The sender constraints are checked on every request, a cached token's too (before the
  // policy: a stolen token is no token, 401 not 403): the client certificate (RFC 8705), the
  // DPoP proof (RFC 9449).
  if (p) {
    if (auto ec = auth::check_certificate_binding(*claims, p->client_certificate))
      return denial(route, ec, issuer.cfg->name);
    if (auto ec = check_dpop(route, issuer, *p, *claims, now)) return with_nonce(denial(route, ec, issuer.cfg->name));
  }
  const auto scopes = auth::extract_scopes(*claims, issuer.cfg->scope_claim);
  std::string missing;
  if (auto ec = policy::evaluate(route.require, scopes, *claims, &missing))
    return with_nonce(denial(route, ec, issuer.cfg->name, missing));
  if (auto ec = policy::evaluate_authentication(route.require, *claims, now))  // step-up: 401, after the 403s
    return with_nonce(denial(route, ec, issuer.cfg->name));
  Decision d;
  d.auth_label = "bearer";
  d.issuer = issuer.cfg->name;
  if (const auto* sub = claims->if_contains("sub"); sub && sub->is_string()) d.sub = sub->get_string();
  d.claims = std::move(claims);
  return with_nonce(std::move(d));
}

AccessControl::Attempt AccessControl::attempt(const config::Route& route, std::string_view token,
                                              std::int64_t now, Pass pass, Presentation* p) const {
  Attempt a;
  a.d.auth_label = "bearer";
  a.token = token;
  auto deny = [&](std::error_code ec) {
    a.d = denial(route, ec, std::move(a.d.issuer));
    return std::move(a);
  };
  if (a.token.size() > max_token_bytes_) return deny(auth_errc::token_malformed);

  if (auto hit = cache_.find(a.token, route, issuers_, now, pass == Pass::first)) {
    a.d.issuer = hit->issuer->cfg->name;
    // The signature was checked when it went in; the times are checked again now.
    if (auto ec = auth::verify_claims(*hit->jwt, hit->issuer->policy, now)) return deny(ec);
    a.d = allow_claims(route, *hit->issuer, std::shared_ptr<const boost::json::object>(hit->jwt, &hit->jwt->claims()), now, p);
    return a;
  }

  // Not a JWS: an opaque token, for the first accepted issuer that introspects.
  if (!is_compact_jws(a.token)) {
    for (const auto& ir : issuers_)
      if (ir.introspector && ir.accepted_by(route)) {
        a.need = Need::introspection;
        a.issuer = &ir;
        a.d.issuer = ir.cfg->name;
        return a;
      }
    return deny(auth_errc::token_malformed);
  }
  auto jwt = std::make_shared<auth::ParsedJwt>();
  if (auto ec = auth::parse_jwt(a.token, max_token_bytes_, *jwt)) return deny(ec);

  // The issuer is chosen by "iss" among those the route accepts; the
  // signature is then checked with that issuer's keys only.
  for (const auto& ir : issuers_)
    if (ir.accepted_by(route) && jwt->iss() && *jwt->iss() == ir.cfg->issuer) {
      a.issuer = &ir;
      break;
    }
  if (!a.issuer) return deny(auth_errc::issuer_mismatch);
  a.d.issuer = a.issuer->cfg->name;
  if (a.issuer->cfg->validation == config::Validation::introspection) {
    a.need = Need::introspection;
    return a;
  }
  const auth::KeySetPtr keys = a.issuer->keys();
  if (!keys) {
    if (pass == Pass::after_refetch) return deny(auth_errc::jwks_unavailable);
    a.need = Need::keys;
    return a;
  }
  if (auto ec = auth::verify(*jwt, *keys, a.issuer->policy, now)) {
    // Only an unknown kid may mean the IdP rotated; a bad signature never
    // triggers a fetch.
    if (ec == auth_errc::kid_unknown && a.issuer->remote && pass != Pass::after_refetch) {
      a.need = Need::keys;
      return a;
    }
    return deny(ec);
  }
  cache_.insert(a.token, issuers_.index_of(*a.issuer), jwt, keys, now);
  a.d = allow_claims(route, *a.issuer, std::shared_ptr<const boost::json::object>(jwt, &jwt->claims()), now, p);
  return a;
}

bool AccessControl::uses_session(const config::Route& route, const http::Fields& request) const {
  if (route.auth == config::AuthMode::session) return true;
  // auth: any takes a bearer token when the request carries one, else the session.
  return route.auth == config::AuthMode::any && request.find(bhttp::field::authorization) == request.end();
}

Verdict AccessControl::check(const config::Route& route, const Request& request, std::int64_t now_unix) const {
  if (route.auth == config::AuthMode::none) return Decision{};
  if (uses_session(route, request.fields))  // the session store is asynchronous
    return Verdict(session_pending(route, request, now_unix));
  Presentation p;
  if (auto ec = extract_token(request.fields, route.dpop != config::DpopMode::off, p.token, p.dpop))
    return challenged(route, denial(route, ec, {}));
  p.method = request.method;
  p.client_certificate = request.client_certificate;
  if (p.dpop) {  // RFC 9449 §4.3: exactly one DPoP header
    auto proofs = request.fields.equal_range("DPoP");
    if (proofs.first == proofs.second) return challenged(route, denial(route, auth_errc::dpop_proof_missing, {}));
    if (std::next(proofs.first) != proofs.second)
      return challenged(route, denial(route, auth_errc::dpop_proof_repeated, {}));
    p.proof = std::string_view(proofs.first->value());
    p.htu = request_origin(request) + std::string(request.path);
  }
  Attempt a = attempt(route, p.token, now_unix, Pass::first, &p);
  if (a.need == Need::nothing) {
    if (a.d.allowed && !p.replay_key.empty())
      return Verdict(replay_pending(route, std::move(a.d), std::move(p.replay_key), p.replay_ttl));
    return challenged(route, std::move(a.d));
  }
  const std::string token(p.token);
  return Verdict(bearer_pending(route, token, now_unix, std::move(p)));
}

// exp/nbf were checked when the answer was read, and it is cached no longer than exp.
Decision AccessControl::check_introspected(const config::Route& route, const Issuer& issuer,
                                           std::shared_ptr<const boost::json::object> claims,
                                           std::int64_t now, Presentation* p) const {
  auto deny = [&](std::error_code ec) { return denial(route, ec, issuer.cfg->name); };
  // RFC 7662 makes iss and aud optional; when the IdP sends them they must match.
  if (const auto* iss = claims->if_contains("iss"); iss && !(iss->is_string() && iss->get_string() == issuer.cfg->issuer))
    return deny(auth_errc::issuer_mismatch);
  if (const auto* aud = claims->if_contains("aud")) {
    auto matches = [&](const boost::json::value& v) {
      return v.is_string() && std::find(issuer.cfg->audiences.begin(), issuer.cfg->audiences.end(),
                                        std::string_view(v.get_string())) != issuer.cfg->audiences.end();
    };
    const bool ok = aud->is_array() ? std::any_of(aud->get_array().begin(), aud->get_array().end(), matches)
                                    : matches(*aud);
    if (!ok) return deny(auth_errc::audience_mismatch);
  }
  return allow_claims(route, issuer, std::move(claims), now, p);
}

// The slow path of one token (a bearer token that check() could not decide, or
// a session's access token): wait for a JWKS refetch or an introspection, and decide.
boost::asio::awaitable<Decision> AccessControl::complete(const config::Route& route, const std::string& token,
                                                         std::int64_t now, Presentation* p) const {
  Attempt a = attempt(route, token, now, Pass::again, p);
  if (a.need == Need::keys) {
    co_await a.issuer->remote->refetch();
    a = attempt(route, token, now, Pass::after_refetch, p);
  }
  if (a.need == Need::introspection) {
    idp::IntrospectionResult r = co_await a.issuer->introspector->introspect(token);
    if (r.ec) co_return denial(route, r.ec, a.issuer->cfg->name);
    co_return check_introspected(route, *a.issuer, std::move(r.claims), now, p);
  }
  co_return std::move(a.d);
}

// `token` is a parameter, so a named object in this frame (see idp/single_flight.hpp).
boost::asio::awaitable<Decision> AccessControl::bearer_pending(const config::Route& route, std::string token,
                                                               std::int64_t now, Presentation p) const {
  p.token = token;  // this frame's copy (the proof and method view the request, which outlives the Verdict)
  Decision d = co_await complete(route, token, now, &p);
  if (d.allowed && !p.replay_key.empty()) co_return co_await replay_pending(route, std::move(d), p.replay_key, p.replay_ttl);
  co_return challenged(route, std::move(d));
}

boost::asio::awaitable<Decision> AccessControl::session_pending(const config::Route& route, Request request,
                                                                std::int64_t now) const {
  const std::string method(request.method);
  const session::SessionAccess sa = co_await sessions_->access(request.fields, method, now);
  // A browser navigation without a (live) session goes to the login page; one whose session's
  // authentication is too weak or too old for the route, to a login that asks for a step-up.
  const bool navigation = request.method == "GET" &&
                          std::string_view(request.fields[bhttp::field::accept]).find("text/html") != std::string_view::npos;
  auto to_login = [&](Decision& d, const config::Requirement* step_up) {
    std::string target(request.path);
    if (!request.query.empty()) target.append("?").append(request.query);
    d.reply.status = 302;
    d.reply.location = sessions_->login_location(target, step_up);
  };
  if (sa.ec) {
    Decision d = denial(route, sa.ec, {});
    d.auth_label = "session";
    if (navigation && (sa.ec == auth_errc::session_missing || sa.ec == auth_errc::session_ended)) to_login(d, nullptr);
    co_return d;
  }
  Decision d = co_await complete(route, sa.access_token, now, nullptr);
  d.auth_label = "session";
  if (navigation && d.ec == auth_errc::user_authentication_insufficient) to_login(d, &route.require);
  if (d.allowed) {
    d.upstream_authorization = "Bearer " + sa.access_token;
    d.session_id = sa.id;
  }
  co_return d;
}

boost::asio::awaitable<void> Verdict::resolve() {
  boost::asio::awaitable<Decision> pending = std::move(std::get<1>(v_));
  Decision d = co_await std::move(pending);
  v_ = std::move(d);
}

void AccessControl::forward_identity(http::Fields& upstream, const config::Route& route,
                                     const Decision& allowed) const {
  apply_identity(upstream, route, allowed, identity_headers_);
  if (route.dpop != config::DpopMode::off && !route.forward.dpop_proof) upstream.erase("DPoP");
  if (!allowed.upstream_authorization.empty()) upstream.set(bhttp::field::authorization, allowed.upstream_authorization);
  if (!sessions_) return;
  // authgate's own cookies never reach an upstream (every route).
  std::string kept;
  for (auto it = upstream.find(bhttp::field::cookie); it != upstream.end() && it->name() == bhttp::field::cookie; ++it) {
    std::string v = session::strip_cookie(it->value(), sessions_->cookie_name());
    v = session::strip_cookie(v, sessions_->cookie_name() + "-login");
    if (!v.empty()) kept += (kept.empty() ? "" : "; ") + v;
  }
  upstream.erase(bhttp::field::cookie);
  if (!kept.empty()) upstream.set(bhttp::field::cookie, kept);
}

}  // namespace authgate::access
