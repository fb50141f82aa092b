// Issue 13 §1 end to end: paths that are not well-formed UTF-8, route matching
// against an upstream that ignores case (routing.case_insensitive_paths), and Host
// values outside the RFC 3986 grammar. Each attack is sent through the real binary;
// the upstream records what reaches it.
#include <algorithm>
#include <cctype>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::handlers::echo;
using support::make_request;

std::optional<Response> send(std::uint16_t port, std::string_view target, std::string_view host = "test.local",
                             std::vector<Header> headers = {}) {
  return support::http_request(port, make_request("GET", target, std::move(headers), {}, host));
}

// ---------------------------------------------------------------------------
// Invalid UTF-8 in the path: 400 before routing, nothing reaches the upstream.

class Utf8Path : public ::testing::Test {
 protected:
  void SetUp() override {
    gw_ = std::make_unique<GatewayProcess>(one_route(up_, "/public"));
    ASSERT_TRUE(gw_->start());
  }
  UpstreamServer up_{echo()};
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(Utf8Path, OverlongDotDotNeverReachesTheUpstream) {
  // A lenient decoder reads %C0%AE as ".": /public/../admin, past a /public-only rule.
  const std::string attacks[] = {
      "/public/%C0%AE%C0%AE/admin",     // overlong "."
      "/public/..%C0%AFadmin",          // overlong "/"
      "/public/..%C1%9Cadmin",          // overlong "\"
      "/public/%E0%80%AE%E0%80%AE/admin",  // three-byte overlong "."
      "/public/%ED%A0%80",              // surrogate
      "/public/%F4%90%80%80",           // above U+10FFFF
      "/public/caf%C3",                 // truncated
      "/public/%80",                    // lone continuation byte
      "/public/%FF",                    // never in UTF-8
      "/public/\xC0\xAE\xC0\xAE/admin",  // raw overlong "."
      "/public/a\xFF",                   // raw invalid byte
  };
  for (const auto& t : attacks) {
    auto r = send(gw_->port(), t);
    EXPECT_EQ(status_of(r), 400) << t << "\n" << describe(r);
    if (r) EXPECT_NE(r->body.find("bad_path"), std::string::npos) << t << ": " << r->body;
  }
  EXPECT_EQ(up_.request_count(), 0) << "an ill-formed path reached the upstream";
  const double n = static_cast<double>(std::size(attacks));
  EXPECT_EQ(gw_->wait_for_metric("authgate_requests_rejected_total", {{"reason", "invalid_utf8"}}, n), n);

  // Control: well-formed UTF-8, escaped and raw, is forwarded as canonicalised.
  auto ok = send(gw_->port(), "/public/caf%c3%a9/\xE2\x82\xAC");
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  ASSERT_TRUE(up_.last_request());
  EXPECT_EQ(up_.last_request()->target, "/public/caf%C3%A9/\xE2\x82\xAC");
}

// ---------------------------------------------------------------------------
// Case: /api (read scope) and /api/admin (admin scope) in front of an upstream that
// routes case-insensitively, as Express does by default.

class CasePaths : public ::testing::Test {
 protected:
  void start(bool case_insensitive) {
    up_ = std::make_unique<UpstreamServer>([](support::UpstreamConnection& c, const support::RequestHead& h) {
      std::string lower = h.target;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      const bool admin = lower == "/api/admin" || lower.rfind("/api/admin/", 0) == 0;
      c.respond(200, admin ? "admin handler" : "read handler");
    });
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(
        RouteSpec{"admin", "app", "/api/admin"}.with("auth", "bearer").with("require", "{scopes_all: [admin]}"));
    cfg.routes.push_back(
        RouteSpec{"api", "app", "/api"}.with("auth", "bearer").with("require", "{scopes_all: [read]}"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: main\n"
                       "    issuer: https://idp.test\n"
                       "    audiences: [api]\n"
                       "    jwks: '" + ts::jwks_of({ts::rsa2048().public_jwk()}) + "'\n";
    cfg.extra_yaml = std::string("routing:\n  case_insensitive_paths: ") + (case_insensitive ? "true" : "false") + "\n";
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }
  std::string token(std::string_view scope) const {
    return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})",
                    R"({"iss":"https://idp.test","sub":"alice","aud":"api","scope":")" + std::string(scope) +
                        R"(","exp":)" + std::to_string(now_s() + 300) + R"(,"iat":)" + std::to_string(now_s() - 5) +
                        "}");
  }
  std::optional<Response> get(std::string_view target, std::string_view scope) {
    return send(gw_->port(), target, "test.local", {{"Authorization", "Bearer " + token(scope)}});
  }
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(CasePaths, MixedCaseAdminPathWithAReadTokenIsRefusedWhenCaseInsensitive) {
  start(true);
  auto r = get("/api/ADMIN/users", "read");
  EXPECT_EQ(status_of(r), 403) << describe(r);
  EXPECT_EQ(up_->request_count(), 0) << "the read-only token reached the admin handler";
  // The admin route takes every spelling, and forwards the path as the client wrote it.
  auto admin = get("/Api/Admin/users", "admin");
  ASSERT_EQ(status_of(admin), 200) << describe(admin);
  EXPECT_EQ(admin->body, "admin handler");
  ASSERT_TRUE(up_->last_request());
  EXPECT_EQ(up_->last_request()->target, "/Api/Admin/users") << "the forwarded path keeps its case";
  // The read route still serves read paths, in any case.
  auto read = get("/API/orders", "read");
  ASSERT_EQ(status_of(read), 200) << describe(read);
  EXPECT_EQ(read->body, "read handler");
}

TEST_F(CasePaths, ByteExactByDefaultMixedCaseAdminPathTakesTheBroadRoute) {
  // Documents the default (README "Security model"): matching is byte-exact, so
  // /api/ADMIN/users is the /api route's, and an upstream that ignores case serves
  // its admin handler to a read-only token. Turn routing.case_insensitive_paths on
  // for such upstreams.
  start(false);
  auto r = get("/api/ADMIN/users", "read");
  ASSERT_EQ(status_of(r), 200) << describe(r);
  EXPECT_EQ(r->body, "admin handler");
  auto exact = get("/api/admin/users", "read");
  EXPECT_EQ(status_of(exact), 403) << describe(exact);
}

// ---------------------------------------------------------------------------
// Host: a reg-name or IPv6 literal with an optional port; anything else is 400
// before routing, never forwarded, never in X-Forwarded-Host.

class HostHeader : public ::testing::Test {
 protected:
  void start(std::vector<std::pair<std::string, std::string>> upstream_extra = {}) {
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_.url(), std::move(upstream_extra)});
    cfg.routes.push_back(RouteSpec{"exact", "app", "/exact"}.with_host("api.example.com"));
    cfg.routes.push_back(RouteSpec{"wild", "app", "/wild"}.with_host("*.example.com"));
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }
  void expect_refused(std::string_view target, std::string_view host) {
    auto r = send(gw_->port(), target, host);
    EXPECT_EQ(status_of(r), 400) << host << "\n" << describe(r);
    if (r) EXPECT_NE(r->body.find("bad_host"), std::string::npos) << r->body;
  }
  UpstreamServer up_{echo()};
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(HostHeader, UserinfoInHostDoesNotMatchTheRoutedHost) {
  start();
  expect_refused("/exact/x", "api.example.com:@evil.com");
  expect_refused("/exact/x", "api.example.com@evil.com");
  EXPECT_EQ(up_.request_count(), 0) << "forwarded with X-Forwarded-Host: " << up_.last_request()->raw;
  EXPECT_EQ(gw_->wait_for_metric("authgate_requests_rejected_total", {{"reason", "bad_host"}}, 2), 2);
  // Control: the same route with a port.
  auto ok = send(gw_->port(), "/exact/x", "api.example.com:8443");
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  EXPECT_EQ(up_.last_request()->headers.get("X-Forwarded-Host"), "api.example.com:8443");
}

TEST_F(HostHeader, QueryInHostDoesNotMatchTheWildcardRoute) {
  start();
  expect_refused("/wild/x", "evil.com?.example.com");
  expect_refused("/wild/x", "evil.com/.example.com");
  expect_refused("/wild/x", "evil.com,.example.com");
  EXPECT_EQ(up_.request_count(), 0) << "forwarded: " << up_.last_request()->raw;
  auto ok = send(gw_->port(), "/wild/x", "shop.example.com");
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  EXPECT_EQ(up_.last_request()->headers.get("X-Forwarded-Host"), "shop.example.com");
}

TEST_F(HostHeader, WithAHostHeaderSetXForwardedHostCarriesTheValidatedClientHost) {
  start({{"host_header", "internal.svc"}});
  expect_refused("/exact/x", "api.example.com:@evil.com");
  expect_refused("/wild/x", "evil.com?.example.com");
  EXPECT_EQ(up_.request_count(), 0);
  auto ok = send(gw_->port(), "/exact/x", "API.example.com:8443");
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  const auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.all("Host"), std::vector<std::string>{"internal.svc"}) << seen->raw;
  EXPECT_EQ(seen->headers.all("X-Forwarded-Host"), std::vector<std::string>{"API.example.com:8443"}) << seen->raw;
}

TEST_F(HostHeader, IpLiteralsAreAcceptedAndMalformedOnesRefused) {
  start();
  auto v6 = send(gw_->port(), "/any", "[::1]:8080");
  EXPECT_EQ(status_of(v6), 404) << "valid, and no route for /any: " << describe(v6);
  expect_refused("/any", "[evil.com]");
  expect_refused("/any", "[v1.x]");
  expect_refused("/any", "api.example.com:http");
  EXPECT_EQ(gw_->wait_for_metric("authgate_requests_rejected_total", {{"reason", "bad_host"}}, 3), 3);
}

}  // namespace
}  // namespace it
