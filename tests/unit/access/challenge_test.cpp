// What a denied client is told: the WWW-Authenticate challenges of access/auth_reply (RFC 6750 §3,
// RFC 9470 §3 step-up, RFC 9728 §5.1 resource_metadata, in RFC 9110 §11.6.1 syntax), and the RFC 9728
// protected-resource metadata documents of access/resource_metadata.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <regex>
#include <string>

#include "access/auth_reply.hpp"
#include "access/resource_metadata.hpp"
#include "auth/auth_errc.hpp"
#include "config/loader.hpp"

namespace authgate::access {
namespace {

using auth::auth_errc;
using namespace std::chrono_literals;

// RFC 9110 §11.6.1: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ],
// auth-param = token BWS "=" BWS ( token / quoted-string ).
bool is_challenge(const std::string& s) {
  static const std::regex grammar(
      R"re([!#$%&'*+.^_`|~0-9A-Za-z-]+ [!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|"([^"\\]|\\.)*")(, [!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|"([^"\\]|\\.)*"))*)re");
  return std::regex_match(s, grammar);
}

TEST(Challenge, StepUpNamesTheAcrValuesAndTheMaxAgeTheRouteNeeds) {
  config::Requirement require;
  require.acr = {"urn:authgate:mfa", "urn:authgate:hwk"};
  require.max_auth_age = 300s;
  const AuthReply r = auth_reply(auth_errc::user_authentication_insufficient, {.require = &require});
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.error, "insufficient_user_authentication");
  EXPECT_EQ(r.www_authenticate,
            "Bearer realm=\"authgate\", error=\"insufficient_user_authentication\", error_description=\"the "
            "authentication is too weak or too old for this route\", acr_values=\"urn:authgate:mfa urn:authgate:hwk\", "
            "max_age=300");
  EXPECT_TRUE(is_challenge(r.www_authenticate)) << r.www_authenticate;
}

TEST(Challenge, StepUpWithOnlyAnAgeNamesNoAcrValues) {
  config::Requirement require;
  require.max_auth_age = 60s;
  const AuthReply r = auth_reply(auth_errc::user_authentication_insufficient, {.require = &require});
  EXPECT_EQ(r.www_authenticate.find("acr_values"), std::string::npos);
  EXPECT_NE(r.www_authenticate.find(", max_age=60"), std::string::npos);
  EXPECT_TRUE(is_challenge(r.www_authenticate)) << r.www_authenticate;
}

TEST(Challenge, EveryBearerChallengeOfAResourcesRouteNamesItsMetadataUrl) {
  const std::string url = "https://api.example.com/.well-known/oauth-protected-resource/orders";
  for (auto ec : {auth_errc::token_missing, auth_errc::expired, auth_errc::signature_invalid,
                  auth_errc::scope_insufficient, auth_errc::user_authentication_insufficient, auth_errc::token_revoked}) {
    const AuthReply r = auth_reply(ec, {.missing_scopes = "orders:read", .resource_metadata = url});
    EXPECT_NE(r.www_authenticate.find(", resource_metadata=\"" + url + "\""), std::string::npos)
        << auth::reason(ec) << ": " << r.www_authenticate;
    EXPECT_TRUE(is_challenge(r.www_authenticate)) << r.www_authenticate;
  }
}

TEST(Challenge, ARouteOfNoResourceNamesNoMetadataUrl) {
  const AuthReply r = auth_reply(auth_errc::token_missing);
  EXPECT_EQ(r.www_authenticate, "Bearer realm=\"authgate\"");
}

// --- RFC 9728 documents -------------------------------------------------------------------------

config::GatewayConfig resources_config() {
  return config::load_string(
      "upstreams:\n"
      "  - name: app\n"
      "    url: http://127.0.0.1:9\n"
      "issuers:\n"
      "  - name: idp\n"
      "    issuer: https://idp.example.com\n"
      "    audiences: [orders]\n"
      "    jwks_uri: https://idp.example.com/jwks\n"
      "routes:\n"
      "  - name: orders\n"
      "    match: { path: {prefix: /orders} }\n"
      "    upstream: app\n"
      "    auth: bearer\n"
      "    require: { scopes_all: [orders:read], scopes_any: [orders:write, orders:admin] }\n"
      "  - name: root\n"
      "    match: { path: {prefix: /} }\n"
      "    upstream: app\n"
      "    auth: bearer\n"
      "resources:\n"
      "  - resource: https://API.example.com:8443/orders\n"
      "    routes: [orders]\n"
      "    resource_name: Orders API\n"
      "    dpop_bound_access_tokens_required: true\n"
      "  - resource: https://api.example.com\n"
      "    routes: [root]\n"
      "    scopes_supported: [profile]\n",
      "t.yaml");
}

TEST(ResourceMetadata, TheMetadataUrlPutsTheWellKnownPathBetweenTheOriginAndThePath) {
  const auto cfg = resources_config();
  ASSERT_EQ(cfg.resources.size(), 2u);
  // RFC 9728 §3.1's rule: https://resource.example.com/resource1 ->
  // https://resource.example.com/.well-known/oauth-protected-resource/resource1.
  EXPECT_EQ(cfg.resources[0].metadata_url, "https://API.example.com:8443/.well-known/oauth-protected-resource/orders");
  EXPECT_EQ(cfg.resources[1].metadata_url, "https://api.example.com/.well-known/oauth-protected-resource");
  EXPECT_EQ(cfg.routes[0].resource_metadata_url, cfg.resources[0].metadata_url);
  EXPECT_EQ(cfg.routes[1].resource_metadata_url, cfg.resources[1].metadata_url);
}

TEST(ResourceMetadata, TheDocumentHoldsTheIdentifierTheIssuersAndTheRoutesScopes) {
  const auto cfg = resources_config();
  const auto doc = boost::json::parse(ResourceMetadata::document(cfg.resources[0])).as_object();
  // RFC 9728 §3.3: the resource value must be identical to the identifier the client started from.
  EXPECT_EQ(doc.at("resource").as_string(), "https://API.example.com:8443/orders");
  EXPECT_EQ(boost::json::serialize(doc.at("authorization_servers")), R"(["https://idp.example.com"])");
  EXPECT_EQ(boost::json::serialize(doc.at("scopes_supported")), R"(["orders:admin","orders:read","orders:write"])");
  EXPECT_EQ(boost::json::serialize(doc.at("bearer_methods_supported")), R"(["header"])");
  EXPECT_EQ(doc.at("dpop_bound_access_tokens_required"), true);
  EXPECT_EQ(doc.at("resource_name").as_string(), "Orders API");
  const auto root = boost::json::parse(ResourceMetadata::document(cfg.resources[1])).as_object();
  EXPECT_EQ(boost::json::serialize(root.at("scopes_supported")), R"(["profile"])") << "the configured list wins";
  EXPECT_FALSE(root.contains("dpop_bound_access_tokens_required"));
  EXPECT_FALSE(root.contains("resource_name"));
}

TEST(ResourceMetadata, ARequestMatchesOnPathAndHostWithoutCaseAndWithTheDefaultPortOrWithout) {
  const auto cfg = resources_config();
  const ResourceMetadata m(cfg.resources);
  const std::string* orders = m.find("api.example.com:8443", "/.well-known/oauth-protected-resource/orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_NE(orders->find("\"resource\":\"https://API.example.com:8443/orders\""), std::string::npos);
  EXPECT_EQ(m.find("api.example.com", "/.well-known/oauth-protected-resource/orders"), nullptr) << "port 8443 is named";
  EXPECT_EQ(m.find("api.example.com:8443", "/.well-known/oauth-protected-resource/Orders"), nullptr) << "paths keep case";
  EXPECT_NE(m.find("api.example.com", "/.well-known/oauth-protected-resource"), nullptr);
  EXPECT_NE(m.find("API.EXAMPLE.COM:443", "/.well-known/oauth-protected-resource"), nullptr);
  EXPECT_EQ(m.find("other.example.com", "/.well-known/oauth-protected-resource"), nullptr);
  EXPECT_EQ(m.find("api.example.com", "/.well-known/oauth-protected-resource/"), nullptr);
}

}  // namespace
}  // namespace authgate::access
