// Forwarding: routing, the canonical path, header hygiene, X-Forwarded-*,
// X-Request-Id, local 404/400 replies and Expect: 100-continue.
#include <regex>

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
