// SIGTERM/SIGINT: /readyz turns 503, the listener stops accepting, idle
// connections close, in-flight requests finish (up to timeouts.drain), exit 0.
#include <signal.h>

#include <atomic>
#include <future>

#include "common.hpp"

namespace it {
namespace {

using namespace support;

TEST(Shutdown, SigtermDrainsInFlightRequest) {
  const std::string payload(100 * 1024, 'p');
  UpstreamServer up(handlers::delayed(1s, handlers::fixed(200, payload)));
  auto cfg = one_route(up);
  cfg.timeouts = {{"drain", "10s"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());

  HttpClient c(gw.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/slow")));
  ASSERT_TRUE(up.wait_for_requests(1, 3s));
  ASSERT_TRUE(gw.signal(SIGTERM));

  // Watch /readyz while the request is in flight.
  std::atomic<bool> saw_503{false};
  std::atomic<bool> watching{true};
  auto watcher = std::async(std::launch::async, [&] {
    while (watching) {
      auto r = gw.admin_get("/readyz", 300ms);
      if (r && r->status == 503) {
        saw_503 = true;
        return;
      }
      sleep_for(10ms);
    }
  });

  auto r = c.read_response(8s);
  watching = false;
  watcher.wait();
  ASSERT_TRUE(r) << "in-flight response lost: " << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), payload.size());
  EXPECT_TRUE(r->body == payload);
  EXPECT_TRUE(saw_503) << "/readyz never answered 503 while draining";

  auto code = gw.wait_exit(10s);
  ASSERT_TRUE(code) << "authgate still running 10 s after SIGTERM";
  EXPECT_EQ(*code, 0);
}

TEST(Shutdown, ListenerStopsAcceptingWhileDraining) {
  UpstreamServer up(handlers::delayed(2s, handlers::fixed(200, "late")));
  auto cfg = one_route(up);
  cfg.timeouts = {{"drain", "10s"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());

  HttpClient inflight(gw.port());
  ASSERT_TRUE(inflight.send(make_request("GET", "/api/slow")));
  ASSERT_TRUE(up.wait_for_requests(1, 3s));
  ASSERT_TRUE(gw.signal(SIGTERM));
  ASSERT_TRUE(eventually([&] {
    auto r = gw.admin_get("/readyz", 300ms);
    return r && r->status == 503;
  }, 1500ms)) << "/readyz did not turn 503";

  // A new client is not served: refused, closed, or never answered.
  sleep_for(200ms);
  bool served = false;
  {
    HttpClient late(gw.port(), 300ms);
    if (late.connected()) {
      auto r = late.request(make_request("GET", "/api/new"), 500ms);
      served = r && r->status == 200;
    }
  }
  EXPECT_FALSE(served) << "a connection accepted after SIGTERM was served";
  EXPECT_EQ(up.request_count(), 1);

  auto r = inflight.read_response(8s);
  ASSERT_TRUE(r) << inflight.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "late");
  auto code = gw.wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(Shutdown, SigtermClosesIdleConnections) {
  UpstreamServer up(handlers::echo());
  auto cfg = one_route(up);
  cfg.timeouts = {{"keepalive_idle", "60s"}, {"drain", "10s"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(make_request("GET", "/api/x"));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  auto start = Clock::now();
  ASSERT_TRUE(gw.signal(SIGTERM));
  EXPECT_TRUE(c.wait_closed(5s)) << "idle keep-alive connection not closed on SIGTERM";
  auto code = gw.wait_exit(5s);
  ASSERT_TRUE(code) << "authgate still running 5 s after SIGTERM with only idle connections";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(seconds_since(start), 5.0);
}

TEST(Shutdown, SigintExitsCleanly) {
  UpstreamServer up(handlers::echo());
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  auto r = http_get(gw.port(), "/api/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(gw.signal(SIGINT));
  auto code = gw.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(Shutdown, DrainTimeoutBoundsShutdown) {
  UpstreamServer up(handlers::delayed(30s, handlers::echo()));
  auto cfg = one_route(up);
  cfg.timeouts = {{"drain", "500ms"}, {"upstream_response", "60s"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/forever")));
  ASSERT_TRUE(up.wait_for_requests(1, 3s));
  auto start = Clock::now();
  ASSERT_TRUE(gw.signal(SIGTERM));
  auto code = gw.wait_exit(5s);
  ASSERT_TRUE(code) << "authgate ignored timeouts.drain";
  EXPECT_EQ(*code, 0);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_TRUE(c.wait_closed(2s));
}

}  // namespace
}  // namespace it
