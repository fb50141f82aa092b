// WebSocket: the upgrade is forwarded with its headers, and after 101 bytes are
// relayed both ways until either side closes.
#include "common.hpp"

namespace it {
namespace {

using namespace support;

const std::string kUpgrade =
    "GET /ws/chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

GatewayConfig ws_config(const UpstreamServer& up) {
  auto cfg = one_route(up, "/ws");
  cfg.timeouts = {{"upstream_response", "2s"}};
  return cfg;
}

TEST(WebSocket, UpgradeRoundTrip) {
  UpstreamServer up(handlers::websocket_echo());
  GatewayProcess gw(ws_config(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(kUpgrade);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 101) << describe(r);
  EXPECT_TRUE(r->header("Upgrade") && iequals(*r->header("Upgrade"), "websocket")) << r->head_raw;
  EXPECT_TRUE(r->header("Connection") && has_token(*r->header("Connection"), "upgrade"))
      << r->head_raw;
  EXPECT_EQ(r->header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  auto seen = up.last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/ws/chat");
  EXPECT_TRUE(seen->headers.get("Upgrade") && iequals(*seen->headers.get("Upgrade"), "websocket"))
      << seen->raw;
  auto conn = seen->headers.get("Connection");
  EXPECT_TRUE(conn && has_token(*conn, "upgrade")) << seen->raw;
  EXPECT_EQ(seen->headers.get("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(seen->headers.get("Sec-WebSocket-Version"), "13");

  // A masked text frame "hello" (bytes are opaque to the relay anyway).
  const std::string frame("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  ASSERT_TRUE(c.send(frame));
  EXPECT_EQ(c.read_n(frame.size(), 3s), frame);

  // A larger binary burst both ways.
  std::string burst(pattern::slice(0, 200 * 1024));
  ASSERT_TRUE(c.send(burst));
  std::string back = c.read_n(burst.size(), 5s);
  EXPECT_EQ(back.size(), burst.size());
  EXPECT_TRUE(back == burst);

  // Client closes -> the upstream side of the tunnel closes too.
  c.close();
  EXPECT_TRUE(up.wait_for_peer_closes(1, 5s)) << "upstream connection not closed after the client left";
}

TEST(WebSocket, UpstreamCloseEndsTheTunnel) {
  UpstreamServer up(handlers::websocket_echo(5));
  GatewayProcess gw(ws_config(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(kUpgrade);
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 101) << describe(r);
  ASSERT_TRUE(c.send("hello"));
  std::string got;
  EXPECT_TRUE(c.wait_closed(5s, &got)) << "client side still open after the upstream closed";
  EXPECT_EQ(got, "hello");
}

TEST(WebSocket, UpstreamRefusingUpgradeIsPassedThrough) {
  UpstreamServer up(handlers::fixed(403, "no upgrade for you"));
  GatewayProcess gw(ws_config(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto r = c.request(kUpgrade);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "no upgrade for you");
}

}  // namespace
}  // namespace it
