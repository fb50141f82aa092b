// Keep-alive on both sides: client connections carry several requests, and
// upstream connections are pooled and reused.
#include "common.hpp"

namespace it {
namespace {

using support::handlers::echo;
using support::make_request;

TEST(KeepAlive, RequestsOnOneClientConnectionReuseOneUpstreamConnection) {
  UpstreamServer up(echo());
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    std::string req = i % 2 ? make_request("POST", "/api/p" + std::to_string(i), {}, "abc")
                            : make_request("GET", "/api/g" + std::to_string(i));
    auto r = c.request(req);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200) << describe(r);
    EXPECT_EQ(r->header("X-Upstream-Connection"), "1");
  }
  EXPECT_EQ(up.request_count(), 6);
  EXPECT_EQ(up.accepted(), 1);
}

TEST(KeepAlive, SequentialClientConnectionsReusePooledUpstreamConnection) {
  UpstreamServer up(echo());
  auto cfg = one_route(up);
  cfg.workers = 1;  // pools are per worker thread
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  for (int i = 0; i < 3; ++i) {
    auto r = support::http_get(gw.port(), "/api/seq");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(up.accepted(), 1);
}

TEST(KeepAlive, IdleClientConnectionIsClosedSilently) {
  UpstreamServer up(echo());
  auto cfg = one_route(up);
  cfg.timeouts = {{"keepalive_idle", "500ms"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(make_request("GET", "/api/x"));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  auto idle_from = Clock::now();
  std::string extra;
  EXPECT_TRUE(c.wait_closed(5s, &extra)) << "idle connection still open after 5 s";
  EXPECT_GE(seconds_since(idle_from), 0.4);
  EXPECT_EQ(extra, "") << "the idle close must be silent (no 408)";
}

TEST(KeepAlive, ConnectionCloseIsHonoured) {
  UpstreamServer up(echo());
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(make_request("GET", "/api/x", {{"Connection", "close"}}));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.wait_closed(3s));
}

TEST(KeepAlive, Http10ClientWithoutKeepAliveIsClosed) {
  UpstreamServer up(echo());
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request("GET /api/old HTTP/1.0\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.wait_closed(3s));
}

}  // namespace
}  // namespace it
