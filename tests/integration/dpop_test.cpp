// DPoP (RFC 9449) end to end: the real oidc-provider (features.dPoP) issues a
// DPoP-bound JWT access token (cnf.jkt) to a client_credentials request that
// carries a proof; the client then calls through the real authgate binary on a
// `dpop: required` route with proofs signed here (test_signer, OpenSSL EVP).
#include <boost/json/parse.hpp>

#include "auth/dpop.hpp"
#include "auth/jwk.hpp"
#include "auth/test_signer.hpp"
#include "common.hpp"
#include "support/oidc_provider.hpp"
#include "support/redis_server.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::OidcClient;
using support::OidcProvider;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Dpop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    start("");
  }

  // `dpop_extra`: more lines of the dpop: block; `more_yaml`: more top-level blocks.
  void start(const std::string& dpop_extra, const std::string& more_yaml = "", int instances = 1) {
    op_ = std::make_unique<OidcProvider>();
    ASSERT_TRUE(op_->start());
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(
        RouteSpec{"api", "app", "/api"}.with("auth", "bearer").with("issuers", "[op]").with("dpop", "required"));
    cfg.routes.push_back(
        RouteSpec{"mixed", "app", "/mixed"}.with("auth", "bearer").with("issuers", "[op]").with("dpop", "allowed"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: op\n"
                       "    issuer: " + op_->issuer() + "\n"
                       "    audiences: [https://orders.test]\n"
                       "    algorithms: [RS256, ES256]\n";
    cfg.extra_yaml = "dpop:\n  algs: [ES256, PS256]\n" + dpop_extra + more_yaml;
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
    if (instances > 1) {
      gw_b_ = std::make_unique<GatewayProcess>(cfg);
      ASSERT_TRUE(gw_b_->start());
    }
    auto d = op_->discovery();
    ASSERT_TRUE(d) << op_->last_error();
    token_endpoint_ = support::json_string(*d, "token_endpoint");
  }

  std::string proof(std::string_view method, std::string_view htu, std::string_view access_token = {}) {
    std::string claims = R"({"jti":"proof-)" + std::to_string(++seq_) + "-" + std::to_string(now_s()) +
                         R"(","htm":")" + std::string(method) + R"(","htu":")" + std::string(htu) +
                         R"(","iat":)" + std::to_string(now_s());
    if (!access_token.empty()) claims += R"(,"ath":")" + authgate::auth::dpop_ath(access_token) + "\"";
    return ts::mint(key_, "ES256", R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + key_.public_jwk() + "}",
                    claims + "}");
  }

  // client_credentials with a DPoP proof: the provider binds the token to key_.
  std::string bound_token() {
    auto r = op_->post_form(token_endpoint_,
                            {{"grant_type", "client_credentials"}, {"scope", "orders:read"},
                             {"resource", "https://orders.test"}},
                            OidcClient::cli, false, 10s, {{"DPoP", proof("POST", token_endpoint_)}});
    EXPECT_EQ(status_of(r), 200) << describe(r);
    if (status_of(r) != 200) return {};
    auto doc = boost::json::parse(r->body).as_object();
    EXPECT_EQ(support::json_string(doc, "token_type"), "DPoP");
    return support::json_string(doc, "access_token");
  }

  std::optional<Response> call(const std::string& method, const std::string& path, const std::string& authorization,
                               const std::vector<std::string>& proofs, GatewayProcess* gw = nullptr) {
    std::vector<Header> headers{{"Authorization", authorization}};
    for (const auto& p : proofs) headers.push_back({"DPoP", p});
    return support::http_request((gw ? gw : gw_.get())->port(), support::make_request(method, path, headers, {}, host_));
  }
  std::string url(std::string_view path) const { return "http://" + host_ + std::string(path); }

  std::unique_ptr<OidcProvider> op_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
  std::unique_ptr<GatewayProcess> gw_b_;  // fleet: a second instance on the same Redis
  std::string token_endpoint_;
  std::string host_ = "api.test:8080";
  ts::TestKey key_ = ts::make_ec("P-256", "client-key");
  int seq_ = 0;
};

TEST_F(Dpop, BoundTokenFromTheProviderWithFreshReplayedAndForeignProofs) {
  const std::string t = bound_token();
  ASSERT_FALSE(t.empty());
  // The provider bound it to our key (RFC 9449 §6.1).
  const auto claims = support::jwt_part(t, 1);
  ASSERT_TRUE(claims);
  const std::string jkt =
      *authgate::auth::jwk_thumbprint(boost::json::parse(key_.public_jwk()).as_object());
  ASSERT_TRUE(claims->contains("cnf")) << t;
  EXPECT_EQ(support::json_string(claims->at("cnf").as_object(), "jkt"), jkt);

  // 1. A fresh proof: 200, and the upstream gets no DPoP header.
  const std::string p = proof("GET", url("/api/orders"), t);
  auto ok = call("GET", "/api/orders", "DPoP " + t, {p});
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  ASSERT_TRUE(up_->last_request());
  EXPECT_FALSE(up_->last_request()->headers.get("DPoP"));

  // 2. The same proof again: 401, invalid_dpop_proof.
  auto replay = call("GET", "/api/orders", "DPoP " + t, {p});
  ASSERT_EQ(status_of(replay), 401) << describe(replay);
  const std::string challenge = replay->header("WWW-Authenticate").value_or("");
  EXPECT_EQ(challenge.rfind("DPoP ", 0), 0u) << challenge;
  EXPECT_NE(challenge.find(R"(error="invalid_dpop_proof")"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find(R"(algs="ES256 PS256")"), std::string::npos) << challenge;

  // 3. A proof made for another URL, or another method: 401.
  auto other_url = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/other"), t)});
  EXPECT_EQ(status_of(other_url), 401) << describe(other_url);
  auto other_method = call("GET", "/api/orders", "DPoP " + t, {proof("DELETE", url("/api/orders"), t)});
  EXPECT_EQ(status_of(other_method), 401) << describe(other_method);

  // 4. The bound token as a Bearer token: 401, here and on a route that allows Bearer.
  auto bearer = call("GET", "/api/orders", "Bearer " + t, {});
  EXPECT_EQ(status_of(bearer), 401) << describe(bearer);
  auto bearer_mixed = call("GET", "/mixed/orders", "Bearer " + t, {});
  EXPECT_EQ(status_of(bearer_mixed), 401) << describe(bearer_mixed);
  // Both challenges where both schemes are accepted.
  const std::string both = bearer_mixed->header("WWW-Authenticate").value_or("");
  EXPECT_EQ(both.rfind("Bearer ", 0), 0u) << both;
  EXPECT_NE(both.find(", DPoP "), std::string::npos) << both;

  // And a fresh proof still works after all that (the token is cached, the proof is not).
  auto again = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t)});
  EXPECT_EQ(status_of(again), 200) << describe(again);

  EXPECT_EQ(metric_or_zero(*gw_, "authgate_dpop_replays_total", {}), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_replayed"}}), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_htu_mismatch"}}), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_htm_mismatch"}}), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_bound_as_bearer"}}), 2);
}

TEST_F(Dpop, UnboundProviderTokenIsRefusedWhereDpopIsRequired) {
  const std::string t = op_->client_credentials_token("https://orders.test", "orders:read");
  ASSERT_FALSE(t.empty()) << op_->last_error();
  EXPECT_EQ(status_of(call("GET", "/api/orders", "Bearer " + t, {})), 401);
  EXPECT_EQ(status_of(call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t)})), 401);
  EXPECT_EQ(status_of(call("GET", "/mixed/orders", "Bearer " + t, {})), 200);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_unbound_token"}}), 2);
}

// Fleet mode: two instances share the replay cache in Redis (SET NX PX), and
// htu comes from dpop.public_url whatever Host the request carries.
class DpopFleet : public Dpop {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    if (auto why = support::RedisServer::skip_reason()) GTEST_SKIP() << *why;
    redis_ = std::make_unique<support::RedisServer>();
    ASSERT_TRUE(redis_->start());
    start("  public_url: https://api.example.com\n  replay_store: redis\n",
          "redis:\n  address: " + redis_->address() + "\n  key_prefix: \"dpop-fleet:\"\n  command_timeout: 500ms\n"
          "  reconnect_min: 50ms\n  reconnect_max: 300ms\n",
          2);
  }
  std::unique_ptr<support::RedisServer> redis_;
};

TEST_F(DpopFleet, AProofAcceptedByAIsRefusedByBAndRedisDownFailsClosed) {
  const std::string t = bound_token();
  ASSERT_FALSE(t.empty());
  const std::string htu = "https://api.example.com/api/orders";
  const std::string p = proof("GET", htu, t);
  auto on_a = call("GET", "/api/orders", "DPoP " + t, {p});
  ASSERT_EQ(status_of(on_a), 200) << describe(on_a);
  auto on_b = call("GET", "/api/orders", "DPoP " + t, {p}, gw_b_.get());
  ASSERT_EQ(status_of(on_b), 401) << describe(on_b);
  EXPECT_NE(on_b->header("WWW-Authenticate").value_or("").find(R"(error="invalid_dpop_proof")"), std::string::npos);
  EXPECT_EQ(metric_or_zero(*gw_b_, "authgate_dpop_replays_total", {}), 1);
  EXPECT_EQ(metric_or_zero(*gw_b_, "authgate_auth_decisions_total", {{"reason", "dpop_replayed"}}), 1);
  // A fresh proof is accepted by B (the key is per proof, not per token).
  EXPECT_EQ(status_of(call("GET", "/api/orders", "DPoP " + t, {proof("GET", htu, t)}, gw_b_.get())), 200);

  // Redis gone: fail closed (503), by default.
  redis_->kill();
  auto down = call("GET", "/api/orders", "DPoP " + t, {proof("GET", htu, t)});
  EXPECT_EQ(status_of(down), 503) << describe(down);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_replay_unavailable"}}), 1);
}

}  // namespace
}  // namespace it
