// Forwarding: routing, the canonical path, header hygiene, X-Forwarded-*,
// X-Request-Id, local 404/400 replies and Expect: 100-continue.
#include <fstream>
#include <regex>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

using support::handlers::echo;
using support::handlers::fixed;
using support::make_request;

const std::regex kGeneratedId("[0-9a-fA-F]{32}");

class Forwarding : public ::testing::Test {
 protected:
  void SetUp() override {
    gw_ = std::make_unique<GatewayProcess>(one_route(up_));
    ASSERT_TRUE(gw_->start());
  }

  std::optional<Response> get(std::string_view target, const std::vector<Header>& headers = {},
                              std::string_view host = "test.local") {
    return support::http_request(gw_->port(), make_request("GET", target, headers, {}, host));
  }

  UpstreamServer up_{echo()};
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(Forwarding, ForwardsRequestAndUpstreamResponse) {
  auto r = get("/api/hello?x=1", {{"X-Custom", "yes"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(r->body.rfind("GET /api/hello?x=1 HTTP/1.1\r\n", 0), 0u) << r->body;
  EXPECT_EQ(r->header("X-Upstream-Connection"), "1") << "upstream response headers are passed on";
  EXPECT_TRUE(r->header("X-Request-Id"));
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->method, "GET");
  EXPECT_EQ(seen->target, "/api/hello?x=1");
  EXPECT_EQ(seen->headers.get("X-Custom"), "yes");
}

TEST_F(Forwarding, ForwardsRequestBody) {
  auto r = support::http_request(gw_->port(), make_request("POST", "/api/items", {}, "hello world"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(r->header("X-Body-Bytes"), "11");
  EXPECT_TRUE(r->body.ends_with("hello world"));
}

TEST_F(Forwarding, UpstreamSeesCanonicalPath) {
  auto r = get("/api//x/./y/../z?q=%41");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  ASSERT_TRUE(up_.last_request());
  EXPECT_EQ(up_.last_request()->target, "/api/x/z?q=%41");
}

TEST_F(Forwarding, EncodedDotSegmentsAndSlashesAreRejected) {
  // Encoded dot-segments that climb above the root, and encoded slashes.
  for (const char* target : {"/%2e%2e/x", "/%2E%2E/api/x", "/api/%2e%2e/%2e%2e/x", "/a%2Fb", "/api/a%2fb"}) {
    SCOPED_TRACE(target);
    auto r = get(target);
    EXPECT_TRUE(support::IsLocalError(r, 400));
  }
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Forwarding, NoMatchingRouteIs404) {
  auto r = get("/nothing/here", {{"X-Request-Id", "nf-1"}});
  EXPECT_TRUE(support::IsLocalError(r, 404, "not_found"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("X-Request-Id"), "nf-1");
  auto obj = support::parse_json_object(r->body);
  ASSERT_TRUE(obj);
  EXPECT_EQ(obj->at("request_id").as_string(), "nf-1");
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Forwarding, PrefixMatchIsSegmentAware) {
  EXPECT_TRUE(support::IsLocalError(get("/apix"), 404));
  EXPECT_TRUE(support::IsLocalError(get("/ap"), 404));
  auto exact = get("/api");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->status, 200);
  auto slash = get("/api/");
  ASSERT_TRUE(slash);
  EXPECT_EQ(slash->status, 200);
}

TEST_F(Forwarding, HopByHopHeadersAreRemoved) {
  auto r = get("/api/h", {{"Connection", "keep-alive, X-Drop-Me"},
                          {"X-Drop-Me", "1"},
                          {"Keep-Alive", "timeout=5"},
                          {"TE", "trailers"},
                          {"Trailer", "X-Checksum"},
                          {"Upgrade", "h2c"},
                          {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                          {"Proxy-Connection", "keep-alive"},
                          {"X-Keep-Me", "1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  for (const char* h : {"X-Drop-Me", "Keep-Alive", "TE", "Trailer", "Upgrade",
                        "Proxy-Authorization", "Proxy-Connection"})
    EXPECT_FALSE(seen->headers.has(h)) << h << " reached the upstream:\n" << seen->raw;
  for (const auto& v : seen->headers.all("Connection")) {
    EXPECT_FALSE(support::has_token(v, "X-Drop-Me")) << seen->raw;
    EXPECT_FALSE(support::has_token(v, "upgrade")) << seen->raw;
  }
  EXPECT_EQ(seen->headers.get("X-Keep-Me"), "1");
}

TEST_F(Forwarding, IdentityHeadersAreRemoved) {
  auto r = get("/api/who", {{"X-Auth-User", "admin"},
                            {"X-Auth-Roles", "root"},
                            {"x-auth-token", "t"},
                            {"X-Remote-User", "admin"},
                            {"X-Forwarded-User", "admin"},
                            {"X_Auth_User", "admin"},
                            {"X_Remote_User", "admin"},
                            {"x_forwarded_user", "admin"},
                            {"X-Authorization-Hint", "1"},
                            {"Authorization", "Bearer abc"},
                            {"X-Keep-Me", "1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.any_name([](std::string_view n) {
    return n.starts_with("x-auth-") || n.starts_with("x_auth_") || n == "x-remote-user" ||
           n == "x_remote_user" || n == "x-forwarded-user" || n == "x_forwarded_user";
  })) << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Keep-Me"), "1");
}

TEST_F(Forwarding, ForwardedHeadersReplaceClientValuesFromUntrustedPeer) {
  auto r = get("/api/fwd",
               {{"X-Forwarded-For", "203.0.113.9"},
                {"X-Forwarded-For", "198.51.100.1"},
                {"X-Forwarded-Proto", "https"},
                {"X-Forwarded-Host", "evil.example"}},
               "shop.example");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.all("X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"}) << seen->raw;
  EXPECT_EQ(seen->headers.all("X-Forwarded-Proto"), std::vector<std::string>{"http"}) << seen->raw;
  EXPECT_EQ(seen->headers.all("X-Forwarded-Host"), std::vector<std::string>{"shop.example"})
      << seen->raw;
}

TEST_F(Forwarding, ForwardedHeadersAreSetWithoutClientValues) {
  auto r = get("/api/fwd", {}, "shop.example");
  ASSERT_TRUE(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.get("X-Forwarded-For"), "127.0.0.1") << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-Proto"), "http") << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-Host"), "shop.example") << seen->raw;
}

// Target and method overrides: IIS/Symfony/Laminas serve X-Original-URL and
// X-Rewrite-URL instead of the routed path; Express (method-override), Spring,
// Rails and ASP.NET run X-HTTP-Method-Override & co instead of the authorised
// method. None of them may reach the app (auth: none routes included).
TEST_F(Forwarding, RewriteAndMethodOverrideHeadersDoNotReachTheApp) {
  auto r = get("/api/public", {{"X-Original-URL", "/admin/users"},
                               {"X-Rewrite-URL", "/admin/users"},
                               {"X-HTTP-Method-Override", "DELETE"},
                               {"X-HTTP-Method", "DELETE"},
                               {"X-Method-Override", "PUT"},
                               {"x_original_url", "/admin/users"},
                               {"X_HTTP_METHOD_OVERRIDE", "DELETE"},
                               {"X-Keep-Me", "1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.any_name([](std::string_view n) {
    return n == "x-original-url" || n == "x_original_url" || n == "x-rewrite-url" ||
           n == "x-http-method-override" || n == "x_http_method_override" || n == "x-http-method" ||
           n == "x-method-override";
  })) << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Keep-Me"), "1");
}

TEST_F(Forwarding, ClientSuppliedXRealIpIsReplacedByThePeerAddress) {
  auto r = get("/api/ip", {{"X-Real-IP", "10.0.0.1"}, {"X_Real_IP", "10.0.0.1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.all("X-Real-IP"), std::vector<std::string>{"127.0.0.1"}) << seen->raw;
  EXPECT_FALSE(seen->headers.has("X_Real_IP")) << seen->raw;
}

// From a peer that is not a trusted proxy, every X-Forwarded-* authgate does
// not set, and Forwarded (RFC 7239), are removed: a client cannot hand the
// app a prefix, port, scheme or e-mail of its choosing.
TEST_F(Forwarding, UntrustedPeersOtherForwardedHeadersAndForwardedAreRemoved) {
  auto r = get("/api/fwd", {{"X-Forwarded-Email", "admin@example.com"},
                            {"X-Forwarded-Prefix", "/admin"},
                            {"X-Forwarded-Port", "443"},
                            {"X-Forwarded-Ssl", "on"},
                            {"X-Forwarded-Groups", "admins"},
                            {"Forwarded", "for=127.0.0.1;proto=https;host=admin.internal"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.any_name([](std::string_view n) {
    return n == "forwarded" || (n.starts_with("x-forwarded-") && n != "x-forwarded-for" &&
                                n != "x-forwarded-proto" && n != "x-forwarded-host");
  })) << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-For"), "127.0.0.1") << seen->raw;
}

TEST_F(Forwarding, WellFormedRequestIdIsKept) {
  std::string id128(128, 'a');
  for (std::string id : {std::string("req_1.2:3-abc"), std::string("A"), id128}) {
    SCOPED_TRACE(id);
    auto r = get("/api/id", {{"X-Request-Id", id}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Request-Id"), id);
    auto seen = up_.last_request();
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->headers.all("X-Request-Id"), std::vector<std::string>{id}) << seen->raw;
  }
}

TEST_F(Forwarding, MalformedRequestIdIsReplaced) {
  std::string id129(129, 'a');
  for (std::string id : {std::string("bad id"), std::string("bad/id"), std::string("<script>"),
                         std::string("id,other"), id129}) {
    SCOPED_TRACE(id);
    auto r = get("/api/id", {{"X-Request-Id", id}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto rid = r->header("X-Request-Id");
    ASSERT_TRUE(rid);
    EXPECT_TRUE(std::regex_match(*rid, kGeneratedId)) << *rid;
    auto seen = up_.last_request();
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->headers.all("X-Request-Id"), std::vector<std::string>{*rid}) << seen->raw;
  }
}

TEST_F(Forwarding, RequestIdIsGeneratedWhenAbsent) {
  auto a = get("/api/a");
  auto b = get("/api/b");
  ASSERT_TRUE(a && b);
  auto ida = a->header("X-Request-Id");
  auto idb = b->header("X-Request-Id");
  ASSERT_TRUE(ida && idb);
  EXPECT_TRUE(std::regex_match(*ida, kGeneratedId)) << *ida;
  EXPECT_TRUE(std::regex_match(*idb, kGeneratedId)) << *idb;
  EXPECT_NE(*ida, *idb);
  EXPECT_EQ(up_.last_request()->headers.get("X-Request-Id"), idb);
}

TEST_F(Forwarding, ExpectContinueIsAnsweredByTheGateway) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\n\r\n"));
  auto interim = c.read_response(3s);
  ASSERT_TRUE(interim) << c.error();
  EXPECT_EQ(interim->status, 100) << describe(interim);
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_response(5s);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_TRUE(r->body.ends_with("hello"));
}

TEST_F(Forwarding, HeadRequestHasNoBody) {
  HttpClient c(gw_->port());
  support::ReadOptions head;
  head.head_request = true;
  auto r = c.request(make_request("HEAD", "/api/h"), 5s, head);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  // The connection is still usable: no stray body bytes were sent.
  auto next = c.request(make_request("GET", "/api/after-head"));
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body.rfind("GET /api/after-head ", 0), 0u);
}

TEST(ForwardingResponse, HopByHopHeadersAreRemovedFromUpstreamResponse) {
  UpstreamServer up(fixed(200, "ok",
                          {{"Connection", "X-Upstream-Private"},
                           {"X-Upstream-Private", "secret"},
                           {"Keep-Alive", "timeout=5"},
                           {"Proxy-Authenticate", "Basic"},
                           {"X-Public", "1"}}));
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(make_request("GET", "/api/r", {{"X-Request-Id", "resp-1"}}));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  for (const char* h : {"X-Upstream-Private", "Keep-Alive", "Proxy-Authenticate"})
    EXPECT_FALSE(r->headers.has(h)) << h << " reached the client:\n" << r->head_raw;
  EXPECT_EQ(r->header("X-Public"), "1");
  EXPECT_EQ(r->header("X-Request-Id"), "resp-1");
  // The client connection is still usable.
  auto again = c.request(make_request("GET", "/api/r2"));
  ASSERT_TRUE(again) << c.error();
  EXPECT_EQ(again->status, 200);
}

TEST(ForwardingTrusted, ForwardedForIsAppendedForTrustedPeer) {
  UpstreamServer up(echo());
  auto cfg = one_route(up);
  cfg.trusted_proxies = {"127.0.0.0/8"};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  auto r = support::http_get(gw.port(), "/api/t", {{"X-Forwarded-For", "203.0.113.9"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up.last_request();
  ASSERT_TRUE(seen);
  std::string joined;
  for (const auto& v : seen->headers.all("X-Forwarded-For"))
    joined += (joined.empty() ? "" : ", ") + v;
  EXPECT_EQ(joined, "203.0.113.9, 127.0.0.1") << seen->raw;
}

// The load balancer (a trusted proxy) appends to the chain but relays the
// client's own X-Forwarded-Email untouched: only the chain and the
// allow-listed names it sets itself may pass.
TEST(ForwardingTrusted, AClientsXForwardedEmailRelayedByTheLoadBalancerDoesNotReachTheApp) {
  UpstreamServer up(echo());
  auto cfg = one_route(up);
  cfg.trusted_proxies = {"127.0.0.0/8"};
  cfg.extra_yaml = "headers:\n  trusted_forwarded_headers: [X-Forwarded-Port]\n";
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  auto r = support::http_get(gw.port(), "/api/t",
                             {{"X-Forwarded-For", "203.0.113.9"},
                              {"X-Forwarded-Proto", "https"},
                              {"X-Forwarded-Host", "public.example"},
                              {"X-Forwarded-Port", "443"},
                              {"X-Forwarded-Email", "admin@example.com"},
                              {"X-Forwarded-Prefix", "/admin"},
                              {"Forwarded", "for=10.0.0.1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  auto seen = up.last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.has("X-Forwarded-Email")) << seen->raw;
  EXPECT_FALSE(seen->headers.has("X-Forwarded-Prefix")) << seen->raw;
  EXPECT_FALSE(seen->headers.has("Forwarded")) << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-Port"), "443") << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-For"), "203.0.113.9, 127.0.0.1") << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-Proto"), "https") << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Forwarded-Host"), "public.example") << seen->raw;
  EXPECT_EQ(seen->headers.get("X-Real-IP"), "127.0.0.1") << seen->raw;
}

// CVE-2022-31813 class, end to end: the client names the forwarding headers
// (and the headers authgate sets or forwards) in Connection, hoping the
// hop-by-hop removal drops the trusted proxy's chain, and with it the real
// client address and scheme, or the token a route forwards.
TEST(ForwardingTrusted, ConnectionNamingXForwardedForDoesNotDropTheTrustedChain) {
  namespace ts = authgate::auth::test;
  UpstreamServer up(echo());
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", up.url()});
  cfg.routes.push_back(RouteSpec{"api", "app", "/api"}
                           .with("auth", "bearer")
                           .with("forward", "{headers: {X-User-Id: sub}, authorization: true}"));
  cfg.routes.push_back(RouteSpec{"open", "app", "/open"});
  cfg.trusted_proxies = {"127.0.0.0/8"};
  const std::string jwks = "/tmp/authgate-fwd-jwks-" + std::to_string(::getpid()) + ".json";
  std::ofstream(jwks) << ts::jwks_of({ts::rsa2048().public_jwk()});
  cfg.issuers_yaml = "issuers:\n  - name: main\n    issuer: https://idp.test\n    audiences: [orders-api]\n"
                     "    jwks_file: " + jwks + "\n";
  GatewayProcess gw(cfg);
  const bool started = static_cast<bool>(gw.start());
  std::remove(jwks.c_str());
  ASSERT_TRUE(started);
  const std::string token = ts::mint(
      ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})",
      R"({"iss":"https://idp.test","sub":"alice","aud":"orders-api","exp":)" + std::to_string(now_s() + 300) +
          R"(,"iat":)" + std::to_string(now_s() - 5) + "}");
  const std::vector<Header> chain{
      {"Connection", "keep-alive, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host"},
      {"Connection", "X-Real-IP, X-Request-Id, Authorization, X-User-Id, X-Drop-Me"},
      {"X-Forwarded-For", "203.0.113.9"},
      {"X-Forwarded-Proto", "https"},
      {"X-Forwarded-Host", "public.example"},
      {"X-Request-Id", "cve-31813"},
      {"X-Drop-Me", "1"}};
  for (const char* path : {"/open/x", "/api/x"}) {
    SCOPED_TRACE(path);
    auto headers = chain;
    if (std::string_view(path) == "/api/x") headers.push_back({"Authorization", "Bearer " + token});
    auto r = support::http_get(gw.port(), path, headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << describe(r);
    auto seen = up.last_request();
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->headers.all("X-Forwarded-For"), std::vector<std::string>{"203.0.113.9, 127.0.0.1"})
        << seen->raw;
    EXPECT_EQ(seen->headers.get("X-Forwarded-Proto"), "https") << seen->raw;
    EXPECT_EQ(seen->headers.get("X-Forwarded-Host"), "public.example") << seen->raw;
    EXPECT_EQ(seen->headers.get("X-Real-IP"), "127.0.0.1") << seen->raw;
    EXPECT_EQ(seen->headers.get("X-Request-Id"), "cve-31813") << seen->raw;
    EXPECT_FALSE(seen->headers.has("X-Drop-Me")) << "other listed names still go:\n" << seen->raw;
    if (std::string_view(path) == "/api/x") {
      EXPECT_EQ(seen->headers.get("Authorization"), "Bearer " + token) << seen->raw;
      EXPECT_EQ(seen->headers.get("X-User-Id"), "alice") << seen->raw;
    }
  }
}

TEST(ForwardingRoutes, FirstMatchWinsAndMethodsFilter) {
  UpstreamServer a(fixed(200, "from-a"));
  UpstreamServer b(fixed(200, "from-b"));
  GatewayConfig cfg;
  cfg.upstreams = {{"a", a.url()}, {"b", b.url()}};
  cfg.routes = {
      RouteSpec("special", "b").exact_path("/v1/special"),
      RouteSpec("v1", "a", "/v1"),
      RouteSpec("never", "b", "/v1/never"),  // shadowed by "v1"
      RouteSpec("post-only", "b", "/m").with_methods({"POST"}),
      RouteSpec("m", "a", "/m"),
      RouteSpec("re", "b").regex_path("^/num/[0-9]+$"),
      RouteSpec("host", "b", "/h").with_host("*.example.com"),
      RouteSpec("h-any", "a", "/h"),
  };
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  auto body = [&](std::string_view method, std::string_view target,
                  std::string_view host = "test.local") -> std::string {
    auto r = support::http_request(gw.port(), make_request(method, target, {}, {}, host));
    if (!r) return "no response";
    if (r->status != 200) return std::to_string(r->status);
    return r->body;
  };
  EXPECT_EQ(body("GET", "/v1/special"), "from-b");
  EXPECT_EQ(body("GET", "/v1/special/x"), "from-a");  // exact does not match deeper paths
  EXPECT_EQ(body("GET", "/v1/other"), "from-a");
  EXPECT_EQ(body("GET", "/v1/never/x"), "from-a");
  EXPECT_EQ(body("GET", "/m"), "from-a");
  EXPECT_EQ(body("POST", "/m"), "from-b");
  EXPECT_EQ(body("GET", "/num/42"), "from-b");
  EXPECT_EQ(body("GET", "/num/42x"), "404");
  EXPECT_EQ(body("GET", "/h", "api.example.com"), "from-b");
  EXPECT_EQ(body("GET", "/h", "API.Example.COM"), "from-b");
  EXPECT_EQ(body("GET", "/h", "example.org"), "from-a");
}

}  // namespace
}  // namespace it
