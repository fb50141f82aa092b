#include "proxy/authenticator.hpp"

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "auth/scopes.hpp"
#include "common/ascii.hpp"
#include "idp/introspector.hpp"
#include "idp/remote_issuer.hpp"
#include "session/cookie_codec.hpp"
#include "session/session_manager.hpp"
#include "policy/policy.hpp"

namespace authgate::proxy {

namespace bhttp = boost::beast::http;
using auth::auth_errc;

namespace {

constexpr std::string_view kRealm = "authgate";

// ASCII letters and digits spelled out: std::isalnum was a call through the PLT
// per byte, about 1 us of CPU per distinct-token request (perf, issue 14).
bool is_token68_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Extracts the credentials of a "Bearer" Authorization header (RFC 6750 §2.1).
std::error_code extract_bearer(const http::Fields& request, std::string_view& token) {
  auto range = request.equal_range(bhttp::field::authorization);
  if (range.first == range.second) return auth_errc::token_missing;
  if (std::next(range.first) != range.second) return auth_errc::request_malformed;
  std::string_view v = range.first->value();
  const auto space = v.find(' ');
  std::string_view scheme = v.substr(0, space);
  if (!common::iequals(scheme, "bearer")) return auth_errc::token_missing;  // another scheme
  if (space == std::string_view::npos) return auth_errc::request_malformed;
  v.remove_prefix(space);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return auth_errc::request_malformed;
  std::size_t i = 0;
  while (i < v.size() && is_token68_char(static_cast<unsigned char>(v[i]))) ++i;
  if (i != v.size()) return auth_errc::request_malformed;  // spaces or other bytes inside
  token = v;
  return {};
}

}  // namespace

AuthReply auth_reply(std::error_code ec, std::string_view required_scopes) {
  AuthReply r;
  std::string base = "Bearer realm=\"" + std::string(kRealm) + "\"";
  if (ec == auth_errc::token_missing) {
    r = {401, base, "unauthorized", {}};
  } else if (ec == auth_errc::request_malformed) {
    r = {400, base + ", error=\"invalid_request\"", "invalid_request", {}};
  } else if (ec == auth_errc::scope_insufficient) {
    r = {403, base + ", error=\"insufficient_scope\", scope=\"" + std::string(required_scopes) + "\"",
         "insufficient_scope", {}};
  } else if (ec == auth_errc::claims_not_allowed) {
    r = {403, base + ", error=\"insufficient_scope\", error_description=\"claim requirements not met\"",
         "insufficient_scope", {}};
  } else if (ec == auth_errc::jwks_unavailable) {
    r = {503, base, "jwks_unavailable", {}};  // the gateway's fault, not the client's
  } else if (ec == auth_errc::introspection_failed) {
    r = {503, base, "introspection_unavailable", {}};
  } else if (ec == auth_errc::introspection_busy) {
    r = {503, base, "introspection_busy", {}};  // Retry-After: every local 503 has one
  } else if (ec == auth_errc::session_missing || ec == auth_errc::session_ended) {
    r = {401, "", "no_session", {}};  // a browser navigation gets a 302 to the login instead
  } else if (ec == auth_errc::csrf_rejected) {
    r = {403, "", "csrf_rejected", {}};
  } else if (ec == auth_errc::refresh_unavailable) {
    r = {503, "", "refresh_unavailable", {}};
  } else if (ec == auth_errc::session_store_unavailable) {
    r = {503, "", "session_store_unavailable", {}};
  } else {
    // Every other token problem. The description names the class of problem
    // only; it never echoes token contents.
    r = {401, base + ", error=\"invalid_token\", error_description=\"" + ec.message() + "\"",
         "invalid_token", {}};
  }
  return r;
}

namespace {
// A denied decision for `ec`; the reply comes from auth_reply.
AccessDecision denial(std::error_code ec, std::string issuer, std::string_view missing_scopes = {}) {
  AccessDecision d;
  d.auth_label = "bearer";
  d.allowed = false;
  d.ec = ec;
  d.reply = auth_reply(ec, missing_scopes);
  d.issuer = std::move(issuer);
  return d;
}
}  // namespace

struct Authenticator::IssuerRuntime {
  const config::Issuer* cfg;
  auth::VerifyPolicy policy;
  auth::KeySetPtr static_keys;                  // jwks_file, inline jwks, secret
  std::shared_ptr<idp::RemoteIssuer> remote;    // jwks_uri / discovery / introspection
  std::unique_ptr<idp::Introspector> introspector;

  auth::KeySetPtr keys() const { return static_keys ? static_keys : remote->keys(); }
  bool accepted_by(const config::Route& route) const {
    return route.issuers.empty() ||
           std::find(route.issuers.begin(), route.issuers.end(), cfg->name) != route.issuers.end();
  }
};

struct Authenticator::Attempt {
  AccessDecision d;
  Need need = Need::nothing;
  const IssuerRuntime* issuer = nullptr;
  std::string_view token;
};

Authenticator::Authenticator(const config::GatewayConfig& cfg, metrics::Metrics& metrics,
                             boost::asio::any_io_executor control, const Authenticator* previous,
                             const Services& services)
    : revocations_(services.revocations),
      max_token_bytes_(cfg.limits.max_token_bytes),
      cache_(cfg.limits.token_cache_entries),
      metrics_(metrics) {
  issuers_.reserve(cfg.issuers.size());
  for (std::size_t i = 0; i < cfg.issuers.size(); ++i) {
    const auto& ic = cfg.issuers[i];
    IssuerRuntime ir{&ic, {}, {}, {}, {}};
    ir.policy.issuer = ic.issuer;
    ir.policy.audiences = ic.audiences;
    ir.policy.allowed_algs.clear();
    for (const auto& a : ic.algorithms)
      if (auto alg = auth::alg_from_string(a)) ir.policy.allowed_algs.push_back(*alg);
    ir.policy.leeway_seconds = std::chrono::duration_cast<std::chrono::seconds>(ic.leeway).count();
    ir.policy.require_at_jwt = ic.require_at_jwt;
    ir.policy.reject_id_tokens = ic.reject_id_tokens;
    ir.policy.required_claims = ic.required_claims;
    if (cfg.sessions) ir.policy.login_client_ids = {cfg.sessions->client.client_id};  // its ID tokens

    if (!ic.remote_keys()) {
      auto keys = !ic.secret.empty() ? auth::KeySet::from_hmac_secret(ic.secret)
                                     : auth::KeySet::from_jwks_json(ic.jwks_file.empty() ? ic.jwks : read_file(ic.jwks_file));
      if (!keys) {
        const std::string source = !ic.secret_source.empty() ? ic.secret_source
                                   : !ic.jwks_file.empty()  ? "jwks_file " + ic.jwks_file
                                                            : "inline jwks";
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
  if (revocations_) revocations_->keep_for_leeway(Services::max_leeway_seconds(cfg));
  if (cfg.sessions) {
    const auto it = std::find_if(issuers_.begin(), issuers_.end(),
                                 [&](const IssuerRuntime& ir) { return ir.cfg->name == cfg.sessions->client.issuer; });
    if (it == issuers_.end() || !it->remote)
      throw std::runtime_error("sessions.client.issuer \"" + cfg.sessions->client.issuer +
                               "\" needs discovery (an http(s) issuer URL)");
    sessions_ = std::make_unique<session::SessionManager>(*cfg.sessions, it->remote, it->policy, metrics,
                                                          control, previous ? previous->sessions_.get() : nullptr,
                                                          services.redis, services.revocations);
  }
}

Authenticator::~Authenticator() {
  for (auto& ir : issuers_)
    if (ir.remote) ir.remote->stop();
  if (sessions_) sessions_->stop();
}

void Authenticator::start() {
  for (auto& ir : issuers_)
    if (ir.remote) ir.remote->start();
  if (sessions_) sessions_->start();
}

std::vector<std::string> Authenticator::issuers_not_ready() const {
  std::vector<std::string> names;
  for (const auto& ir : issuers_)
    if (ir.remote && !ir.remote->ready()) names.push_back(ir.cfg->name);
  return names;
}

std::vector<Authenticator::IssuerState> Authenticator::issuer_states() const {
  std::vector<IssuerState> out;
  for (const auto& ir : issuers_) {
    IssuerState st;
    st.cfg = ir.cfg;
    if (ir.static_keys) {
      st.key_source = !ir.cfg->secret_source.empty() ? "secret " + ir.cfg->secret_source
                      : !ir.cfg->jwks_file.empty()   ? "jwks_file " + ir.cfg->jwks_file
                                                     : "inline jwks";
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

AccessDecision Authenticator::allow_claims(const config::Route& route, const IssuerRuntime& issuer,
                                           std::shared_ptr<const boost::json::object> claims,
                                           std::int64_t now) const {
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
      return denial(auth_errc::token_revoked, issuer.cfg->name);
  }
  const auto scopes = auth::extract_scopes(*claims, issuer.cfg->scope_claim);
  std::string missing;
  if (auto ec = policy::evaluate(route.require, scopes, *claims, &missing))
    return denial(ec, issuer.cfg->name, missing);
  AccessDecision d;
  d.auth_label = "bearer";
  d.issuer = issuer.cfg->name;
  if (const auto* sub = claims->if_contains("sub"); sub && sub->is_string()) d.sub = sub->get_string();
  d.claims = std::move(claims);
  return d;
}

Authenticator::Attempt Authenticator::attempt(const config::Route& route, std::string_view token,
                                              std::int64_t now, Pass pass) const {
  Attempt a;
  a.d.auth_label = "bearer";
  a.token = token;
  auto deny = [&](std::error_code ec) {
    a.d = denial(ec, std::move(a.d.issuer));
    return std::move(a);
  };
  if (a.token.size() > max_token_bytes_) return deny(auth_errc::token_malformed);

  if (cache_.enabled()) {
    // A cached token answers only for an issuer this route accepts, and only
    // while that issuer still has the key set that verified it (a rotation
    // that dropped the key sends the token through full verification again).
    auto hit = cache_.find(a.token, now);
    const IssuerRuntime* ir = hit ? &issuers_[hit->issuer] : nullptr;
    const bool usable = ir && ir->accepted_by(route) && hit->keys == ir->keys();
    if (pass == Pass::first) (usable ? metrics_.token_cache_hit : metrics_.token_cache_miss).Increment();
    if (usable) {
      a.d.issuer = ir->cfg->name;
      // The signature was checked when it went in; the times are checked again now.
      if (auto ec = auth::verify_claims(*hit->jwt, ir->policy, now)) return deny(ec);
      a.d = allow_claims(route, *ir, std::shared_ptr<const boost::json::object>(hit->jwt, &hit->jwt->claims()), now);
      return a;
    }
  }

  // Not a JWS (RFC 7515 compact: exactly two dots): an opaque token, for the
  // first accepted issuer that introspects.
  if (std::count(a.token.begin(), a.token.end(), '.') != 2) {
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
  if (jwt->exp())
    cache_.insert(a.token, CachedToken{static_cast<std::size_t>(a.issuer - issuers_.data()), jwt, keys},
                  *jwt->exp(), now);
  a.d = allow_claims(route, *a.issuer, std::shared_ptr<const boost::json::object>(jwt, &jwt->claims()), now);
  return a;
}

bool Authenticator::uses_session(const config::Route& route, const http::Fields& request) const {
  if (route.auth == config::AuthMode::session) return true;
  // auth: any takes a bearer token when the request carries one, else the session.
  return route.auth == config::AuthMode::any && request.find(bhttp::field::authorization) == request.end();
}

AccessDecision Authenticator::decide(const config::Route& route, const RequestView& request,
                                     std::int64_t now_unix) const {
  if (route.auth == config::AuthMode::none) return {};
  if (uses_session(route, request.fields)) {  // the session store is asynchronous
    AccessDecision d;
    d.needs_io = true;
    return d;
  }
  std::string_view token;
  if (auto ec = extract_bearer(request.fields, token)) return denial(ec, {});
  Attempt a = attempt(route, token, now_unix, Pass::first);
  if (a.need != Need::nothing) a.d.needs_io = true;
  return std::move(a.d);
}

// exp/nbf were checked when the answer was read, and it is cached no longer than exp.
AccessDecision Authenticator::check_introspected(const config::Route& route, const IssuerRuntime& issuer,
                                                 std::shared_ptr<const boost::json::object> claims,
                                                 std::int64_t now) const {
  auto deny = [&](std::error_code ec) { return denial(ec, issuer.cfg->name); };
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

// The slow path of one token: after decide() (or for a session's access
// token), wait for a JWKS refetch or an introspection, and decide.
boost::asio::awaitable<AccessDecision> Authenticator::complete(const config::Route& route, const std::string& token,
                                                               std::int64_t now_unix) const {
  Attempt a = attempt(route, token, now_unix, Pass::again);
  if (a.need == Need::keys) {
    co_await a.issuer->remote->refetch();
    a = attempt(route, token, now_unix, Pass::after_refetch);
  }
  if (a.need == Need::introspection) {
    idp::IntrospectionResult r = co_await a.issuer->introspector->introspect(token);
    if (r.ec) co_return denial(r.ec, a.issuer->cfg->name);
    co_return check_introspected(route, *a.issuer, std::move(r.claims), now_unix);
  }
  co_return std::move(a.d);
}

boost::asio::awaitable<AccessDecision> Authenticator::decide_async(const config::Route& route,
                                                                   const RequestView& request,
                                                                   std::int64_t now_unix) const {
  if (!uses_session(route, request.fields)) {
    std::string_view view;
    if (auto ec = extract_bearer(request.fields, view)) co_return denial(ec, {});
    const std::string token(view);  // a named object: see idp/single_flight.hpp
    co_return co_await complete(route, token, now_unix);
  }
  const std::string method(request.method);
  const session::SessionAccess sa = co_await sessions_->access(request.fields, method, now_unix);
  if (sa.ec) {
    AccessDecision d = denial(sa.ec, {});
    d.auth_label = "session";
    // A browser navigation without a (live) session goes to the login page.
    const bool navigation = request.method == "GET" &&
                            std::string_view(request.fields[bhttp::field::accept]).find("text/html") != std::string_view::npos;
    if (navigation && (sa.ec == auth_errc::session_missing || sa.ec == auth_errc::session_ended)) {
      d.reply.status = 302;
      d.reply.location = sessions_->login_location(request.target);
    }
    co_return d;
  }
  AccessDecision d = co_await complete(route, sa.access_token, now_unix);
  d.auth_label = "session";
  if (d.allowed) {
    d.upstream_authorization = "Bearer " + sa.access_token;
    d.session_id = sa.id;
  }
  co_return d;
}

void Authenticator::forward_identity(http::Fields& upstream, const config::Route& route, const AccessDecision& d,
                                     std::span<const std::string> identity_headers) const {
  apply_identity(upstream, route, d, identity_headers);
  if (!d.upstream_authorization.empty()) upstream.set(bhttp::field::authorization, d.upstream_authorization);
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

std::vector<std::string> identity_header_names(const config::GatewayConfig& cfg) {
  std::vector<std::string> names;
  for (const auto& r : cfg.routes)
    for (const auto& h : r.forward.headers)
      if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return common::header_name_equals(n, h.first); }))
        names.push_back(h.first);
  return names;
}

void apply_identity(http::Fields& upstream, const config::Route& route, const AccessDecision& d,
                    std::span<const std::string> identity_headers) {
  if (!identity_headers.empty()) {
    for (auto it = upstream.begin(); it != upstream.end();) {
      const std::string_view name = it->name_string();
      const bool configured = std::any_of(identity_headers.begin(), identity_headers.end(),
                                          [&](const std::string& h) { return common::header_name_equals(h, name); });
      it = configured ? upstream.erase(it) : std::next(it);
    }
  }
  if (route.auth == config::AuthMode::none) return;
  if (!route.forward.authorization) upstream.erase(bhttp::field::authorization);
  if (!d.claims) return;
  for (const auto& [header, claim] : route.forward.headers) {
    const auto* v = d.claims->if_contains(claim);
    if (!v) continue;
    std::string value;
    if (auto text = policy::claim_text(*v)) {
      value = std::move(*text);
    } else if (v->is_array()) {  // e.g. a scope array: space-joined
      for (const auto& e : v->get_array())
        if (auto t = policy::claim_text(e)) value += (value.empty() ? "" : " ") + *t;
    }
    // A claim is issuer data, but it must never split the upstream header block.
    const bool safe = std::none_of(value.begin(), value.end(), [](unsigned char c) {
      return (c < 0x20 && c != '\t') || c == 0x7F;
    });
    if (safe && !value.empty()) upstream.set(header, value);
  }
}

}  // namespace authgate::proxy
