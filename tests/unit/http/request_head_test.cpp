// Unit tests for http/request_head: the parser limits the proxy reads a request
// head with, and the obs-fold check made on the raw bytes before parsing.
#include "http/request_head.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>

#include <string>

namespace bhttp = boost::beast::http;
using authgate::config::Limits;
using authgate::http::has_obs_fold;
using authgate::http::HeadScan;
using authgate::http::scan_request_head;
using authgate::http::limit_request_parser;
using authgate::http::RequestParser;

namespace {

// Parses `text` (a complete head) with a parser limited by `limits`.
boost::beast::error_code parse(const std::string& text, const Limits& limits) {
  RequestParser parser;
  limit_request_parser(parser, limits);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text), ec);
  if (!ec && !parser.is_header_done()) ec = bhttp::error::need_more;
  return ec;
}

std::string head_of_size(std::size_t total) {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(total - start.size() - end.size(), 'p') + end;
}

}  // namespace

TEST(RequestHead, ParserAcceptsEveryHeadWithinTheLimit) {
  Limits limits;
  limits.max_header_bytes = 1024;
  EXPECT_FALSE(parse(head_of_size(1024), limits));
  EXPECT_EQ(parse(head_of_size(1100), limits), bhttp::error::header_limit);
}

TEST(RequestHead, ScanCompleteWithinTheLimit) {
  std::size_t scanned = 0;
  EXPECT_EQ(scan_request_head(head_of_size(1024), 1024, scanned), HeadScan::complete);
  scanned = 0;
  EXPECT_EQ(scan_request_head(head_of_size(1025), 1024, scanned), HeadScan::too_large);
}

TEST(RequestHead, ScanCountsTheRequestLineAndTheFieldsTogether) {
  // Regression (request_fuzz): a request line and fields each under the limit
  // but together over it passed, because Beast limits the two separately.
  const std::string head =
      "GET /" + std::string(700, 'p') + " HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(700, 'h') + "\r\n\r\n";
  Limits limits;
  limits.max_header_bytes = 1024;
  EXPECT_FALSE(parse(head, limits));  // what Beast alone lets through
  std::size_t scanned = 0;
  EXPECT_EQ(scan_request_head(head, 1024, scanned), HeadScan::too_large);
}

TEST(RequestHead, ScanIncompleteUntilTheLimitThenTooLarge) {
  const std::string head = head_of_size(1024);
  std::size_t scanned = 0;
  EXPECT_EQ(scan_request_head(std::string_view(head).substr(0, 500), 1024, scanned), HeadScan::incomplete);
  EXPECT_EQ(scanned, 497u);
  EXPECT_EQ(scan_request_head(std::string_view(head).substr(0, 1023), 1024, scanned), HeadScan::incomplete);
  // The blank line split across two reads is still found.
  EXPECT_EQ(scan_request_head(head, 1024, scanned), HeadScan::complete);
  scanned = 0;
  EXPECT_EQ(scan_request_head(std::string(1024, 'x'), 1024, scanned), HeadScan::too_large);
}

TEST(RequestHead, ScanIgnoresWhatFollowsTheHead) {
  const std::string two = head_of_size(600) + head_of_size(600);  // pipelined: 1200 bytes buffered
  std::size_t scanned = 0;
  EXPECT_EQ(scan_request_head(two, 1024, scanned), HeadScan::complete);
}

TEST(RequestHead, ScanRejectsObsFold) {
  std::size_t scanned = 0;
  EXPECT_EQ(scan_request_head("GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n", 1024, scanned), HeadScan::obs_fold);
}

TEST(RequestHead, HeaderLimitAboveFourGibibytesIsCapped) {
  Limits limits;
  limits.max_header_bytes = std::uint64_t{1} << 40;  // would wrap to 0 as uint32
  EXPECT_FALSE(parse(head_of_size(4096), limits));
}

TEST(RequestHead, BodyLimitIsMaxBodyBytesAndAppliesToContentLength) {
  Limits limits;
  limits.max_body_bytes = 100;
  EXPECT_FALSE(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", limits));
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", limits), bhttp::error::body_limit);
}

TEST(RequestHead, ObsFoldIsALineStartingWithSpaceOrTab) {
  EXPECT_TRUE(has_obs_fold("GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\n"));
  EXPECT_TRUE(has_obs_fold("GET / HTTP/1.1\r\nX-A: 1\r\n\t2\r\n"));
  EXPECT_FALSE(has_obs_fold("GET / HTTP/1.1\r\nX-A: 1 2\t3\r\nHost: a\r\n"));
  EXPECT_FALSE(has_obs_fold(""));
}
