// OAuth 2.0 Protected Resource Metadata (RFC 9728) end to end: the real authgate binary in front of
// an echo upstream, with the real oidc-provider as the authorization server. A client that knows
// nothing but the API's URL follows RFC 9728's discovery from the 401: the resource_metadata URL of
// the challenge, the metadata document (checked as §3.3 says), the authorization server's own
// metadata, a token from its token endpoint, and the call again.
#include <boost/json/serialize.hpp>

#include <regex>

#include "common.hpp"
#include "support/oidc_provider.hpp"

namespace it {
namespace {

using support::OidcClient;
using support::OidcProvider;

// The value of one auth-param of a challenge (quoted-string or token), or "".
std::string auth_param(const std::string& challenge, const std::string& name) {
  const std::regex re("(?:^|[ ,])" + name + "=(?:\"([^\"]*)\"|([^ ,]*))");
  std::smatch m;
  if (!std::regex_search(challenge, m, re)) return {};
  return m[1].matched ? m[1].str() : m[2].str();
}

class ProtectedResourceMetadata : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    op_ = std::make_unique<OidcProvider>();
    ASSERT_TRUE(op_->start());
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    gw_ = std::make_unique<GatewayProcess>(GatewayConfig{});
    gw_->reserve_port();  // the resource identifier names the gateway's port
    origin_ = "http://127.0.0.1:" + std::to_string(gw_->port());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"orders", "app", "/orders"}
                             .with("auth", "bearer")
                             .with("require", "{scopes_all: [orders:read]}"));
    cfg.routes.push_back(RouteSpec{"reports", "app", "/reports"}.with("auth", "bearer"));
    cfg.routes.push_back(RouteSpec{"other", "app", "/other"}.with("auth", "bearer"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: op\n"
                       "    issuer: " + op_->issuer() + "\n"
                       "    audiences: [https://orders.test]\n"
                       "    algorithms: [RS256]\n";
    cfg.extra_yaml = "resources:\n"
                     "  - resource: " + origin_ + "/orders\n"
                     "    routes: [orders]\n"
                     "    resource_name: Orders API\n"
                     "  - resource: " + origin_ + "\n"
                     "    routes: [reports]\n";
    gw_->write_config(cfg);
    ASSERT_TRUE(gw_->start());
  }

  std::optional<Response> get(const std::string& target, std::vector<Header> headers = {}) {
    return support::http_request(gw_->port(), support::make_request("GET", target, std::move(headers),
                                                                    "", "127.0.0.1:" + std::to_string(gw_->port())));
  }

  std::unique_ptr<OidcProvider> op_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
  std::string origin_;
};

TEST_F(ProtectedResourceMetadata, AClientDiscoversTheAuthorizationServerFromA401AndGetsThrough) {
  // 1. The call without a token: 401, and the challenge names the metadata URL (RFC 9728 §5.1).
  auto first = get("/orders/42");
  ASSERT_EQ(status_of(first), 401) << describe(first);
  const std::string challenge = first->header("WWW-Authenticate").value_or("");
  const std::string metadata_url = auth_param(challenge, "resource_metadata");
  ASSERT_EQ(metadata_url, origin_ + "/.well-known/oauth-protected-resource/orders") << challenge;

  // 2. The metadata, from that URL (on the gateway: same origin).
  ASSERT_EQ(metadata_url.rfind(origin_, 0), 0u);
  auto md = get(metadata_url.substr(origin_.size()));
  ASSERT_EQ(status_of(md), 200) << describe(md);
  EXPECT_EQ(md->header("Content-Type"), "application/json");
  const auto doc = support::parse_json_object(md->body);
  ASSERT_TRUE(doc) << md->body;
  // §3.3: the resource must be identical to the identifier the metadata URL was made from.
  EXPECT_EQ(support::json_string(*doc, "resource"), origin_ + "/orders");
  ASSERT_TRUE(doc->contains("authorization_servers"));
  const auto& servers = doc->at("authorization_servers").as_array();
  ASSERT_EQ(servers.size(), 1u) << md->body;
  EXPECT_EQ(servers[0].as_string(), op_->issuer());
  EXPECT_EQ(boost::json::serialize(doc->at("scopes_supported")), R"(["orders:read"])");
  EXPECT_EQ(boost::json::serialize(doc->at("bearer_methods_supported")), R"(["header"])");
  EXPECT_EQ(support::json_string(*doc, "resource_name"), "Orders API");

  // 3. The authorization server's metadata (OpenID discovery at the issuer), checked against it.
  auto as = op_->get(std::string(servers[0].as_string()) + "/.well-known/openid-configuration");
  ASSERT_EQ(status_of(as), 200) << describe(as);
  const auto as_doc = support::parse_json_object(as->body);
  ASSERT_TRUE(as_doc);
  EXPECT_EQ(support::json_string(*as_doc, "issuer"), op_->issuer());
  const std::string token_endpoint = support::json_string(*as_doc, "token_endpoint");
  ASSERT_FALSE(token_endpoint.empty());

  // 4. A token from that endpoint, with the scopes the metadata lists (this provider's API audience
  //    is https://orders.test), then the call again.
  auto tr = op_->post_form(token_endpoint, {{"grant_type", "client_credentials"},
                                            {"scope", std::string(doc->at("scopes_supported").as_array()[0].as_string())},
                                            {"resource", "https://orders.test"}},
                           OidcClient::cli);
  ASSERT_EQ(status_of(tr), 200) << describe(tr);
  const auto token = support::json_string(*support::parse_json_object(tr->body), "access_token");
  auto second = get("/orders/42", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(status_of(second), 200) << describe(second);
  EXPECT_TRUE(up_->saw_target_containing("/orders/42"));
}

TEST_F(ProtectedResourceMetadata, EveryBearerChallengeOfTheResourcesRoutesNamesItAndOtherRoutesNone) {
  const std::string orders_md = origin_ + "/.well-known/oauth-protected-resource/orders";
  auto missing = get("/orders/1");
  auto invalid = get("/orders/1", {{"Authorization", "Bearer not.a.jwt"}});
  const std::string no_scope = op_->client_credentials_token("https://orders.test", "orders:write");
  ASSERT_FALSE(no_scope.empty()) << op_->last_error();
  auto forbidden = get("/orders/1", {{"Authorization", "Bearer " + no_scope}});
  ASSERT_EQ(status_of(missing), 401);
  ASSERT_EQ(status_of(invalid), 401);
  ASSERT_EQ(status_of(forbidden), 403) << describe(forbidden);
  for (const auto* r : {&missing, &invalid, &forbidden})
    EXPECT_EQ(auth_param((*r)->header("WWW-Authenticate").value_or(""), "resource_metadata"), orders_md) << describe(*r);

  auto root = get("/reports/q3");
  ASSERT_EQ(status_of(root), 401);
  EXPECT_EQ(auth_param(root->header("WWW-Authenticate").value_or(""), "resource_metadata"),
            origin_ + "/.well-known/oauth-protected-resource");
  auto other = get("/other/x");
  ASSERT_EQ(status_of(other), 401);
  EXPECT_EQ(other->header("WWW-Authenticate"), R"(Bearer realm="authgate")") << "a route of no resource";
}

TEST_F(ProtectedResourceMetadata, BothFormsAreServedAndNothingElseUnderTheWellKnownPath) {
  auto root = get("/.well-known/oauth-protected-resource");
  ASSERT_EQ(status_of(root), 200) << describe(root);
  EXPECT_EQ(support::json_string(*support::parse_json_object(root->body), "resource"), origin_);
  EXPECT_EQ(status_of(get("/.well-known/oauth-protected-resource/orders")), 200);
  EXPECT_EQ(status_of(get("/.well-known/oauth-protected-resource/nothing")), 404);
  EXPECT_EQ(status_of(get("/.well-known/oauth-protected-resource/orders/")), 404);
  // Another Host names another resource server: not these documents.
  auto other_host = support::http_request(
      gw_->port(), support::make_request("GET", "/.well-known/oauth-protected-resource/orders", {}, "", "api.example.com"));
  EXPECT_EQ(status_of(other_host), 404) << describe(other_host);
  // Only GET reads it; a POST goes through routing like any other request (no route: 404).
  auto post = support::http_request(gw_->port(), support::make_request("POST", "/.well-known/oauth-protected-resource/orders", {}, "x",
                                                                      "127.0.0.1:" + std::to_string(gw_->port())));
  EXPECT_EQ(status_of(post), 404) << describe(post);
  EXPECT_FALSE(up_->saw_target_containing("/.well-known/")) << "the documents never reach an upstream";
}

}  // namespace
}  // namespace it
