// Unit tests for auth/scopes: the three shapes issuers use (space-delimited
// "scope", "scope" array, "scp"), and opaque comparison of names.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "auth/scopes.hpp"

namespace {

using authgate::auth::extract_scopes;
using V = std::vector<std::string>;

boost::json::object claims(std::string_view json) { return boost::json::parse(json).as_object(); }

TEST(Scopes, SpaceDelimitedString) {
  // RFC 9068 / RFC 8693 §4.2 shape.
  EXPECT_EQ(extract_scopes(claims(R"({"scope":"openid profile api:write"})")),
            (V{"openid", "profile", "api:write"}));
  EXPECT_EQ(extract_scopes(claims(R"({"scope":"  a   b "})")), (V{"a", "b"}));
  EXPECT_EQ(extract_scopes(claims(R"({"scope":""})")), V{});
}

TEST(Scopes, JsonArray) {
  // ForgeRock AM shape.
  EXPECT_EQ(extract_scopes(claims(R"({"scope":["openid","api.forgecloud.com:user.read"]})")),
            (V{"openid", "api.forgecloud.com:user.read"}));
  EXPECT_EQ(extract_scopes(claims(R"({"scope":["a",1,null,"",{"x":1},"b"]})")), (V{"a", "b"}));
}

TEST(Scopes, ScpFallbackStringOrArray) {
  // Azure AD uses a string, Okta an array.
  EXPECT_EQ(extract_scopes(claims(R"({"scp":"User.Read Mail.Send"})")), (V{"User.Read", "Mail.Send"}));
  EXPECT_EQ(extract_scopes(claims(R"({"scp":["read:users","write:users"]})")),
            (V{"read:users", "write:users"}));
  EXPECT_EQ(extract_scopes(claims(R"({"scope":null,"scp":"x"})")), V{"x"});
  // The named claim wins when present.
  EXPECT_EQ(extract_scopes(claims(R"({"scope":"a","scp":"b"})")), V{"a"});
}

TEST(Scopes, ConfigurableClaimName) {
  EXPECT_EQ(extract_scopes(claims(R"({"permissions":["orders:read"],"scope":"x"})"), "permissions"),
            V{"orders:read"});
  EXPECT_EQ(extract_scopes(claims(R"({"scp":"y"})"), "permissions"), V{"y"});
}

TEST(Scopes, OtherTypesGrantNothing) {
  EXPECT_EQ(extract_scopes(claims(R"({"scope":42})")), V{});
  EXPECT_EQ(extract_scopes(claims(R"({"scope":{"a":true}})")), V{});
  EXPECT_EQ(extract_scopes(claims(R"({"sub":"x"})")), V{});
}

TEST(Scopes, NamesAreOpaqueStrings) {
  const auto s = extract_scopes(claims(R"({"scope":"api.example.com:user.read https://api/x/y read:Users"})"));
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], "api.example.com:user.read");
  EXPECT_EQ(s[1], "https://api/x/y");
  EXPECT_EQ(s[2], "read:Users");
  // No case folding, no prefix or segment matching.
  EXPECT_EQ(std::count(s.begin(), s.end(), "read:users"), 0);
  EXPECT_EQ(std::count(s.begin(), s.end(), "api.example.com:user"), 0);
  EXPECT_EQ(std::count(s.begin(), s.end(), "api.example.com"), 0);
}

}  // namespace
