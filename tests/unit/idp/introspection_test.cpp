// Unit tests for idp/introspector's pure part, parse_introspection(): the
// RFC 7662 §2.2 response, inactive answers (active false, exp passed, nbf
// ahead, not an access token) and malformed answers, with the cache lifetime
// of each, to the millisecond (the clock is a parameter).
#include <gtest/gtest.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth_errc.hpp"
#include "config/config.hpp"
#include "idp/introspector.hpp"

namespace {

using namespace std::chrono_literals;
using authgate::auth::auth_errc;
using authgate::idp::IntrospectionResult;
using authgate::idp::parse_introspection;

// `unix_s` seconds and `ms` milliseconds after the epoch: parse_introspection's clock.
std::chrono::milliseconds at(std::int64_t unix_s, std::int64_t ms = 0) {
  return std::chrono::milliseconds(unix_s * 1000 + ms);
}

authgate::config::Introspection cfg(std::chrono::milliseconds cache_ttl = 300s,
                                    std::chrono::milliseconds negative_ttl = 10s) {
  authgate::config::Introspection c;
  c.client_id = "gateway";
  c.client_secret = "secret";
  c.cache_ttl = cache_ttl;
  c.negative_ttl = negative_ttl;
  return c;
}

// RFC 7662 §2.2, the example response, verbatim.
constexpr std::string_view kRfcExample = R"({
  "active": true,
  "client_id": "l238j323ds-23ij4",
  "username": "jdoe",
  "scope": "read write dolphin",
  "sub": "Z5O3upPC88QrAjx00dis",
  "aud": "https://protected.example.net/resource",
  "iss": "https://server.example.com/",
  "exp": 1419356238,
  "iat": 1419350238,
  "extension_field": "twenty-seven"
})";
constexpr std::int64_t kIat = 1419350238;
constexpr std::int64_t kExp = 1419356238;

// The same with every §2.2 member, including token_type, nbf and jti.
constexpr std::string_view kFull = R"({
  "active": true,
  "scope": "read write dolphin",
  "client_id": "l238j323ds-23ij4",
  "username": "jdoe",
  "token_type": "Bearer",
  "exp": 1419356238,
  "iat": 1419350238,
  "nbf": 1419350238,
  "sub": "Z5O3upPC88QrAjx00dis",
  "aud": "https://protected.example.net/resource",
  "iss": "https://server.example.com/",
  "jti": "abc-123"
})";

std::string str(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string("<missing>");
}

void expect_failed(const IntrospectionResult& r, std::string_view body) {
  EXPECT_EQ(r.ec, auth_errc::introspection_failed) << body << " -> " << r.ec.message();
  EXPECT_FALSE(r.claims) << body;
  EXPECT_EQ(r.cache_for, 0ms) << "a failed call must not be cached: " << body;
}

void expect_inactive(const IntrospectionResult& r, std::chrono::milliseconds negative_ttl,
                     std::string_view body) {
  EXPECT_EQ(r.ec, auth_errc::introspection_inactive) << body << " -> " << r.ec.message();
  EXPECT_FALSE(r.claims) << body;
  EXPECT_EQ(r.cache_for, negative_ttl) << body;
}

TEST(ParseIntrospection, RfcExampleIsActive) {
  const std::int64_t now = kIat + 60;
  const auto r = parse_introspection(kRfcExample, at(now), cfg(300s));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_TRUE(r.claims);
  EXPECT_EQ(str(*r.claims, "scope"), "read write dolphin");
  EXPECT_EQ(str(*r.claims, "client_id"), "l238j323ds-23ij4");
  EXPECT_EQ(str(*r.claims, "username"), "jdoe");
  EXPECT_EQ(str(*r.claims, "sub"), "Z5O3upPC88QrAjx00dis");
  EXPECT_EQ(str(*r.claims, "aud"), "https://protected.example.net/resource");
  EXPECT_EQ(str(*r.claims, "iss"), "https://server.example.com/");
  EXPECT_EQ(str(*r.claims, "extension_field"), "twenty-seven");
  // exp is far away: cached for cache_ttl.
  EXPECT_EQ(r.cache_for, 300s);
}

TEST(ParseIntrospection, FullResponseIsActiveWithEveryClaim) {
  const std::int64_t now = kIat + 60;
  const auto r = parse_introspection(kFull, at(now), cfg(300s));
  ASSERT_FALSE(r.ec) << r.ec.message();
  ASSERT_TRUE(r.claims);
  EXPECT_EQ(str(*r.claims, "token_type"), "Bearer");
  EXPECT_EQ(str(*r.claims, "jti"), "abc-123");
  EXPECT_EQ(str(*r.claims, "scope"), "read write dolphin");
  EXPECT_EQ(r.claims->at("exp").to_number<std::int64_t>(), kExp);
  EXPECT_EQ(r.claims->at("iat").to_number<std::int64_t>(), kIat);
  EXPECT_EQ(r.claims->at("nbf").to_number<std::int64_t>(), kIat);
  EXPECT_TRUE(r.claims->at("active").as_bool());
  EXPECT_EQ(r.cache_for, 300s) << "exp is further away than cache_ttl";
}

TEST(ParseIntrospection, CachedForMinOfExpAndTtl) {
  // exp closer than cache_ttl: cached until exp.
  auto r = parse_introspection(kFull, at(kExp - 100), cfg(300s));
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.cache_for, 100s);
  // exp exactly cache_ttl away.
  r = parse_introspection(kFull, at(kExp - 300), cfg(300s));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.cache_for, 300s);
  // Without exp: cache_ttl.
  r = parse_introspection(R"({"active":true,"sub":"x"})", at(1000), cfg(120s));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.cache_for, 120s);
  // cache_ttl 0 (never from the loader): not cacheable.
  r = parse_introspection(R"({"active":true})", at(1000), cfg(0s));
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.cache_for, 0ms);
}

// Before milliseconds: an answer cached at .518 of a second with cache_ttl 2s
// lived 1.4 s, 1500ms lived 0.06-0.94 s, and 900ms was never cached.
TEST(ParseIntrospection, LifetimesAreMillisecondsWhateverTheFractionOfTheSecond) {
  constexpr std::string_view no_exp = R"({"active":true,"sub":"x"})";
  for (std::int64_t fraction : {0, 1, 60, 518, 912, 999}) {
    SCOPED_TRACE("now at ." + std::to_string(fraction) + " of a second");
    EXPECT_EQ(parse_introspection(no_exp, at(1000, fraction), cfg(2s)).cache_for, 2000ms);
    EXPECT_EQ(parse_introspection(no_exp, at(1000, fraction), cfg(1500ms)).cache_for, 1500ms);
    EXPECT_EQ(parse_introspection(no_exp, at(1000, fraction), cfg(900ms)).cache_for, 900ms);
    EXPECT_EQ(parse_introspection(no_exp, at(1000, fraction), cfg(1ms)).cache_for, 1ms);
    EXPECT_EQ(parse_introspection(R"({"active":false})", at(1000, fraction), cfg(300s, 250ms)).cache_for, 250ms);
  }
}

// exp is whole seconds: the answer lives until exactly exp, counted from now in ms.
TEST(ParseIntrospection, ExpCutsTheLifetimeToTheMillisecond) {
  constexpr std::string_view body = R"({"active":true,"exp":1001})";
  EXPECT_EQ(parse_introspection(body, at(1000, 400), cfg(300s)).cache_for, 600ms);
  EXPECT_EQ(parse_introspection(body, at(1000, 999), cfg(300s)).cache_for, 1ms);
  EXPECT_EQ(parse_introspection(body, at(1000, 0), cfg(300s)).cache_for, 1000ms);
  EXPECT_EQ(parse_introspection(body, at(1000, 400), cfg(500ms)).cache_for, 500ms) << "cache_ttl is shorter";
  expect_inactive(parse_introspection(body, at(1001, 0), cfg()), 10s, "now == exp");
  // A far-future exp saturates instead of overflowing.
  const auto far = parse_introspection(R"({"active":true,"exp":9223372036854775807})", at(1000), cfg(300s));
  ASSERT_FALSE(far.ec) << far.ec.message();
  EXPECT_EQ(far.cache_for, 300s);
}

TEST(ParseIntrospection, ActiveFalseIsInactiveAndNegativelyCached) {
  constexpr std::string_view body = R"({"active":false})";
  expect_inactive(parse_introspection(body, at(5000), cfg(300s, 10s)), 10s, body);
  expect_inactive(parse_introspection(body, at(5000), cfg(300s, 45s)), 45s, body);
  // Other members of an inactive answer are ignored.
  constexpr std::string_view with_claims = R"({"active":false,"sub":"x","exp":99999999999,"scope":"admin"})";
  expect_inactive(parse_introspection(with_claims, at(5000), cfg()), 10s, with_claims);
}

TEST(ParseIntrospection, ExpInThePastIsInactive) {
  expect_inactive(parse_introspection(kFull, at(kExp + 1), cfg()), 10s, "exp passed");
  expect_inactive(parse_introspection(kFull, at(kExp), cfg()), 10s, "now == exp");
  ASSERT_FALSE(parse_introspection(kFull, at(kExp - 1), cfg()).ec) << "one second before exp";
}

TEST(ParseIntrospection, NbfInTheFutureIsInactive) {
  constexpr std::string_view body = R"({"active":true,"nbf":2000,"exp":3000})";
  expect_inactive(parse_introspection(body, at(1999), cfg()), 10s, body);
  EXPECT_FALSE(parse_introspection(body, at(2000), cfg()).ec) << "nbf == now is valid";
  EXPECT_FALSE(parse_introspection(body, at(2500), cfg()).ec);
}

TEST(ParseIntrospection, MalformedTimesAreInactive) {
  for (std::string_view body : {R"({"active":true,"exp":"3000"})", R"({"active":true,"exp":null})",
                                R"({"active":true,"nbf":"1"})", R"({"active":true,"nbf":[1]})"})
    expect_inactive(parse_introspection(body, at(1000), cfg()), 10s, body);
}

TEST(ParseIntrospection, OnlyBearerAccessTokensAreActive) {
  for (std::string_view body :
       {R"({"active":true,"token_type":"refresh_token"})", R"({"active":true,"token_type":"DPoP"})",
        R"({"active":true,"token_type":"N_A"})", R"({"active":true,"token_type":""})",
        R"({"active":true,"token_type":42})", R"({"active":true,"token_type":null})"})
    expect_inactive(parse_introspection(body, at(1000), cfg()), 10s, body);
  for (std::string_view body : {R"({"active":true,"token_type":"Bearer"})", R"({"active":true,"token_type":"bearer"})",
                                R"({"active":true,"token_type":"access_token"})",
                                R"({"active":true,"token_type":"ACCESS_TOKEN"})"})
    EXPECT_FALSE(parse_introspection(body, at(1000), cfg()).ec) << body;
}

TEST(ParseIntrospection, MalformedAnswersFail) {
  for (std::string_view body : {
           R"({"active":"true"})",  // a string, not a boolean
           R"({"active":1})",
           R"({"active":null})",
           R"({"sub":"x","exp":99999999999})",  // active missing
           R"({})",
           R"([{"active":true}])",
           R"("active")",
           "true",
           "not json",
           "",
           R"({"active":true)",
           "<html>502 Bad Gateway</html>",
       })
    expect_failed(parse_introspection(body, at(1000), cfg()), body);
}

TEST(ParseIntrospection, ErrorsAreAuthErrcValues) {
  const auto failed = parse_introspection("x", at(1000), cfg());
  const auto inactive = parse_introspection(R"({"active":false})", at(1000), cfg());
  EXPECT_EQ(&failed.ec.category(), &authgate::auth::auth_category());
  EXPECT_EQ(&inactive.ec.category(), &authgate::auth::auth_category());
  EXPECT_EQ(failed.ec.value(), static_cast<int>(auth_errc::introspection_failed));
  EXPECT_EQ(inactive.ec.value(), static_cast<int>(auth_errc::introspection_inactive));
}

TEST(ParseIntrospection, NegativeTtlIsKeptToTheMillisecond) {
  auto r = parse_introspection(R"({"active":false})", at(1000, 700), cfg(300s, 1500ms));
  EXPECT_EQ(r.ec, auth_errc::introspection_inactive);
  EXPECT_EQ(r.cache_for, 1500ms);
  r = parse_introspection(R"({"active":false})", at(1000), cfg(300s, 0s));
  EXPECT_EQ(r.cache_for, 0ms) << "0 (never from the loader): not cacheable";
}

}  // namespace
