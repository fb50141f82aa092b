// Self-test of the OpenID Provider harness (support/oidc_provider.hpp): the real
// oidc-provider under node on loopback, without authgate. Checks what the
// end-to-end OIDC tests rely on: discovery, JWT and opaque access tokens,
// introspection, revocation and key rotation on the same port.
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "common.hpp"
#include "support/oidc_provider.hpp"

namespace it {
namespace {

using support::OidcClient;
using support::OidcProvider;
using support::json_string;
using support::jwt_part;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class OidcHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
  }
};

TEST_F(OidcHarness, DiscoveryNamesTheEndpointsUnderTheIssuer) {
  OidcProvider op;
  ASSERT_TRUE(op.start());
  auto doc = op.discovery();
  ASSERT_TRUE(doc) << op.last_error();
  EXPECT_EQ(json_string(*doc, "issuer"), op.issuer());
  EXPECT_EQ(op.issuer(), "http://127.0.0.1:" + std::to_string(op.port()));
  for (const char* name : {"jwks_uri", "token_endpoint", "introspection_endpoint", "revocation_endpoint"}) {
    EXPECT_EQ(json_string(*doc, name).rfind(op.issuer() + "/", 0), 0u)
        << name << " = " << json_string(*doc, name);
  }
  auto jwks = op.get(json_string(*doc, "jwks_uri"));
  ASSERT_EQ(status_of(jwks), 200) << describe(jwks);
  EXPECT_EQ(jwks->body.find("\"d\""), std::string::npos) << "private key material published";
  EXPECT_EQ(op.published_kids(), std::vector<std::string>{op.current_kid()});
}

TEST_F(OidcHarness, JwtAccessTokenForTheOrdersResource) {
  OidcProvider op;
  ASSERT_TRUE(op.start());
  std::string t = op.client_credentials_token("https://orders.test", "orders:read orders:write");
  ASSERT_FALSE(t.empty()) << op.last_error();
  EXPECT_EQ(std::count(t.begin(), t.end(), '.'), 2) << t;
  auto header = jwt_part(t, 0);
  auto payload = jwt_part(t, 1);
  ASSERT_TRUE(header && payload) << t;
  EXPECT_EQ(json_string(*header, "alg"), "RS256");
  EXPECT_EQ(json_string(*header, "typ"), "at+jwt");
  EXPECT_EQ(json_string(*header, "kid"), op.current_kid());
  EXPECT_TRUE(contains(op.published_kids(), json_string(*header, "kid")));
  EXPECT_EQ(json_string(*payload, "iss"), op.issuer());
  EXPECT_EQ(json_string(*payload, "aud"), "https://orders.test");
  EXPECT_EQ(json_string(*payload, "scope"), "orders:read orders:write");
  EXPECT_EQ(json_string(*payload, "client_id"), "orders-cli");
  ASSERT_TRUE(payload->contains("exp") && payload->contains("iat"));
  EXPECT_GT(payload->at("exp").to_number<std::int64_t>(), payload->at("iat").to_number<std::int64_t>());

  // Only the granted subset of the resource's scopes; another resource, another aud.
  std::string narrow = op.client_credentials_token("https://orders.test", "orders:read profile");
  ASSERT_FALSE(narrow.empty()) << op.last_error();
  EXPECT_EQ(json_string(*jwt_part(narrow, 1), "scope"), "orders:read");
  std::string other = op.client_credentials_token("https://other.test", "orders:read");
  ASSERT_FALSE(other.empty()) << op.last_error();
  EXPECT_EQ(json_string(*jwt_part(other, 1), "aud"), "https://other.test");
  // Unknown resources are refused (invalid_target).
  EXPECT_TRUE(op.client_credentials_token("https://unknown.test", "orders:read").empty());
  EXPECT_NE(op.last_error().find("invalid_target"), std::string::npos) << op.last_error();
}

TEST_F(OidcHarness, OpaqueTokenIsIntrospectedByTheGatewayClientAndRevokedByItsOwner) {
  OidcProvider op;
  ASSERT_TRUE(op.start());
  std::string t = op.client_credentials_token("", "orders:read");
  ASSERT_FALSE(t.empty()) << op.last_error();
  EXPECT_FALSE(jwt_part(t, 0)) << "expected an opaque token: " << t;

  auto info = op.introspect(t);  // as "authgate", a token issued to "orders-cli"
  ASSERT_TRUE(info) << op.last_error();
  ASSERT_TRUE(info->contains("active") && info->at("active").is_bool());
  EXPECT_TRUE(info->at("active").as_bool()) << boost::json::serialize(*info);
  EXPECT_EQ(json_string(*info, "aud"), "https://orders.test");
  EXPECT_EQ(json_string(*info, "scope"), "orders:read");
  EXPECT_EQ(json_string(*info, "client_id"), "orders-cli");
  EXPECT_EQ(json_string(*info, "iss"), op.issuer());

  // client_secret_post works as well as client_secret_basic.
  auto post = op.post_form(json_string(*op.discovery(), "introspection_endpoint"), {{"token", t}},
                           OidcClient::gateway, /*secret_post=*/true);
  ASSERT_EQ(status_of(post), 200) << describe(post);
  EXPECT_NE(post->body.find("\"active\":true"), std::string::npos) << post->body;

  // A wrong secret is invalid_client ("orders-cli:wrong" in Basic).
  auto r = support::http_request(
      op.port(), support::make_request("POST", "/token",
                                       {{"Content-Type", "application/x-www-form-urlencoded"},
                                        {"Authorization", "Basic b3JkZXJzLWNsaTp3cm9uZw=="}},
                                       "grant_type=client_credentials",
                                       "127.0.0.1:" + std::to_string(op.port())));
  ASSERT_EQ(status_of(r), 401) << describe(r);
  EXPECT_NE(r->body.find("invalid_client"), std::string::npos) << r->body;

  // Revocation by the token's own client; afterwards introspection says inactive.
  EXPECT_FALSE(op.revoke(t, OidcClient::gateway)) << "only the owning client may revoke";
  ASSERT_TRUE(op.revoke(t)) << op.last_error();
  auto after = op.introspect(t);
  ASSERT_TRUE(after) << op.last_error();
  EXPECT_FALSE(after->at("active").as_bool()) << boost::json::serialize(*after);
}

TEST_F(OidcHarness, RestartWithRotatedKeySignsWithTheNewKidAndPublishesBoth) {
  OidcProvider op;
  ASSERT_TRUE(op.start());
  const std::string old_kid = op.current_kid();
  const auto port = op.port();
  std::string before = op.client_credentials_token("https://orders.test", "orders:read");
  ASSERT_FALSE(before.empty()) << op.last_error();
  EXPECT_EQ(json_string(*jwt_part(before, 0), "kid"), old_kid);

  ASSERT_TRUE(op.restart_with_rotated_key());
  EXPECT_EQ(op.port(), port);
  EXPECT_NE(op.current_kid(), old_kid);
  EXPECT_EQ(op.kids(), (std::vector<std::string>{op.current_kid(), old_kid}));
  EXPECT_EQ(op.published_kids(), op.kids());

  std::string after = op.client_credentials_token("https://orders.test", "orders:read");
  ASSERT_FALSE(after.empty()) << op.last_error();
  EXPECT_EQ(json_string(*jwt_part(after, 0), "kid"), op.current_kid());
  EXPECT_TRUE(op.stop()) << "SIGTERM should end the provider with exit code 0";
}

TEST_F(OidcHarness, Es256SigningOption) {
  OidcProvider op(support::OidcProviderOptions{"ES256"});
  ASSERT_TRUE(op.start());
  std::string t = op.client_credentials_token("https://orders.test", "orders:read");
  ASSERT_FALSE(t.empty()) << op.last_error();
  EXPECT_EQ(json_string(*jwt_part(t, 0), "alg"), "ES256");
  EXPECT_EQ(json_string(*jwt_part(t, 0), "kid"), op.current_kid());
  auto jwks = op.get("/jwks");
  ASSERT_EQ(status_of(jwks), 200) << describe(jwks);
  EXPECT_NE(jwks->body.find("\"crv\":\"P-256\""), std::string::npos) << jwks->body;
}

}  // namespace
}  // namespace it
