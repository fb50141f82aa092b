// Unit tests for session/token_response: a complete and a minimal success
// body, one test per violation of RFC 6749 §5.1 / OIDC (each naming the member
// and the problem), and RFC 6749 §5.2 error bodies.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "session/token_response.hpp"

namespace {

using namespace authgate::session;

// The violation, or "" when the body parsed.
std::string violation(std::string_view body, bool id_token_required = false) {
  auto r = parse_token_response(body, id_token_required);
  if (auto* why = std::get_if<std::string>(&r)) return *why;
  return "";
}

TokenSet parsed(std::string_view body, bool id_token_required = false) {
  auto r = parse_token_response(body, id_token_required);
  if (auto* why = std::get_if<std::string>(&r)) ADD_FAILURE() << *why;
  if (auto* t = std::get_if<TokenSet>(&r)) return *t;
  return {};
}

TEST(TokenResponse, Complete) {
  const TokenSet t = parsed(R"({"access_token":"at","token_type":"Bearer","expires_in":3599,
      "refresh_token":"rt","scope":"openid profile","id_token":"a.b.c","extra":{"x":[1]}})",
                            true);
  EXPECT_EQ(t.access_token, "at");
  EXPECT_EQ(t.token_type, "Bearer");
  EXPECT_EQ(t.expires_in, 3599);
  EXPECT_EQ(t.refresh_token, "rt");
  EXPECT_EQ(t.scope, "openid profile");
  EXPECT_EQ(t.id_token, "a.b.c");
}

TEST(TokenResponse, Minimal) {
  const TokenSet t = parsed(R"({"access_token":"at","token_type":"Bearer"})");
  EXPECT_EQ(t.access_token, "at");
  EXPECT_FALSE(t.expires_in.has_value());
  EXPECT_EQ(t.refresh_token, "");
  EXPECT_EQ(t.scope, "");
  EXPECT_EQ(t.id_token, "");
}

TEST(TokenResponse, TokenTypeCaseInsensitive) {
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"bearer"})").token_type, "bearer");
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"BEARER"})").token_type, "BEARER");
}

TEST(TokenResponse, ExpiresInZeroAndIntegralDouble) {
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"Bearer","expires_in":0})").expires_in, 0);
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"Bearer","expires_in":3600.0})").expires_in, 3600);
}

TEST(TokenResponse, ExpiresInClamped) {
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"Bearer","expires_in":99999999999})").expires_in,
            kMaxExpiresIn);
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"Bearer","expires_in":18446744073709551615})").expires_in,
            kMaxExpiresIn);
  EXPECT_EQ(parsed(R"({"access_token":"at","token_type":"Bearer","expires_in":1e300})").expires_in, kMaxExpiresIn);
}

TEST(TokenResponse, EmptyOptionalStringsAreAbsent) {
  const TokenSet t = parsed(R"({"access_token":"at","token_type":"Bearer","refresh_token":"","scope":""})");
  EXPECT_EQ(t.refresh_token, "");
  EXPECT_EQ(t.scope, "");
}

// --- one test per violation ---

TEST(TokenResponseViolation, NotJson) { EXPECT_EQ(violation("<html>"), "the body is not valid JSON"); }
TEST(TokenResponseViolation, Empty) { EXPECT_EQ(violation(""), "the body is not valid JSON"); }
TEST(TokenResponseViolation, TrailingData) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer"} x)"), "the body is not valid JSON");
}
TEST(TokenResponseViolation, NotObject) { EXPECT_EQ(violation(R"(["at"])"), "the body is not a JSON object"); }
TEST(TokenResponseViolation, DuplicateMember) {
  EXPECT_EQ(violation(R"({"access_token":"a","access_token":"b","token_type":"Bearer"})"),
            "the body names a member twice");
}
TEST(TokenResponseViolation, AccessTokenMissing) {
  EXPECT_EQ(violation(R"({"token_type":"Bearer"})"), "access_token is missing");
}
TEST(TokenResponseViolation, AccessTokenNotString) {
  EXPECT_EQ(violation(R"({"access_token":42,"token_type":"Bearer"})"), "access_token must be a string, got a number");
}
TEST(TokenResponseViolation, AccessTokenNull) {
  EXPECT_EQ(violation(R"({"access_token":null,"token_type":"Bearer"})"), "access_token must be a string, got null");
}
TEST(TokenResponseViolation, AccessTokenEmpty) {
  EXPECT_EQ(violation(R"({"access_token":"","token_type":"Bearer"})"), "access_token must not be empty");
}
TEST(TokenResponseViolation, TokenTypeMissing) {
  EXPECT_EQ(violation(R"({"access_token":"at"})"), "token_type is missing");
}
TEST(TokenResponseViolation, TokenTypeNotString) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":true})"), "token_type must be a string, got a boolean");
}
TEST(TokenResponseViolation, TokenTypeMac) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"mac"})"), R"(token_type must be Bearer, got "mac")");
}
TEST(TokenResponseViolation, TokenTypeDpop) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"DPoP"})"), R"(token_type must be Bearer, got "DPoP")");
}
TEST(TokenResponseViolation, TokenTypeExcerptSanitisedAndCut) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"a\nb\"cdefghijklmnopqrstuvwxyz0123456789"})"),
            R"(token_type must be Bearer, got "a?b?cdefghijklmnopqrstuvwxyz0123...")");
}
TEST(TokenResponseViolation, ExpiresInString) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":"3600"})"),
            "expires_in must be an integer, got a string");
}
TEST(TokenResponseViolation, ExpiresInNegative) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":-1})"),
            "expires_in must be >= 0, got -1");
}
TEST(TokenResponseViolation, ExpiresInNegativeDouble) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":-1.0})"),
            "expires_in must be >= 0, got -1");
}
TEST(TokenResponseViolation, ExpiresInFraction) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":1.5})"),
            "expires_in must be an integer, got 1.5");
}
TEST(TokenResponseViolation, ExpiresInBool) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":true})"),
            "expires_in must be an integer, got a boolean");
}
TEST(TokenResponseViolation, ExpiresInNull) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":null})"),
            "expires_in must be an integer, got null");
}
TEST(TokenResponseViolation, ExpiresInObject) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","expires_in":{}})"),
            "expires_in must be an integer, got an object");
}
TEST(TokenResponseViolation, RefreshTokenNotString) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","refresh_token":1})"),
            "refresh_token must be a string, got a number");
}
TEST(TokenResponseViolation, ScopeNotString) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","scope":["openid"]})"),
            "scope must be a string, got an array");
}
TEST(TokenResponseViolation, IdTokenNotString) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","id_token":null})"),
            "id_token must be a string, got null");
}
TEST(TokenResponseViolation, IdTokenMissingWhenRequired) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer"})", true),
            "id_token is missing (openid was requested)");
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer"})", false), "");
}
TEST(TokenResponseViolation, IdTokenEmptyWhenRequired) {
  EXPECT_EQ(violation(R"({"access_token":"at","token_type":"Bearer","id_token":""})", true),
            "id_token must not be empty");
}

TEST(TokenResponseViolation, NeverContainsTheToken) {
  const std::string why = violation(R"({"access_token":"SECRET-AT","token_type":"mac","refresh_token":"SECRET-RT"})");
  EXPECT_EQ(why.find("SECRET"), std::string::npos);
}

// --- RFC 6749 §5.2 ---

TEST(TokenError, InvalidGrant) {
  const auto e = parse_token_error(R"({"error":"invalid_grant","error_description":"grant request is invalid"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, "invalid_grant");
  EXPECT_EQ(e->description, "grant request is invalid");
}

TEST(TokenError, WithoutDescription) {
  const auto e = parse_token_error(R"({"error":"invalid_client","error_uri":"https://x"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, "invalid_client");
  EXPECT_EQ(e->description, "");
}

TEST(TokenError, NonStringDescriptionIgnored) {
  const auto e = parse_token_error(R"({"error":"invalid_request","error_description":5})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->description, "");
}

TEST(TokenError, Sanitised) {
  const auto e = parse_token_error(R"({"error":"bad\"code","error_description":"line1\r\nline2 \\ ok"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, "bad?code");
  EXPECT_EQ(e->description, "line1??line2 ? ok");
}

TEST(TokenError, LongDescriptionCut) {
  const std::string body = R"({"error":"x","error_description":")" + std::string(1000, 'd') + "\"}";
  const auto e = parse_token_error(body);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->description, std::string(512, 'd') + "...");
}

TEST(TokenError, NotErrorBodies) {
  EXPECT_FALSE(parse_token_error(""));
  EXPECT_FALSE(parse_token_error("<html>502</html>"));
  EXPECT_FALSE(parse_token_error(R"(["error"])"));
  EXPECT_FALSE(parse_token_error(R"({"access_token":"at","token_type":"Bearer"})"));
  EXPECT_FALSE(parse_token_error(R"({"error":""})"));
  EXPECT_FALSE(parse_token_error(R"({"error":7})"));
  EXPECT_FALSE(parse_token_error(R"({"error":"a","error":"b"})"));
}

}  // namespace
