// auth: the verified-JWT cache end to end. A hit skips only the signature
// check: the times are checked again, and the route's issuer list and policy
// are applied on every request. limits.token_cache_entries: 0 turns it off.
#include <chrono>
#include <fstream>
#include <thread>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::eventually;

// An RS256 access token (kid rsa-1) of `iss` for `aud`, expiring at now + exp_offset.
std::string token(const std::string& iss, const std::string& scope, std::int64_t exp_offset = 300,
                  const std::string& aud = R"("orders-api")", const std::string& jti = "1") {
  return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})",
                  R"({"iss":")" + iss + R"(","sub":"alice","aud":)" + aud + R"(,"scope":")" + scope +
                      R"(","iat":)" + std::to_string(now_s() - 5) + R"(,"exp":)" +
                      std::to_string(now_s() + exp_offset) + R"(,"jti":")" + jti + R"("})");
}

constexpr const char* kIssA = "https://a.idp.test";
constexpr const char* kIssB = "https://b.idp.test";

class TokenCache : public ::testing::Test {
 protected:
  // Issuers a and b, both with a jwks_file holding the test RSA key; a has leeway 1s.
  // Routes: /a/read (issuer a, orders:read), /a/write (issuer a, orders:write), /b (issuer b).
  void start(std::vector<std::pair<std::string, std::string>> limits = {}, std::string extra_issuers = {}) {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"a-read", "app", "/a/read"}
                             .with("auth", "bearer")
                             .with("issuers", "[a]")
                             .with("require", "{scopes_all: [orders:read]}"));
    cfg.routes.push_back(RouteSpec{"a-write", "app", "/a/write"}
                             .with("auth", "bearer")
                             .with("issuers", "[a]")
                             .with("require", "{scopes_all: [orders:write]}"));
    cfg.routes.push_back(RouteSpec{"b", "app", "/b"}.with("auth", "bearer").with("issuers", "[b]"));
    for (auto& r : extra_routes_) cfg.routes.push_back(r);
    cfg.limits = std::move(limits);
    const std::string jwks = jwks_file();
    cfg.issuers_yaml = std::string("issuers:\n") +
                       "  - name: a\n"
                       "    issuer: " + kIssA + "\n"
                       "    audiences: [orders-api]\n"
                       "    leeway: 1s\n"
                       "    jwks_file: " + jwks + "\n"
                       "  - name: b\n"
                       "    issuer: " + kIssB + "\n"
                       "    audiences: [orders-api]\n"
                       "    jwks_file: " + jwks + "\n" + extra_issuers;
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  std::optional<Response> call(const std::string& path, const std::string& tok) {
    return support::http_request(
        gw_->port(), support::make_request("GET", path, {{"Authorization", "Bearer " + tok}}));
  }
  double lookups(const std::string& result) {
    return metric_or_zero(*gw_, "authgate_token_cache_lookups_total", {{"result", result}});
  }
  double decisions(const std::string& route, const std::string& reason) {
    return metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"route", route}, {"reason", reason}});
  }

  // The JWKS file (the test RSA key), written on first use.
  std::string jwks_file() {
    const std::string path = keys_.file("jwks.json");
    if (!written_) std::ofstream(path) << ts::jwks_of({ts::rsa2048().public_jwk()});
    written_ = true;
    return path;
  }

  support::TempDir keys_;
  bool written_ = false;
  std::vector<RouteSpec> extra_routes_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(TokenCache, SameTokenTwiceIsOneMissThenOneHit) {
  start();
  const std::string t = token(kIssA, "orders:read");
  auto first = call("/a/read/x", t);
  ASSERT_EQ(status_of(first), 200) << describe(first);
  EXPECT_EQ(lookups("miss"), 1);
  EXPECT_EQ(lookups("hit"), 0);
  auto second = call("/a/read/y", t);
  ASSERT_EQ(status_of(second), 200) << describe(second);
  EXPECT_EQ(lookups("miss"), 1);
  EXPECT_EQ(lookups("hit"), 1);
  EXPECT_EQ(decisions("a-read", "ok"), 2);
}

TEST_F(TokenCache, CachedTokenIsRejectedOnceItExpires) {
  start();
  const std::int64_t exp = now_s() + 2;
  const std::string t = token(kIssA, "orders:read", 2);  // issuer a: leeway 1s
  auto r = call("/a/read/x", t);
  ASSERT_EQ(status_of(r), 200) << describe(r);
  auto hit = call("/a/read/x", t);
  ASSERT_EQ(status_of(hit), 200) << describe(hit);
  EXPECT_EQ(lookups("hit"), 1);
  // Past exp but within the leeway: still valid (the entry may be gone, the token is not).
  ASSERT_TRUE(eventually([&] { return now_s() >= exp; }, 4s));
  auto in_leeway = call("/a/read/x", t);
  if (now_s() < exp + 1) {  // the gateway's clock was within the leeway too
    EXPECT_EQ(status_of(in_leeway), 200) << describe(in_leeway);
  }
  // Expired once now >= exp + leeway (whole seconds): about 3 s after minting.
  ASSERT_TRUE(eventually([&] { return now_s() >= exp + 1; }, 4s));
  auto late = call("/a/read/x", t);
  ASSERT_EQ(status_of(late), 401) << describe(late);
  EXPECT_NE(late->header("WWW-Authenticate").value_or("").find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_EQ(decisions("a-read", "expired"), 1);
  EXPECT_EQ(decisions("a-read", "ok"), status_of(in_leeway) == 200 ? 3 : 2);
}

TEST_F(TokenCache, ZeroEntriesTurnsTheCacheOff) {
  start({{"token_cache_entries", "0"}});
  const std::string t = token(kIssA, "orders:read");
  for (int i = 0; i < 3; ++i) {
    auto r = call("/a/read/x", t);
    ASSERT_EQ(status_of(r), 200) << "call " << i << "\n" << describe(r);
  }
  EXPECT_EQ(lookups("hit"), 0);
  EXPECT_EQ(decisions("a-read", "ok"), 3);
}

TEST_F(TokenCache, CachedTokenDoesNotBypassTheRoutesIssuerList) {
  start();
  const std::string t = token(kIssA, "orders:read");
  ASSERT_EQ(status_of(call("/a/read/x", t)), 200);
  auto r = call("/b/x", t);  // route b accepts only issuer b
  ASSERT_EQ(status_of(r), 401) << describe(r);
  EXPECT_NE(r->header("WWW-Authenticate").value_or("").find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_EQ(lookups("hit"), 0) << "an entry for an issuer the route does not accept is not a hit";
  EXPECT_EQ(decisions("b", "bad_issuer"), 1);
  EXPECT_FALSE(up_->saw_target_containing("/b/x"));
  // Control: the same on a cold cache.
  const std::string fresh = token(kIssA, "orders:read", 300, R"("orders-api")", "2");
  EXPECT_EQ(status_of(call("/b/x", fresh)), 401);
  EXPECT_EQ(decisions("b", "bad_issuer"), 2);
}

TEST_F(TokenCache, RoutePolicyIsAppliedOnCacheHits) {
  start();
  const std::string t = token(kIssA, "orders:read");
  ASSERT_EQ(status_of(call("/a/read/x", t)), 200);
  auto r = call("/a/write/x", t);
  ASSERT_EQ(status_of(r), 403) << describe(r);
  EXPECT_NE(r->header("WWW-Authenticate")
                .value_or("")
                .find(R"(error="insufficient_scope", scope="orders:write")"),
            std::string::npos)
      << r->header("WWW-Authenticate").value_or("(none)");
  EXPECT_EQ(lookups("hit"), 1) << "the 403 came from a cache hit";
  EXPECT_FALSE(up_->saw_target_containing("/a/write"));
  EXPECT_EQ(status_of(call("/a/read/y", t)), 200);
  EXPECT_EQ(lookups("hit"), 2);
}

// Two issuer entries may share one "iss" (same IdP, different audiences, so
// that routes can tell them apart). A token for both audiences is accepted by
// either on a cold cache; the cache must not change that: a hit recorded under
// the first entry must not turn into a 401 on a route that accepts only the
// second one.
TEST_F(TokenCache, CacheDoesNotChangeTheOutcomeForIssuersSharingAnIss) {
  extra_routes_.push_back(RouteSpec{"s1", "app", "/s1"}.with("auth", "bearer").with("issuers", "[shared-orders]"));
  extra_routes_.push_back(RouteSpec{"s2", "app", "/s2"}.with("auth", "bearer").with("issuers", "[shared-billing]"));
  const std::string jwks = jwks_file();
  start({}, "  - name: shared-orders\n"
            "    issuer: https://shared.idp.test\n"
            "    audiences: [orders-api]\n"
            "    jwks_file: " + jwks + "\n"
            "  - name: shared-billing\n"
            "    issuer: https://shared.idp.test\n"
            "    audiences: [billing-api]\n"
            "    jwks_file: " + jwks + "\n");
  const std::string both = R"(["orders-api","billing-api"])";
  // Cold cache: each route accepts the token through its own issuer entry.
  EXPECT_EQ(status_of(call("/s2/x", token("https://shared.idp.test", "x", 300, both, "cold"))), 200);
  // Warm: cached via /s1 (shared-orders), then presented on /s2 (shared-billing).
  const std::string t = token("https://shared.idp.test", "x", 300, both, "warm");
  ASSERT_EQ(status_of(call("/s1/x", t)), 200);
  auto r = call("/s2/x", t);
  EXPECT_EQ(status_of(r), 200) << "a cache hit must not deny what a cold cache accepts\n" << describe(r);
}

}  // namespace
}  // namespace it
