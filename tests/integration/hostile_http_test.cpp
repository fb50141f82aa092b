// Hostile HTTP (issue 7 §5) through the real binary over raw loopback sockets: 10k
// headers, a 1 MB header line, CL with TE, TE with obs-fold, pipelined requests after a
// failed auth, a slowloris and a slow body. Each gets the right 4xx or a close; the
// connection is closed whenever reusing it would be unsafe; nothing reaches the upstream
// that should not; and every test checks that a fresh connection still works afterwards.
// (smuggling_test.cpp has the full table of framing attacks, limits_test.cpp the limits
// one by one; this file is the hostile client's view, one test per attack.)
// A body trickled one byte at a time passes every per-read timeout; limits.min_body_rate
// (default 500 bytes/s, averaged once timeouts.body_read has passed) bounds the whole body.
#include <poll.h>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::make_request;
using support::handlers::echo;

constexpr const char* kSecret = "hostile-http-test-hs256-secret-0123456789";

class HostileHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_.url()});
    cfg.routes.push_back(RouteSpec{"secure", "app", "/secure"}.with("auth", "bearer"));
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"});
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: main\n"
                       "    issuer: https://idp.test\n"
                       "    audiences: [orders-api]\n"
                       "    algorithms: [HS256]\n"
                       "    secret_env: HOSTILE_SECRET\n";
    cfg.env.push_back({"HOSTILE_SECRET", kSecret});
    // Defaults except the timeouts, kept short so the slow clients finish quickly.
    cfg.timeouts = {{"header_read", "1s"}, {"body_read", "1s"}, {"linger", "500ms"}};
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  void TearDown() override {
    if (!gw_ || !gw_->running()) return;
    // Every test: the gateway still serves a fresh connection afterwards.
    auto r = support::http_get(gw_->port(), "/api/fresh-connection", {}, 5s);
    EXPECT_EQ(status_of(r), 200) << "fresh connection after the attack: " << describe(r);
    EXPECT_TRUE(gw_->running());
  }

  std::string token() const {
    return ts::mint_hmac("HS256", kSecret, R"({"alg":"HS256","typ":"JWT"})",
                         R"({"iss":"https://idp.test","sub":"alice","aud":"orders-api","exp":)" +
                             std::to_string(now_s() + 300) + "}");
  }

  // Sends `raw` (a send cut short by the gateway closing is fine), then expects a local
  // error `status` and the connection closed with nothing after the reply.
  void expect_rejected_and_closed(const std::string& raw, int status, std::string_view error = {}) {
    HttpClient c(gw_->port());
    ASSERT_TRUE(c.connected());
    c.send(raw, 10s);  // may fail part-way once the gateway has answered and closed
    auto r = c.read_response(10s);
    EXPECT_TRUE(support::IsLocalError(r, status, error)) << describe(r, &c);
    if (r) {
      EXPECT_TRUE(support::has_token(r->header("Connection").value_or(""), "close")) << describe(r);
    }
    std::string after;
    EXPECT_TRUE(c.wait_closed(5s, &after)) << "connection left open after " << status;
    EXPECT_EQ(after, "") << "bytes after the " << status;
  }

  UpstreamServer up_{echo()};
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(HostileHttp, TenThousandHeadersGet431AndClose) {
  std::string raw = "GET /api/many HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i) raw += "X-H" + std::to_string(i) + ": v\r\n";
  raw += "\r\n";
  expect_rejected_and_closed(raw, 431);
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(HostileHttp, OneMegabyteHeaderLineGets431AndClose) {
  const std::string raw = "GET /api/big HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
  expect_rejected_and_closed(raw, 431);
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(HostileHttp, OneMegabyteRequestLineGets431AndClose) {
  const std::string raw = "GET /api/" + std::string(1 << 20, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  expect_rejected_and_closed(raw, 431);
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(HostileHttp, ContentLengthWithTransferEncodingGets400AndClose) {
  const std::string smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  expect_rejected_and_closed("POST /api/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
                             400);
  support::sleep_for(200ms);
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(HostileHttp, TransferEncodingWithObsFoldGets400AndClose) {
  const std::string smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  expect_rejected_and_closed("POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n"
                             "Content-Length: 5\r\n\r\n0\r\n\r\n" + smuggled,
                             400);
  support::sleep_for(200ms);
  EXPECT_EQ(up_.request_count(), 0);
}

// Two requests in one write: a 401, then a request that is judged on its own merits
// (here: no token, so 401 again); never forwarded.
TEST_F(HostileHttp, PipelinedRequestAfterAFailedAuthIsNeverForwardedWithoutAuth) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send(make_request("GET", "/secure/first", {{"Authorization", "Bearer not-a-jwt"}}) +
                     make_request("GET", "/secure/second")));
  auto first = c.read_response(5s);
  ASSERT_EQ(status_of(first), 401) << describe(first, &c);
  // A bodiless 401 leaves nothing unread: the connection is safe to reuse, and the
  // pipelined request is judged on its own (no token: 401 again).
  auto second = c.read_response(5s);
  ASSERT_EQ(status_of(second), 401) << describe(second, &c);
  EXPECT_NE(second->header("WWW-Authenticate").value_or("").find("Bearer"), std::string::npos);
  support::sleep_for(200ms);
  EXPECT_EQ(up_.request_count(), 0) << "a request reached the upstream without a valid token";
}

TEST_F(HostileHttp, PipelinedAuthorisedRequestAfterAFailedAuthIsServedOnItsOwnMerits) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send(make_request("GET", "/secure/first") +
                     make_request("GET", "/secure/second", {{"Authorization", "Bearer " + token()}})));
  auto first = c.read_response(5s);
  ASSERT_EQ(status_of(first), 401) << describe(first, &c);
  auto second = c.read_response(5s);
  EXPECT_EQ(status_of(second), 200) << describe(second, &c);
  EXPECT_TRUE(up_.saw_target_containing("/secure/second"));
  EXPECT_FALSE(up_.saw_target_containing("/secure/first"));
}

// A 401 leaves the request body unread. Whatever that body holds (here: a request
// line) must never be parsed as the next request: the body is discarded or the
// connection closed, and the client gets exactly one response.
TEST_F(HostileHttp, BodyOfARequestRefusedBeforeItsBodyIsNeverParsedAsARequest) {
  const std::string inner = "GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send(make_request("POST", "/secure/upload", {}, inner)));
  auto r = c.read_response(5s);
  EXPECT_TRUE(support::IsLocalError(r, 401)) << describe(r, &c);
  std::string after;
  EXPECT_TRUE(c.wait_closed(5s, &after)) << "connection reused after a reply that left the body unread";
  EXPECT_EQ(after, "") << "a second response: the body was parsed as a request";
  support::sleep_for(200ms);
  EXPECT_EQ(up_.request_count(), 0);
}

// Slowloris: one header byte every 100 ms never completes a header; header_read (1s)
// counts from the first byte, so the trickle does not extend it.
TEST_F(HostileHttp, SlowlorisIsAnswered408AndClosedAtHeaderRead) {
  HttpClient c(gw_->port());
  const std::string head = "GET /api/slow HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 's');
  const auto t0 = Clock::now();
  bool answered = false;
  for (std::size_t i = 0; i < head.size() && seconds_since(t0) < 8; ++i) {
    if (!c.send(head.substr(i, 1), 1s)) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      answered = true;
      break;
    }
  }
  const double took = seconds_since(t0);
  EXPECT_TRUE(answered) << "still reading a trickled header after " << took << " s";
  EXPECT_TRUE(support::IsLocalError(c.read_response(3s), 408)) << c.error();
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 3.0);
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_EQ(up_.request_count(), 0);
  EXPECT_GE(metric_or_zero(*gw_, "authgate_timeouts_total", {{"phase", "header_read"}}), 1);
}

// A body that stops: the headers are complete (and forwarded), then 10 of 1000 bytes,
// then nothing. The gateway gives up at body_read (1s): 408 and close (or a close, if
// the upstream already answered), and the upstream connection is not reused.
TEST_F(HostileHttp, StalledBodyIsClosedAtBodyRead) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789"));
  const auto t0 = Clock::now();
  auto r = c.read_response(5s);
  const double took = seconds_since(t0);
  if (r) {
    EXPECT_TRUE(support::IsLocalError(r, 408)) << describe(r);
  }
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 3.0);
  EXPECT_GE(metric_or_zero(*gw_, "authgate_timeouts_total", {{"phase", "body_read"}}), 1);
}

// A body trickled one byte per 200 ms (5 bytes/s): each read completes well within
// body_read, but 1000 bytes would take 200 s. Below limits.min_body_rate (default 500
// bytes/s) once body_read (1s) has passed: 408 and close.
TEST_F(HostileHttp, TrickledBodyBelowMinBodyRateGets408AndClose) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"));
  const auto t0 = Clock::now();
  bool answered = false;
  for (int i = 0; i < 1000 && seconds_since(t0) < 15; ++i) {
    if (!c.send("b", 1s)) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      answered = true;
      break;
    }
  }
  const double took = seconds_since(t0);
  EXPECT_TRUE(answered) << "a 5 bytes/s body was still being read after " << took << " s";
  EXPECT_TRUE(support::IsLocalError(c.read_response(3s), 408)) << c.error();
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_GE(took, 0.9) << "not before timeouts.body_read";
  EXPECT_LT(took, 3.0);
  EXPECT_GE(metric_or_zero(*gw_, "authgate_timeouts_total", {{"phase", "body_read"}}), 1);
}

// Control: a slow but honest body (2 KiB in 8 pieces over ~1.6 s, ~1.2 KiB/s) passes.
TEST_F(HostileHttp, SlowBodyAboveMinBodyRateIsAccepted) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n"));
  for (int i = 0; i < 8; ++i) {
    support::sleep_for(200ms);
    ASSERT_TRUE(c.send(std::string(256, 'u'), 2s)) << i;
  }
  auto r = c.read_response(5s);
  ASSERT_EQ(status_of(r), 200) << describe(r, &c);
  EXPECT_EQ(r->header("X-Body-Bytes"), "2048");
}

}  // namespace
}  // namespace it
