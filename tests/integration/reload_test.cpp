// SIGHUP: a good file switches routes (in-flight requests finish on the old
// config); a bad one is logged and the old config keeps serving.
#include <signal.h>

#include <future>

#include "common.hpp"

namespace it {
namespace {

using namespace support;

constexpr const char* kReloads = "authgate_config_reloads_total";

std::string body_of(std::uint16_t port, std::string_view target) {
  auto r = http_get(port, target, {}, 5s);
  if (!r) return "no response";
  if (r->status != 200) return std::to_string(r->status);
  return r->body;
}

GatewayConfig old_config(const UpstreamServer& a, const UpstreamServer& b) {
  GatewayConfig cfg;
  cfg.upstreams = {{"a", a.url()}, {"b", b.url()}};
  cfg.routes = {RouteSpec{"old", "a", "/old"}};
  return cfg;
}

GatewayConfig new_config(const UpstreamServer& a, const UpstreamServer& b) {
  GatewayConfig cfg;
  cfg.upstreams = {{"a", a.url()}, {"b", b.url()}};
  cfg.routes = {RouteSpec{"new", "b", "/new"}};
  return cfg;
}

TEST(Reload, SighupWithGoodConfigSwitchesRoutes) {
  UpstreamServer a(handlers::fixed(200, "from-a"));
  UpstreamServer b(handlers::fixed(200, "from-b"));
  GatewayProcess gw(old_config(a, b));
  ASSERT_TRUE(gw.start());
  EXPECT_EQ(body_of(gw.port(), "/old/x"), "from-a");
  EXPECT_EQ(body_of(gw.port(), "/new/x"), "404");

  gw.write_config(new_config(a, b));
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_TRUE(eventually([&] { return body_of(gw.port(), "/new/x") == "from-b"; }, 5s))
      << "new route not active 5 s after SIGHUP";
  EXPECT_EQ(body_of(gw.port(), "/old/x"), "404");
  EXPECT_EQ(gw.wait_for_metric(kReloads, {{"result", "success"}}, 1, 3s), 1) << gw.metrics_text();
  EXPECT_EQ(metric_or_zero(gw, kReloads, {{"result", "failure"}}), 0);
  EXPECT_TRUE(gw.running());
  auto ready = gw.admin_get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

TEST(Reload, SighupWithBadConfigKeepsOldConfig) {
  UpstreamServer a(handlers::fixed(200, "from-a"));
  UpstreamServer b(handlers::fixed(200, "from-b"));
  GatewayProcess gw(old_config(a, b));
  ASSERT_TRUE(gw.start());
  EXPECT_EQ(body_of(gw.port(), "/old/x"), "from-a");

  // Same file, but the route names an upstream that does not exist.
  std::string bad = gw.render(new_config(a, b));
  auto at = bad.find("upstream: \"b\"");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, std::string("upstream: \"b\"").size(), "upstream: \"ordrs\"");
  gw.write_config_text(bad);
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_EQ(gw.wait_for_metric(kReloads, {{"result", "failure"}}, 1), 1) << gw.metrics_text();
  EXPECT_EQ(metric_or_zero(gw, kReloads, {{"result", "success"}}), 0);
  EXPECT_TRUE(gw.running());
  EXPECT_EQ(body_of(gw.port(), "/old/x"), "from-a");
  EXPECT_EQ(body_of(gw.port(), "/new/x"), "404");
  EXPECT_TRUE(eventually([&] {
    return (gw.stderr_text() + gw.stdout_text()).find("ordrs") != std::string::npos;
  }, 3s)) << "the reload error is not logged";

  // A later good file is still picked up.
  gw.write_config(new_config(a, b));
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_TRUE(eventually([&] { return body_of(gw.port(), "/new/x") == "from-b"; }, 5s));
  EXPECT_EQ(gw.wait_for_metric(kReloads, {{"result", "success"}}, 1, 3s), 1);
  EXPECT_EQ(metric_or_zero(gw, kReloads, {{"result", "failure"}}), 1);
}

TEST(Reload, SighupWithSyntaxErrorKeepsOldConfig) {
  UpstreamServer a(handlers::fixed(200, "from-a"));
  UpstreamServer b(handlers::fixed(200, "from-b"));
  GatewayProcess gw(old_config(a, b));
  ASSERT_TRUE(gw.start());
  gw.write_config_text("listen: [unclosed\n  : :\n");
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_EQ(gw.wait_for_metric(kReloads, {{"result", "failure"}}, 1), 1);
  EXPECT_TRUE(gw.running());
  EXPECT_EQ(body_of(gw.port(), "/old/x"), "from-a");
}

TEST(Reload, InFlightRequestFinishesOnOldConfig) {
  UpstreamServer a(handlers::delayed(1500ms, handlers::fixed(200, "from-a")));
  UpstreamServer b(handlers::fixed(200, "from-b"));
  GatewayConfig before;
  before.upstreams = {{"a", a.url()}, {"b", b.url()}};
  before.routes = {RouteSpec{"svc", "a", "/svc"}};
  GatewayConfig after = before;
  after.routes = {RouteSpec{"svc", "b", "/svc"}};
  GatewayProcess gw(before);
  ASSERT_TRUE(gw.start());

  auto port = gw.port();
  auto inflight = std::async(std::launch::async, [port] { return body_of(port, "/svc/slow"); });
  ASSERT_TRUE(a.wait_for_requests(1, 3s));
  gw.write_config(after);
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_EQ(gw.wait_for_metric(kReloads, {{"result", "success"}}, 1), 1);
  EXPECT_EQ(body_of(gw.port(), "/svc/fast"), "from-b");
  ASSERT_EQ(inflight.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(inflight.get(), "from-a");
}

}  // namespace
}  // namespace it
