#include "fuzz_env.hpp"

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace authgate::fuzz {

namespace {

namespace t = auth::test;
using auth::Alg;

// RSA and EC public JWKs (kids rsa-1, ec-256, ec-384): kRsaEcJwks.
#include "fuzz_keys.inc"

auth::VerifyPolicy base_policy() {
  auth::VerifyPolicy p;
  p.issuer = std::string(kIssuer);
  p.audiences = {std::string(kAudience)};
  p.login_client_ids = {std::string(kLoginClient)};
  p.required_claims = {"sub"};
  p.leeway_seconds = 30;
  return p;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::ranges::find(v, s) != v.end();
}

}  // namespace

const std::string& jwks_json() {
  static const std::string doc = [] {
    std::vector<std::string> keys(std::begin(kRsaEcJwks), std::end(kRsaEcJwks));
    keys.push_back(ed25519_key().public_jwk());
    return t::jwks_of(keys);
  }();
  return doc;
}

const Env& env() {
  static const Env e = [] {
    Env out;
    auto asym = auth::KeySet::from_jwks_json(jwks_json());
    if (!asym || (*asym)->size() != 4) fail("fixed JWKS does not load 4 keys", __FILE__, __LINE__);
    out.asym = *asym;
    auto hmac = auth::KeySet::from_hmac_secret(kHmacSecret, std::string(kHmacKid));
    if (!hmac) fail("fixed HMAC secret does not load", __FILE__, __LINE__);
    out.hmac = *hmac;
    out.asym_policy = base_policy();
    out.asym_policy.allowed_algs = {Alg::RS256, Alg::PS256, Alg::ES256, Alg::ES384, Alg::EdDSA};
    out.hmac_policy = base_policy();
    out.hmac_policy.allowed_algs = {Alg::HS256, Alg::HS384};
    out.ed25519 = &ed25519_key();
    return out;
  }();
  return e;
}

void check_accepted(const auth::ParsedJwt& jwt, const auth::VerifyPolicy& policy, bool hmac_set) {
  namespace json = boost::json;
  const __int128 now = kNow;
  const __int128 leeway = std::max<std::int64_t>(policy.leeway_seconds, 0);

  // Header: an allowed alg of the key set's family, no extension, an accepted typ.
  const auto alg = auth::alg_from_string(jwt.alg());
  FUZZ_CHECK(alg.has_value());
  FUZZ_CHECK(std::ranges::find(policy.allowed_algs, *alg) != policy.allowed_algs.end());
  FUZZ_CHECK(auth::is_hmac(*alg) == hmac_set);
  FUZZ_CHECK(!auth::is_none_alg(jwt.alg()));
  const json::object& h = jwt.header();
  FUZZ_CHECK(!h.contains("crit") && !h.contains("b64"));
  if (const json::value* typ = h.if_contains("typ")) {
    FUZZ_CHECK(typ->is_string());
    const std::string_view s(typ->get_string().data(), typ->get_string().size());
    const bool at = ascii_iequals(s, "at+jwt") || ascii_iequals(s, "application/at+jwt");
    const bool plain = ascii_iequals(s, "JWT") || ascii_iequals(s, "application/jwt");
    FUZZ_CHECK(at || (plain && !policy.require_at_jwt));
  } else {
    FUZZ_CHECK(!policy.require_at_jwt);
  }

  // Claims, read from the claims object itself.
  const json::object& c = jwt.claims();
  const json::value* iss = c.if_contains("iss");
  FUZZ_CHECK(iss && iss->is_string() && !policy.issuer.empty());
  FUZZ_CHECK(std::string_view(iss->get_string().data(), iss->get_string().size()) == policy.issuer);

  const json::value* aud = c.if_contains("aud");
  FUZZ_CHECK(aud != nullptr);
  std::vector<std::string> auds;
  if (aud->is_string()) {
    auds.emplace_back(aud->get_string().data(), aud->get_string().size());
  } else {
    FUZZ_CHECK(aud->is_array());
    for (const json::value& a : aud->get_array()) {
      FUZZ_CHECK(a.is_string());
      auds.emplace_back(a.get_string().data(), a.get_string().size());
    }
  }
  FUZZ_CHECK(std::ranges::any_of(auds, [&](const std::string& a) { return contains(policy.audiences, a); }));
  if (policy.reject_id_tokens) {
    FUZZ_CHECK(!c.contains("nonce"));
    FUZZ_CHECK(std::ranges::none_of(auds, [&](const std::string& a) { return contains(policy.login_client_ids, a); }));
  }

  // Times (the parser floors reals; an int64 claim must come through unchanged).
  auto check_time = [&](const char* name, const std::optional<std::int64_t>& parsed) {
    const json::value* v = c.if_contains(name);
    FUZZ_CHECK((v != nullptr) == parsed.has_value());
    if (v && v->is_int64()) FUZZ_CHECK(v->get_int64() == *parsed);
  };
  check_time("exp", jwt.exp());
  check_time("nbf", jwt.nbf());
  check_time("iat", jwt.iat());
  if (policy.require_exp) FUZZ_CHECK(jwt.exp().has_value());
  if (jwt.exp()) FUZZ_CHECK(now < static_cast<__int128>(*jwt.exp()) + leeway);
  if (jwt.nbf()) FUZZ_CHECK(now + leeway >= static_cast<__int128>(*jwt.nbf()));
  if (jwt.iat() && policy.reject_future_iat) FUZZ_CHECK(static_cast<__int128>(*jwt.iat()) <= now + leeway);

  for (const std::string& name : policy.required_claims) {
    const json::value* v = c.if_contains(name);
    FUZZ_CHECK(v && !v->is_null());
  }
}

void check_error(const std::error_code& ec) {
  FUZZ_CHECK(!ec || ec.category() == auth::auth_category());
}

bool verify_and_check(const auth::ParsedJwt& jwt, const auth::KeySet& keys, const auth::VerifyPolicy& policy,
                      bool hmac_set) {
  const std::error_code ec = auth::verify(jwt, keys, policy, kNow);
  check_error(ec);
  const std::error_code sig = auth::verify_signature(jwt, keys, policy.allowed_algs);
  check_error(sig);
  const std::error_code typ = auth::check_type(jwt, policy);
  check_error(typ);
  const std::error_code claims = auth::verify_claims(jwt, policy, kNow);
  check_error(claims);
  if (sig == auth::auth_errc::alg_not_allowed) {
    FUZZ_CHECK(ec == sig);
  } else if (typ) {
    FUZZ_CHECK(ec == typ);
  } else if (sig) {
    FUZZ_CHECK(ec == sig);
  } else {
    FUZZ_CHECK(ec == claims);
  }
  if (!ec) check_accepted(jwt, policy, hmac_set);
  return !ec;
}

}  // namespace authgate::fuzz
