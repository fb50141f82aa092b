// auth: remote keys end to end. A scriptable IdP on loopback (discovery +
// JWKS, counting every fetch) in front of the real binary; the counts prove
// the fetch discipline: new kids on first use, one fetch for N concurrent
// waiters, a bounded refetch rate under a random-kid flood, stale-if-error,
// 503 when no key set ever loaded.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::eventually;

// The IdP: /.well-known/openid-configuration and /jwks, each counted.
class FakeIdp {
 public:
  FakeIdp()
      : server_([this](support::UpstreamConnection& c, const support::RequestHead& h) { serve(c, h); }) {
    set_keys({ts::rsa2048().public_jwk()});
  }
  // The server's threads read the members below: stop them before those are destroyed
  // (server_ is declared first, so it would otherwise be destroyed last; found by TSan).
  ~FakeIdp() { server_.stop(); }
  std::string issuer() const { return server_.url(); }
  void set_keys(const std::vector<std::string>& jwks) {
    std::lock_guard lock(mu_);
    jwks_ = ts::jwks_of(jwks);
  }
  void set_jwks_status(int status) { jwks_status_ = status; }
  void set_delay(std::chrono::milliseconds d) { delay_ms_ = static_cast<int>(d.count()); }
  void set_cache_control(std::string v) {
    std::lock_guard lock(mu_);
    cache_control_ = std::move(v);
  }
  int discovery_fetches() const { return discovery_.load(); }
  int jwks_fetches() const { return jwks_fetches_.load(); }

 private:
  void serve(support::UpstreamConnection& c, const support::RequestHead& h) {
    if (delay_ms_ > 0) c.sleep(std::chrono::milliseconds(delay_ms_.load()));
    if (h.target == "/.well-known/openid-configuration") {
      ++discovery_;
      c.respond(200, R"({"issuer":")" + issuer() + R"(","jwks_uri":")" + issuer() + R"(/jwks"})", {},
                "application/json");
    } else if (h.target == "/jwks") {
      ++jwks_fetches_;
      std::string body, cc;
      {
        std::lock_guard lock(mu_);
        body = jwks_;
        cc = cache_control_;
      }
      std::vector<support::Header> headers;
      if (!cc.empty()) headers.push_back({"Cache-Control", cc});
      if (jwks_status_ != 200) c.respond(jwks_status_, "{\"error\":\"down\"}", {}, "application/json");
      else c.respond(200, body, headers, "application/json");
    } else {
      c.respond(404, "");
    }
  }

  support::UpstreamServer server_;
  std::mutex mu_;
  std::string jwks_;
  std::string cache_control_;
  std::atomic<int> jwks_status_{200};
  std::atomic<int> delay_ms_{0};
  std::atomic<int> discovery_{0};
  std::atomic<int> jwks_fetches_{0};
};

std::string claims_for(const std::string& iss, const std::string& jti = "1") {
  return R"({"iss":")" + iss + R"(","sub":"alice","aud":"orders-api","scope":"orders:read","exp":)" +
         std::to_string(now_s() + 300) + R"(,"jti":")" + jti + R"("})";
}

std::string token(const ts::TestKey& key, const std::string& kid, const std::string& iss,
                  const std::string& jti = "1") {
  return ts::mint(key, "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":")" + kid + R"("})",
                  claims_for(iss, jti));
}

class Jwks : public ::testing::Test {
 protected:
  void start(std::string issuer_extra = {}, bool wait_ready = true) {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}.with("auth", "bearer"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: idp\n"
                       "    issuer: " + idp_.issuer() + "\n"
                       "    audiences: [orders-api]\n" + issuer_extra;
    cfg.wait_for_ready = wait_ready;
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  std::optional<Response> call(const std::string& tok) {
    return support::http_request(
        gw_->port(), support::make_request("GET", "/api/x", {{"Authorization", "Bearer " + tok}}));
  }

  // Sends `tokens` concurrently (one thread each); returns the status codes.
  std::vector<int> call_concurrently(const std::vector<std::string>& tokens) {
    std::vector<int> codes(tokens.size(), 0);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < tokens.size(); ++i)
      threads.emplace_back([&, i] {
        auto r = call(tokens[i]);
        codes[i] = r ? r->status : -1;
      });
    for (auto& t : threads) t.join();
    return codes;
  }

  double fetches(const std::string& result) {
    return metric_or_zero(*gw_, "authgate_jwks_fetches_total", {{"issuer", "idp"}, {"result", result}});
  }

  FakeIdp idp_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(Jwks, DiscoveryThenJwksThenReadyAndTokensVerify) {
  start();
  EXPECT_EQ(idp_.discovery_fetches(), 1);
  EXPECT_EQ(idp_.jwks_fetches(), 1);
  auto r = call(token(ts::rsa2048(), "rsa-1", idp_.issuer()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(fetches("success"), 1);
  const auto samples = support::parse_prometheus(gw_->metrics_text());
  EXPECT_EQ(support::metric_value(samples, "authgate_jwks_keys", {{"issuer", "idp"}}), 1);
  auto last = support::metric_value(samples, "authgate_jwks_last_success_timestamp_seconds", {{"issuer", "idp"}});
  ASSERT_TRUE(last);
  EXPECT_NEAR(*last, static_cast<double>(now_s()), 30);
  EXPECT_EQ(idp_.jwks_fetches(), 1) << "a known kid never causes a fetch";
}

TEST_F(Jwks, NewKidIsPickedUpOnFirstUse) {
  start();
  idp_.set_keys({ts::rsa2048().public_jwk(), ts::rsa2048_b().public_jwk()});
  auto r = call(token(ts::rsa2048_b(), "rsa-2", idp_.issuer()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(idp_.jwks_fetches(), 2);
}

TEST_F(Jwks, HundredConcurrentRequestsWithANewKidCauseOneFetch) {
  start();
  idp_.set_keys({ts::rsa2048().public_jwk(), ts::rsa2048_b().public_jwk()});
  idp_.set_delay(300ms);  // keep the fetch in flight while the requests pile up
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back(token(ts::rsa2048_b(), "rsa-2", idp_.issuer(), std::to_string(i)));
  const auto codes = call_concurrently(tokens);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), 200), 100);
  EXPECT_EQ(idp_.jwks_fetches(), 2) << "1 at start-up + 1 for all 100 requests";
}

TEST_F(Jwks, HundredConcurrentRequestsOnAColdStartCauseOneFetch) {
  idp_.set_delay(500ms);
  start({}, /*wait_ready=*/false);  // requests arrive while the first fetch is in flight
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back(token(ts::rsa2048(), "rsa-1", idp_.issuer(), std::to_string(i)));
  const auto codes = call_concurrently(tokens);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), 200), 100);
  EXPECT_EQ(idp_.discovery_fetches(), 1);
  EXPECT_EQ(idp_.jwks_fetches(), 1);
}

TEST_F(Jwks, RandomKidFloodCostsAtMostOneFetchPerInterval) {
  start("    jwks_refetch_interval: 30s\n");
  const int before = idp_.jwks_fetches();
  std::vector<std::string> tokens;
  for (int i = 0; i < 60; ++i)
    tokens.push_back(token(ts::rsa2048(), "random-" + std::to_string(i), idp_.issuer(), std::to_string(i)));
  // Two waves, so the second arrives after the first refetch has finished.
  auto first = call_concurrently(std::vector<std::string>(tokens.begin(), tokens.begin() + 30));
  auto second = call_concurrently(std::vector<std::string>(tokens.begin() + 30, tokens.end()));
  EXPECT_EQ(std::count(first.begin(), first.end(), 401), 30);
  EXPECT_EQ(std::count(second.begin(), second.end(), 401), 30);
  EXPECT_LE(idp_.jwks_fetches() - before, 1);
  auto r = call(tokens[0]);
  ASSERT_TRUE(r);
  EXPECT_NE(r->header("WWW-Authenticate").value_or("").find("invalid_token"), std::string::npos);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "unknown_kid"}}), 61);
}

TEST_F(Jwks, RefetchIntervalAllowsAnotherFetchLater) {
  start("    jwks_refetch_interval: 1s\n");
  const int before = idp_.jwks_fetches();
  EXPECT_EQ(call(token(ts::rsa2048(), "nope-1", idp_.issuer()))->status, 401);
  EXPECT_EQ(idp_.jwks_fetches() - before, 1);
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(call(token(ts::rsa2048(), "nope-2", idp_.issuer()))->status, 401);
  EXPECT_EQ(idp_.jwks_fetches() - before, 2);
}

TEST_F(Jwks, BadSignatureNeverTriggersAFetch) {
  start();
  std::string t = token(ts::rsa2048(), "rsa-1", idp_.issuer());
  t[t.size() - 5] = t[t.size() - 5] == 'A' ? 'B' : 'A';
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call(t)->status, 401);
  EXPECT_EQ(idp_.jwks_fetches(), 1);
}

TEST_F(Jwks, StaleIfErrorKeepsTheLastGoodKeysUntilMaxStale) {
  start("    jwks_refresh_min: 1s\n"
        "    jwks_refresh_max: 1s\n"
        "    jwks_retry_interval: 200ms\n"
        "    max_stale: 3s\n");
  const std::string t = token(ts::rsa2048(), "rsa-1", idp_.issuer());
  idp_.set_jwks_status(500);
  ASSERT_TRUE(eventually([&] { return fetches("http_error") >= 2; }, 5s));
  auto r = call(t);  // the IdP fails, the last good set still verifies
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  // Past max_stale the old keys are dropped: the gateway cannot check tokens.
  ASSERT_TRUE(eventually([&] {
    auto s = call(token(ts::rsa2048(), "rsa-1", idp_.issuer(), "fresh"));
    return s && s->status == 503;
  }, 6s));
  auto readyz = gw_->admin_get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 503);
  EXPECT_NE(readyz->body.find("issuer:idp"), std::string::npos) << readyz->body;
  // The IdP recovers: keys and readiness come back.
  idp_.set_jwks_status(200);
  ASSERT_TRUE(eventually([&] {
    auto s = call(token(ts::rsa2048(), "rsa-1", idp_.issuer(), "again"));
    return s && s->status == 200;
  }, 5s));
  EXPECT_EQ(gw_->admin_get("/readyz")->status, 200);
}

TEST_F(Jwks, NoKeySetEverLoadedIs503WithRetryAfterAndNotReady) {
  idp_.set_jwks_status(500);
  start("    jwks_refetch_interval: 1s\n", /*wait_ready=*/false);
  auto r = call(token(ts::rsa2048(), "rsa-1", idp_.issuer()));
  EXPECT_TRUE(IsLocalError(r, 503, "jwks_unavailable")) << describe(r);
  EXPECT_FALSE(r->header("Retry-After").value_or("").empty());
  auto readyz = gw_->admin_get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 503);
  EXPECT_NE(readyz->body.find("issuer:idp"), std::string::npos) << readyz->body;
  EXPECT_GE(fetches("http_error"), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "jwks_unavailable"}}), 1);
  // A token without a bearer credential at all is still the client's 401.
  auto none = support::http_request(gw_->port(), support::make_request("GET", "/api/x"));
  EXPECT_EQ(none->status, 401);
}

TEST_F(Jwks, IdpDownAtStartThenUpServesTokens) {
  idp_.set_jwks_status(503);
  start("    jwks_retry_interval: 200ms\n    jwks_refresh_min: 1s\n", /*wait_ready=*/false);
  EXPECT_EQ(gw_->admin_get("/readyz")->status, 503);
  idp_.set_jwks_status(200);
  ASSERT_TRUE(eventually([&] { return gw_->admin_get("/readyz")->status == 200; }, 5s));
  EXPECT_EQ(call(token(ts::rsa2048(), "rsa-1", idp_.issuer()))->status, 200);
}

TEST_F(Jwks, MaxAgeFromTheIdpIsClampedToTheConfiguredMinimum) {
  idp_.set_cache_control("public, max-age=0");
  start("    jwks_refresh_min: 1s\n    jwks_refresh_max: 10s\n");
  std::this_thread::sleep_for(2500ms);
  // max-age=0 would mean a fetch per request; the floor holds it to ~1/s.
  EXPECT_GE(idp_.jwks_fetches(), 2);
  EXPECT_LE(idp_.jwks_fetches(), 4);
}

}  // namespace
}  // namespace it
