// Limits and client-side timeouts: 408 (slowloris), 413 (body), 431 (headers).
#include <poll.h>

#include "common.hpp"

namespace it {
namespace {

using support::handlers::echo;
using support::make_request;

class Limits : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = one_route(up_);
    cfg.limits = {{"max_body_bytes", "1KiB"}, {"max_header_bytes", "2KiB"}};
    cfg.timeouts = {{"header_read", "1s"}, {"body_read", "5s"}};
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  UpstreamServer up_{echo()};
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(Limits, PartialHeaderGets408ThenClose) {
  HttpClient c(gw_->port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("GET /api/slow HTTP/1.1\r\nHost: x\r\nX-Partial: "));
  auto r = c.read_response(6s);
  double took = seconds_since(start);
  EXPECT_TRUE(support::IsLocalError(r, 408)) << c.error();
  EXPECT_GE(took, 0.8);
  EXPECT_LT(took, 4.0);
  EXPECT_TRUE(c.wait_closed(3s));
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, TricklingHeaderGets408WithinHeaderReadTimeout) {
  HttpClient c(gw_->port());
  std::string head = "GET /api/trickle HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(1000, 'a');
  auto start = Clock::now();
  bool answered = false;
  for (std::size_t i = 0; i < head.size() && seconds_since(start) < 6; ++i) {
    if (!c.send(head.substr(i, 1), 1s)) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      answered = true;
      break;
    }
  }
  EXPECT_TRUE(answered) << "no reply while trickling the header for 6 s";
  double took = seconds_since(start);
  auto r = c.read_response(3s);
  EXPECT_TRUE(support::IsLocalError(r, 408)) << c.error();
  EXPECT_LT(took, 4.0) << "header_read is 1 s from the first byte, trickling must not extend it";
  EXPECT_TRUE(c.wait_closed(3s));
}

TEST_F(Limits, ContentLengthOverLimitGets413WithoutSendingBody) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/big HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"));
  auto start = Clock::now();
  auto r = c.read_response(3s);
  EXPECT_TRUE(support::IsLocalError(r, 413)) << c.error();
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, ContentLengthOverLimitWithExpectContinueGets413Not100) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/big HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n"
                     "Expect: 100-continue\r\n\r\n"));
  auto r = c.read_response(3s);
  EXPECT_TRUE(support::IsLocalError(r, 413)) << c.error();
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, BodyAtLimitIsAccepted) {
  auto r = support::http_request(gw_->port(),
                                 make_request("POST", "/api/ok", {}, std::string(1024, 'b')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(r->header("X-Body-Bytes"), "1024");
}

TEST_F(Limits, ChunkedBodyOverLimitGets413) {
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.send("POST /api/chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 4; ++i) {
    if (!c.send("200\r\n" + std::string(512, 'c') + "\r\n", 2s)) break;  // may be cut off
  }
  c.send("0\r\n\r\n", 1s);
  auto r = c.read_response(5s);
  EXPECT_TRUE(support::IsLocalError(r, 413)) << c.error();
}

TEST_F(Limits, ChunkedBodyWithinLimitIsAccepted) {
  HttpClient c(gw_->port());
  auto r = c.request("POST /api/chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "200\r\n" + std::string(512, 'c') + "\r\n"
                     "100\r\n" + std::string(256, 'd') + "\r\n0\r\n\r\n");
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(r->header("X-Body-Bytes"), "768") << describe(r);
}

TEST_F(Limits, OversizedHeaderGets431) {
  auto r = support::http_request(
      gw_->port(), make_request("GET", "/api/h", {{"X-Big", std::string(4000, 'h')}}));
  EXPECT_TRUE(support::IsLocalError(r, 431));
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, ManyHeadersOverLimitGet431) {
  std::vector<Header> headers;
  for (int i = 0; i < 100; ++i) headers.push_back({"X-H" + std::to_string(i), std::string(30, 'v')});
  auto r = support::http_request(gw_->port(), make_request("GET", "/api/h", headers));
  EXPECT_TRUE(support::IsLocalError(r, 431));
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, LongRequestLineCountsTowardsHeaderLimit) {
  // max_header_bytes covers the request line too.
  auto r = support::http_request(gw_->port(),
                                 make_request("GET", "/api/" + std::string(4000, 'p')));
  EXPECT_TRUE(support::IsLocalError(r, 431));
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, RequestLineAndFieldsTogetherOverLimitGet431) {
  // Each under 2KiB, together over it: Beast's header_limit alone applies to the
  // request line and to the fields separately (found by request_fuzz).
  auto r = support::http_request(
      gw_->port(), make_request("GET", "/api/" + std::string(1500, 'p'), {{"X-Big", std::string(1500, 'h')}}));
  EXPECT_TRUE(support::IsLocalError(r, 431));
  EXPECT_EQ(up_.request_count(), 0);
}

TEST_F(Limits, HeaderUnderLimitIsAccepted) {
  auto r = support::http_request(
      gw_->port(), make_request("GET", "/api/h", {{"X-Big", std::string(1000, 'h')}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
}

}  // namespace
}  // namespace it
