// authgate token inspect: untrusted decoding, time formatting with a fixed clock,
// argument errors (no config: nothing here opens a file or a socket).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "auth/test_signer.hpp"
#include "cli/token_inspect.hpp"

namespace authgate::cli {
namespace {

namespace ts = auth::test;

constexpr std::int64_t kNow = 1'700'000'000;  // 2023-11-14 22:13:20 UTC

struct Run {
  int rc;
  std::string out, err;
};
Run run(std::vector<std::string> args, std::int64_t now = kNow) {
  std::ostringstream out, err;
  int rc = token_inspect(args, out, err, now);
  return {rc, out.str(), err.str()};
}

std::string token(std::string_view payload) {
  return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","kid":"rsa-1","typ":"at+jwt"})", payload);
}

TEST(TokenInspectFormat, Utc) {
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(kNow), "2023-11-14 22:13:20 UTC");
}

TEST(TokenInspectFormat, Duration) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(59), "59s");
  EXPECT_EQ(format_duration(252), "4m 12s");
  EXPECT_EQ(format_duration(7200), "2h");
  EXPECT_EQ(format_duration(7380), "2h 3m");
  EXPECT_EQ(format_duration(90000), "1d 1h");
  EXPECT_EQ(format_duration(-60), "1m");
}

TEST(TokenInspectFormat, Relative) {
  EXPECT_EQ(format_relative(kNow + 252, kNow), "in 4m 12s");
  EXPECT_EQ(format_relative(kNow - 7200, kNow), "2h ago");
  EXPECT_EQ(format_relative(kNow, kNow), "now");
  EXPECT_EQ(format_time_claim("exp", kNow - 7200, kNow),
            "exp: 1699992800 (2023-11-14 20:13:20 UTC, expired 2h ago)");
  EXPECT_EQ(format_time_claim("exp", kNow + 252, kNow),
            "exp: 1700000252 (2023-11-14 22:17:32 UTC, in 4m 12s)");
  EXPECT_EQ(format_time_claim("iat", kNow - 30, kNow), "iat: 1699999970 (2023-11-14 22:12:50 UTC, 30s ago)");
  EXPECT_NE(format_time_claim("nbf", kNow + 60, kNow).find("not valid yet, in 1m"), std::string::npos);
  // Absurd values neither crash nor overflow.
  EXPECT_FALSE(format_time_claim("exp", INT64_MAX, kNow).empty());
  EXPECT_FALSE(format_time_claim("exp", INT64_MIN, kNow).empty());
}

TEST(TokenInspectDecode, PrettyPrintsHeaderAndPayload) {
  DecodedToken d;
  ASSERT_EQ(decode_token(token(R"({"sub":"alice","aud":["a","b"],"n":{}})"), d), "");
  EXPECT_EQ(d.header_json, "{\n  \"alg\": \"RS256\",\n  \"kid\": \"rsa-1\",\n  \"typ\": \"at+jwt\"\n}");
  EXPECT_EQ(d.payload_json, "{\n  \"sub\": \"alice\",\n  \"aud\": [\n    \"a\",\n    \"b\"\n  ],\n  \"n\": {}\n}");
  EXPECT_EQ(d.signature_bytes, 256u);
}

TEST(TokenInspectDecode, DecodesWithoutTrusting) {
  // alg none, empty signature, a bogus kid: still decoded.
  DecodedToken d;
  EXPECT_EQ(decode_token(ts::assemble(R"({"alg":"none"})", R"({"sub":"x"})", ""), d), "");
  EXPECT_EQ(d.signature_bytes, 0u);
}

TEST(TokenInspectDecode, MalformedSaysWhichPartAndWhy) {
  DecodedToken d;
  EXPECT_EQ(decode_token("", d), "token: empty");
  EXPECT_NE(decode_token("abc", d).find("1 part, expected 3"), std::string::npos);
  EXPECT_NE(decode_token("a.b.c.d.e", d).find("JWE"), std::string::npos);
  EXPECT_EQ(decode_token("!!!." + ts::b64("{}") + ".", d), "header: not valid base64url");
  EXPECT_EQ(decode_token(ts::b64("{}") + "." + ts::b64("{}") + ".***", d), "signature: not valid base64url");
  EXPECT_NE(decode_token(ts::b64("{\"alg\":") + "." + ts::b64("{}") + ".", d).find("header: not valid JSON"),
            std::string::npos);
  EXPECT_EQ(decode_token(ts::b64("{}") + "." + ts::b64("[1]") + ".", d), "payload: JSON is not an object");
  EXPECT_EQ(decode_token(ts::b64("{}") + ".." , d), "payload: empty");
}

TEST(TokenInspect, ShowsTimesRelativeToNow) {
  const std::string t = token(R"({"sub":"alice","exp":1700000252,"iat":1699992800,"nbf":"soon"})");
  auto r = run({t});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\"sub\": \"alice\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exp: 1700000252 (2023-11-14 22:17:32 UTC, in 4m 12s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("iat: 1699992800 (2023-11-14 20:13:20 UTC, 2h ago)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nbf: \"soon\" (not a NumericDate)"), std::string::npos) << r.out;
  // A leading "Bearer " is accepted (pasted from a header).
  EXPECT_EQ(run({"Bearer " + t}).rc, 0);
}

TEST(TokenInspect, MalformedExitsOne) {
  auto r = run({"not-a-token"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("malformed token: token: 1 part"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(TokenInspect, UsageErrorsExitTwo) {
  const std::string t = token("{}");
  EXPECT_EQ(run({}).rc, 2);
  EXPECT_EQ(run({t, "--bogus"}).rc, 2);
  EXPECT_EQ(run({t, t}).rc, 2);
  EXPECT_EQ(run({t, "--config"}).rc, 2);
  EXPECT_EQ(run({t, "--config", "x.yaml"}).rc, 2);            // no route
  EXPECT_EQ(run({t, "--route", "api"}).rc, 2);                // no config
  EXPECT_EQ(run({t, "--config", "x.yaml", "--path", "/a"}).rc, 2);  // no method
  EXPECT_EQ(run({t, "--config", "x.yaml", "--route", "a", "--method", "GET", "--path", "/a"}).rc, 2);
  EXPECT_EQ(run({"--help"}).rc, 0);
}

}  // namespace
}  // namespace authgate::cli
