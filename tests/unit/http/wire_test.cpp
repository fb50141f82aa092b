#include "http/wire.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

namespace bhttp = boost::beast::http;
using authgate::http::render_header;

TEST(RenderHeader, RequestLineFieldsInOrderAndBlankLine) {
  bhttp::request_header<> h;
  h.method(bhttp::verb::post);
  h.target("/api/x?q=1");
  h.version(11);
  h.set(bhttp::field::host, "api.example.com");
  h.insert("X-Custom", "a");
  h.insert("X-Custom", "b");
  std::string out;
  render_header(h, out);
  EXPECT_EQ(out,
            "POST /api/x?q=1 HTTP/1.1\r\nHost: api.example.com\r\nX-Custom: a\r\nX-Custom: b\r\n\r\n");
}

TEST(RenderHeader, UnknownMethodKeepsItsSpelling) {
  bhttp::request_header<> h;
  h.method_string("PURGE");
  h.target("/");
  h.version(10);
  std::string out;
  render_header(h, out);
  EXPECT_EQ(out, "PURGE / HTTP/1.0\r\n\r\n");
}

TEST(RenderHeader, StatusLineUsesReasonOrTheStandardOne) {
  bhttp::response_header<> h;
  h.version(11);
  h.result(bhttp::status::not_found);
  h.set(bhttp::field::content_length, "0");
  std::string out;
  render_header(h, out);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");

  h.result(299);  // no standard reason
  h.reason("Custom Thing");
  render_header(h, out);
  EXPECT_EQ(out, "HTTP/1.1 299 Custom Thing\r\nContent-Length: 0\r\n\r\n");
}

TEST(RenderHeader, MatchesBeastSerializerForACommonResponse) {
  bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "text/plain");
  res.set("X-Request-Id", "abc");
  res.body() = "hello";
  res.prepare_payload();
  std::ostringstream beast_out;
  beast_out << res.base();
  std::string ours;
  render_header(res.base(), ours);
  EXPECT_EQ(ours, beast_out.str());
}
