// ops: the Grafana dashboard and the Prometheus alert rules use only metric
// names a live authgate exports (scripts/check_observability.py against a real
// /metrics scrape), and every file docker-compose.yml mounts exists.
#include <cstdlib>
#include <fstream>

#include "auth/test_signer.hpp"
#include "common.hpp"
#include "support/paths.hpp"
#include "support/files.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;

std::string source(const std::string& rel) { return support::source_dir() + "/" + rel; }

TEST(Observability, DashboardAndAlertRulesUseExportedMetricNames) {
  UpstreamServer up(support::handlers::echo());
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", up.url()});
  cfg.routes.push_back(RouteSpec{"api", "app", "/api"}.with("auth", "bearer"));
  cfg.routes.push_back(RouteSpec{"public", "app", "/public"});
  const std::string jwks = "/tmp/authgate-observability-jwks-" + std::to_string(::getpid()) + ".json";
  std::ofstream(jwks) << ts::jwks_of({ts::rsa2048().public_jwk()});
  cfg.issuers_yaml = "issuers:\n  - name: main\n    issuer: https://idp.test\n    audiences: [orders-api]\n"
                     "    jwks_file: " + jwks + "\n";
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  // Some traffic, so labelled series exist: an allowed token (a cache miss, then a hit), a 401, a 200.
  const std::string token =
      ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","kid":"rsa-1"})",
               R"({"iss":"https://idp.test","sub":"a","aud":"orders-api","exp":)" + std::to_string(now_s() + 300) + "}");
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(status_of(support::http_request(
                  gw.port(), support::make_request("GET", "/api/x", {{"Authorization", "Bearer " + token}}))),
              200);
  EXPECT_EQ(status_of(support::http_request(gw.port(), support::make_request("GET", "/api/x"))), 401);
  EXPECT_EQ(status_of(support::http_request(gw.port(), support::make_request("GET", "/public/x"))), 200);

  const std::string scrape = gw.dir().file("metrics.txt");
  std::ofstream(scrape) << gw.metrics_text();
  // Names without a series yet (sessions, introspection, ...) are accepted when
  // gateway/metrics/metrics.cpp registers them; anything else fails.
  const std::string cmd = "python3 " + source("scripts/check_observability.py") + " --repo " +
                          support::source_dir() + " --metrics " + scrape + " > " +
                          gw.dir().file("check.log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::remove(jwks.c_str());
  const std::string out = support::read_text(gw.dir().file("check.log"));
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace it
