// Unit tests for http/local_reply: the bytes of the replies authgate writes
// itself on the proxy listener (header order, body, Retry-After on 503).
#include "http/local_reply.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>
#include <chrono>
#include <sstream>

namespace bhttp = boost::beast::http;
using namespace authgate::http;
using std::chrono::milliseconds;

namespace {

std::string wire(const LocalResponse& res) {
  std::ostringstream out;
  out << res;
  return out.str();
}

}  // namespace

TEST(LocalReply, JsonErrorHasItsHeadersInOrderAndAnEscapedBody) {
  const auto res = json_error_response(401, "invalid_token", "r\"1", true, milliseconds(5'000),
                                       "Bearer error=\"invalid_token\"");
  EXPECT_EQ(wire(res),
            "HTTP/1.1 401 Unauthorized\r\n"
            "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"
            "Content-Type: application/json\r\n"
            "Cache-Control: no-store\r\n"
            "X-Request-Id: r\"1\r\n"
            "Content-Length: 59\r\n"
            "\r\n"
            "{\"error\":\"invalid_token\",\"status\":401,\"request_id\":\"r\\\"1\"}\n");
}

TEST(LocalReply, JsonErrorWithoutKeepAliveSaysClose) {
  const auto res = json_error_response(400, "bad_request", "id", false, milliseconds(5'000));
  EXPECT_EQ(res[bhttp::field::connection], "close");
  EXPECT_EQ(res.find(bhttp::field::retry_after), res.end());
}

TEST(LocalReply, Every503CarriesRetryAfterFromConfigInWholeSecondsAtLeastOne) {
  EXPECT_EQ(json_error_response(503, "pool_exhausted", "id", true, milliseconds(7'000))[bhttp::field::retry_after],
            "7");
  EXPECT_EQ(json_error_response(503, "pool_exhausted", "id", true, milliseconds(0))[bhttp::field::retry_after], "1");
  LocalReply page;
  page.status = 503;
  page.content_type = "text/html; charset=utf-8";
  page.body = "<p>later</p>";
  EXPECT_EQ(page_response(page, "id", true, milliseconds(9'000))[bhttp::field::retry_after], "9");
  EXPECT_EQ(redirect_response(503, "/x", "id", true, milliseconds(2'000))[bhttp::field::retry_after], "2");
  EXPECT_EQ(retry_after_seconds(milliseconds(1'999)), "1");
}

TEST(LocalReply, APageKeepsItsOwnRetryAfterAndHeaderOrder) {
  LocalReply page;
  page.status = 503;
  page.content_type = "text/html; charset=utf-8";
  page.body = "x";
  page.headers = {{"Retry-After", "30"}, {"Set-Cookie", "a=b"}};
  EXPECT_EQ(wire(page_response(page, "id", true, milliseconds(5'000))),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Retry-After: 30\r\n"
            "Set-Cookie: a=b\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            "Cache-Control: no-store\r\n"
            "X-Request-Id: id\r\n"
            "Content-Length: 1\r\n"
            "\r\n"
            "x");
}

TEST(LocalReply, APageWithoutABodyHasNoContentType) {
  LocalReply page;
  page.status = 302;
  page.headers = {{"Location", "https://idp.example/authorize"}};
  EXPECT_EQ(wire(page_response(page, "id", true, milliseconds(5'000))),
            "HTTP/1.1 302 Found\r\n"
            "Location: https://idp.example/authorize\r\n"
            "Cache-Control: no-store\r\n"
            "X-Request-Id: id\r\n"
            "Content-Length: 0\r\n"
            "\r\n");
}

TEST(LocalReply, TheLoginRedirectIsTheSameBytesAsASessionRedirectPage) {
  LocalReply page;
  page.status = 302;
  page.headers = {{"Location", "/oauth2/login?rd=%2Fapp"}};
  EXPECT_EQ(wire(redirect_response(302, "/oauth2/login?rd=%2Fapp", "id", false, milliseconds(5'000))),
            wire(page_response(page, "id", false, milliseconds(5'000))));
}

TEST(LocalReply, GrpcContentTypesAreRecognised) {
  EXPECT_TRUE(is_grpc_content_type("application/grpc"));
  EXPECT_TRUE(is_grpc_content_type("application/grpc+proto"));
  EXPECT_TRUE(is_grpc_content_type("Application/GRPC;charset=utf-8"));
  EXPECT_FALSE(is_grpc_content_type("application/grpc-web"));  // gRPC-Web is another protocol
  EXPECT_FALSE(is_grpc_content_type("application/grpcx"));
  EXPECT_FALSE(is_grpc_content_type("application/json"));
  EXPECT_FALSE(is_grpc_content_type(""));
}

TEST(LocalReply, GrpcStatusFollowsTheHttpToGrpcMapping) {
  EXPECT_EQ(grpc_status(401), 16u);  // UNAUTHENTICATED
  EXPECT_EQ(grpc_status(403), 7u);   // PERMISSION_DENIED
  EXPECT_EQ(grpc_status(503), 14u);  // UNAVAILABLE
  EXPECT_EQ(grpc_status(502), 14u);
  EXPECT_EQ(grpc_status(504), 14u);
  EXPECT_EQ(grpc_status(429), 14u);
  EXPECT_EQ(grpc_status(404), 12u);  // UNIMPLEMENTED
  EXPECT_EQ(grpc_status(400), 13u);  // INTERNAL
  EXPECT_EQ(grpc_status(408), 4u);   // DEADLINE_EXCEEDED
  EXPECT_EQ(grpc_status(413), 8u);   // RESOURCE_EXHAUSTED
  EXPECT_EQ(grpc_status(418), 2u);   // UNKNOWN
}

TEST(LocalReply, GrpcErrorIsTrailersOnly200WithTheErrorNameOnly) {
  const auto res = grpc_error_response(401, "token_missing", "id1", true, milliseconds(5'000), "Bearer");
  EXPECT_EQ(wire(res),
            "HTTP/1.1 200 OK\r\n"
            "WWW-Authenticate: Bearer\r\n"
            "grpc-status: 16\r\n"
            "grpc-message: token_missing\r\n"
            "Content-Type: application/grpc\r\n"
            "Cache-Control: no-store\r\n"
            "X-Request-Id: id1\r\n"
            "Content-Length: 0\r\n"
            "\r\n");
  const auto unavailable = grpc_error_response(503, "jwks_unavailable", "id2", true, milliseconds(7'000));
  EXPECT_EQ(unavailable["grpc-status"], "14");
  EXPECT_EQ(unavailable[bhttp::field::retry_after], "7");
}

// RFC 9449 §8: a use_dpop_nonce 401 hands out the nonce, as JSON and as gRPC alike; none without one.
TEST(LocalReply, ErrorResponseCarriesTheDpopNonceWhenGiven) {
  for (bool grpc : {false, true}) {
    const auto res = error_response(grpc, 401, "use_dpop_nonce", "id", true, milliseconds(5'000),
                                    "DPoP error=\"use_dpop_nonce\"", "nonce-1");
    EXPECT_EQ(res["DPoP-Nonce"], "nonce-1") << grpc;
    EXPECT_EQ(res[bhttp::field::www_authenticate], "DPoP error=\"use_dpop_nonce\"") << grpc;
    EXPECT_EQ(error_response(grpc, 401, "invalid_token", "id", true, milliseconds(5'000), "Bearer").count("DPoP-Nonce"),
              0u)
        << grpc;
  }
}

TEST(LocalReply, ErrorResponseChoosesByProtocol) {
  EXPECT_EQ(error_response(true, 403, "insufficient_scope", "id", true, milliseconds(5'000)).result_int(), 200u);
  EXPECT_EQ(error_response(false, 403, "insufficient_scope", "id", true, milliseconds(5'000)).result_int(), 403u);
}
