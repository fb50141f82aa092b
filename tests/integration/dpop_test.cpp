// DPoP (RFC 9449) end to end: the real oidc-provider (features.dPoP) issues a
// DPoP-bound JWT access token (cnf.jkt) to a client_credentials request that
// carries a proof; the client then calls through the real authgate binary on a
// `dpop: required` route with proofs signed here (test_signer, OpenSSL EVP).
#include <boost/json/parse.hpp>

#include "auth/dpop.hpp"
#include "auth/dpop_nonce.hpp"
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
    cfg.env = env_;
    cfg.listen_yaml = listen_yaml_;
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

  std::string proof(std::string_view method, std::string_view htu, std::string_view access_token = {},
                    std::string_view nonce = {}) {
    std::string claims = R"({"jti":"proof-)" + std::to_string(++seq_) + "-" + std::to_string(now_s()) +
                         R"(","htm":")" + std::string(method) + R"(","htu":")" + std::string(htu) +
                         R"(","iat":)" + std::to_string(now_s());
    if (!access_token.empty()) claims += R"(,"ath":")" + authgate::auth::dpop_ath(access_token) + "\"";
    if (!nonce.empty()) claims += R"(,"nonce":")" + std::string(nonce) + "\"";
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
  std::unique_ptr<GatewayProcess> gw_b_;  // fleet: a second instance (the same config)
  std::vector<std::pair<std::string, std::string>> env_;  // the gateways' extra environment
  std::string listen_yaml_;
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


// dpop.replay_fail_open: true: with Redis gone a proof is accepted unchecked, and that is counted
// and logged (the default, fail closed, is the test above).
class DpopFleetFailOpen : public Dpop {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    if (auto why = support::RedisServer::skip_reason()) GTEST_SKIP() << *why;
    redis_ = std::make_unique<support::RedisServer>();
    ASSERT_TRUE(redis_->start());
    start("  public_url: https://api.example.com\n  replay_store: redis\n  replay_fail_open: true\n",
          "redis:\n  address: " + redis_->address() + "\n  key_prefix: \"dpop-open:\"\n  command_timeout: 500ms\n"
          "  reconnect_min: 50ms\n  reconnect_max: 300ms\n");
  }
  std::unique_ptr<support::RedisServer> redis_;
};

TEST_F(DpopFleetFailOpen, RedisDownAcceptsTheProofAndSaysTheReplayCheckWasSkipped) {
  const std::string t = bound_token();
  ASSERT_FALSE(t.empty());
  const std::string htu = "https://api.example.com/api/orders";
  const std::string p = proof("GET", htu, t);
  ASSERT_EQ(status_of(call("GET", "/api/orders", "DPoP " + t, {p})), 200);
  // Redis up: the replay is still caught, nothing skipped.
  EXPECT_EQ(status_of(call("GET", "/api/orders", "DPoP " + t, {p})), 401);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_dpop_replay_checks_skipped_total", {}), 0);

  redis_->kill();
  auto down = call("GET", "/api/orders", "DPoP " + t, {proof("GET", htu, t)});
  EXPECT_EQ(status_of(down), 200) << describe(down);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_dpop_replay_checks_skipped_total", {}), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_replay_unavailable"}}), 0);
  EXPECT_TRUE(support::eventually([&] {
    return gw_->stderr_text().find("DPoP replay check skipped") != std::string::npos;
  }, 5s)) << gw_->stderr_text();
}

// The server nonce (RFC 9449 §8, dpop.nonce): a proof without one gets 401 use_dpop_nonce with a
// DPoP-Nonce header, and the retry carrying it passes; over HTTP/1 and h2c, and across two
// instances that share only the secret (nonces are stateless).
class DpopNonce : public Dpop {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    env_ = {{"DPOP_NONCE_SECRET", "integration-dpop-nonce-secret-0123456789abcdef"}};
    listen_yaml_ = "  h2c: true\n";
    start("  nonce: {enabled: true, rotate_interval: 5m, secret_env: DPOP_NONCE_SECRET}\n", "", 2);
  }
  // The gateways' nonces, minted here with their secret: what a nonce of the previous slot is.
  const authgate::auth::DpopNonces nonces_{"integration-dpop-nonce-secret-0123456789abcdef", 300};
  static std::string nonce_of(const std::optional<Response>& r) {
    return r ? r->header("DPoP-Nonce").value_or("") : "";
  }
  // One h2c request (prior knowledge) with curl; the response head and body.
  static std::string h2c(std::uint16_t port, const std::string& path, const std::string& authorization,
                         const std::string& proof) {
    const std::string cmd = "curl -sS --max-time 10 --http2-prior-knowledge -D - -H 'Authorization: " + authorization +
                            "' -H 'DPoP: " + proof + "' http://127.0.0.1:" + std::to_string(port) + path + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
      ::pclose(p);
    }
    return out;
  }
  static std::string h2c_header(const std::string& out, const std::string& lower_name) {
    const auto at = out.find("\n" + lower_name + ": ");
    if (at == std::string::npos) return {};
    const auto from = at + lower_name.size() + 3;
    return out.substr(from, out.find_first_of("\r\n", from) - from);
  }
};

TEST_F(DpopNonce, Http1RetryWithTheNonceFromThe401Passes) {
  const std::string t = bound_token();
  ASSERT_FALSE(t.empty());
  auto first = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t)});
  ASSERT_EQ(status_of(first), 401) << describe(first);
  const std::string challenge = first->header("WWW-Authenticate").value_or("");
  EXPECT_EQ(challenge.rfind("DPoP ", 0), 0u) << challenge;
  EXPECT_NE(challenge.find(R"(error="use_dpop_nonce")"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find(R"(algs="ES256 PS256")"), std::string::npos) << challenge;
  const std::string nonce = nonce_of(first);
  ASSERT_EQ(nonce.size(), 32u) << describe(first);

  auto retry = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t, nonce)});
  EXPECT_EQ(status_of(retry), 200) << describe(retry);
  // A nonce of the previous slot still passes, and the proxied 200 hands out the current one (RFC 9449 §8.2).
  const std::string previous = nonces_.mint(now_s() - 300);
  auto rotated = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t, previous)});
  EXPECT_EQ(status_of(rotated), 200) << describe(rotated);
  const std::string fresh = nonce_of(rotated);
  EXPECT_NE(fresh, previous);
  EXPECT_TRUE(nonces_.check(fresh, now_s())) << describe(rotated);
  // A nonce that is not ours: 401 again, with a fresh (genuine) nonce.
  auto forged = call("GET", "/api/orders", "DPoP " + t,
                     {proof("GET", url("/api/orders"), t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")});
  EXPECT_EQ(status_of(forged), 401) << describe(forged);
  EXPECT_TRUE(nonces_.check(nonce_of(forged), now_s())) << describe(forged);
  // On a route that allows DPoP, a Bearer token needs no nonce (there is no proof to carry one).
  const std::string unbound = op_->client_credentials_token("https://orders.test", "orders:read");
  EXPECT_EQ(status_of(call("GET", "/mixed/orders", "Bearer " + unbound, {})), 200);

  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_nonce_missing"}}), 1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"reason", "dpop_nonce_invalid"}}), 1);
}

TEST_F(DpopNonce, H2cRetryWithTheNonceFromThe401Passes) {
  const std::string t = bound_token();
  ASSERT_FALSE(t.empty());
  const std::string htu = "http://127.0.0.1:" + std::to_string(gw_->port()) + "/api/orders";
  const std::string first = h2c(gw_->port(), "/api/orders", "DPoP " + t, proof("GET", htu, t));
  ASSERT_EQ(first.rfind("HTTP/2 401", 0), 0u) << first;
  EXPECT_NE(h2c_header(first, "www-authenticate").find(R"(error="use_dpop_nonce")"), std::string::npos) << first;
  const std::string nonce = h2c_header(first, "dpop-nonce");
  ASSERT_EQ(nonce.size(), 32u) << first;
  const std::string retry = h2c(gw_->port(), "/api/orders", "DPoP " + t, proof("GET", htu, t, nonce));
  EXPECT_EQ(retry.rfind("HTTP/2 200", 0), 0u) << retry;
  // The previous slot's nonce: 200 with the current one in a dpop-nonce field (RFC 9449 §8.2).
  const std::string previous = nonces_.mint(now_s() - 300);
  const std::string rotated = h2c(gw_->port(), "/api/orders", "DPoP " + t, proof("GET", htu, t, previous));
  EXPECT_EQ(rotated.rfind("HTTP/2 200", 0), 0u) << rotated;
  EXPECT_TRUE(nonces_.check(h2c_header(rotated, "dpop-nonce"), now_s())) << rotated;
}

TEST_F(DpopNonce, ANonceMintedByInstanceAIsAcceptedByB) {
  const std::string t = bound_token();
  ASSERT_FALSE(t.empty());
  auto on_a = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t)});
  ASSERT_EQ(status_of(on_a), 401) << describe(on_a);
  const std::string nonce = nonce_of(on_a);
  ASSERT_FALSE(nonce.empty()) << describe(on_a);
  auto on_b = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t, nonce)}, gw_b_.get());
  EXPECT_EQ(status_of(on_b), 200) << describe(on_b);
  // B refuses a nonce-less proof the same way, and hands out the same nonce (same slot, same secret).
  auto b_missing = call("GET", "/api/orders", "DPoP " + t, {proof("GET", url("/api/orders"), t)}, gw_b_.get());
  EXPECT_EQ(status_of(b_missing), 401) << describe(b_missing);
  EXPECT_TRUE(nonces_.check(nonce_of(b_missing), now_s())) << describe(b_missing);
}

}  // namespace
}  // namespace it
