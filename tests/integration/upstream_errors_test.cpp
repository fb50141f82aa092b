// Upstream failures: 502 (refused, closed or reset without a response) and
// 504 (no response within upstream_response, connect beyond upstream_connect).
#include "common.hpp"

namespace it {
namespace {

using namespace support::handlers;
using support::make_request;

GatewayConfig config_for(const std::string& url) {
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", url});
  cfg.routes.push_back(RouteSpec{"api", "app", "/api"});
  cfg.timeouts = {{"upstream_connect", "300ms"}, {"upstream_response", "500ms"}};
  return cfg;
}

// One failed request: counted once under its kind and logged with it (README, "Failure behaviour").
// The upstream error is counted before the reply is written; the request (requests_total)
// after it, so that one is waited for: the client may have its 502 before it is counted.
void expect_counted_and_logged(const GatewayProcess& gw, const std::string& kind) {
  EXPECT_EQ(metric_or_zero(gw, "authgate_upstream_errors_total", {{"upstream", "app"}, {"kind", kind}}), 1) << kind;
  const std::string code = kind == "connect_timeout" || kind == "response_timeout" ? "504" : "502";
  EXPECT_EQ(gw.wait_for_metric("authgate_http_requests_total", {{"route", "api"}, {"code", code}}, 1), 1)
      << gw.metrics_text();
  const std::string log = gw.stdout_text() + gw.stderr_text();
  EXPECT_NE(log.find("to upstream app failed: " + kind), std::string::npos) << log;
}

TEST(UpstreamErrors, RefusedConnectionGets502) {
  const support::PortReservation nobody;  // bound, never listening: connections are refused
  GatewayProcess gw(config_for("http://127.0.0.1:" + std::to_string(nobody.port())));
  ASSERT_TRUE(gw.start());
  auto start = Clock::now();
  auto r = support::http_get(gw.port(), "/api/x", {{"X-Request-Id", "refused-1"}});
  EXPECT_TRUE(support::IsLocalError(r, 502));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("X-Request-Id"), "refused-1");
  EXPECT_LT(seconds_since(start), 2.0);
  expect_counted_and_logged(gw, "connect_refused");
}

TEST(UpstreamErrors, UpstreamClosingWithoutResponseGets502) {
  UpstreamServer up(close_without_answer());
  GatewayProcess gw(config_for(up.url()));
  ASSERT_TRUE(gw.start());
  auto r = support::http_get(gw.port(), "/api/x");
  EXPECT_TRUE(support::IsLocalError(r, 502));
  EXPECT_GE(up.request_count(), 1);
  expect_counted_and_logged(gw, "bad_response");
}

TEST(UpstreamErrors, UpstreamResetWithoutResponseGets502) {
  UpstreamServer up(reset_without_answer());
  GatewayProcess gw(config_for(up.url()));
  ASSERT_TRUE(gw.start());
  auto r = support::http_get(gw.port(), "/api/x");
  EXPECT_TRUE(support::IsLocalError(r, 502));
  expect_counted_and_logged(gw, "bad_response");
}

TEST(UpstreamErrors, UpstreamClosingMidBodyDoesNotHangTheClient) {
  // Headers promise 1000 bytes, 10 arrive, then the upstream closes: the client
  // must not wait forever (the response is cut short or replaced by a 502).
  UpstreamServer up([](support::UpstreamConnection& c, const support::RequestHead&) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
    c.close();
  });
  GatewayProcess gw(config_for(up.url()));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(make_request("GET", "/api/x"), 5s);
  if (r) {
    EXPECT_EQ(r->status, 502) << "a complete response was delivered for a truncated upstream body";
  } else {
    EXPECT_NE(c.last_status(), support::RecvStatus::timeout) << "client left hanging";
  }
}

TEST(UpstreamErrors, SlowUpstreamGets504) {
  UpstreamServer up(delayed(3s, echo()));
  GatewayProcess gw(config_for(up.url()));
  ASSERT_TRUE(gw.start());
  auto start = Clock::now();
  auto r = support::http_get(gw.port(), "/api/slow", {}, 5s);
  double took = seconds_since(start);
  EXPECT_TRUE(support::IsLocalError(r, 504));
  EXPECT_GE(took, 0.4);
  EXPECT_LT(took, 2.5);
  expect_counted_and_logged(gw, "response_timeout");
}

TEST(UpstreamErrors, ConnectTimeoutGets504) {
  support::BlackholeListener hole;  // SYNs are dropped: connect never completes
  auto cfg = config_for("http://127.0.0.1:" + std::to_string(hole.port()));
  cfg.timeouts = {{"upstream_connect", "300ms"}, {"upstream_response", "10s"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  auto start = Clock::now();
  auto r = support::http_get(gw.port(), "/api/x", {}, 8s);
  double took = seconds_since(start);
  EXPECT_TRUE(support::IsLocalError(r, 504));
  EXPECT_LT(took, 3.0);
  expect_counted_and_logged(gw, "connect_timeout");
}

TEST(UpstreamErrors, GatewayRecoversWhenUpstreamComesBack) {
  UpstreamServer up(close_without_answer());
  GatewayProcess gw(config_for(up.url()));
  ASSERT_TRUE(gw.start());
  EXPECT_TRUE(support::IsLocalError(support::http_get(gw.port(), "/api/x"), 502));
  up.set_handler(echo());
  auto r = support::http_get(gw.port(), "/api/y");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
}

}  // namespace
}  // namespace it
