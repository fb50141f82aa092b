// Admin listener: /healthz, /readyz and Prometheus /metrics after traffic.
#include "common.hpp"

namespace it {
namespace {

using namespace support;

TEST(Admin, HealthzAndReadyzAnswer200) {
  UpstreamServer up(handlers::echo());
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  auto h = gw.admin_get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto r = gw.admin_get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(Admin, ProxyPathsAreNotServedOnAdminAndViceVersa) {
  UpstreamServer up(handlers::echo());
  GatewayProcess gw(one_route(up, "/"));
  ASSERT_TRUE(gw.start());
  auto r = gw.admin_get("/api/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(up.request_count(), 0);
}

class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayConfig cfg;
    cfg.upstreams = {{"app", up_.url()},
                     {"dead", "http://127.0.0.1:" + std::to_string(dead_.port())}};
    cfg.routes = {RouteSpec{"api", "app", "/api"}, RouteSpec{"broken", "dead", "/broken"}};
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  UpstreamServer up_{handlers::echo()};
  PortReservation dead_;  // bound, never listening: connections to "dead" are refused
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(Metrics, ExpositionFormatAndBuildInfo) {
  auto r = gw_->admin_get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto ct = r->header("Content-Type");
  ASSERT_TRUE(ct);
  EXPECT_EQ(ct->rfind("text/plain", 0), 0u) << *ct;
  EXPECT_NE(ct->find("version=0.0.4"), std::string::npos) << *ct;
  auto samples = parse_prometheus(r->body);
  auto info = find_samples(samples, "authgate_build_info");
  ASSERT_EQ(info.size(), 1u) << r->body;
  EXPECT_EQ(info[0].value, 1);
  ASSERT_TRUE(info[0].labels.count("version"));
  if (std::string_view(AUTHGATE_VERSION) != "") {
    EXPECT_EQ(info[0].labels["version"], AUTHGATE_VERSION);
  }
  EXPECT_NE(r->body.find("authgate_config_reloads_total"), std::string::npos) << r->body;
  EXPECT_TRUE(find_samples(samples, "authgate_connections_active").size() == 1) << r->body;
}

TEST_F(Metrics, RequestCountersAndHistogramsAfterTraffic) {
  HttpClient held(gw_->port());  // keeps one client connection open
  ASSERT_TRUE(held.request(make_request("GET", "/api/held")));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(status_of(http_get(gw_->port(), "/api/x")), 200);
  ASSERT_EQ(status_of(http_request(gw_->port(), make_request("POST", "/api/p", {}, "x"))), 200);
  ASSERT_EQ(status_of(http_get(gw_->port(), "/nowhere")), 404);
  ASSERT_EQ(status_of(http_get(gw_->port(), "/broken/x")), 502);

  // Requests are counted (and their duration observed) just after the response is
  // written, possibly on another worker: wait until each expected count is there (every
  // request of this test, so these can only reach them), then check one scrape. Upstream
  // errors and upstream durations are counted before the response.
  EXPECT_GE(gw_->wait_for_metric("authgate_http_requests_total", {{"route", "api"}, {"method", "GET"}, {"code", "200"}}, 4),
            4);
  EXPECT_GE(gw_->wait_for_metric("authgate_http_requests_total", {{"method", "POST"}}, 1), 1);
  EXPECT_GE(gw_->wait_for_metric("authgate_http_requests_total", {{"code", "404"}}, 1), 1);
  EXPECT_GE(gw_->wait_for_metric("authgate_http_requests_total", {{"code", "502"}}, 1), 1);
  EXPECT_GE(gw_->wait_for_metric("authgate_http_request_duration_seconds_count", {{"route", "api"}}, 5), 5);
  const std::string text = gw_->metrics_text();
  const std::vector<Sample> s = parse_prometheus(text);
  EXPECT_EQ(metric_value(s, "authgate_http_requests_total",
                         {{"route", "api"}, {"method", "POST"}, {"code", "200"}}),
            1)
      << text;
  EXPECT_GE(metric_value(s, "authgate_http_requests_total", {{"code", "404"}}).value_or(0), 1) << text;
  EXPECT_GE(metric_value(s, "authgate_http_requests_total", {{"route", "broken"}, {"code", "502"}})
                .value_or(0),
            1)
      << text;

  EXPECT_GE(metric_value(s, "authgate_http_request_duration_seconds_count", {{"route", "api"}})
                .value_or(0),
            5)
      << text;
  EXPECT_FALSE(find_samples(s, "authgate_http_request_duration_seconds_bucket",
                            {{"route", "api"}, {"le", "+Inf"}})
                   .empty())
      << text;
  EXPECT_GE(metric_value(s, "authgate_upstream_request_duration_seconds_count", {{"upstream", "app"}})
                .value_or(0),
            5)
      << text;

  auto errors = find_samples(s, "authgate_upstream_errors_total", {{"upstream", "dead"}});
  ASSERT_FALSE(errors.empty()) << text;
  double total = 0;
  for (const auto& e : errors) {
    EXPECT_TRUE(e.labels.count("kind") && !e.labels.at("kind").empty()) << text;
    total += e.value;
  }
  EXPECT_GE(total, 1);

  EXPECT_GE(metric_value(s, "authgate_connections_active").value_or(0), 1) << text;
}

}  // namespace
}  // namespace it
