#include "proxy/authenticator.hpp"

#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "auth/scopes.hpp"
#include "common/ascii.hpp"
#include "policy/policy.hpp"

namespace authgate::proxy {

namespace bhttp = boost::beast::http;
using auth::auth_errc;

namespace {

constexpr std::string_view kRealm = "authgate";

bool is_token68_char(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
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
    r = {401, base, "unauthorized"};
  } else if (ec == auth_errc::request_malformed) {
    r = {400, base + ", error=\"invalid_request\"", "invalid_request"};
  } else if (ec == auth_errc::scope_insufficient) {
    r = {403, base + ", error=\"insufficient_scope\", scope=\"" + std::string(required_scopes) + "\"",
         "insufficient_scope"};
  } else if (ec == auth_errc::claims_not_allowed) {
    r = {403, base + ", error=\"insufficient_scope\", error_description=\"claim requirements not met\"",
         "insufficient_scope"};
  } else if (ec == auth_errc::jwks_unavailable) {
    r = {503, base, "jwks_unavailable"};  // the gateway's fault, not the client's
  } else {
    // Every other token problem. The description names the class of problem
    // only; it never echoes token contents.
    r = {401, base + ", error=\"invalid_token\", error_description=\"" + ec.message() + "\"",
         "invalid_token"};
  }
  return r;
}

Authenticator::Authenticator(const config::GatewayConfig& cfg)
    : max_token_bytes_(cfg.limits.max_token_bytes) {
  for (std::size_t i = 0; i < cfg.issuers.size(); ++i) {
    const auto& ic = cfg.issuers[i];
    IssuerRuntime ir{&ic, {}, {}};
    ir.policy.issuer = ic.issuer;
    ir.policy.audiences = ic.audiences;
    ir.policy.allowed_algs.clear();
    for (const auto& a : ic.algorithms)
      if (auto alg = auth::alg_from_string(a)) ir.policy.allowed_algs.push_back(*alg);
    ir.policy.leeway_seconds = std::chrono::duration_cast<std::chrono::seconds>(ic.leeway).count();
    ir.policy.require_at_jwt = ic.require_at_jwt;
    ir.policy.reject_id_tokens = ic.reject_id_tokens;
    ir.policy.required_claims = ic.required_claims;

    auth::KeySet::Result keys = [&] {
      if (!ic.secret.empty()) return auth::KeySet::from_hmac_secret(ic.secret);
      return auth::KeySet::from_jwks_json(ic.jwks_file.empty() ? ic.jwks : read_file(ic.jwks_file));
    }();
    if (!keys) {
      const std::string source = !ic.secret_source.empty() ? ic.secret_source
                                 : !ic.jwks_file.empty()  ? "jwks_file " + ic.jwks_file
                                                          : "inline jwks";
      throw std::runtime_error("issuers[" + std::to_string(i) + "] (" + ic.name + "): " + source +
                               ": " + keys.error().message());
    }
    ir.keys = *keys;
    issuers_.push_back(std::move(ir));
  }
}

Authenticator::~Authenticator() = default;

AccessDecision Authenticator::decide(const config::Route& route, const http::Fields& request,
                                     std::int64_t now_unix) const {
  AccessDecision d;
  if (route.auth == config::AuthMode::none) return d;
  d.auth_label = "bearer";
  auto deny = [&](std::error_code ec, std::string_view scopes = {}) {
    d.allowed = false;
    d.ec = ec;
    d.reply = auth_reply(ec, scopes);
    d.token.reset();
    return std::move(d);
  };

  std::string_view token;
  if (auto ec = extract_bearer(request, token)) return deny(ec);
  if (token.size() > max_token_bytes_) return deny(auth_errc::token_malformed);
  auth::ParsedJwt jwt;
  if (auto ec = auth::parse_jwt(token, max_token_bytes_, jwt)) return deny(ec);

  // The issuer is chosen by "iss" among those the route accepts; the
  // signature is then checked with that issuer's keys only.
  const IssuerRuntime* issuer = nullptr;
  for (const auto& ir : issuers_) {
    const bool accepted = route.issuers.empty() ||
                          std::find(route.issuers.begin(), route.issuers.end(), ir.cfg->name) !=
                              route.issuers.end();
    if (accepted && jwt.iss() && *jwt.iss() == ir.cfg->issuer) {
      issuer = &ir;
      break;
    }
  }
  if (!issuer) return deny(auth_errc::issuer_mismatch);
  d.issuer = issuer->cfg->name;
  if (auto ec = auth::verify(jwt, *issuer->keys, issuer->policy, now_unix)) return deny(ec);

  const auto scopes = auth::extract_scopes(jwt.claims(), issuer->cfg->scope_claim);
  std::string missing;
  if (auto ec = policy::evaluate(route.require, scopes, jwt.claims(), &missing))
    return deny(ec, missing);
  d.token = std::move(jwt);
  return d;
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
  if (!d.token) return;
  for (const auto& [header, claim] : route.forward.headers) {
    const auto* v = d.token->claims().if_contains(claim);
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
