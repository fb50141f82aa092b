#include "access/access_control.hpp"

#include <algorithm>
#include <optional>

#include "access/bearer.hpp"
#include "access/identity.hpp"
#include "auth/auth_errc.hpp"
#include "auth/cert_binding.hpp"
#include "auth/scopes.hpp"
#include "idp/introspector.hpp"
#include "idp/remote_issuer.hpp"
#include "policy/policy.hpp"
#include "revocation/revocation_service.hpp"
#include "session/cookie_codec.hpp"
#include "session/session_manager.hpp"

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

// An allowed bearer decision stays allowed only if its token is not bound to a client certificate
// other than the one this request came with (RFC 8705 §3); checked on every request, cached or not.
Decision bind_to_sender(const config::Route& route, Decision d, std::string_view client_certificate) {
  if (!d.allowed || !d.claims) return d;
  if (auto ec = auth::check_certificate_binding(*d.claims, client_certificate))
    return denial(route, ec, std::move(d.issuer));
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
                             std::shared_ptr<revocation::RevocationService> revocations, metrics::Metrics& metrics)
    : issuers_(issuers),
      sessions_(sessions),
      revocations_(std::move(revocations)),
      identity_headers_(identity_header_names(cfg)),
      max_token_bytes_(cfg.limits.max_token_bytes),
      cache_(cfg.limits.token_cache_entries, metrics) {
  if (revocations_) revocations_->keep_for_leeway(max_leeway_seconds(cfg));
}

Decision AccessControl::allow_claims(const config::Route& route, const Issuer& issuer,
                                     std::shared_ptr<const boost::json::object> claims, std::int64_t now) const {
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
  const auto scopes = auth::extract_scopes(*claims, issuer.cfg->scope_claim);
  std::string missing;
  if (auto ec = policy::evaluate(route.require, scopes, *claims, &missing))
    return denial(route, ec, issuer.cfg->name, missing);
  if (auto ec = policy::evaluate_authentication(route.require, *claims, now))  // step-up: 401, after the 403s
    return denial(route, ec, issuer.cfg->name);
  Decision d;
  d.auth_label = "bearer";
  d.issuer = issuer.cfg->name;
  if (const auto* sub = claims->if_contains("sub"); sub && sub->is_string()) d.sub = sub->get_string();
  d.claims = std::move(claims);
  return d;
}

AccessControl::Attempt AccessControl::attempt(const config::Route& route, std::string_view token,
                                              std::int64_t now, Pass pass) const {
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
    a.d = allow_claims(route, *hit->issuer, std::shared_ptr<const boost::json::object>(hit->jwt, &hit->jwt->claims()), now);
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
  a.d = allow_claims(route, *a.issuer, std::shared_ptr<const boost::json::object>(jwt, &jwt->claims()), now);
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
  std::string_view token;
  if (auto ec = extract_bearer(request.fields, token)) return denial(route, ec, {});
  Attempt a = attempt(route, token, now_unix, Pass::first);
  if (a.need == Need::nothing) return bind_to_sender(route, std::move(a.d), request.client_certificate);
  return Verdict(bearer_pending(route, std::string(token), std::string(request.client_certificate), now_unix));
}

// exp/nbf were checked when the answer was read, and it is cached no longer than exp.
Decision AccessControl::check_introspected(const config::Route& route, const Issuer& issuer,
                                           std::shared_ptr<const boost::json::object> claims,
                                           std::int64_t now) const {
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
  return allow_claims(route, issuer, std::move(claims), now);
}

// The slow path of one token (a bearer token that check() could not decide, or
// a session's access token): wait for a JWKS refetch or an introspection, and decide.
boost::asio::awaitable<Decision> AccessControl::complete(const config::Route& route, const std::string& token,
                                                         std::int64_t now) const {
  Attempt a = attempt(route, token, now, Pass::again);
  if (a.need == Need::keys) {
    co_await a.issuer->remote->refetch();
    a = attempt(route, token, now, Pass::after_refetch);
  }
  if (a.need == Need::introspection) {
    idp::IntrospectionResult r = co_await a.issuer->introspector->introspect(token);
    if (r.ec) co_return denial(route, r.ec, a.issuer->cfg->name);
    co_return check_introspected(route, *a.issuer, std::move(r.claims), now);
  }
  co_return std::move(a.d);
}

// `token` is a parameter, so a named object in this frame (see idp/single_flight.hpp).
boost::asio::awaitable<Decision> AccessControl::bearer_pending(const config::Route& route, std::string token,
                                                               std::string client_certificate,
                                                               std::int64_t now) const {
  co_return bind_to_sender(route, co_await complete(route, token, now), client_certificate);
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
  Decision d = co_await complete(route, sa.access_token, now);
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
