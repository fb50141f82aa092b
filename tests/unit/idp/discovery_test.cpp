// Unit tests for idp/discovery: provider metadata validation (OpenID Connect
// Discovery 1.0 §3/§4.3, RFC 8414), Cache-Control max-age reading, and the
// JWKS refresh / retry schedule.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "idp/discovery.hpp"
#include "idp/http_client.hpp"

namespace {

using namespace std::chrono_literals;
using authgate::idp::cache_max_age;
using authgate::idp::idp_errc;
using authgate::idp::jwks_refresh_delay;
using authgate::idp::jwks_retry_delay;
using authgate::idp::keys_too_stale;
using authgate::idp::parse_provider_metadata;
using authgate::idp::ProviderMetadata;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kIssuer = "https://idp.example.com";

// Parses `json` for `issuer`; returns the error code (empty on success).
std::error_code parse(std::string_view json, std::string_view issuer, ProviderMetadata& md) {
  return parse_provider_metadata(json, issuer, md);
}

std::error_code parse_err(std::string_view json, std::string_view issuer = kIssuer) {
  ProviderMetadata md;
  return parse(json, issuer, md);
}

// ---------------------------------------------------------------------------
// parse_provider_metadata

TEST(ProviderMetadata, FullDocument) {
  // Shape of an OpenID Provider configuration (Discovery §4.2 example, abridged).
  constexpr std::string_view doc = R"({
    "issuer": "https://idp.example.com",
    "authorization_endpoint": "https://idp.example.com/connect/authorize",
    "token_endpoint": "https://idp.example.com/connect/token",
    "jwks_uri": "https://idp.example.com/jwks.json",
    "introspection_endpoint": "https://idp.example.com:8443/introspect",
    "revocation_endpoint": "https://idp.example.com/revoke",
    "end_session_endpoint": "https://idp.example.com/logout?x=1",
    "response_types_supported": ["code", "id_token", "token id_token"],
    "subject_types_supported": ["public", "pairwise"],
    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    "userinfo_endpoint": 42
  })";
  ProviderMetadata md;
  ASSERT_FALSE(parse(doc, kIssuer, md));
  EXPECT_EQ(md.issuer, "https://idp.example.com");
  EXPECT_EQ(md.jwks_uri, "https://idp.example.com/jwks.json");
  EXPECT_EQ(md.introspection_endpoint, "https://idp.example.com:8443/introspect");
  EXPECT_EQ(md.token_endpoint, "https://idp.example.com/connect/token");
  EXPECT_EQ(md.authorization_endpoint, "https://idp.example.com/connect/authorize");
  EXPECT_EQ(md.revocation_endpoint, "https://idp.example.com/revoke");
  EXPECT_EQ(md.end_session_endpoint, "https://idp.example.com/logout?x=1");
}

TEST(ProviderMetadata, OnlyIssuerIsRequiredHere) {
  // A missing jwks_uri is the caller's concern (an introspection-only issuer
  // has none), not a malformed document.
  ProviderMetadata md;
  md.jwks_uri = "stale";
  ASSERT_FALSE(parse(R"({"issuer":"https://idp.example.com"})", kIssuer, md));
  EXPECT_EQ(md.issuer, kIssuer);
  EXPECT_EQ(md.jwks_uri, "");
  EXPECT_EQ(md.introspection_endpoint, "");
  ASSERT_FALSE(parse(R"({"issuer":"https://idp.example.com",
                         "introspection_endpoint":"https://idp.example.com/i"})",
                     kIssuer, md));
  EXPECT_EQ(md.jwks_uri, "");
  EXPECT_EQ(md.introspection_endpoint, "https://idp.example.com/i");
}

TEST(ProviderMetadata, IssuerMustMatchExactly) {
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com/"})"), idp_errc::invalid_document)
      << "a trailing slash is a different issuer";
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com"})", "https://idp.example.com/"),
            idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":"https://IDP.example.com"})"), idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":"http://idp.example.com"})"), idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com:443"})"), idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":"https://evil.example.com"})"), idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":""})"), idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"jwks_uri":"https://idp.example.com/jwks"})"), idp_errc::invalid_document)
      << "issuer missing";
  EXPECT_EQ(parse_err(R"({"issuer":null})"), idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":["https://idp.example.com"]})"), idp_errc::invalid_document);
  // With a path component (Azure AD, Keycloak realms) the match is still exact.
  EXPECT_FALSE(parse_err(R"({"issuer":"https://idp.example.com/realms/a"})", "https://idp.example.com/realms/a"));
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com/realms/a/"})", "https://idp.example.com/realms/a"),
            idp_errc::invalid_document);
}

TEST(ProviderMetadata, ErrorsAreInTheIdpCategory) {
  const std::error_code ec = parse_err("[]");
  EXPECT_EQ(ec, idp_errc::invalid_document);
  EXPECT_EQ(&ec.category(), &authgate::idp::idp_category());
}

TEST(ProviderMetadata, NotAnObject) {
  for (std::string_view doc : {"", "null", "[]", "\"https://idp.example.com\"", "42", "true", "{", "not json",
                               R"({"issuer":"https://idp.example.com"} trailing)"})
    EXPECT_EQ(parse_err(doc), idp_errc::invalid_document) << doc;
}

TEST(ProviderMetadata, NonStringEndpointMember) {
  for (std::string_view member : {"jwks_uri", "introspection_endpoint", "token_endpoint", "authorization_endpoint",
                                  "revocation_endpoint", "end_session_endpoint"}) {
    for (std::string_view value : {"42", "null", "true", "[\"https://idp.example.com/x\"]", "{}"}) {
      const std::string doc =
          R"({"issuer":"https://idp.example.com",")" + std::string(member) + "\":" + std::string(value) + "}";
      EXPECT_EQ(parse_err(doc), idp_errc::invalid_document) << doc;
    }
  }
}

TEST(ProviderMetadata, EndpointsMustBeAbsoluteHttpUrls) {
  for (std::string_view url : {"/jwks", "jwks.json", "//idp.example.com/jwks", "ftp://idp.example.com/jwks",
                               "https://user:pw@idp.example.com/jwks", "https://idp.example.com/jwks#k",
                               "https://", "https://idp.example.com:0/", "https://idp.example.com/a b", ""}) {
    for (std::string_view member : {"jwks_uri", "introspection_endpoint", "end_session_endpoint"}) {
      const std::string doc = R"({"issuer":"https://idp.example.com",")" + std::string(member) + R"(":")" +
                              std::string(url) + "\"}";
      EXPECT_EQ(parse_err(doc), idp_errc::invalid_document) << doc;
    }
  }
}

TEST(ProviderMetadata, HttpsRequiredUnlessTheIssuerIsHttp) {
  // An https issuer may not send its keys or introspection over http.
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com","jwks_uri":"http://idp.example.com/jwks"})"),
            idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com",
                          "introspection_endpoint":"http://idp.example.com/i"})"),
            idp_errc::invalid_document);
  EXPECT_EQ(parse_err(R"({"issuer":"https://idp.example.com","token_endpoint":"HTTP://idp.example.com/t"})"),
            idp_errc::invalid_document);
  // Any-case https is https.
  EXPECT_FALSE(parse_err(R"({"issuer":"https://idp.example.com","jwks_uri":"HTTPS://idp.example.com/jwks"})"));
  // An http issuer (test set-ups) may use either.
  constexpr std::string_view http_issuer = "http://127.0.0.1:8080";
  ProviderMetadata md;
  ASSERT_FALSE(parse(R"({"issuer":"http://127.0.0.1:8080","jwks_uri":"http://127.0.0.1:8080/jwks",
                         "introspection_endpoint":"https://127.0.0.1:8443/i"})",
                     http_issuer, md));
  EXPECT_EQ(md.jwks_uri, "http://127.0.0.1:8080/jwks");
  EXPECT_EQ(md.introspection_endpoint, "https://127.0.0.1:8443/i");
  // Endpoints on another host are allowed (many IdPs serve JWKS from a CDN).
  EXPECT_FALSE(parse_err(R"({"issuer":"https://idp.example.com","jwks_uri":"https://keys.example.net/jwks"})"));
}

TEST(ProviderMetadata, OutputUntouchedOnError) {
  ProviderMetadata md;
  md.issuer = "previous";
  md.jwks_uri = "https://previous/jwks";
  EXPECT_TRUE(parse(R"({"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/jwks",
                        "token_endpoint":"http://idp.example.com/t"})",
                    kIssuer, md));
  EXPECT_EQ(md.issuer, "previous");
  EXPECT_EQ(md.jwks_uri, "https://previous/jwks");
}

// ---------------------------------------------------------------------------
// cache_max_age

struct MaxAgeCase {
  std::string_view name;
  std::string_view header;
  std::optional<seconds> expected;
};

// clang-format off
const MaxAgeCase kMaxAge[] = {
    {"plain", "max-age=300", 300s},
    {"with_public", "public, max-age=60", 60s},
    {"before_other_directive", "max-age=60, must-revalidate", 60s},
    {"zero", "max-age=0", 0s},
    {"no_cache", "no-cache", 0s},
    {"no_store", "no-store", 0s},
    {"no_store_wins_over_later_max_age", "no-store, max-age=60", 0s},
    {"no_cache_wins_over_earlier_max_age", "max-age=60, no-cache", 0s},
    {"quoted", "max-age=\"30\"", 30s},
    {"upper_case", "MAX-AGE=120", 120s},
    {"mixed_case", "Public, Max-Age=45", 45s},
    {"no_cache_upper", "No-Cache", 0s},
    {"no_store_upper", "NO-STORE", 0s},
    {"tabs_and_spaces", " \tprivate ,\t max-age=10 \t", 10s},
    {"first_max_age_wins", "max-age=30, max-age=60", 30s},
    {"huge_is_capped_at_2_pow_31", "max-age=9999999999", seconds(1LL << 31)},
    {"overflowing_is_2_pow_31_rfc9111", "max-age=99999999999999999999", seconds(1LL << 31)},
    {"s_maxage_is_not_max_age", "s-maxage=100", std::nullopt},
    {"s_maxage_then_max_age", "s-maxage=100, max-age=20", 20s},
    {"garbage", "garbage", std::nullopt},
    {"empty", "", std::nullopt},
    {"only_commas", " , ,", std::nullopt},
    {"public_only", "public", std::nullopt},
    {"no_value", "max-age=", std::nullopt},
    {"no_equals", "max-age", std::nullopt},
    {"non_numeric", "max-age=abc", std::nullopt},
    {"negative", "max-age=-1", std::nullopt},
    {"trailing_garbage", "max-age=10s", std::nullopt},
    {"spaces_around_equals", "max-age = 10", std::nullopt},
    {"unbalanced_quote", "max-age=\"30", std::nullopt},
    {"empty_quotes", "max-age=\"\"", std::nullopt},
    {"garbage_then_valid", "max-age=abc, max-age=40", 40s},
    {"qualified_no_cache_is_not_no_cache", "no-cache=\"set-cookie\", max-age=60", 60s},
};
// clang-format on

class CacheMaxAge : public ::testing::TestWithParam<MaxAgeCase> {};

TEST_P(CacheMaxAge, Case) {
  const MaxAgeCase& c = GetParam();
  const auto got = cache_max_age(c.header);
  if (!c.expected) {
    EXPECT_FALSE(got.has_value()) << c.header << " -> " << got->count();
  } else {
    ASSERT_TRUE(got.has_value()) << c.header;
    EXPECT_EQ(got->count(), c.expected->count()) << c.header;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, CacheMaxAge, ::testing::ValuesIn(kMaxAge),
                         [](const ::testing::TestParamInfo<MaxAgeCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// jwks_refresh_delay

TEST(JwksRefreshDelay, NoMaxAgeMeansMin) {
  EXPECT_EQ(jwks_refresh_delay(std::nullopt, 60s, 1h), milliseconds(60s));
}

TEST(JwksRefreshDelay, ClampedToMinAndMax) {
  EXPECT_EQ(jwks_refresh_delay(300s, 60s, 1h), milliseconds(300s));
  EXPECT_EQ(jwks_refresh_delay(0s, 60s, 1h), milliseconds(60s)) << "no-cache must not mean a tight loop";
  EXPECT_EQ(jwks_refresh_delay(59s, 60s, 1h), milliseconds(60s));
  EXPECT_EQ(jwks_refresh_delay(60s, 60s, 1h), milliseconds(60s));
  EXPECT_EQ(jwks_refresh_delay(3600s, 60s, 1h), milliseconds(1h));
  EXPECT_EQ(jwks_refresh_delay(3601s, 60s, 1h), milliseconds(1h));
  EXPECT_EQ(jwks_refresh_delay(seconds(10LL * 365 * 86400), 60s, 1h), milliseconds(1h));
  EXPECT_EQ(jwks_refresh_delay(30s, 30s, 30s), milliseconds(30s));
}

TEST(JwksRefreshDelay, FromACacheControlHeader) {
  EXPECT_EQ(jwks_refresh_delay(cache_max_age("public, max-age=600"), 60s, 1h), milliseconds(600s));
  EXPECT_EQ(jwks_refresh_delay(cache_max_age("no-store"), 60s, 1h), milliseconds(60s));
  EXPECT_EQ(jwks_refresh_delay(cache_max_age("junk"), 60s, 1h), milliseconds(60s));
}

// ---------------------------------------------------------------------------
// jwks_retry_delay

// random_unit 0.5 gives a jitter factor of (close to) 1.
constexpr double kMid = 0.5;

TEST(JwksRetryDelay, DoublesPerFailureUpToTheCap) {
  const milliseconds base = 1s, cap = 30s;
  auto near = [](milliseconds got, milliseconds want) {
    EXPECT_NEAR(static_cast<double>(got.count()), static_cast<double>(want.count()), 1.0);
  };
  near(jwks_retry_delay(1, base, cap, kMid), 1s);
  near(jwks_retry_delay(2, base, cap, kMid), 2s);
  near(jwks_retry_delay(3, base, cap, kMid), 4s);
  near(jwks_retry_delay(4, base, cap, kMid), 8s);
  near(jwks_retry_delay(5, base, cap, kMid), 16s);
  near(jwks_retry_delay(6, base, cap, kMid), 30s);
  near(jwks_retry_delay(7, base, cap, kMid), 30s);
  near(jwks_retry_delay(1000, base, cap, kMid), 30s);
  near(jwks_retry_delay(4'000'000'000u, base, cap, kMid), 30s);
}

TEST(JwksRetryDelay, JitterBounds) {
  // [0.8, 1.2) of the un-jittered delay.
  EXPECT_EQ(jwks_retry_delay(1, 1000ms, 30s, 0.0), 800ms);
  EXPECT_EQ(jwks_retry_delay(1, 1000ms, 30s, 0.999999), 1199ms);
  EXPECT_EQ(jwks_retry_delay(3, 1000ms, 30s, 0.0), 3200ms);
  EXPECT_EQ(jwks_retry_delay(3, 1000ms, 30s, 0.999999), 4799ms);
  EXPECT_EQ(jwks_retry_delay(20, 1000ms, 30s, 0.0), 24000ms);
  EXPECT_EQ(jwks_retry_delay(20, 1000ms, 30s, 0.999999), 35999ms);
  // Out-of-range random values are clamped to [0, 1).
  EXPECT_EQ(jwks_retry_delay(1, 1000ms, 30s, -3.0), 800ms);
  EXPECT_EQ(jwks_retry_delay(1, 1000ms, 30s, 1.0), 1199ms);
  EXPECT_EQ(jwks_retry_delay(1, 1000ms, 30s, 7.5), 1199ms);
  for (unsigned failures = 1; failures <= 8; ++failures) {
    const double d = std::min(1000.0 * (1u << (failures - 1)), 30000.0);
    for (double r = 0.0; r < 1.0; r += 0.0625) {
      const auto got = static_cast<double>(jwks_retry_delay(failures, 1000ms, 30s, r).count());
      EXPECT_GE(got, 0.8 * d - 1) << failures << " " << r;
      EXPECT_LT(got, 1.2 * d) << failures << " " << r;
    }
  }
}

TEST(JwksRetryDelay, CapBelowBaseUsesBase) {
  EXPECT_NEAR(static_cast<double>(jwks_retry_delay(1, 5s, 1s, kMid).count()), 5000.0, 1.0);
  EXPECT_NEAR(static_cast<double>(jwks_retry_delay(5, 5s, 1s, kMid).count()), 5000.0, 1.0);
}

// max_stale counts milliseconds on the fetch's own (monotonic) clock: keys
// fetched at .9 of a second with max_stale 1500ms serve exactly 1.5 s (the Unix
// seconds used before made that anything from 1 to 2 s).
TEST(JwksMaxStale, CountsMillisecondsFromTheFetch) {
  const milliseconds fetched(10'900);
  EXPECT_FALSE(keys_too_stale(fetched, fetched, 1500ms));
  EXPECT_FALSE(keys_too_stale(fetched, fetched + 1500ms, 1500ms)) << "exactly max_stale old: still served";
  EXPECT_TRUE(keys_too_stale(fetched, fetched + 1501ms, 1500ms));
  EXPECT_FALSE(keys_too_stale(fetched, fetched + 999ms, 1s));
  EXPECT_TRUE(keys_too_stale(fetched, fetched + 1001ms, 1s));
  EXPECT_FALSE(keys_too_stale(fetched, fetched + 24h, 24h));
  EXPECT_TRUE(keys_too_stale(fetched, fetched + 24h + 1ms, 24h));
}

}  // namespace
