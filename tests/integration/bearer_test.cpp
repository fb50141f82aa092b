// auth: bearer end to end: real binary, a JWKS file and an HMAC secret, tokens
// minted at test time (tests/unit/auth/test_signer), one test per outcome.
#include <chrono>
#include <fstream>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;

std::string claims(std::int64_t exp_offset = 300, std::string extra = {}, std::string aud = "orders-api",
                   std::string iss = "https://idp.test") {
  return R"({"iss":")" + iss + R"(","sub":"alice","aud":")" + aud + R"(","exp":)" +
         std::to_string(now_s() + exp_offset) + R"(,"iat":)" + std::to_string(now_s() - 5) +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string rs256(const std::string& payload, const std::string& kid = "rsa-1") {
  return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":")" + kid + R"("})",
                  payload);
}

class Bearer : public ::testing::Test {
 protected:
  void SetUp() override {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"admin", "app", "/api/admin"}
                             .with("auth", "bearer")
                             .with("require", "{scopes_all: [orders:admin]}"));
    cfg.routes.push_back(RouteSpec{"eu", "app", "/api/eu"}
                             .with("auth", "bearer")
                             .with("require", "{claims: {region: [eu, ch]}}"));
    cfg.routes.push_back(RouteSpec{"step", "app", "/api/step"}
                             .with("auth", "bearer")
                             .with("require", "{acr: [urn:mfa], max_auth_age: 60s}"));
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}
                             .with("auth", "bearer")
                             .with("issuers", "[main]")
                             .with("require", "{scopes_any: [orders:read, orders:write]}")
                             .with("forward", "{headers: {X-User-Id: sub, X-Scopes: scope}}"));
    cfg.routes.push_back(RouteSpec{"public", "app", "/public"});
    cfg.limits.push_back({"max_linger_bytes", "16MiB"});  // see DeniedUploadStillGetsItsReply...
    // The JWKS file lives next to the config, in the gateway's temp dir.
    jwks_path_ = "/tmp/authgate-bearer-jwks-" + std::to_string(::getpid()) + ".json";
    std::ofstream(jwks_path_) << ts::jwks_of({ts::rsa2048().public_jwk()});
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: main\n"
                       "    issuer: https://idp.test\n"
                       "    audiences: [orders-api]\n"
                       "    jwks_file: " + jwks_path_ + "\n";
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }
  void TearDown() override { std::remove(jwks_path_.c_str()); }

  std::optional<support::Response> get(const std::string& path, std::vector<Header> headers = {}) {
    return support::http_request(gw_->port(), support::make_request("GET", path, std::move(headers)));
  }
  std::optional<support::Response> with_token(const std::string& path, const std::string& token,
                                               std::vector<Header> extra = {}) {
    extra.push_back({"Authorization", "Bearer " + token});
    return get(path, std::move(extra));
  }

  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
  std::string jwks_path_;
};

TEST_F(Bearer, ValidTokenIsForwardedWithIdentityHeadersAndWithoutAuthorization) {
  auto r = with_token("/api/orders", rs256(claims(300, R"("scope":"orders:read profile")")),
                      {{"X-User-Id", "mallory"}, {"X_User_Id", "mallory"}});
  ASSERT_EQ(status_of(r), 200) << describe(r);
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.get("X-User-Id"), "alice");  // from the token, not the client
  EXPECT_EQ(seen->headers.get("X-Scopes"), "orders:read profile");
  EXPECT_FALSE(seen->headers.get("Authorization")) << "token must not reach the upstream by default";
  EXPECT_FALSE(seen->headers.get("X_User_Id"));
}

TEST_F(Bearer, MissingTokenIs401WithoutErrorAttribute) {
  auto r = get("/api/orders");
  ASSERT_EQ(status_of(r), 401) << describe(r);
  EXPECT_EQ(r->header("WWW-Authenticate"), R"(Bearer realm="authgate")");
  EXPECT_FALSE(up_->saw_target_containing("/api/orders"));
}

// Step-up (RFC 9470): /api/step needs acr urn:mfa and an authentication at most 60 s old.
TEST_F(Bearer, StepUpRouteAcceptsARecentMfaAuthentication) {
  auto r = with_token("/api/step/x", rs256(claims(300, R"("acr":"urn:mfa","auth_time":)" + std::to_string(now_s() - 10))));
  EXPECT_EQ(status_of(r), 200) << describe(r);
}

TEST_F(Bearer, StepUpRouteAnswersAWeakerAcrWith401InsufficientUserAuthentication) {
  auto r = with_token("/api/step/x", rs256(claims(300, R"("acr":"urn:pwd","auth_time":)" + std::to_string(now_s() - 10))));
  ASSERT_EQ(status_of(r), 401) << describe(r);
  EXPECT_EQ(r->header("WWW-Authenticate"),
            R"(Bearer realm="authgate", error="insufficient_user_authentication", error_description="the )"
            R"(authentication is too weak or too old for this route", acr_values="urn:mfa", max_age=60)");
  EXPECT_FALSE(up_->saw_target_containing("/api/step"));
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total",
                           {{"route", "step"}, {"reason", "insufficient_user_authentication"}}), 1);
}

TEST_F(Bearer, StepUpRouteAnswersAnOldAuthenticationWith401InsufficientUserAuthentication) {
  auto r = with_token("/api/step/x", rs256(claims(300, R"("acr":"urn:mfa","auth_time":)" + std::to_string(now_s() - 3600))));
  ASSERT_EQ(status_of(r), 401) << describe(r);
  EXPECT_NE(r->header("WWW-Authenticate").value_or("").find(R"(error="insufficient_user_authentication")"), std::string::npos);
  EXPECT_FALSE(up_->saw_target_containing("/api/step"));
}

TEST_F(Bearer, SchemeIsCaseInsensitive) {
  auto r = get("/api/orders", {{"Authorization", "bEaReR " + rs256(claims(300, R"("scope":"orders:read")"))}});
  EXPECT_EQ(status_of(r), 200) << describe(r);
}

TEST_F(Bearer, MalformedAuthorizationIs400InvalidRequest) {
  for (const std::string bad : {"Bearer", "Bearer a b", "Bearer  a,b"}) {
    auto r = get("/api/orders", {{"Authorization", bad}});
    ASSERT_EQ(status_of(r), 400) << bad << "\n" << describe(r);
    EXPECT_NE(r->header("WWW-Authenticate").value_or("").find(R"(error="invalid_request")"),
              std::string::npos);
  }
  auto two = get("/api/orders", {{"Authorization", "Bearer a"}, {"Authorization", "Bearer b"}});
  EXPECT_EQ(status_of(two), 400) << describe(two);
}

TEST_F(Bearer, ExpiredTokenIs401InvalidToken) {
  auto r = with_token("/api/orders", rs256(claims(-3600, R"("scope":"orders:read")")));
  ASSERT_EQ(status_of(r), 401) << describe(r);
  EXPECT_NE(r->header("WWW-Authenticate").value_or("").find(R"(error="invalid_token")"),
            std::string::npos);
}

TEST_F(Bearer, BadSignatureIs401) {
  std::string t = rs256(claims(300, R"("scope":"orders:read")"));
  // A character in the middle of the signature: always valid base64url, so the
  // token parses and the signature check itself must reject it.
  auto& c = t[t.rfind('.') + 100];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(status_of(with_token("/api/orders", t)), 401);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total",
                           {{"route", "api"}, {"result", "deny"}, {"reason", "bad_signature"}}),
            1);
}

TEST_F(Bearer, WrongAudienceAndIssuerAre401) {
  EXPECT_EQ(status_of(with_token("/api/orders", rs256(claims(300, R"("scope":"orders:read")", "billing")))), 401);
  EXPECT_EQ(status_of(with_token("/api/orders",
                                 rs256(claims(300, R"("scope":"orders:read")", "orders-api", "https://evil.test")))),
            401);
}

TEST_F(Bearer, AlgNoneIs401) {
  const std::string t = ts::b64(R"({"alg":"none"})") + "." + ts::b64(claims(300, R"("scope":"orders:read")")) + ".";
  EXPECT_EQ(status_of(with_token("/api/orders", t)), 401);
}

TEST_F(Bearer, IdTokenIsNeverAnAccessToken) {
  auto r = with_token("/api/orders", rs256(claims(300, R"("scope":"orders:read","nonce":"n-1")")));
  EXPECT_EQ(status_of(r), 401) << describe(r);
}

TEST_F(Bearer, MissingScopeIs403InsufficientScope) {
  auto r = with_token("/api/admin/users", rs256(claims(300, R"("scope":"orders:read")")));
  ASSERT_EQ(status_of(r), 403) << describe(r);
  EXPECT_NE(r->header("WWW-Authenticate")
                .value_or("")
                .find(R"(error="insufficient_scope", scope="orders:admin")"),
            std::string::npos)
      << r->header("WWW-Authenticate").value_or("(none)");
  // ForgeRock-style array scopes and Okta-style scp both count.
  EXPECT_EQ(status_of(with_token("/api/admin/users", rs256(claims(300, R"("scope":["orders:admin"])")))), 200);
  EXPECT_EQ(status_of(with_token("/api/admin/users", rs256(claims(300, R"("scp":"orders:admin")")))), 200);
}

TEST_F(Bearer, ClaimPolicy) {
  EXPECT_EQ(status_of(with_token("/api/eu/x", rs256(claims(300, R"("region":"eu")")))), 200);
  EXPECT_EQ(status_of(with_token("/api/eu/x", rs256(claims(300, R"("region":["us","ch"])")))), 200);
  EXPECT_EQ(status_of(with_token("/api/eu/x", rs256(claims(300, R"("region":"us")")))), 403);
  EXPECT_EQ(status_of(with_token("/api/eu/x", rs256(claims(300)))), 403);
}

TEST_F(Bearer, PathTricksCannotReachAProtectedRouteUnauthenticated) {
  // /public is open; its dot-segment spelling of /api/admin is routed as /api/admin.
  auto r = get("/public/../api/admin/users");
  EXPECT_EQ(status_of(r), 401) << describe(r);
  EXPECT_FALSE(up_->saw_target_containing("admin"));
}

TEST_F(Bearer, IdentityHeadersOfAnyRouteAreStrippedOnOpenRoutesToo) {
  // /public (auth: none) reaches the same upstream as /api, which sets X-User-Id.
  auto r = get("/public/x", {{"X-User-Id", "admin"}, {"x_scopes", "orders:admin"}});
  ASSERT_EQ(status_of(r), 200) << describe(r);
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.get("X-User-Id"));
  EXPECT_FALSE(seen->headers.get("x_scopes"));
}

TEST_F(Bearer, OnlyWebSocketMayUpgrade) {
  // h2c would become a raw tunnel past routing and auth: the Upgrade is dropped.
  auto r = get("/public/x", {{"Connection", "Upgrade, HTTP2-Settings"},
                             {"Upgrade", "h2c"},
                             {"HTTP2-Settings", "AAMAAABkAAQAAP__"}});
  ASSERT_EQ(status_of(r), 200) << describe(r);
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.get("Upgrade"));
  EXPECT_FALSE(seen->headers.get("HTTP2-Settings"));
}

TEST_F(Bearer, DecisionsAreCountedByRouteResultAndReason) {
  with_token("/api/orders", rs256(claims(300, R"("scope":"orders:read")")));
  get("/api/orders");
  with_token("/api/orders", rs256(claims(-3600, R"("scope":"orders:read")")));
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total",
                           {{"route", "api"}, {"result", "allow"}, {"reason", "ok"}}),
            1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total",
                           {{"route", "api"}, {"result", "deny"}, {"reason", "missing"}}),
            1);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total",
                           {{"route", "api"}, {"result", "deny"}, {"reason", "expired"}}),
            1);
}

}  // namespace
}  // namespace it

namespace it {
namespace {

// A client that sends its whole body before reading must still get the 401,
// not a connection reset: authgate drains the unread body (here up to 16 MiB)
// before closing. Without the drain the sends fail with a reset.
TEST_F(Bearer, DeniedUploadStillGetsItsReplyWhileTheBodyIsInFlight) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.connected());
  const std::size_t n = 8 * 1024 * 1024;  // more than the socket buffers hold
  ASSERT_TRUE(c.send("POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(n) +
                     "\r\n\r\n"));
  const std::string piece(16 * 1024, 'p');
  for (std::size_t sent = 0; sent < n; sent += piece.size()) ASSERT_TRUE(c.send(piece, 2s)) << sent;
  auto r = c.read_response(5s);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 401);
  EXPECT_FALSE(up_->saw_target_containing("/api/orders"));
}

}  // namespace
}  // namespace it
