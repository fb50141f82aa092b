// Request smuggling and malformed framing: 400, the connection is closed, and
// the upstream never sees the request hidden behind the first one.
#include "common.hpp"

namespace it {
namespace {

using support::handlers::echo;

struct Attack {
  const char* name;
  std::string raw;
};

const std::string kSmuggled = "GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

std::vector<Attack> attacks() {
  return {
      {"ContentLengthAndTransferEncoding",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n" + kSmuggled},
      {"TransferEncodingAndContentLength",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: " +
           std::to_string(5 + kSmuggled.size()) + "\r\n\r\n0\r\n\r\n" + kSmuggled},
      {"DuplicateDifferingContentLength",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: " +
           std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled},
      {"ContentLengthList",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, " + std::to_string(kSmuggled.size()) +
           "\r\n\r\n" + kSmuggled},
      {"BadChunkSize",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\nhello\r\n0\r\n\r\n" + kSmuggled},
      {"ChunkSizeOverflow",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "10000000000000000000005\r\nhello\r\n0\r\n\r\n" + kSmuggled},
      {"ChunkDataLongerThanSize",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nhello\r\n0\r\n\r\n" + kSmuggled},
      {"TransferEncodingNotEndingInChunked",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
       "0\r\n\r\n" + kSmuggled},
      {"UnknownTransferEncoding",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + kSmuggled},
      {"SpaceBeforeColon",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\n"
       "0\r\n\r\n" + kSmuggled},
      {"ObsFoldedHeader", "GET /api/a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" + kSmuggled},
      {"ObsFoldedTransferEncoding",
       "POST /api/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n"
       "0\r\n\r\n" + kSmuggled},
      {"TwoHostHeaders", "GET /api/a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + kSmuggled},
  };
}

// gtest prints the attack by name.
void PrintTo(const Attack& a, std::ostream* os) { *os << a.name; }

class Smuggling : public ::testing::TestWithParam<Attack> {
 protected:
  void SetUp() override {
    gw_ = std::make_unique<GatewayProcess>(one_route(up_, "/"));
    ASSERT_TRUE(gw_->start());
  }

  UpstreamServer up_{echo()};
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_P(Smuggling, RejectedWith400AndClosed) {
  const auto& attack = GetParam();
  HttpClient c(gw_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(attack.raw));
  auto r = c.read_response(5s);
  EXPECT_TRUE(support::IsLocalError(r, 400)) << c.error();
  std::string after;
  EXPECT_TRUE(c.wait_closed(3s, &after)) << "connection left open after a 400";
  EXPECT_EQ(after, "") << "bytes after the 400 (a response to the smuggled request?)";
  support::sleep_for(200ms);
  EXPECT_FALSE(up_.saw_target_containing("smuggled")) << "the upstream saw the smuggled request";
}

INSTANTIATE_TEST_SUITE_P(Attacks, Smuggling, ::testing::ValuesIn(attacks()),
                         [](const ::testing::TestParamInfo<Attack>& info) {
                           return std::string(info.param.name);
                         });

// A valid request before the attack on the same connection is still served,
// and the attack after it is still rejected.
TEST(SmugglingKeepAlive, AttackAfterValidRequestOnSameConnection) {
  UpstreamServer up(echo());
  GatewayProcess gw(one_route(up, "/"));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  auto ok = c.request(support::make_request("GET", "/api/first"));
  ASSERT_TRUE(ok) << c.error();
  EXPECT_EQ(ok->status, 200);
  ASSERT_TRUE(c.send("POST /api/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + kSmuggled));
  EXPECT_TRUE(support::IsLocalError(c.read_response(5s), 400)) << c.error();
  EXPECT_TRUE(c.wait_closed(3s));
  support::sleep_for(200ms);
  EXPECT_FALSE(up.saw_target_containing("smuggled"));
}

}  // namespace
}  // namespace it
