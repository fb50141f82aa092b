// Self-test of the OpenID Provider harness (support/oidc_provider.hpp): the real
// oidc-provider under node on loopback, without authgate. Checks what the
// end-to-end OIDC tests rely on: discovery, JWT and opaque access tokens,
// introspection, revocation and key rotation on the same port; and for the session
// tests the headless browser (support/browser.hpp), the code flow with PKCE, refresh
// token rotation and reuse detection, the provider's counters and its failure modes.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <thread>

#include "common.hpp"
#include "support/browser.hpp"
#include "support/oidc_provider.hpp"

namespace it {
namespace {

using support::AuthorizeRequest;
using support::BrowserSession;
using support::Navigation;
using support::OidcClient;
using support::OidcProvider;
using support::OidcStats;
using support::TokenEndpointMode;
using support::TokenSet;
using support::json_string;
using support::jwt_part;
using support::oauth_error;
using support::parse_token_response;
using support::query_param;

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

// ---- code flow, refresh rotation, test hooks ---------------------------------------

// A redirect_uri on a port nobody listens on: the browser stops before fetching it. The
// port is held (bound, never listening) for the whole test program, so nothing else gets it.
std::string unused_callback(const std::string& path = "/cb") {
  static const support::PortReservation nobody;
  return "http://127.0.0.1:" + std::to_string(nobody.port()) + path;
}

bool json_bool(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

// One authorization request, followed in `b` until the redirect to req.redirect_uri.
struct CodeLogin {
  Navigation nav;
  std::string verifier;
  AuthorizeRequest req;
  std::string code;  // "" when the redirect carried none (see nav / error)
  std::string error;
};

CodeLogin authorize(OidcProvider& op, BrowserSession& b, AuthorizeRequest req, bool pkce = true) {
  CodeLogin l;
  l.verifier = support::pkce_verifier();
  if (req.state.empty()) req.state = support::random_urlsafe();
  if (req.nonce.empty()) req.nonce = support::random_urlsafe();
  if (pkce) req.code_challenge = support::pkce_challenge_s256(l.verifier);
  l.req = req;
  l.nav = b.follow_redirects(op.authorize_url(req), 20, support::stop_at_prefix(req.redirect_uri));
  l.code = query_param(l.nav.stopped_at, "code").value_or("");
  l.error = query_param(l.nav.stopped_at, "error").value_or("");
  return l;
}

// A login and the code exchange; nullopt (with a test failure) when either fails.
std::optional<TokenSet> login_tokens(OidcProvider& op, BrowserSession& b, const AuthorizeRequest& req) {
  auto l = authorize(op, b, req);
  if (l.code.empty()) {
    ADD_FAILURE() << "no code: " << l.nav.describe();
    return std::nullopt;
  }
  auto r = op.code_grant(l.code, req.redirect_uri, l.verifier);
  auto t = parse_token_response(r);
  if (!t) ADD_FAILURE() << "code exchange: " << describe(r);
  return t;
}

AuthorizeRequest request_for(const std::string& cb, std::string scope = "openid profile email offline_access") {
  AuthorizeRequest req;
  req.redirect_uri = cb;
  req.scope = std::move(scope);
  return req;
}

::testing::AssertionResult IsInvalidGrant(const std::optional<Response>& r) {
  if (status_of(r) == 400 && oauth_error(r) == "invalid_grant") return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected 400 invalid_grant, got " << describe(r);
}

int count_in(const std::map<std::string, int>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

TEST_F(OidcHarness, CodeFlowWithPkceRotatesRefreshTokensAndRevokesTheGrantOnReuse) {
  const std::string cb = unused_callback();
  OidcProvider op;
  op.options().redirect_uris = {cb};
  op.options().access_token_ttl_s = 30;
  ASSERT_TRUE(op.start());
  const std::string op_host = "127.0.0.1:" + std::to_string(op.port());

  BrowserSession b;
  auto l = authorize(op, b, request_for(cb));
  ASSERT_FALSE(l.nav.stopped_at.empty()) << l.nav.describe();
  ASSERT_FALSE(l.code.empty()) << l.nav.describe();
  // authorize -> /interaction (login) -> /auth/<uid> -> /interaction (consent) -> /auth/<uid> -> cb
  EXPECT_EQ(l.nav.locations.back(), l.nav.stopped_at);
  EXPECT_EQ(std::count_if(l.nav.locations.begin(), l.nav.locations.end(),
                          [&](const std::string& u) { return u.rfind(op.issuer() + "/interaction/", 0) == 0; }),
            2)
      << l.nav.describe();
  EXPECT_EQ(query_param(l.nav.stopped_at, "state"), l.req.state);
  EXPECT_EQ(query_param(l.nav.stopped_at, "iss"), op.issuer());
  EXPECT_TRUE(b.jar().value(op_host, "_session")) << "the provider's login session cookie";

  // PKCE is enforced at the token endpoint; a failed check does not use the code up.
  auto bad = op.code_grant(l.code, cb, support::pkce_verifier());
  EXPECT_TRUE(IsInvalidGrant(bad));
  auto t0 = parse_token_response(op.code_grant(l.code, cb, l.verifier));
  ASSERT_TRUE(t0);
  EXPECT_EQ(t0->token_type, "Bearer");
  EXPECT_EQ(t0->expires_in, 30);
  // oidc-provider drops offline_access (no prompt=consent); a refresh token comes anyway.
  EXPECT_EQ(t0->scope, "openid profile email");
  ASSERT_FALSE(t0->refresh_token.empty());
  ASSERT_FALSE(t0->id_token.empty());
  auto id = jwt_part(t0->id_token, 1);
  ASSERT_TRUE(id) << t0->id_token;
  EXPECT_EQ(json_string(*id, "iss"), op.issuer());
  EXPECT_EQ(json_string(*id, "aud"), "authgate");
  EXPECT_EQ(json_string(*id, "sub"), "alice");
  EXPECT_EQ(json_string(*id, "nonce"), l.req.nonce);
  EXPECT_EQ(json_string(*id, "name"), "Alice Tester");
  EXPECT_EQ(json_string(*id, "email"), "alice@example.test");
  EXPECT_TRUE(json_bool(*id, "email_verified")) << boost::json::serialize(*id);
  EXPECT_EQ(json_string(*jwt_part(t0->id_token, 0), "kid"), op.current_kid());
  // OIDC scopes only: an opaque (userinfo) access token.
  EXPECT_FALSE(jwt_part(t0->access_token, 0)) << t0->access_token;
  auto info0 = op.introspect(t0->access_token);
  ASSERT_TRUE(info0) << op.last_error();
  EXPECT_TRUE(json_bool(*info0, "active")) << boost::json::serialize(*info0);
  EXPECT_EQ(json_string(*info0, "sub"), "alice");
  EXPECT_EQ(json_string(*info0, "client_id"), "authgate");

  // Rotation: a new refresh token (and access token, id_token) on every refresh grant.
  auto t1 = parse_token_response(op.refresh_grant(t0->refresh_token));
  ASSERT_TRUE(t1);
  EXPECT_NE(t1->refresh_token, t0->refresh_token);
  EXPECT_FALSE(t1->refresh_token.empty());
  EXPECT_NE(t1->access_token, t0->access_token);
  EXPECT_FALSE(t1->id_token.empty());
  EXPECT_EQ(t1->expires_in, 30);

  // Reuse of the rotated token: invalid_grant, and the whole grant is revoked - the new
  // refresh token and the access tokens die with it.
  EXPECT_TRUE(IsInvalidGrant(op.refresh_grant(t0->refresh_token)));
  EXPECT_TRUE(IsInvalidGrant(op.refresh_grant(t1->refresh_token)));
  auto info1 = op.introspect(t1->access_token);
  ASSERT_TRUE(info1) << op.last_error();
  EXPECT_FALSE(json_bool(*info1, "active")) << boost::json::serialize(*info1);

  auto s = op.stats();
  ASSERT_TRUE(s) << op.last_error();
  SCOPED_TRACE(boost::json::serialize(s->raw));
  EXPECT_EQ(s->grant("authorization_code").success, 1);
  EXPECT_EQ(s->grant("authorization_code").error, 1);  // the wrong verifier
  EXPECT_EQ(s->grant("refresh_token").success, 1);
  EXPECT_EQ(s->grant("refresh_token").error, 2);
  EXPECT_EQ(s->grant("client_credentials").total(), 0);
  EXPECT_EQ(s->refresh_token_reuse, 1);
  EXPECT_EQ(count_in(s->grant_error_details, "refresh token already used"), 1);
  EXPECT_EQ(count_in(s->grant_error_details, "refresh token not found"), 1);
  EXPECT_EQ(count_in(s->grant_errors, "invalid_grant"), 3);
  EXPECT_EQ(s->grants_revoked, 1);
  EXPECT_EQ(count_in(s->grants_revoked_by_route, "token"), 1);
  EXPECT_EQ(s->token_endpoint_requests, 5);
  EXPECT_EQ(s->logins, 1);
  EXPECT_EQ(s->consents, 1);
  EXPECT_EQ(s->authorizations.success, 1);
  EXPECT_EQ(s->revocations.total(), 0);
  EXPECT_EQ(s->server_errors, 0);

  ASSERT_TRUE(op.reset_stats()) << op.last_error();
  auto zero = op.stats();
  ASSERT_TRUE(zero) << op.last_error();
  EXPECT_EQ(zero->grant("refresh_token").total(), 0);
  EXPECT_EQ(zero->refresh_token_reuse, 0);
  EXPECT_EQ(zero->token_endpoint_requests, 0);
}

TEST_F(OidcHarness, RevokedRefreshTokenNoLongerRefreshes) {
  const std::string cb = unused_callback();
  OidcProvider op;
  op.options().redirect_uris = {cb};
  ASSERT_TRUE(op.start());
  BrowserSession b;
  auto t0 = login_tokens(op, b, request_for(cb));
  ASSERT_TRUE(t0);
  auto t1 = parse_token_response(op.refresh_grant(t0->refresh_token));
  ASSERT_TRUE(t1);

  // Only the client the token was issued to may revoke it.
  EXPECT_FALSE(op.revoke(t1->refresh_token, OidcClient::cli, "refresh_token"));
  ASSERT_TRUE(op.revoke(t1->refresh_token, OidcClient::gateway, "refresh_token")) << op.last_error();
  EXPECT_TRUE(IsInvalidGrant(op.refresh_grant(t1->refresh_token)));
  // Revoking a refresh token revokes its grant: the access token is dead too.
  auto info = op.introspect(t1->access_token);
  ASSERT_TRUE(info) << op.last_error();
  EXPECT_FALSE(json_bool(*info, "active")) << boost::json::serialize(*info);

  auto s = op.stats();
  ASSERT_TRUE(s) << op.last_error();
  SCOPED_TRACE(boost::json::serialize(s->raw));
  EXPECT_EQ(s->revocations.success, 1);
  EXPECT_EQ(s->revocations.error, 1);
  EXPECT_EQ(s->revoked_refresh_tokens, 1);
  EXPECT_EQ(count_in(s->grants_revoked_by_route, "revocation"), 1);
  EXPECT_EQ(s->grant("refresh_token").success, 1);
  EXPECT_EQ(s->grant("refresh_token").error, 1);
  EXPECT_EQ(s->refresh_token_reuse, 0);
}

TEST_F(OidcHarness, AuthorizationCodeIsSingleUseAndItsReplayRevokesTheTokens) {
  const std::string cb = unused_callback();
  OidcProvider op;
  op.options().redirect_uris = {cb};
  ASSERT_TRUE(op.start());
  BrowserSession b;
  auto l = authorize(op, b, request_for(cb));
  ASSERT_FALSE(l.code.empty()) << l.nav.describe();
  auto t0 = parse_token_response(op.code_grant(l.code, cb, l.verifier));
  ASSERT_TRUE(t0);
  EXPECT_TRUE(IsInvalidGrant(op.code_grant(l.code, cb, l.verifier)));
  EXPECT_TRUE(IsInvalidGrant(op.refresh_grant(t0->refresh_token)));
  auto s = op.stats();
  ASSERT_TRUE(s) << op.last_error();
  EXPECT_EQ(count_in(s->grant_error_details, "authorization code already consumed"), 1)
      << boost::json::serialize(s->raw);
  EXPECT_EQ(s->grants_revoked, 1);
}

TEST_F(OidcHarness, PkceIsRequiredAndTheLoginAccountCanBeChosenOrDenied) {
  const std::string cb = unused_callback();
  OidcProvider op;
  op.options().redirect_uris = {cb};
  ASSERT_TRUE(op.start());

  {  // No code_challenge: an error redirect, no code.
    BrowserSession b;
    auto l = authorize(op, b, request_for(cb), /*pkce=*/false);
    EXPECT_EQ(l.error, "invalid_request") << l.nav.describe();
    EXPECT_TRUE(l.code.empty());
    EXPECT_EQ(query_param(l.nav.stopped_at, "state"), l.req.state);
  }
  {  // An unregistered redirect_uri is not redirected to at all.
    BrowserSession b;
    auto l = authorize(op, b, request_for(unused_callback("/not-registered")));
    EXPECT_TRUE(l.nav.stopped_at.empty()) << l.nav.describe();
    EXPECT_EQ(l.nav.status(), 400) << l.nav.describe();
  }
  {  // login_hint names the account.
    BrowserSession b;
    auto req = request_for(cb);
    req.login_hint = "bob";
    auto t = login_tokens(op, b, req);
    ASSERT_TRUE(t);
    auto id = jwt_part(t->id_token, 1);
    ASSERT_TRUE(id);
    EXPECT_EQ(json_string(*id, "sub"), "bob");
    EXPECT_EQ(json_string(*id, "name"), "Bob Tester");
    EXPECT_EQ(json_string(*id, "email"), "bob@example.test");
  }
  {  // set_login() changes the default account.
    ASSERT_TRUE(op.set_login("carol")) << op.last_error();
    BrowserSession b;
    auto t = login_tokens(op, b, request_for(cb));
    ASSERT_TRUE(t);
    EXPECT_EQ(json_string(*jwt_part(t->id_token, 1), "sub"), "carol");
  }
  {  // ... or makes the interaction fail: error=access_denied back at the client.
    ASSERT_TRUE(op.set_login("alice", "access_denied")) << op.last_error();
    BrowserSession b;
    auto l = authorize(op, b, request_for(cb));
    EXPECT_EQ(l.error, "access_denied") << l.nav.describe();
    EXPECT_TRUE(l.code.empty());
    EXPECT_EQ(query_param(l.nav.stopped_at, "state"), l.req.state);
    ASSERT_TRUE(op.set_login()) << op.last_error();
  }
  auto s = op.stats();
  ASSERT_TRUE(s) << op.last_error();
  SCOPED_TRACE(boost::json::serialize(s->raw));
  EXPECT_EQ(s->denied, 1);
  EXPECT_EQ(s->logins, 2);
  EXPECT_EQ(s->authorizations.success, 2);
  EXPECT_GE(s->authorizations.error, 2);
}

TEST_F(OidcHarness, OrdersScopeInTheCodeFlowGivesJwtAccessTokensForTheOrdersResource) {
  const std::string cb = unused_callback();
  OidcProvider op;
  op.options().redirect_uris = {cb};
  op.options().access_token_ttl_s = 20;
  ASSERT_TRUE(op.start());
  BrowserSession b;
  auto t0 = login_tokens(op, b, request_for(cb, "openid profile email offline_access orders:read"));
  ASSERT_TRUE(t0);
  auto h = jwt_part(t0->access_token, 0);
  auto p = jwt_part(t0->access_token, 1);
  ASSERT_TRUE(h && p) << t0->access_token;
  EXPECT_EQ(json_string(*h, "typ"), "at+jwt");
  EXPECT_EQ(json_string(*h, "kid"), op.current_kid());
  EXPECT_EQ(json_string(*p, "iss"), op.issuer());
  EXPECT_EQ(json_string(*p, "aud"), "https://orders.test");
  EXPECT_EQ(json_string(*p, "scope"), "orders:read");
  EXPECT_EQ(json_string(*p, "sub"), "alice");
  EXPECT_EQ(json_string(*p, "client_id"), "authgate");
  EXPECT_EQ(p->at("exp").to_number<std::int64_t>() - p->at("iat").to_number<std::int64_t>(), 20);
  EXPECT_EQ(t0->scope, "orders:read") << "the token response's scope is the access token's";
  auto t1 = parse_token_response(op.refresh_grant(t0->refresh_token));
  ASSERT_TRUE(t1);
  auto p1 = jwt_part(t1->access_token, 1);
  ASSERT_TRUE(p1) << t1->access_token;
  EXPECT_EQ(json_string(*p1, "aud"), "https://orders.test");
  EXPECT_EQ(json_string(*p1, "scope"), "orders:read");
  EXPECT_NE(t1->refresh_token, t0->refresh_token);

  // An explicit resource wins.
  BrowserSession b2;
  auto req = request_for(cb, "openid offline_access orders:write");
  req.resource = "https://other.test";
  auto t2 = login_tokens(op, b2, req);
  ASSERT_TRUE(t2);
  auto p2 = jwt_part(t2->access_token, 1);
  ASSERT_TRUE(p2) << t2->access_token;
  EXPECT_EQ(json_string(*p2, "aud"), "https://other.test");
  EXPECT_EQ(json_string(*p2, "scope"), "orders:write");
}

TEST_F(OidcHarness, TokenEndpointCanBeMadeUnavailableOrHang) {
  OidcProvider op;
  ASSERT_TRUE(op.start());
  const std::string token_path = "/token";

  ASSERT_TRUE(op.set_token_endpoint_mode(TokenEndpointMode::unavailable)) << op.last_error();
  auto r = op.post_form(token_path, {{"grant_type", "client_credentials"}}, OidcClient::cli);
  ASSERT_EQ(status_of(r), 503) << describe(r);
  EXPECT_EQ(r->header("Retry-After"), "1");
  EXPECT_EQ(oauth_error(r), "temporarily_unavailable");
  auto rr = op.refresh_grant("whatever");
  EXPECT_EQ(status_of(rr), 503) << describe(rr);
  // Other endpoints are unaffected.
  EXPECT_TRUE(op.discovery()) << op.last_error();

  ASSERT_TRUE(op.set_token_endpoint_mode(TokenEndpointMode::hang)) << op.last_error();
  auto t0 = Clock::now();
  auto hung = op.post_form(token_path, {{"grant_type", "client_credentials"}}, OidcClient::cli, false, 1s);
  EXPECT_FALSE(hung) << describe(hung);
  EXPECT_GE(seconds_since(t0), 0.9);

  // Changing the mode releases held requests (closed without a response).
  std::optional<Response> released = Response{};
  std::thread waiter([&] {
    released = op.post_form(token_path, {{"grant_type", "client_credentials"}}, OidcClient::cli, false, 20s);
  });
  ASSERT_TRUE(support::eventually([&] {
    auto s = op.stats();
    return s && s->token_endpoint_hung == 2;
  }, 5s));
  t0 = Clock::now();
  ASSERT_TRUE(op.set_token_endpoint_mode(TokenEndpointMode::ok, 300)) << op.last_error();
  waiter.join();
  EXPECT_FALSE(released) << describe(released);
  EXPECT_LT(seconds_since(t0), 5.0);

  t0 = Clock::now();
  std::string jwt = op.client_credentials_token("https://orders.test", "orders:read");
  EXPECT_FALSE(jwt.empty()) << op.last_error();
  EXPECT_GE(seconds_since(t0), 0.29) << "delay_ms 300";

  auto s = op.stats();
  ASSERT_TRUE(s) << op.last_error();
  SCOPED_TRACE(boost::json::serialize(s->raw));
  EXPECT_EQ(s->token_endpoint_mode, "ok");
  EXPECT_EQ(s->token_endpoint_unavailable, 2);
  EXPECT_EQ(s->token_endpoint_hung, 2);
  EXPECT_EQ(count_in(s->token_endpoint_injected, "client_credentials"), 3);
  EXPECT_EQ(count_in(s->token_endpoint_injected, "refresh_token"), 1);
  EXPECT_EQ(s->token_endpoint_requests, 5);
  // Requests failed on purpose never reached oidc-provider.
  EXPECT_EQ(s->grant("client_credentials").success, 1);
  EXPECT_EQ(s->grant("client_credentials").error, 0);
  EXPECT_EQ(s->grant("refresh_token").total(), 0);
}

TEST_F(OidcHarness, RpInitiatedLogoutWorksWithoutJavaScript) {
  const std::string cb = unused_callback();
  const std::string bye = unused_callback("/bye");
  OidcProvider op;
  op.options().redirect_uris = {cb};
  op.options().post_logout_redirect_uris = {bye};
  ASSERT_TRUE(op.start());
  const std::string op_host = "127.0.0.1:" + std::to_string(op.port());
  BrowserSession b;
  auto t0 = login_tokens(op, b, request_for(cb));
  ASSERT_TRUE(t0);
  ASSERT_TRUE(b.jar().value(op_host, "_session"));

  auto page = b.follow_redirects(op.end_session_url(t0->id_token, bye, "st-1"));
  ASSERT_EQ(page.status(), 200) << page.describe();
  auto done = b.submit_form(page, {}, 20, support::stop_at_prefix(bye));
  ASSERT_FALSE(done.stopped_at.empty()) << done.describe();
  EXPECT_EQ(query_param(done.stopped_at, "state"), "st-1");

  // The provider session is gone: the next authorization logs in again.
  auto l = authorize(op, b, request_for(cb));
  EXPECT_FALSE(l.code.empty()) << l.nav.describe();
  // The gateway client's grants outlive the provider session (expiresWithSession false),
  // so the refresh token still works: a gateway's logout has to revoke it itself.
  auto after = op.refresh_grant(t0->refresh_token);
  EXPECT_TRUE(parse_token_response(after)) << describe(after);

  auto s = op.stats();
  ASSERT_TRUE(s) << op.last_error();
  SCOPED_TRACE(boost::json::serialize(s->raw));
  EXPECT_EQ(s->end_sessions, 1);
  EXPECT_EQ(s->logins, 2);
}

// ---- the headless browser's parts, without a provider --------------------------------

TEST(OidcHarnessBrowser, CookieJarFollowsRfc6265Basics) {
  support::CookieJar jar;
  auto u = [](const char* s) { return *support::parse_url(s); };
  jar.store(u("http://127.0.0.1:8080/oauth2/callback?code=x"), "sid=abc; Path=/; HttpOnly; Secure; SameSite=Lax");
  jar.store(u("http://127.0.0.1:8080/app/page"), "dflt=1");  // default path /app
  jar.store(u("http://127.0.0.1:8080/"), "deep=2; Path=/app/sub; Domain=example.com");
  jar.store(u("http://127.0.0.1:9090/"), "other=3");
  EXPECT_EQ(jar.header_for(u("http://127.0.0.1:8080/")), "sid=abc");
  EXPECT_EQ(jar.header_for(u("http://127.0.0.1:8080/app")), "dflt=1; sid=abc");
  EXPECT_EQ(jar.header_for(u("http://127.0.0.1:8080/application")), "sid=abc");
  EXPECT_EQ(jar.header_for(u("http://127.0.0.1:8080/app/sub/x?y=1")), "deep=2; dflt=1; sid=abc");
  EXPECT_EQ(jar.header_for(u("http://127.0.0.1:9090/app")), "other=3");
  auto sid = jar.find("127.0.0.1:8080", "sid");
  ASSERT_TRUE(sid);
  EXPECT_TRUE(sid->secure && sid->http_only);
  EXPECT_EQ(sid->same_site, "Lax");

  jar.store(u("http://127.0.0.1:8080/"), "sid=new; Path=/");  // replaces
  EXPECT_EQ(jar.value("127.0.0.1:8080", "sid"), "new");
  jar.store(u("http://127.0.0.1:8080/"), "sid=; Path=/; Max-Age=0");  // deletes
  EXPECT_FALSE(jar.value("127.0.0.1:8080", "sid"));
  jar.store(u("http://127.0.0.1:8080/app/x"), "dflt=; path=/app; expires=Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_FALSE(jar.value("127.0.0.1:8080", "dflt"));
  jar.store(u("http://127.0.0.1:8080/"), "later=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
  EXPECT_TRUE(jar.value("127.0.0.1:8080", "later"));
  jar.store(u("http://127.0.0.1:8080/"), "short=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_TRUE(jar.value("127.0.0.1:8080", "short")) << "Max-Age wins over Expires";
  EXPECT_TRUE(jar.erase("127.0.0.1:8080", "later"));
  EXPECT_FALSE(jar.erase("127.0.0.1:8080", "later"));
}

TEST(OidcHarnessBrowser, UrlsFormsAndPkce) {
  auto base = *support::parse_url("http://127.0.0.1:4000/a/b/c?x=1#frag");
  EXPECT_EQ(base.host_port(), "127.0.0.1:4000");
  EXPECT_EQ(base.target, "/a/b/c?x=1");
  EXPECT_EQ(support::resolve_url(base, "/interaction/u1"), "http://127.0.0.1:4000/interaction/u1");
  EXPECT_EQ(support::resolve_url(base, "d?y=2"), "http://127.0.0.1:4000/a/b/d?y=2");
  EXPECT_EQ(support::resolve_url(base, "../d"), "http://127.0.0.1:4000/a/d");
  EXPECT_EQ(support::resolve_url(base, "?q=3"), "http://127.0.0.1:4000/a/b/c?q=3");
  EXPECT_EQ(support::resolve_url(base, "http://127.0.0.1:5000/cb?code=1"), "http://127.0.0.1:5000/cb?code=1");
  EXPECT_EQ(support::resolve_url(base, "//127.0.0.1:6000/x"), "http://127.0.0.1:6000/x");
  EXPECT_FALSE(support::parse_url("https://127.0.0.1/"));
  EXPECT_FALSE(support::parse_url("/relative"));
  EXPECT_EQ(query_param("http://h/cb?code=a%2Bb&state=s+t&iss=http%3A%2F%2Fx", "code"), "a+b");
  EXPECT_EQ(query_param("http://h/cb?code=a%2Bb&state=s+t", "state"), "s t");
  EXPECT_FALSE(query_param("http://h/cb?code=1", "state"));
  EXPECT_EQ(support::with_query("http://h/auth", {{"scope", "openid email"}, {"redirect_uri", "http://x/cb"}}),
            "http://h/auth?scope=openid%20email&redirect_uri=http%3A%2F%2Fx%2Fcb");

  auto form = support::parse_first_form(
      "<html><body><formx></formx><form id=\"op.logoutForm\" method=\"POST\" action=\"http://127.0.0.1:1/session/end/confirm\">"
      "<input type=\"hidden\" name=\"xsrf\" value=\"a&amp;b&#39;c\"/><input type='hidden' name='logout' value='yes'>"
      "<input type=\"submit\" name=\"go\" value=\"Go\"></form></body></html>");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->method, "post");
  EXPECT_EQ(form->action, "http://127.0.0.1:1/session/end/confirm");
  EXPECT_EQ(form->fields, (std::vector<std::pair<std::string, std::string>>{{"xsrf", "a&b'c"}, {"logout", "yes"}}));
  EXPECT_FALSE(support::parse_first_form("<p>no form</p>"));

  // RFC 7636 appendix B.
  EXPECT_EQ(support::pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  auto v = support::pkce_verifier();
  EXPECT_EQ(v.size(), 43u);
  EXPECT_NE(v, support::pkce_verifier());
}

}  // namespace
}  // namespace it
