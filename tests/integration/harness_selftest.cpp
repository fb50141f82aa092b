// Checks the harness itself (client <-> test upstream, no authgate involved), so
// a failing gateway test can be trusted to be about the gateway.
#include <arpa/inet.h>
#include <gtest/gtest-spi.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>

#include "common.hpp"

namespace it {
namespace {

using namespace support;

TEST(Harness, EchoRoundTripAndKeepAlive) {
  UpstreamServer up(handlers::echo());
  HttpClient c(up.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    auto r = c.request(make_request("POST", "/x?i=" + std::to_string(i), {{"X-A", "1"}}, "body!"));
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Body-Bytes"), "5");
    EXPECT_NE(r->body.find("POST /x?i=" + std::to_string(i) + " HTTP/1.1\r\n"), std::string::npos);
    EXPECT_TRUE(r->body.ends_with("body!"));
  }
  EXPECT_EQ(up.accepted(), 1);
  ASSERT_EQ(up.request_count(), 3);
  EXPECT_EQ(up.last_request()->headers.get("x-a"), "1");
  EXPECT_EQ(up.last_request()->target, "/x?i=2");
}

TEST(Harness, ChunkedAndFixedStreams) {
  for (bool chunked : {true, false}) {
    UpstreamServer up(handlers::stream(3 * 1024 * 1024 + 7, chunked, 100000));
    HttpClient c(up.port());
    pattern::Checker check;
    ReadOptions opts;
    opts.sink = [&](const char* d, std::size_t n) { check.feed(d, n); };
    auto r = c.request(make_request("GET", "/"), 10s, opts);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->chunked, chunked);
    EXPECT_TRUE(check.ok(3 * 1024 * 1024 + 7)) << check.bytes() << " " << check.mismatches();
  }
}

TEST(Harness, ChunkedUploadIsDecoded) {
  UpstreamServer up(handlers::consume());
  HttpClient c(up.port());
  std::string req = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::uint64_t off = 0;
  for (int i = 0; i < 10; ++i) {
    auto s = pattern::slice(off, 1000 + i);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", s.size());
    req += size;
    req += s;
    req += "\r\n";
    off += s.size();
  }
  req += "0\r\n\r\n";
  auto r = c.request(req);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "bytes=" + std::to_string(off) + " mismatches=0");
}

TEST(Harness, PatternDetectsCorruption) {
  pattern::Checker good;
  auto s = pattern::slice(0, 1000);
  good.feed(s.data(), s.size());
  EXPECT_TRUE(good.ok(1000));
  pattern::Checker bad;
  auto s2 = pattern::slice(1, 1000);  // shifted by one byte
  bad.feed(s2.data(), s2.size());
  EXPECT_FALSE(bad.ok(1000));
}

TEST(Harness, CloseWithoutAnswerIsSeenAsClose) {
  UpstreamServer up(handlers::close_without_answer());
  HttpClient c(up.port());
  auto r = c.request(make_request("GET", "/"), 3s);
  EXPECT_FALSE(r);
  EXPECT_TRUE(c.wait_closed(1s));
}

TEST(Harness, WebSocketEcho) {
  UpstreamServer up(handlers::websocket_echo());
  HttpClient c(up.port());
  auto r = c.request(make_request("GET", "/ws", {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 101);
  ASSERT_TRUE(c.send("ping"));
  EXPECT_EQ(c.read_n(4, 3s), "ping");
  c.close();
  EXPECT_TRUE(up.wait_for_peer_closes(1, 3s));
}

TEST(Harness, DelayedHandlerIsInterruptedByStop) {
  auto start = Clock::now();
  {
    UpstreamServer up(handlers::delayed(30s, handlers::echo()));
    HttpClient c(up.port());
    ASSERT_TRUE(c.send(make_request("GET", "/")));
    ASSERT_TRUE(up.wait_for_requests(1, 3s));
  }
  EXPECT_LT(seconds_since(start), 5.0);
}

TEST(Harness, BlackholeConnectTimesOut) {
  BlackholeListener hole;
  int err = 0;
  auto start = Clock::now();
  Fd fd = connect_loopback(hole.port(), Deadline::in(300ms), &err);
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(err, ETIMEDOUT);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST(Harness, PrometheusParser) {
  auto s = parse_prometheus(
      "# HELP x y\n# TYPE a counter\n"
      "a{route=\"r\",code=\"200\"} 3\n"
      "a{route=\"r\",code=\"404\"} 1\n"
      "b 2.5\n"
      "h_bucket{le=\"+Inf\"} 7\n");
  EXPECT_EQ(metric_value(s, "a", {{"code", "200"}}), 3);
  EXPECT_EQ(metric_value(s, "a", {{"route", "r"}}), 4);
  EXPECT_EQ(metric_value(s, "b"), 2.5);
  EXPECT_EQ(metric_value(s, "h_bucket", {{"le", "+Inf"}}), 7);
  EXPECT_FALSE(metric_value(s, "c"));
}

TEST(Harness, ConfigRendering) {
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", "http://127.0.0.1:1", {{"max_idle", "4"}}});
  cfg.routes.push_back(RouteSpec("r", "app", "/api").with_methods({"GET", "HEAD"}).with_host("*.example.com"));
  cfg.routes.push_back(RouteSpec("x", "app").exact_path("/exact"));
  cfg.limits = {{"max_body_bytes", "1KiB"}};
  cfg.timeouts = {{"header_read", "1s"}};
  cfg.trusted_proxies = {"10.0.0.0/8"};
  auto y = cfg.render(1000, 1001, "/tmp/a.log");
  EXPECT_NE(y.find("address: \"127.0.0.1:1000\""), std::string::npos) << y;
  EXPECT_NE(y.find("path: {prefix: \"/api\"}"), std::string::npos) << y;
  EXPECT_NE(y.find("path: {exact: \"/exact\"}"), std::string::npos) << y;
  EXPECT_NE(y.find("methods: [GET, HEAD]"), std::string::npos) << y;
  EXPECT_NE(y.find("max_idle: \"4\""), std::string::npos) << y;
}

// A listening socket on 127.0.0.1:port with the given options; invalid when bind or
// listen failed.
Fd listener_on(std::uint16_t port, bool reuseaddr, bool reuseport) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  if (reuseaddr) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 64) != 0) return {};
  return fd;
}

TEST(Harness, PortReservationRefusesConnectionsAndSharesOnlyAsAsked) {
  {
    PortReservation nobody;
    int err = 0;
    EXPECT_FALSE(connect_loopback(nobody.port(), Deadline::in(1s), &err).valid());
    EXPECT_EQ(err, ECONNREFUSED);
    EXPECT_FALSE(listener_on(nobody.port(), true, true).valid()) << "Share::none shares with nobody";
  }
  {
    PortReservation r(PortReservation::Share::reuseport);
    EXPECT_FALSE(listener_on(r.port(), true, false).valid()) << "SO_REUSEADDR alone must not share it";
    Fd a = listener_on(r.port(), true, true);  // as authgate's workers bind
    Fd b = listener_on(r.port(), true, true);
    ASSERT_TRUE(a.valid() && b.valid());
    // Every connection lands on a listener (the reservation never listens).
    for (int i = 0; i < 20; ++i) {
      Fd c = connect_loopback(r.port(), Deadline::in(1s));
      ASSERT_TRUE(c.valid()) << i;
      pollfd p[2] = {{a.get(), POLLIN, 0}, {b.get(), POLLIN, 0}};
      ASSERT_EQ(::poll(p, 2, 1000) > 0, true) << i;
      Fd accepted(::accept((p[0].revents & POLLIN) ? a.get() : b.get(), nullptr, nullptr));
      EXPECT_TRUE(accepted.valid()) << i;
    }
  }
  {
    PortReservation r(PortReservation::Share::reuseaddr);
    EXPECT_FALSE(listener_on(r.port(), false, false).valid()) << "a plain bind must not share it";
    EXPECT_TRUE(listener_on(r.port(), true, false).valid()) << "as node and redis-server bind";
  }
}

TEST(Harness, GatewayPortsAreKnownAfterStartOrAfterReservePort) {
  GatewayProcess gw(GatewayConfig{});
  EXPECT_NONFATAL_FAILURE(gw.port(), "before start()");
  EXPECT_NONFATAL_FAILURE(gw.admin_port(), "before start()");
  EXPECT_EQ(gw.config_port(), 0);
  gw.reserve_port();
  EXPECT_NE(gw.port(), 0);
  EXPECT_EQ(gw.config_port(), gw.port());
  EXPECT_NE(gw.render(GatewayConfig{}).find("127.0.0.1:" + std::to_string(gw.port())), std::string::npos);
}

}  // namespace
}  // namespace it
