// libFuzzer target: the JSON documents authgate reads from an IdP's endpoints,
// every parser on the same bytes:
//   - token endpoint success and error bodies (session/token_response.hpp:
//     parse_token_response, parse_token_error);
//   - RFC 7662 introspection responses (idp/introspection_response.hpp:
//     parse_introspection, at a fixed clock);
//   - OpenID provider metadata (idp/discovery.hpp: parse_provider_metadata, for
//     an https and an http issuer), and the input as a Cache-Control value
//     (cache_max_age, jwks_refresh_delay).
//
// Invariants (a violation aborts), with boost::json::parse as the reference reader:
//   token response: a TokenSet only for a JSON object whose access_token is a
//     non-empty string and token_type a string equal to "Bearer" in any case; the
//     TokenSet's strings are the object's members ("" when absent); expires_in in
//     [0, kMaxExpiresIn]; with id_token_required, success needs an id_token and
//     implies the same success without it; a violation is a non-empty string that
//     never carries the access, refresh or id token (longer than the excerpts);
//   token error: error non-empty, at most 128 (+3 for "...") bytes, description
//     at most 512 (+3), both only of RFC 6749 error characters and '?';
//   introspection: introspection_failed exactly when the body is not an object
//     with a boolean "active"; success only for active true, exp (if any) ahead,
//     nbf (if any) not ahead and a Bearer/access_token token_type (if any), then
//     the claims are the object and cache_for is in (0, cache_ttl] and never
//     beyond exp; inactive answers are cached for negative_ttl;
//   discovery: success only for a JSON object whose issuer is the expected one;
//     every endpoint it returns is an http(s) URL (https for the https issuer)
//     equal to the document's member; errors are idp_errc::invalid_document;
//   cache_max_age is at most 2^31 s, and the refresh delay stays in [min, max].
#include "fuzz_env.hpp"

#include "auth/auth_errc.hpp"
#include "common/ascii.hpp"
#include "common/url.hpp"
#include "config/config.hpp"
#include "idp/discovery.hpp"
#include "idp/http_client.hpp"
#include "idp/introspection_response.hpp"
#include "session/token_response.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

using namespace authgate;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kNow = fuzz::kNow;

std::string member_string(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool error_char(unsigned char c) {
  return c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

void check_sanitised(const std::string& s, std::size_t max) {
  FUZZ_CHECK(s.size() <= max + 3);
  std::string_view body(s);
  if (s.size() > max) {
    FUZZ_CHECK(body.ends_with("..."));
    body.remove_suffix(3);
  }
  for (char c : body) FUZZ_CHECK(error_char(static_cast<unsigned char>(c)) || c == '?');
}

void check_token_response(std::string_view text, const json::value& ref, bool ref_ok) {
  const auto plain = session::parse_token_response(text, false);
  const auto with_id = session::parse_token_response(text, true);
  if (const auto* t = std::get_if<session::TokenSet>(&plain)) {
    FUZZ_CHECK(ref_ok && ref.is_object());
    const json::object& o = ref.get_object();
    FUZZ_CHECK(!t->access_token.empty() && t->access_token == member_string(o, "access_token"));
    FUZZ_CHECK(common::iequals(t->token_type, "Bearer") && t->token_type == member_string(o, "token_type"));
    FUZZ_CHECK(t->refresh_token == member_string(o, "refresh_token"));
    FUZZ_CHECK(t->scope == member_string(o, "scope"));
    FUZZ_CHECK(t->id_token == member_string(o, "id_token"));
    if (t->expires_in) FUZZ_CHECK(*t->expires_in >= 0 && *t->expires_in <= session::kMaxExpiresIn);
    FUZZ_CHECK(t->expires_in.has_value() == (o.if_contains("expires_in") != nullptr));
  } else {
    const std::string& why = std::get<std::string>(plain);
    FUZZ_CHECK(!why.empty());
    if (ref_ok && ref.is_object()) {
      for (const char* name : {"access_token", "refresh_token", "id_token"}) {
        const std::string token = member_string(ref.get_object(), name);
        if (token.size() > 40) FUZZ_CHECK(why.find(token) == std::string::npos);
      }
    }
  }
  if (const auto* t = std::get_if<session::TokenSet>(&with_id)) {
    FUZZ_CHECK(!t->id_token.empty());
    const auto* p = std::get_if<session::TokenSet>(&plain);
    FUZZ_CHECK(p && p->access_token == t->access_token && p->id_token == t->id_token);
  }
}

void check_token_error(std::string_view text, const json::value& ref, bool ref_ok) {
  const auto e = session::parse_token_error(text);
  if (!e) return;
  FUZZ_CHECK(ref_ok && ref.is_object());
  FUZZ_CHECK(!e->error.empty());
  check_sanitised(e->error, 128);
  check_sanitised(e->description, 512);
}

// Equal values, where a NaN (Boost.JSON 1.81 reads 0e400 as NaN) counts as equal
// to a NaN at the same place: NaN != NaN would fail operator==.
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double() && std::isnan(a.get_double()) && std::isnan(b.get_double())) return true;
  if (a.is_array() && b.is_array()) {
    if (a.get_array().size() != b.get_array().size()) return false;
    for (std::size_t i = 0; i < a.get_array().size(); ++i)
      if (!same(a.get_array()[i], b.get_array()[i])) return false;
    return true;
  }
  if (a.is_object() && b.is_object()) {
    if (a.get_object().size() != b.get_object().size()) return false;
    for (const auto& m : a.get_object()) {
      const json::value* other = b.get_object().if_contains(m.key());
      if (!other || !same(m.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

bool same_members(const json::object& a, const json::object& b) { return same(json::value(a), json::value(b)); }

void check_introspection(std::string_view text, const json::value& ref, bool ref_ok) {
  config::Introspection cfg;  // defaults: cache_ttl 5m, negative_ttl 10s
  const auto now = std::chrono::milliseconds(kNow * 1000 + 517);  // mid-second: nothing may round
  const idp::IntrospectionResult r = idp::parse_introspection(text, now, cfg);

  const json::value* active = ref_ok && ref.is_object() ? ref.get_object().if_contains("active") : nullptr;
  const bool well_formed = active && active->is_bool();
  FUZZ_CHECK((r.ec == auth::auth_errc::introspection_failed) == !well_formed);
  if (!well_formed) {
    FUZZ_CHECK(!r.claims);
    return;
  }
  const json::object& o = ref.get_object();
  if (r.ec) {
    FUZZ_CHECK(r.ec == auth::auth_errc::introspection_inactive && !r.claims);
    FUZZ_CHECK(r.cache_for == cfg.negative_ttl);
    return;
  }
  FUZZ_CHECK(active->get_bool());
  FUZZ_CHECK(r.claims && same_members(*r.claims, o));
  std::int64_t exp = 0;
  if (const json::value* v = o.if_contains("exp")) FUZZ_CHECK(auth::numeric_date(*v, exp) && exp > kNow);
  std::int64_t nbf = 0;
  if (const json::value* v = o.if_contains("nbf")) FUZZ_CHECK(auth::numeric_date(*v, nbf) && nbf <= kNow);
  if (const json::value* v = o.if_contains("token_type")) {
    FUZZ_CHECK(v->is_string() && (common::iequals(v->get_string(), "bearer") ||
                                  common::iequals(v->get_string(), "access_token")));
  }
  FUZZ_CHECK(r.cache_for.count() > 0 && r.cache_for <= cfg.cache_ttl);
  if (o.if_contains("exp") && exp < std::numeric_limits<std::int64_t>::max() / 1000)
    FUZZ_CHECK(now + r.cache_for <= std::chrono::seconds(exp));  // never beyond exp
}

void check_discovery(std::string_view text, const json::value& ref, bool ref_ok, std::string_view issuer) {
  idp::ProviderMetadata md;
  md.jwks_uri = "untouched";
  const std::error_code ec = idp::parse_provider_metadata(text, issuer, md);
  if (ec) {
    FUZZ_CHECK(ec == idp::idp_errc::invalid_document);
    FUZZ_CHECK(md.jwks_uri == "untouched");  // nothing half-written
    return;
  }
  FUZZ_CHECK(ref_ok && ref.is_object() && md.issuer == issuer);
  const json::object& o = ref.get_object();
  FUZZ_CHECK(member_string(o, "issuer") == issuer);
  const bool https_only = issuer.starts_with("https:");
  for (const auto& [name, field] : {std::pair{"jwks_uri", &md.jwks_uri},
                                    {"introspection_endpoint", &md.introspection_endpoint},
                                    {"token_endpoint", &md.token_endpoint},
                                    {"authorization_endpoint", &md.authorization_endpoint},
                                    {"revocation_endpoint", &md.revocation_endpoint},
                                    {"end_session_endpoint", &md.end_session_endpoint}}) {
    FUZZ_CHECK(*field == member_string(o, name));
    if (field->empty()) continue;
    const auto url = common::parse_http_url(*field);
    FUZZ_CHECK(url && (!https_only || url->is_https()));
  }
}

void check_cache_control(std::string_view text) {
  const auto age = idp::cache_max_age(text);
  if (age) FUZZ_CHECK(age->count() >= 0 && age->count() <= (std::int64_t{1} << 31));
  const auto delay = idp::jwks_refresh_delay(age, 5min, 24h);
  FUZZ_CHECK(delay >= 5min && delay <= 24h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json::error_code jec;
  const json::value ref = json::parse(text, jec);
  const bool ref_ok = !jec;

  check_token_response(text, ref, ref_ok);
  check_token_error(text, ref, ref_ok);
  check_introspection(text, ref, ref_ok);
  check_discovery(text, ref, ref_ok, "https://idp.example.com");
  check_discovery(text, ref, ref_ok, "http://127.0.0.1:8080/realms/test");
  check_cache_control(text);
  return 0;
}

// For the replay driver: seed files named valid-* are accepted by at least one
// of the document parsers.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (std::holds_alternative<session::TokenSet>(session::parse_token_response(text, false))) return 1;
  if (session::parse_token_error(text)) return 1;
  if (!idp::parse_introspection(text, std::chrono::seconds(kNow), config::Introspection{}).ec) return 1;
  idp::ProviderMetadata md;
  return !idp::parse_provider_metadata(text, "https://idp.example.com", md) ||
         !idp::parse_provider_metadata(text, "http://127.0.0.1:8080/realms/test", md);
}
