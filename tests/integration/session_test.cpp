// Browser sessions end to end (issue 4): the real oidc-provider (support/oidc_provider.hpp)
// as the login issuer "op", the real authgate binary with a `sessions:` block, an echo
// upstream, and a headless browser (support/browser.hpp) that logs in by following
// redirects. Routes: /app auth: session (X-User-Id from sub), /api auth: any with
// scopes_all [orders:read], /public auth: none. The session client asks for
// resource https://orders.test, so session access tokens are JWTs for that audience.
//
// Ending a session with invalid_grant: the harness has no hook that revokes one grant
// and authgate never reveals the session's refresh token, so those tests restart the
// provider (restart_with_rotated_key(): same port, same client secrets). oidc-provider
// keeps grants in memory, so every refresh token issued before the restart is unknown
// afterwards and the refresh grant answers 400 invalid_grant ("refresh token not found").
#include <boost/json/serialize.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <latch>
#include <set>
#include <thread>

#include "common.hpp"
#include "session/cookie_codec.hpp"
#include "support/browser.hpp"
#include "support/files.hpp"
#include "support/oidc_provider.hpp"
#include "support/paths.hpp"

namespace it {
namespace {

using support::BrowserSession;
using support::Navigation;
using support::OidcClient;
using support::OidcProvider;
using support::TokenEndpointMode;
using support::json_string;
using support::jwt_part;
using support::query_param;

constexpr const char* kCookieSecret = "session-test-cookie-secret-0123456789-abcdefghij";  // >= 32 bytes
constexpr const char* kNavigation = "text/html,application/xhtml+xml,*/*;q=0.8";
constexpr const char* kXhr = "application/json";
constexpr const char* kAdminToken = "session-test-admin-token-0123456789";

struct SessionSetup {
  int at_ttl_s = 600;                         // the provider's --at-ttl
  std::string refresh_before_expiry = "1s";   // sessions.refresh_before_expiry
  std::string cookie_extra;                   // more keys of the cookie flow map, e.g. ", idle_timeout: 1s"
  std::string sessions_extra;                 // more lines of the sessions: block, e.g. "  refresh_retry_interval: 1s\n"
  std::vector<std::pair<std::string, std::string>> timeouts;  // GatewayConfig::timeouts
  bool introspection = false;                 // the issuer also introspects opaque tokens
  bool revocation = false;                    // a revocation: block (memory), admin token kAdminToken
  bool websocket = false;                     // a WebSocket echo upstream behind /ws, auth: session
  std::vector<std::string> trusted_proxies;   // listen.trusted_proxies
  // Step-up routes (RFC 9470), auth: session: /mfa needs acr urn:authgate:mfa (the provider's
  // logins are urn:authgate:pwd unless asked for mfa), /recent an authentication at most 2 s old.
  bool step_up = false;
};

SessionSetup short_tokens(int at_ttl_s, std::string refresh_before_expiry) {
  SessionSetup s;
  s.at_ttl_s = at_ttl_s;
  s.refresh_before_expiry = std::move(refresh_before_expiry);
  return s;
}

int count_in(const std::map<std::string, int>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

class Session : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
  }

  // Provider, echo upstream and gateway. The gateway's port is reserved first (the
  // provider must know the callback URL, the gateway's public_url names it), then the
  // provider starts (it picks its own port: its issuer URL is known once it runs), then
  // the gateway's config is written with both.
  void start(const SessionSetup& setup = {}) {
    op_ = std::make_unique<OidcProvider>();
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    gw_ = std::make_unique<GatewayProcess>(GatewayConfig{});  // the config is written below
    gw_->reserve_port();
    gw_url_ = "http://127.0.0.1:" + std::to_string(gw_->port());

    op_->options().redirect_uris = {gw_url_ + "/oauth2/callback"};
    op_->options().post_logout_redirect_uris = {gw_url_ + "/public/bye"};
    op_->options().access_token_ttl_s = setup.at_ttl_s;
    ASSERT_TRUE(op_->start());

    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"app", "app", "/app"}
                             .with("auth", "session")
                             .with("forward", "{headers: {X-User-Id: sub}}"));
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}
                             .with("auth", "any")
                             .with("require", "{scopes_all: [\"orders:read\"]}"));
    cfg.routes.push_back(RouteSpec{"public", "app", "/public"}.with("auth", "none"));
    if (setup.step_up) {
      cfg.routes.push_back(RouteSpec{"mfa", "app", "/mfa"}.with("auth", "session").with("require", "{acr: [urn:authgate:mfa]}"));
      cfg.routes.push_back(RouteSpec{"recent", "app", "/recent"}.with("auth", "session").with("require", "{max_auth_age: 2s}"));
    }
    if (setup.websocket) {
      ws_up_ = std::make_unique<UpstreamServer>(support::handlers::websocket_echo());
      cfg.upstreams.push_back({"ws", ws_up_->url()});
      cfg.routes.push_back(RouteSpec{"ws", "ws", "/ws"}.with("auth", "session"));
    }
    cfg.timeouts = setup.timeouts;
    cfg.trusted_proxies = setup.trusted_proxies;
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: op\n"
                       "    issuer: " + op_->issuer() + "\n"
                       "    audiences: [https://orders.test]\n"
                       "    algorithms: [RS256]\n";
    if (setup.introspection)
      cfg.issuers_yaml += "    introspection:\n"
                          "      client_id: " + op_->client_id(OidcClient::gateway) + "\n"
                          "      client_secret_env: OP_SECRET\n";
    cfg.env.push_back({"OP_SECRET", op_->client_secret(OidcClient::gateway)});
    cfg.env.push_back({"COOKIE_SECRET", kCookieSecret});
    cfg.extra_yaml = "sessions:\n"
                     "  client:\n"
                     "    issuer: op\n"
                     "    client_id: " + op_->client_id(OidcClient::gateway) + "\n"
                     "    client_secret_env: OP_SECRET\n"
                     "    scopes: [openid, profile, email, offline_access, \"orders:read\"]\n"
                     "    resource: https://orders.test\n"
                     "  public_url: " + gw_url_ + "\n"
                     "  cookie: {secure: false" + setup.cookie_extra + "}\n"
                     "  cookie_secret_env: COOKIE_SECRET\n"
                     "  refresh_before_expiry: " + setup.refresh_before_expiry + "\n"
                     "  post_logout_redirect_uri: " + gw_url_ + "/public/bye\n" + setup.sessions_extra;
    if (setup.revocation) {
      cfg.extra_yaml += "revocation:\n"
                        "  store: memory\n"
                        "  admin_token_env: ADMIN_TOKEN\n";
      cfg.env.push_back({"ADMIN_TOKEN", kAdminToken});
    }
    cfg_ = cfg;
    gw_->write_config(cfg);
    ASSERT_TRUE(gw_->start());
  }

  // POST /revocations on the admin port (needs SessionSetup::revocation).
  std::optional<Response> revoke(const std::string& json) {
    return support::http_request(
        gw_->admin_port(),
        support::make_request("POST", "/revocations",
                              {{"Content-Type", "application/json"}, {"Authorization", std::string("Bearer ") + kAdminToken}},
                              json));
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(gw_->port()); }

  // A complete headless login that ends at `path` (a session route): 200 from the upstream.
  Navigation login(BrowserSession& b, const std::string& path = "/app/page") {
    Navigation nav = b.follow_redirects(gw_url_ + path);
    EXPECT_EQ(nav.status(), 200) << nav.describe();
    EXPECT_EQ(nav.url, gw_url_ + path) << nav.describe();
    EXPECT_TRUE(session_cookie(b)) << nav.describe();
    return nav;
  }

  std::optional<std::string> session_cookie(const BrowserSession& b) const {
    return b.jar().value(host(), "authgate");
  }

  // One request (own connection) with exactly this session cookie value.
  std::optional<Response> call(const std::string& method, const std::string& target,
                               const std::optional<std::string>& cookie, const char* accept,
                               std::vector<Header> extra = {}, const std::string& body = {}) {
    std::vector<Header> h{{"Accept", accept}};
    if (cookie) h.push_back({"Cookie", "authgate=" + *cookie});
    for (auto& x : extra) h.push_back(std::move(x));
    return support::http_request(gw_->port(), support::make_request(method, target, h, body, host()), 20s);
  }

  // GET /oauth2/session as JSON (nullopt on anything but 200 + object).
  std::optional<boost::json::object> session_info(const std::string& cookie) {
    auto r = call("GET", "/oauth2/session", cookie, kXhr);
    if (status_of(r) != 200) return std::nullopt;
    return support::parse_json_object(r->body);
  }

  // The session's access-token expiry (unix seconds), from /oauth2/session; -1 on failure.
  std::int64_t access_expires_at(const std::string& cookie) {
    auto info = session_info(cookie);
    if (!info || !info->contains("access_token_expires_at")) return -1;
    return info->at("access_token_expires_at").to_number<std::int64_t>();
  }

  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return metric_or_zero(*gw_, name, labels);
  }

  std::string stats_text() {
    auto s = op_->stats();
    return s ? boost::json::serialize(s->raw) : "stats: " + op_->last_error();
  }

  void burst(bool after_expiry);

  std::unique_ptr<OidcProvider> op_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<UpstreamServer> ws_up_;
  std::unique_ptr<GatewayProcess> gw_;
  std::string gw_url_;
  GatewayConfig cfg_;  // what start() wrote (a reload test writes a changed copy)
};

// ---- 1. headless login ----------------------------------------------------------------

TEST_F(Session, HeadlessLoginReachesTheUpstreamWithTheBearerTokenAndWithoutAuthgateCookies) {
  ASSERT_NO_FATAL_FAILURE(start());
  BrowserSession b;
  support::Cookie theme;  // a cookie of the application's own: it must reach the upstream
  theme.name = "theme";
  theme.value = "dark";
  b.jar().set(host(), theme);

  // Without a session, a navigation is sent to the login with rd.
  auto first = b.get(gw_url_ + "/app/page");
  ASSERT_EQ(status_of(first), 302) << describe(first);
  const std::string loc = first->header("Location").value_or("");
  EXPECT_EQ(loc.rfind("/oauth2/login?", 0), 0u) << loc;
  EXPECT_EQ(query_param(loc, "rd"), "/app/page") << loc;

  Navigation nav = login(b);
  ASSERT_EQ(nav.status(), 200) << nav.describe();
  ASSERT_GE(nav.locations.size(), 3u) << nav.describe();
  EXPECT_EQ(nav.locations.front().rfind(gw_url_ + "/oauth2/login?", 0), 0u) << nav.describe();
  EXPECT_EQ(nav.locations.back(), gw_url_ + "/app/page") << nav.describe();
  const auto authz = std::find_if(nav.locations.begin(), nav.locations.end(), [&](const std::string& u) {
    return u.rfind(op_->issuer() + "/", 0) == 0;
  });
  ASSERT_NE(authz, nav.locations.end()) << nav.describe();
  EXPECT_EQ(query_param(*authz, "response_type"), "code");
  EXPECT_EQ(query_param(*authz, "code_challenge_method"), "S256");
  EXPECT_FALSE(query_param(*authz, "state").value_or("").empty());
  EXPECT_FALSE(query_param(*authz, "nonce").value_or("").empty());
  EXPECT_EQ(query_param(*authz, "redirect_uri"), gw_url_ + "/oauth2/callback");
  EXPECT_EQ(std::count_if(nav.locations.begin(), nav.locations.end(),
                          [&](const std::string& u) { return u.rfind(gw_url_ + "/oauth2/callback?", 0) == 0; }),
            1)
      << nav.describe();

  // The session cookie: name "authgate" (secure: false), HttpOnly, SameSite=Lax, Path=/.
  auto c = b.jar().find(host(), "authgate");
  ASSERT_TRUE(c) << nav.describe();
  EXPECT_TRUE(c->http_only);
  EXPECT_FALSE(c->secure);
  EXPECT_EQ(c->same_site, "Lax");
  EXPECT_EQ(c->path, "/");
  EXPECT_FALSE(b.jar().value(host(), "authgate-login")) << "the login cookie is cleared by the callback";

  // What the upstream got for /app/page.
  auto req = up_->last_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->target, "/app/page");
  const std::string token = bearer_of(*req);
  ASSERT_FALSE(token.empty()) << req->raw;
  auto header = jwt_part(token, 0);
  auto payload = jwt_part(token, 1);
  ASSERT_TRUE(header && payload) << "not a JWT: " << token;
  EXPECT_EQ(json_string(*header, "typ"), "at+jwt");
  EXPECT_EQ(json_string(*payload, "aud"), "https://orders.test");
  EXPECT_EQ(json_string(*payload, "iss"), op_->issuer());
  EXPECT_EQ(json_string(*payload, "sub"), "alice");
  EXPECT_EQ(json_string(*payload, "client_id"), "authgate");
  EXPECT_EQ(req->headers.get("X-User-Id"), "alice") << req->raw;
  std::string cookies;
  for (const auto& v : req->headers.all("Cookie")) cookies += v + ";";
  EXPECT_NE(cookies.find("theme=dark"), std::string::npos) << req->raw;
  EXPECT_EQ(cookies.find("authgate"), std::string::npos) << "authgate's cookies reached the upstream:\n" << req->raw;

  // /oauth2/session: the id_token's non-secret facts.
  auto info = session_info(*session_cookie(b));
  ASSERT_TRUE(info);
  EXPECT_EQ(json_string(*info, "sub"), "alice") << boost::json::serialize(*info);
  EXPECT_EQ(json_string(*info, "name"), "Alice Tester");
  EXPECT_EQ(json_string(*info, "email"), "alice@example.test");
  EXPECT_EQ(info->find("access_token"), info->end()) << "tokens must not be exposed";
  EXPECT_EQ(info->find("refresh_token"), info->end());
  EXPECT_EQ(status_of(call("GET", "/oauth2/session", std::nullopt, kXhr)), 401);

  EXPECT_EQ(metric("authgate_logins_total", {{"result", "success"}}), 1);
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("authorization_code").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").total(), 0) << stats_text();
}

// ---- 2. single-flight refresh -----------------------------------------------------------

// 50 concurrent requests of one session find a refresh due: either the access
// token expires within refresh_before_expiry, or it has already expired (Session::burst).
TEST_F(Session, FiftyConcurrentRequestsDueForRefreshCauseExactlyOneRefreshGrant) {
  burst(/*after_expiry=*/false);
}

TEST_F(Session, FiftyConcurrentRequestsAfterTheAccessTokenExpiredCauseExactlyOneRefreshGrant) {
  burst(/*after_expiry=*/true);
}

void Session::burst(bool after_expiry) {
  ASSERT_NO_FATAL_FAILURE(start(short_tokens(4, "1s")));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::string login_token = bearer_of(*up_->last_request());
  const std::int64_t exp = access_expires_at(*cookie);
  ASSERT_GT(exp, 0);

  // Due: the access token expires within refresh_before_expiry (1 s), but is
  // still valid; or it has expired.
  sleep_until_unix(after_expiry ? static_cast<double>(exp) + 0.2 : static_cast<double>(exp - 1) + 0.1);
  ASSERT_TRUE(op_->reset_stats()) << op_->last_error();
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 300)) << op_->last_error();
  const int before = up_->request_count();

  constexpr int kN = 50;
  std::vector<int> codes(kN, 0);
  std::latch go(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      codes[static_cast<std::size_t>(i)] = status_of(call("GET", "/app/burst/" + std::to_string(i), cookie, kXhr));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(codes.begin(), codes.end(), 200), kN) << "statuses: " << [&] {
    std::string s;
    for (int c : codes) s += std::to_string(c) + " ";
    return s;
  }();

  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").error, 0) << stats_text();
  EXPECT_EQ(s->refresh_token_reuse, 0) << stats_text();
  EXPECT_EQ(s->grants_revoked, 0) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 1);

  // Every request of the burst went upstream with the same, new access token.
  auto reqs = up_->requests();
  std::set<std::string> tokens;
  for (std::size_t i = static_cast<std::size_t>(before); i < reqs.size(); ++i) tokens.insert(bearer_of(reqs[i]));
  EXPECT_EQ(reqs.size() - static_cast<std::size_t>(before), static_cast<std::size_t>(kN));
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_NE(*tokens.begin(), login_token);
  EXPECT_FALSE(tokens.begin()->empty());

  // Later, the next refresh presents the rotated refresh token: it was stored.
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 0)) << op_->last_error();
  const std::int64_t exp2 = access_expires_at(*cookie);
  ASSERT_GT(exp2, exp);
  sleep_until_unix(static_cast<double>(exp2 - 1) + 0.1);
  auto later = call("GET", "/app/later", cookie, kXhr);
  ASSERT_EQ(status_of(later), 200) << describe(later);
  EXPECT_NE(bearer_of(*up_->last_request()), *tokens.begin());
  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").success, 2) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").error, 0) << stats_text();
  EXPECT_EQ(s->refresh_token_reuse, 0) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 2);
}

// ---- 3. invalid_grant ---------------------------------------------------------------------

TEST_F(Session, InvalidGrantEndsTheSessionWithALoginRedirectOrA401) {
  ASSERT_NO_FATAL_FAILURE(start(short_tokens(3, "1s")));
  BrowserSession nav_browser;  // gets a 302 to the login
  BrowserSession xhr_browser;  // gets a 401
  login(nav_browser);
  login(xhr_browser);
  const auto nav_cookie = session_cookie(nav_browser);
  const auto xhr_cookie = session_cookie(xhr_browser);
  ASSERT_TRUE(nav_cookie && xhr_cookie);
  const std::int64_t exp = std::max(access_expires_at(*nav_cookie), access_expires_at(*xhr_cookie));
  ASSERT_GT(exp, 0);

  // The provider forgets every grant (see the file comment): the refresh tokens are dead.
  ASSERT_TRUE(op_->restart_with_rotated_key());
  sleep_until_unix(static_cast<double>(exp - 1) + 0.1);

  auto nav = call("GET", "/app/next?q=1", nav_cookie, kNavigation);
  ASSERT_EQ(status_of(nav), 302) << describe(nav);
  const std::string loc = nav->header("Location").value_or("");
  EXPECT_EQ(loc.rfind("/oauth2/login?", 0), 0u) << loc;
  EXPECT_EQ(query_param(loc, "rd"), "/app/next?q=1") << loc;

  auto xhr = call("GET", "/app/data", xhr_cookie, kXhr);
  EXPECT_TRUE(IsLocalError(xhr, 401));

  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").error, 2) << stats_text();
  EXPECT_EQ(count_in(s->grant_errors, "invalid_grant"), 2) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "invalid_grant"}}), 2);
  EXPECT_EQ(metric("authgate_auth_decisions_total", {{"route", "app"}, {"reason", "session_ended"}}), 2);
  EXPECT_FALSE(up_->saw_target_containing("/app/next")) << "nothing reaches the upstream";
  EXPECT_FALSE(up_->saw_target_containing("/app/data"));

  // Both sessions are gone (no second grant attempt), ...
  EXPECT_EQ(status_of(call("GET", "/oauth2/session", nav_cookie, kXhr)), 401);
  EXPECT_EQ(status_of(call("GET", "/oauth2/session", xhr_cookie, kXhr)), 401);
  EXPECT_TRUE(IsLocalError(call("GET", "/app/data", xhr_cookie, kXhr), 401));
  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").total(), 2) << stats_text();
  // (Following `loc` to log in again is LoginAfterTheIdpRotatedItsSigningKey below: the
  // restarted provider signs with a new key.)
}

// The id_token of a login is signed with a key the gateway has not seen yet (the IdP
// rotated): like an access token with an unknown kid, it must trigger a JWKS refetch
// instead of failing every login until the next scheduled refetch.
TEST_F(Session, LoginAfterTheIdpRotatedItsSigningKey) {
  ASSERT_NO_FATAL_FAILURE(start());
  BrowserSession before;
  login(before);  // the gateway holds the first key
  ASSERT_TRUE(op_->restart_with_rotated_key());

  BrowserSession b;
  auto nav = b.follow_redirects(gw_url_ + "/app/page");
  EXPECT_EQ(nav.status(), 200) << nav.describe();
  EXPECT_EQ(nav.url, gw_url_ + "/app/page") << nav.describe();
  EXPECT_TRUE(session_cookie(b)) << nav.describe();
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "bad_id_token"}}), 0);
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "success"}}), 2);
}

// ---- 4. IdP down ------------------------------------------------------------------------

TEST_F(Session, IdpDownForwardsWhileTheTokenIsValidThen503AndKeepsTheSession) {
  // refresh_before_expiry beyond the token's whole life: clamped to half of it (2 s).
  ASSERT_NO_FATAL_FAILURE(start(short_tokens(4, "30s")));
  BrowserSession b;
  // Ends on a route without auth: no refresh (and no 503) during the login.
  auto nav = b.follow_redirects(gw_url_ + "/oauth2/login?rd=%2Fpublic%2Flanding");
  ASSERT_EQ(nav.status(), 200) << nav.describe();
  ASSERT_EQ(nav.url, gw_url_ + "/public/landing") << nav.describe();
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::int64_t exp = access_expires_at(*cookie);
  ASSERT_GT(exp, 0);
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::unavailable)) << op_->last_error();
  sleep_until_unix(static_cast<double>(exp - 2) + 0.1);  // due (within half its 4 s life), still valid

  // Refresh due, IdP answers 503, the token is still valid: forwarded with it.
  auto r1 = call("GET", "/app/while-valid", cookie, kXhr);
  ASSERT_EQ(status_of(r1), 200) << describe(r1);
  const std::string old_token = bearer_of(*up_->last_request());
  ASSERT_FALSE(old_token.empty());
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_GE(count_in(s->token_endpoint_injected, "refresh_token"), 1) << stats_text();
  EXPECT_GE(metric("authgate_refresh_grants_total", {{"result", "error"}}), 1);

  // Expired: 503 with Retry-After, for navigations too; nothing goes upstream.
  sleep_until_unix(static_cast<double>(exp) + 0.2);
  auto r2 = call("GET", "/app/after-expiry", cookie, kXhr);
  EXPECT_TRUE(IsLocalError(r2, 503));
  ASSERT_TRUE(r2);
  EXPECT_TRUE(r2->header("Retry-After")) << describe(r2);
  auto r3 = call("GET", "/app/after-expiry-nav", cookie, kNavigation);
  EXPECT_EQ(status_of(r3), 503) << describe(r3);
  EXPECT_FALSE(up_->saw_target_containing("/app/after-expiry"));

  // Backoff: after the failed refresh, the session does not call the token
  // endpoint again before refresh_retry_interval (default 5 s).
  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(count_in(s->token_endpoint_injected, "refresh_token"), 1) << stats_text();

  // The session is kept; once the IdP is back (and the backoff over) a request refreshes and passes.
  EXPECT_TRUE(session_info(*cookie)) << "the session was dropped while the IdP was down";
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok)) << op_->last_error();
  std::optional<Response> r4;
  ASSERT_TRUE(support::eventually([&] {
    r4 = call("GET", "/app/back", cookie, kXhr);
    return status_of(r4) == 200;
  }, 8s)) << describe(r4);
  EXPECT_NE(bearer_of(*up_->last_request()), old_token);
  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").error, 0) << stats_text();
}

// ---- 5. logout ---------------------------------------------------------------------------

TEST_F(Session, LogoutRevokesTheRefreshTokenClearsTheCookieAndEndsTheSession) {
  ASSERT_NO_FATAL_FAILURE(start());
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  ASSERT_TRUE(op_->reset_stats()) << op_->last_error();

  // GET answers a page with a POST form (logout CSRF); the browser submits it (same origin).
  Navigation confirm;
  confirm.url = gw_url_ + "/oauth2/logout";
  confirm.response = b.get(confirm.url);
  ASSERT_EQ(confirm.status(), 200) << confirm.describe();
  EXPECT_TRUE(session_cookie(b)) << "the GET alone must not end the session";
  Navigation submitted = b.submit_form(confirm, {}, 0);
  const auto& r = submitted.response;
  ASSERT_EQ(status_of(r), 302) << submitted.describe();
  const std::string loc = r->header("Location").value_or("");
  auto doc = op_->discovery();
  ASSERT_TRUE(doc) << op_->last_error();
  const std::string end_session = json_string(*doc, "end_session_endpoint");
  ASSERT_FALSE(end_session.empty());
  EXPECT_EQ(loc.rfind(end_session + "?", 0), 0u) << loc;
  EXPECT_FALSE(query_param(loc, "id_token_hint").value_or("").empty()) << loc;
  EXPECT_EQ(query_param(loc, "post_logout_redirect_uri"), gw_url_ + "/public/bye") << loc;
  EXPECT_EQ(query_param(loc, "client_id"), "authgate") << loc;
  bool cleared = false;
  for (const auto& sc : r->headers.all("Set-Cookie"))
    cleared = cleared || (sc.rfind("authgate=;", 0) == 0 && sc.find("Max-Age=0") != std::string::npos);
  EXPECT_TRUE(cleared) << describe(r);
  EXPECT_FALSE(session_cookie(b));

  // RFC 7009 at the provider: the refresh token (and with it the grant) is revoked.
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->revocations.success, 1) << stats_text();
  EXPECT_EQ(s->revocations.error, 0) << stats_text();
  EXPECT_EQ(s->revoked_refresh_tokens, 1) << stats_text();
  EXPECT_EQ(count_in(s->grants_revoked_by_route, "revocation"), 1) << stats_text();
  EXPECT_EQ(metric("authgate_logouts_total"), 1);

  // The old cookie no longer leads to a session.
  EXPECT_TRUE(IsLocalError(call("GET", "/app/x", cookie, kXhr), 401));
  auto nav = call("GET", "/app/x", cookie, kNavigation);
  EXPECT_EQ(status_of(nav), 302) << describe(nav);
  EXPECT_EQ(nav ? nav->header("Location").value_or("").rfind("/oauth2/login?", 0) : 1u, 0u) << describe(nav);
  EXPECT_EQ(status_of(call("GET", "/oauth2/session", cookie, kXhr)), 401);
  EXPECT_FALSE(up_->saw_target_containing("/app/x"));

  // The provider accepts the logout request (id_token_hint, registered post-logout URI)
  // and sends the browser back to the gateway.
  auto page = b.follow_redirects(loc);
  ASSERT_EQ(page.status(), 200) << page.describe();
  auto done = b.submit_form(page);
  EXPECT_EQ(done.status(), 200) << done.describe();
  EXPECT_EQ(done.url, gw_url_ + "/public/bye") << done.describe();
  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->end_sessions, 1) << stats_text();
}

// ---- 6. CSRF -----------------------------------------------------------------------------

TEST_F(Session, UnsafeMethodsNeedASameOriginOriginOrReferer) {
  ASSERT_NO_FATAL_FAILURE(start());
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::string other_port = "http://127.0.0.1:" + std::to_string(gw_->port() == 65535 ? 1 : gw_->port() + 1);
  struct Case {
    std::string name;
    std::string method;
    std::vector<Header> headers;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"POST without Origin or Referer", "POST", {}, false},
      {"PUT without Origin", "PUT", {}, false},
      {"PATCH without Origin", "PATCH", {}, false},
      {"DELETE without Origin", "DELETE", {}, false},
      {"foreign Origin", "POST", {{"Origin", "http://evil.test"}}, false},
      {"Origin on another port", "POST", {{"Origin", other_port}}, false},
      {"Origin with the public origin as a prefix", "POST", {{"Origin", gw_url_ + ".evil.test"}}, false},
      {"Origin null, no Referer", "POST", {{"Origin", "null"}}, false},
      {"foreign Origin, same-origin Referer", "POST",
       {{"Origin", "http://evil.test"}, {"Referer", gw_url_ + "/app/form"}}, false},
      {"foreign Referer", "POST", {{"Referer", "http://evil.test/app/form"}}, false},
      {"same Origin", "POST", {{"Origin", gw_url_}}, true},
      {"same Origin, DELETE", "DELETE", {{"Origin", gw_url_}}, true},
      {"same-origin Referer without Origin", "POST", {{"Referer", gw_url_ + "/app/form"}}, true},
  };
  int allowed = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    SCOPED_TRACE(c.name);
    const std::string target = "/app/x/" + std::to_string(i);
    std::vector<Header> h = c.headers;
    h.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    auto r = call(c.method, target, cookie, kXhr, h, "a=1");
    if (c.allowed) {
      ++allowed;
      EXPECT_EQ(status_of(r), 200) << describe(r);
      EXPECT_TRUE(up_->saw_target_containing(target));
    } else {
      EXPECT_TRUE(IsLocalError(r, 403, "csrf_rejected"));
      EXPECT_FALSE(up_->saw_target_containing(target));
    }
  }
  // GET needs no Origin.
  EXPECT_EQ(status_of(call("GET", "/app/safe", cookie, kXhr)), 200);
  EXPECT_EQ(metric("authgate_auth_decisions_total", {{"route", "app"}, {"reason", "csrf"}}),
            static_cast<double>(cases.size() - static_cast<std::size_t>(allowed)));
}

// ---- step-up authentication (RFC 9470) ---------------------------------------------------

int logins_with_acr(const support::OidcStats& stats, const std::string& acr) {
  const auto* by_acr = stats.raw.at("interactions").as_object().if_contains("logins_by_acr");
  const auto* n = by_acr ? by_acr->as_object().if_contains(acr) : nullptr;
  return n ? static_cast<int>(n->to_number<std::int64_t>()) : 0;
}

TEST_F(Session, AStepUpRouteSendsAPasswordSessionBackToTheIdpForMfaAndThenLetsItThrough) {
  SessionSetup setup;
  setup.step_up = true;
  start(setup);
  BrowserSession b;
  login(b);  // a password login: acr urn:authgate:pwd
  const auto pwd_cookie = session_cookie(b);
  ASSERT_TRUE(pwd_cookie);

  // Not strong enough: a navigation goes to a login that asks the IdP for the route's acr values,
  auto nav = call("GET", "/mfa/report", pwd_cookie, kNavigation);
  ASSERT_EQ(status_of(nav), 302) << describe(nav);
  EXPECT_EQ(nav->header("Location"), "/oauth2/login?rd=%2Fmfa%2Freport&acr_values=urn%3Aauthgate%3Amfa");
  // and an API call gets the RFC 9470 error; neither reaches the upstream.
  auto xhr = call("GET", "/mfa/report", pwd_cookie, kXhr);
  ASSERT_EQ(status_of(xhr), 401) << describe(xhr);
  EXPECT_NE(xhr->body.find("insufficient_user_authentication"), std::string::npos) << xhr->body;
  EXPECT_FALSE(up_->saw_target_containing("/mfa/report"));
  EXPECT_EQ(metric("authgate_auth_decisions_total", {{"route", "mfa"}, {"reason", "insufficient_user_authentication"}}), 2);

  // The browser follows: the provider sees acr_values, logs the user in again with the second
  // factor, and the new session's token carries acr urn:authgate:mfa.
  Navigation stepped = b.follow_redirects(gw_url_ + "/mfa/report");
  ASSERT_EQ(stepped.status(), 200) << stepped.describe();
  EXPECT_EQ(stepped.url, gw_url_ + "/mfa/report");
  EXPECT_TRUE(up_->saw_target_containing("/mfa/report"));
  const auto stats = op_->stats();
  ASSERT_TRUE(stats) << op_->last_error();
  EXPECT_EQ(logins_with_acr(*stats, "urn:authgate:pwd"), 1) << stats_text();
  EXPECT_EQ(logins_with_acr(*stats, "urn:authgate:mfa"), 1) << stats_text();
  const auto mfa_cookie = session_cookie(b);
  ASSERT_TRUE(mfa_cookie);
  EXPECT_NE(*mfa_cookie, *pwd_cookie) << "the step-up login makes a new session";
  EXPECT_EQ(status_of(call("GET", "/mfa/other", mfa_cookie, kXhr)), 200);
}

TEST_F(Session, AMaxAuthAgeRouteSendsAnOldAuthenticationBackToTheIdpWithMaxAge) {
  SessionSetup setup;
  setup.step_up = true;
  start(setup);
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  EXPECT_EQ(status_of(call("GET", "/recent/x", cookie, kXhr)), 200) << "just logged in";
  std::this_thread::sleep_for(3s);  // the route's max_auth_age is 2 s

  auto old = call("GET", "/recent/x", cookie, kNavigation);
  ASSERT_EQ(status_of(old), 302) << describe(old);
  EXPECT_EQ(old->header("Location"), "/oauth2/login?rd=%2Frecent%2Fx&max_age=2");
  // oidc-provider logs the user in again (its session is older than max_age): a fresh auth_time.
  Navigation again = b.follow_redirects(gw_url_ + "/recent/x");
  ASSERT_EQ(again.status(), 200) << again.describe();
  const auto stats = op_->stats();
  ASSERT_TRUE(stats) << op_->last_error();
  EXPECT_EQ(stats->raw.at("interactions").as_object().at("login").to_number<int>(), 2) << stats_text();
}

// ---- 7. open redirects -------------------------------------------------------------------

TEST_F(Session, LoginRedirectTargetsOffSiteFallBackToTheDefaultPath) {
  SessionSetup setup;  // 21 logins from one address: above the default login_rate_limit burst (20)
  setup.sessions_extra = "  login_rate_limit: {burst: 100}\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  // The rd value the gateway sees after decoding the query once (we send it encoded).
  const std::vector<std::string> bad = {
      "//evil.com",           "/\\evil.com",          "https://evil.com",   "/%2F%2Fevil.com",
      "%2F%2Fevil.com",       "/%5Cevil.com",         "/%5C%5Cevil.com",    "/%252F%252Fevil.com",
      "\\\\evil.com",         "/\\/evil.com",         "http:evil.com",      "javascript:alert(1)",
      "/%09/evil.com",        "/\t/evil.com",         " //evil.com",        "evil.com",
      "",                     "///evil.com",          "/%2f%2fevil.com",    "//evil.com/app/page",
  };
  const auto on_site = [&](const std::string& u) {
    return u.rfind(gw_url_ + "/", 0) == 0 || u.rfind(op_->issuer() + "/", 0) == 0;
  };
  const auto off_site = [&](const std::string& u) { return !on_site(u); };
  for (const auto& rd : bad) {
    SCOPED_TRACE("rd=" + rd);
    BrowserSession b;
    auto nav = b.follow_redirects(gw_url_ + "/oauth2/login?rd=" + support::url_encode(rd), 20, off_site);
    EXPECT_TRUE(nav.stopped_at.empty()) << "redirected off-site: " << nav.describe();
    auto cb = std::find_if(nav.locations.begin(), nav.locations.end(), [&](const std::string& u) {
      return u.rfind(gw_url_ + "/oauth2/callback?", 0) == 0;
    });
    ASSERT_NE(cb, nav.locations.end()) << nav.describe();
    ASSERT_NE(cb + 1, nav.locations.end()) << nav.describe();
    EXPECT_EQ(*(cb + 1), gw_url_ + "/") << nav.describe();
    EXPECT_EQ(cb + 2, nav.locations.end()) << nav.describe();
    EXPECT_TRUE(session_cookie(b)) << nav.describe();
  }
  // A local path survives, query included.
  BrowserSession b;
  auto ok = b.follow_redirects(gw_url_ + "/oauth2/login?rd=" + support::url_encode("/app/ok?x=1&y=2"));
  EXPECT_EQ(ok.status(), 200) << ok.describe();
  EXPECT_EQ(ok.url, gw_url_ + "/app/ok?x=1&y=2") << ok.describe();
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "success"}}), static_cast<double>(bad.size() + 1));
}

// ---- 8. bad cookies ----------------------------------------------------------------------

TEST_F(Session, TamperedForeignUnknownAndEmptyCookiesGet401Or302NeverA5xx) {
  ASSERT_NO_FATAL_FAILURE(start());
  BrowserSession b;
  login(b);
  const auto good = session_cookie(b);
  ASSERT_TRUE(good);
  const std::size_t dot = good->find('.');
  ASSERT_NE(dot, std::string::npos) << *good;
  const std::string id = good->substr(0, dot);
  namespace session = authgate::session;
  ASSERT_EQ(session::sign_session_id(id, kCookieSecret), *good) << "the test's view of the cookie format";

  auto flip = [](std::string v, std::size_t pos) {
    v[pos] = v[pos] == 'A' ? 'B' : 'A';
    return v;
  };
  struct Case {
    std::string name;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"MAC with one character flipped", flip(*good, dot + 10)},
      {"id with one character flipped", flip(*good, 5)},
      {"signed with another secret", session::sign_session_id(id, "another-secret-another-secret-another-secret")},
      {"unknown id, correctly signed", session::sign_session_id(session::random_token(32), kCookieSecret)},
      {"the id signed as a login state", session::sign_login_state(id, kCookieSecret)},
      {"empty value", ""},
      {"the id without a MAC", id},
      {"the MAC without an id", good->substr(dot)},
      {"truncated MAC", good->substr(0, good->size() - 2)},
      {"MAC with padding", *good + "="},
      {"quoted value", "\"" + *good + "\""},
      {"long garbage", std::string(3000, 'a') + "." + std::string(43, 'b')},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + ": " + c.value.substr(0, 100));
    auto xhr = call("GET", "/app/x", c.value, kXhr);
    EXPECT_TRUE(IsLocalError(xhr, 401, "no_session"));
    auto nav = call("GET", "/app/x", c.value, kNavigation);
    EXPECT_EQ(status_of(nav), 302) << describe(nav);
    if (nav) {
      EXPECT_EQ(nav->header("Location"), "/oauth2/login?rd=%2Fapp%2Fx") << describe(nav);
    }
    auto post = call("POST", "/app/x", c.value, kXhr, {{"Origin", gw_url_}}, "a=1");
    EXPECT_TRUE(IsLocalError(post, 401, "no_session"));
    auto info = call("GET", "/oauth2/session", c.value, kXhr);
    EXPECT_EQ(status_of(info), 401) << describe(info);
    auto any = call("GET", "/api/orders", c.value, kXhr);
    EXPECT_EQ(status_of(any), 401) << describe(any);
  }
  EXPECT_FALSE(up_->saw_target_containing("/app/x"));
  EXPECT_FALSE(up_->saw_target_containing("/api/orders"));
  // A logout with a bad cookie revokes nothing and ends nobody's session.
  auto out = call("POST", "/oauth2/logout", flip(*good, dot + 10), kNavigation, {{"Origin", gw_url_}});
  EXPECT_EQ(status_of(out), 302) << describe(out);
  // The real cookie still works.
  EXPECT_EQ(status_of(call("GET", "/app/x", good, kXhr)), 200);
  EXPECT_EQ(metric("authgate_logouts_total"), 0);
}

TEST_F(Session, IdleExpiredSessionCookieIsTreatedAsNoSession) {
  SessionSetup setup;
  setup.cookie_extra = ", idle_timeout: 1s";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  ASSERT_EQ(status_of(call("GET", "/app/x", cookie, kXhr)), 200);
  std::this_thread::sleep_for(2500ms);  // idle > 1 s in whole seconds
  EXPECT_TRUE(IsLocalError(call("GET", "/app/y", cookie, kXhr), 401, "no_session"));
  auto nav = call("GET", "/app/y", cookie, kNavigation);
  EXPECT_EQ(status_of(nav), 302) << describe(nav);
  EXPECT_FALSE(up_->saw_target_containing("/app/y"));
}

// ---- 9. IdP error on login ------------------------------------------------------------------

TEST_F(Session, IdpErrorOnLoginGivesA403PageAndNoRedirectLoop) {
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_TRUE(op_->set_login("alice", "access_denied")) << op_->last_error();
  BrowserSession b;
  auto nav = b.follow_redirects(gw_url_ + "/app/x");
  ASSERT_EQ(nav.status(), 403) << nav.describe();
  EXPECT_EQ(nav.url.rfind(gw_url_ + "/oauth2/callback?", 0), 0u) << nav.describe();
  EXPECT_EQ(query_param(nav.url, "error"), "access_denied") << nav.describe();
  EXPECT_FALSE(nav.response->header("Location")) << nav.describe();
  EXPECT_EQ(nav.response->header("Content-Type").value_or("").rfind("text/html", 0), 0u) << nav.describe();
  EXPECT_NE(nav.response->body.find("access_denied"), std::string::npos) << nav.describe();
  EXPECT_LE(nav.locations.size(), 6u) << nav.describe();
  EXPECT_EQ(std::count_if(nav.locations.begin(), nav.locations.end(),
                          [&](const std::string& u) { return u.rfind(gw_url_ + "/oauth2/login", 0) == 0; }),
            1)
      << nav.describe();
  EXPECT_FALSE(session_cookie(b));
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "idp_error"}}), 1);
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "success"}}), 0);
  EXPECT_FALSE(up_->saw_target_containing("/app/x"));

  // Nothing is stuck: once the IdP lets the user in, the same browser logs in.
  ASSERT_TRUE(op_->set_login()) << op_->last_error();
  auto again = b.follow_redirects(gw_url_ + "/app/x");
  EXPECT_EQ(again.status(), 200) << again.describe();
  EXPECT_EQ(again.url, gw_url_ + "/app/x") << again.describe();
}

// ---- 10. auth: any ----------------------------------------------------------------------------

TEST_F(Session, AnyRouteTakesABearerTokenWithoutACookieAndRefusesNeither) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string jwt = op_->client_credentials_token("https://orders.test", "orders:read");
  ASSERT_FALSE(jwt.empty()) << op_->last_error();
  auto ok = call("GET", "/api/orders", std::nullopt, kXhr, {{"Authorization", "Bearer " + jwt}});
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  EXPECT_TRUE(up_->saw_target_containing("/api/orders"));

  // The route policy still applies to bearer tokens.
  const std::string narrow = op_->client_credentials_token("https://orders.test", "orders:write");
  ASSERT_FALSE(narrow.empty()) << op_->last_error();
  EXPECT_TRUE(IsLocalError(call("GET", "/api/narrow", std::nullopt, kXhr, {{"Authorization", "Bearer " + narrow}}), 403));

  auto none = call("GET", "/api/none", std::nullopt, kXhr);
  EXPECT_TRUE(IsLocalError(none, 401));
  EXPECT_FALSE(up_->saw_target_containing("/api/none"));
  EXPECT_FALSE(up_->saw_target_containing("/api/narrow"));

  // Without an Authorization header the session is used, and the same policy passes its
  // access token (scope orders:read).
  BrowserSession b;
  login(b);
  auto via_session = call("GET", "/api/session", session_cookie(b), kXhr);
  ASSERT_EQ(status_of(via_session), 200) << describe(via_session);
  auto payload = jwt_part(bearer_of(*up_->last_request()), 1);
  ASSERT_TRUE(payload) << up_->last_request()->raw;
  EXPECT_EQ(json_string(*payload, "sub"), "alice");
  EXPECT_EQ(json_string(*payload, "aud"), "https://orders.test");
}

// ---- token endpoint faults (issue 7 §3) -------------------------------------------------
// The provider's token endpoint fails on purpose (provider.mjs /__test/token-endpoint):
// 500, a 200 with truncated JSON, a 2 MiB answer (beyond limits.max_idp_response_bytes,
// default 1 MiB: only a bounded read stops it) and no answer at all (timeouts.idp_request).

struct TokenEndpointFault {
  TokenEndpointMode mode;
  const char* name;
  const char* refresh_result;  // authgate_refresh_grants_total{result}
  const char* refresh_log;     // in authgate's log when the refresh fails
};

const TokenEndpointFault kTokenEndpointFaults[] = {
    {TokenEndpointMode::server_error, "500", "error", "session refresh failed"},
    {TokenEndpointMode::garbage, "garbage JSON", "bad_response", "session refresh: token response rejected"},
    {TokenEndpointMode::huge, "2 MiB body", "error", "session refresh failed"},
    {TokenEndpointMode::hang, "no answer", "timeout", "session refresh failed"},
};

// Refresh: every request finds a refresh due (refresh_before_expiry beyond the token's
// life, clamped to half of it: 12 s, waited out first); each fault fails one refresh, the still-valid access token is used, the session
// is kept, the failure is counted and logged; then the endpoint recovers.
TEST_F(Session, TokenEndpointFaultsDuringRefreshKeepTheSessionAndAreCounted) {
  SessionSetup setup = short_tokens(24, "120s");
  setup.sessions_extra = "  refresh_retry_interval: 1s\n";
  setup.timeouts = {{"idp_request", "1s"}};
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  auto nav = b.follow_redirects(gw_url_ + "/oauth2/login?rd=%2Fpublic%2Flanding");  // no refresh during login
  ASSERT_EQ(nav.status(), 200) << nav.describe();
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::int64_t exp = access_expires_at(*cookie);
  ASSERT_GT(exp, 0);
  sleep_until_unix(static_cast<double>(exp - 12) + 0.1);  // due for the next 12 s

  std::string token;
  for (const auto& f : kTokenEndpointFaults) {
    SCOPED_TRACE(f.name);
    ASSERT_TRUE(op_->set_token_endpoint_mode(f.mode)) << op_->last_error();
    std::this_thread::sleep_for(1100ms);  // past refresh_retry_interval
    const double before = metric("authgate_refresh_grants_total", {{"result", f.refresh_result}});
    const auto t0 = Clock::now();
    auto r = call("GET", std::string("/app/fault-") + std::to_string(static_cast<int>(f.mode)), cookie, kXhr);
    ASSERT_EQ(status_of(r), 200) << describe(r);
    EXPECT_LT(seconds_since(t0), 3.0) << "bounded by timeouts.idp_request (1s)";
    const std::string used = bearer_of(*up_->last_request());
    ASSERT_FALSE(used.empty());
    if (!token.empty()) {
      EXPECT_EQ(used, token) << "the session's token changed although every refresh failed";
    }
    token = used;
    EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", f.refresh_result}}), before + 1)
        << gw_->metrics_text();
    EXPECT_TRUE(support::eventually([&] {
      return (gw_->stdout_text() + gw_->stderr_text()).find(f.refresh_log) != std::string::npos;
    }, 3s));
    EXPECT_TRUE(session_info(*cookie)) << "the session was dropped";
  }
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(count_in(s->token_endpoint_injected, "refresh_token"), 4) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 0);

  // Recovery: the next due refresh succeeds and rotates the token.
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok)) << op_->last_error();
  std::this_thread::sleep_for(1100ms);
  auto ok = call("GET", "/app/recovered", cookie, kXhr);
  ASSERT_EQ(status_of(ok), 200) << describe(ok);
  EXPECT_NE(bearer_of(*up_->last_request()), token);
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 1);
  EXPECT_TRUE(gw_->running());
}

// ---- 6. second security pass (issue 13): reloads, short-lived tokens, revoked subjects ----

// The attack: a SIGHUP replaces the session manager while one of its refresh grants is
// in flight; a request on the new config used to start a second grant for the same
// session (the single flight belonged to the replaced manager, the store is shared), so
// the rotating refresh token was redeemed twice and oidc-provider revoked the whole grant
// (the user is logged out). The flight now outlives the reload: exactly one grant.
TEST_F(Session, ASighupDuringASlowRefreshGrantDoesNotRedeemTheRotatingRefreshTokenTwice) {
  ASSERT_NO_FATAL_FAILURE(start(short_tokens(4, "1s")));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::string login_token = bearer_of(*up_->last_request());
  const std::int64_t exp = access_expires_at(*cookie);
  ASSERT_GT(exp, 0);
  sleep_until_unix(static_cast<double>(exp - 1) + 0.1);  // due, still valid
  ASSERT_TRUE(op_->reset_stats()) << op_->last_error();
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 3000)) << op_->last_error();

  // A request on the old config starts the grant; the provider holds it 3 s.
  auto on_old = std::async(std::launch::async, [&] { return call("GET", "/app/old-config", cookie, kXhr); });
  ASSERT_TRUE(support::eventually([&] {
    auto st = op_->stats();
    return st && st->token_endpoint_requests >= 1;
  }, 5s)) << stats_text();

  // Reload (a new route shows the new config is live) while the grant is in flight.
  GatewayConfig changed = cfg_;
  changed.routes.push_back(RouteSpec{"reloaded", "app", "/reloaded"}.with("auth", "none"));
  gw_->write_config(changed);
  ASSERT_TRUE(gw_->signal(SIGHUP));
  ASSERT_EQ(gw_->wait_for_metric("authgate_config_reloads_total", {{"result", "success"}}, 1, 5s), 1)
      << gw_->metrics_text();
  ASSERT_EQ(status_of(call("GET", "/reloaded/x", std::nullopt, kXhr)), 200) << "the new config serves";

  // The same session on the new config, while the old config's grant is still held.
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  ASSERT_EQ(s->grant("refresh_token").total(), 0) << "the grant finished before the reload; " << stats_text();
  auto on_new = call("GET", "/app/new-config", cookie, kXhr);
  ASSERT_EQ(on_old.wait_for(15s), std::future_status::ready);
  auto old_r = on_old.get();
  EXPECT_EQ(status_of(old_r), 200) << describe(old_r);
  EXPECT_EQ(status_of(on_new), 200) << describe(on_new);

  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->token_endpoint_requests, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").error, 0) << stats_text();
  EXPECT_EQ(s->refresh_token_reuse, 0) << stats_text();
  EXPECT_EQ(s->grants_revoked, 0) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 1);
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "invalid_grant"}}), 0);

  // Both requests went upstream with the one new access token; the session lives on.
  std::set<std::string> tokens;
  for (const auto& r : up_->requests())
    if (r.target == "/app/old-config" || r.target == "/app/new-config") tokens.insert(bearer_of(r));
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_NE(*tokens.begin(), login_token);
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 0)) << op_->last_error();
  EXPECT_TRUE(session_info(*cookie)) << "the session ended";
}

// The attack (a costly misconfiguration an IdP can cause alone): refresh_before_expiry
// (30 s here) not shorter than the access tokens' lifetime (10 s) made every token due
// from the moment it arrived, so every request ran a refresh grant. The margin is clamped
// to half the lifetime (5 s), and that is logged once.
TEST_F(Session, AccessTokensShorterThanTheRefreshMarginDoNotMakeEveryRequestARefreshGrant) {
  ASSERT_NO_FATAL_FAILURE(start(short_tokens(10, "30s")));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::int64_t exp = access_expires_at(*cookie);
  ASSERT_GT(exp, 0);
  ASSERT_TRUE(op_->reset_stats()) << op_->last_error();

  for (int i = 0; i < 5; ++i) {
    auto r = call("GET", "/app/fresh-" + std::to_string(i), cookie, kXhr);
    ASSERT_EQ(status_of(r), 200) << describe(r);
  }
  ASSERT_LT(unix_now(), static_cast<double>(exp - 5)) << "too slow: the token became due during the requests";
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").total(), 0) << "a fresh token was refreshed; " << stats_text();

  // From half its lifetime on the token is due: one grant, and the new token is fresh again.
  sleep_until_unix(static_cast<double>(exp - 5) + 0.2);
  for (int i = 0; i < 3; ++i) {
    auto r = call("GET", "/app/due-" + std::to_string(i), cookie, kXhr);
    ASSERT_EQ(status_of(r), 200) << describe(r);
  }
  s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").total(), 1) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 1);

  // Logged once (at the login; not again at the refresh).
  const std::string needle = "they are refreshed 5s before expiry instead";
  std::string logs;
  ASSERT_TRUE(support::eventually([&] {
    logs = gw_->stdout_text() + gw_->stderr_text();
    return logs.find(needle) != std::string::npos;
  }, 3s)) << "the clamp is not logged";
  EXPECT_EQ(logs.find(needle), logs.rfind(needle)) << "logged more than once";
}

// The attack: `revoke sub` refused the subject's tokens, but a browser session of that
// subject went on: its next due refresh minted a fresh access token (iat after the
// cut-off) that passed the deny-list. Now the session's login time is compared with the
// subject's revocation time at its next request: the session ends (302 to the login for
// a navigation, 401 otherwise) and no refresh grant happens.
TEST_F(Session, RevokingTheSubEndsItsBrowserSessionsAndNoRefreshMintsAFreshToken) {
  SessionSetup setup = short_tokens(6, "1s");
  setup.revocation = true;
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession nav_browser, xhr_browser;
  login(nav_browser);
  login(xhr_browser);
  const auto nav_cookie = session_cookie(nav_browser);
  const auto xhr_cookie = session_cookie(xhr_browser);
  ASSERT_TRUE(nav_cookie && xhr_cookie);
  const std::int64_t exp = std::min(access_expires_at(*nav_cookie), access_expires_at(*xhr_cookie));
  ASSERT_GT(exp, 0);

  auto r = revoke(R"({"sub":"alice"})");
  ASSERT_EQ(status_of(r), 201) << describe(r);
  const std::int64_t revoked_at = now_s();
  ASSERT_TRUE(op_->reset_stats()) << op_->last_error();
  // Due for refresh, in a later second than the revocation: a refreshed token would pass.
  sleep_until_unix(std::max(static_cast<double>(exp - 1) + 0.1, static_cast<double>(revoked_at + 1) + 0.1));
  ASSERT_LT(unix_now(), static_cast<double>(exp)) << "too slow: the tokens expired";

  auto nav = call("GET", "/app/after-revoke?q=1", nav_cookie, kNavigation);
  ASSERT_EQ(status_of(nav), 302) << describe(nav);
  EXPECT_EQ(nav->header("Location").value_or("").rfind("/oauth2/login?", 0), 0u) << describe(nav);
  auto xhr = call("GET", "/app/after-revoke-xhr", xhr_cookie, kXhr);
  EXPECT_TRUE(IsLocalError(xhr, 401));
  EXPECT_FALSE(up_->saw_target_containing("/app/after-revoke")) << "nothing reaches the upstream";
  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").total(), 0) << "a revoked subject's session refreshed; " << stats_text();
  EXPECT_EQ(s->token_endpoint_requests, 0) << stats_text();
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 0);
  EXPECT_GE(metric("authgate_revoked_tokens_total", {{"kind", "sub"}}), 2);

  // The sessions are gone (also for /oauth2/session), ...
  EXPECT_EQ(status_of(call("GET", "/oauth2/session", nav_cookie, kXhr)), 401);
  EXPECT_EQ(status_of(call("GET", "/oauth2/session", xhr_cookie, kXhr)), 401);
  // ... and a login after the revocation's second works.
  BrowserSession again;
  login(again);
}

// Code exchange: each fault ends the login with an error page (no redirect loop, no
// session cookie), counted in authgate_logins_total{result}; a later login works.
TEST_F(Session, TokenEndpointFaultsDuringLoginGiveAnErrorPageAndNoSession) {
  SessionSetup setup;
  setup.timeouts = {{"idp_request", "1s"}};
  ASSERT_NO_FATAL_FAILURE(start(setup));
  struct Expect {
    TokenEndpointMode mode;
    const char* name;
    int status;
    const char* login_result;
  };
  const Expect cases[] = {
      {TokenEndpointMode::server_error, "500", 400, "rejected"},
      {TokenEndpointMode::garbage, "garbage JSON", 502, "bad_response"},
      {TokenEndpointMode::huge, "2 MiB body", 503, "idp_unavailable"},
      {TokenEndpointMode::hang, "no answer", 503, "idp_unavailable"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(op_->set_token_endpoint_mode(c.mode)) << op_->last_error();
    const double before = metric("authgate_logins_total", {{"result", c.login_result}});
    BrowserSession b;
    const auto t0 = Clock::now();
    Navigation nav = b.follow_redirects(gw_url_ + "/app/page");
    EXPECT_LT(seconds_since(t0), 5.0);
    EXPECT_EQ(nav.status(), c.status) << nav.describe();
    EXPECT_EQ(nav.url.rfind(gw_url_ + "/oauth2/callback?", 0), 0u) << nav.describe();
    EXPECT_FALSE(session_cookie(b)) << nav.describe();
    EXPECT_EQ(metric("authgate_logins_total", {{"result", c.login_result}}), before + 1) << gw_->metrics_text();
  }
  EXPECT_FALSE(up_->saw_target_containing("/app/page"));
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "success"}}), 0);
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok)) << op_->last_error();
  BrowserSession b;
  login(b);
  EXPECT_EQ(metric("authgate_logins_total", {{"result", "success"}}), 1);
}

}  // namespace
}  // namespace it

namespace it {
namespace {

// ---- observability: the dashboard and the alert rules against a live scrape ----------------

// Bearer (JWT and opaque), session (login, refresh, logout) and denied traffic through
// one gateway, then scripts/check_observability.py --strict: every metric name in
// config/grafana/dashboards/*.json and config/prometheus/alerts.yml must be a family
// of this scrape (a name authgate does not export, or exports under another name, fails).
TEST_F(Session, EveryMetricOfTheDashboardAndTheAlertRulesIsInALiveScrapeAfterMixedTraffic) {
  SessionSetup setup = short_tokens(3, "1s");
  setup.introspection = true;
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  const std::string jwt = op_->client_credentials_token("https://orders.test", "orders:read");
  const std::string opaque = op_->client_credentials_token("", "orders:read");
  ASSERT_FALSE(jwt.empty() || opaque.empty()) << op_->last_error();
  for (const std::string& t : {jwt, jwt, opaque})
    EXPECT_EQ(status_of(call("GET", "/api/orders", std::nullopt, kXhr, {{"Authorization", "Bearer " + t}})), 200);
  EXPECT_TRUE(IsLocalError(call("GET", "/api/orders", std::nullopt, kXhr), 401));
  sleep_until_unix(static_cast<double>(access_expires_at(*cookie)) + 0.2);
  EXPECT_EQ(status_of(call("GET", "/app/x", cookie, kXhr)), 200);
  EXPECT_EQ(metric("authgate_refresh_grants_total", {{"result", "success"}}), 1);
  EXPECT_EQ(status_of(b.get(gw_url_ + "/oauth2/logout", {{"Sec-Fetch-Site", "same-origin"}})), 302);

  const std::string scrape = gw_->dir().file("metrics.txt");
  std::ofstream(scrape) << gw_->metrics_text();
  const std::string root = support::source_dir();
  const std::string out_file = gw_->dir().file("check.log");
  const std::string cmd = "python3 " + root + "/scripts/check_observability.py --strict --repo " + root +
                          " --metrics " + scrape + " > " + out_file + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = support::read_text(out_file);
  EXPECT_EQ(rc, 0) << out;
}

// ---- issue 13: cross-site WebSocket hijacking, logout CSRF, login floods ---------------------

// A WebSocket handshake to /ws/chat with this session cookie and these extra headers.
std::string ws_upgrade(const std::string& host, const std::optional<std::string>& cookie,
                       const std::vector<Header>& extra) {
  std::string raw = "GET /ws/chat HTTP/1.1\r\nHost: " + host +
                    "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (cookie) raw += "Cookie: authgate=" + *cookie + "\r\n";
  for (const auto& h : extra) raw += h.name + ": " + h.value + "\r\n";
  return raw + "\r\n";
}

// Opens a WebSocket tunnel on `c` from the application's own origin with this
// session cookie, and checks that it carries a message both ways.
void open_same_origin_tunnel(HttpClient& c, const std::string& host, const std::string& origin,
                             const std::string& cookie) {
  auto r = c.request(ws_upgrade(host, cookie, {{"Origin", origin}}));
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 101) << describe(r);
  ASSERT_TRUE(c.send("ping"));
  EXPECT_EQ(c.read_n(4, 5s), "ping");
}

TEST_F(Session, CrossSiteWebSocketHijackingIsRefusedWithoutAnAllowedOrigin) {
  SessionSetup setup;
  setup.websocket = true;
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  // A page on another site opens a WebSocket: the browser sends the cookie and its own Origin.
  for (const std::vector<Header>& extra :
       {std::vector<Header>{{"Origin", "http://evil.example"}}, std::vector<Header>{},
        std::vector<Header>{{"Origin", "null"}},
        std::vector<Header>{{"Origin", "http://evil.example"}, {"Referer", gw_url_ + "/app/"}}}) {
    HttpClient c(gw_->port());
    auto r = c.request(ws_upgrade(host(), cookie, extra));
    ASSERT_TRUE(r) << c.error();
    EXPECT_TRUE(IsLocalError(r, 403, "csrf_rejected")) << describe(r);
  }
  EXPECT_EQ(ws_up_->request_count(), 0) << "a refused handshake reached the upstream";
  EXPECT_EQ(metric("authgate_auth_decisions_total", {{"route", "ws"}, {"reason", "csrf"}}), 4);

  // The same handshake from the application's own pages opens the tunnel.
  HttpClient c(gw_->port());
  auto r = c.request(ws_upgrade(host(), cookie, {{"Origin", gw_url_}}));
  ASSERT_TRUE(r) << c.error();
  ASSERT_EQ(r->status, 101) << describe(r);
  ASSERT_TRUE(c.send("hello"));
  EXPECT_EQ(c.read_n(5, 5s), "hello");
  auto seen = ws_up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->headers.get("Authorization").value_or("").starts_with("Bearer ")) << seen->raw;
}

TEST_F(Session, AnAuthenticatedWebSocketTunnelIsClosedAtItsMaximumLifetime) {
  SessionSetup setup;
  setup.websocket = true;
  setup.timeouts = {{"websocket_max_lifetime", "1500ms"}};
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  HttpClient c(gw_->port());
  const auto opened = std::chrono::steady_clock::now();  // at most the 101's time
  ASSERT_NO_FATAL_FAILURE(open_same_origin_tunnel(c, host(), gw_url_, *cookie));
  std::string rest;
  EXPECT_TRUE(c.wait_closed(10s, &rest)) << "the tunnel outlived websocket_max_lifetime";
  EXPECT_GE(std::chrono::steady_clock::now() - opened, 1400ms);
  EXPECT_EQ(gw_->wait_for_metric("authgate_websocket_closed_total", {{"reason", "max_lifetime"}}, 1), 1);
  EXPECT_TRUE(ws_up_->wait_for_peer_closes(1, 5s));
}

TEST_F(Session, LogoutClosesTheSessionsOpenWebSocketTunnel) {
  SessionSetup setup;
  setup.websocket = true;
  setup.sessions_extra = "  websocket_check_interval: 200ms\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  HttpClient c(gw_->port());
  ASSERT_NO_FATAL_FAILURE(open_same_origin_tunnel(c, host(), gw_url_, *cookie));
  // Still open across several checks while the session lives.
  EXPECT_FALSE(c.wait_closed(700ms)) << "the tunnel closed while its session was alive";

  auto out = call("POST", "/oauth2/logout", cookie, kNavigation, {{"Origin", gw_url_}});
  ASSERT_EQ(status_of(out), 302) << describe(out);
  EXPECT_TRUE(c.wait_closed(10s)) << "the tunnel outlived its session's logout";
  EXPECT_EQ(gw_->wait_for_metric("authgate_websocket_closed_total", {{"reason", "session_ended"}}, 1), 1);
}

TEST_F(Session, RevokingTheSubjectClosesItsOpenWebSocketTunnel) {
  SessionSetup setup;
  setup.websocket = true;
  setup.revocation = true;
  setup.sessions_extra = "  websocket_check_interval: 200ms\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  HttpClient c(gw_->port());
  ASSERT_NO_FATAL_FAILURE(open_same_origin_tunnel(c, host(), gw_url_, *cookie));
  auto rv = revoke(R"({"sub":"alice"})");
  ASSERT_EQ(status_of(rv), 201) << describe(rv);
  EXPECT_TRUE(c.wait_closed(10s)) << "the tunnel outlived the revocation of its subject";
  EXPECT_EQ(gw_->wait_for_metric("authgate_websocket_closed_total", {{"reason", "session_ended"}}, 1), 1);
}

TEST_F(Session, CrossSiteTopLevelGetLogoutDoesNotEndTheSession) {
  ASSERT_NO_FATAL_FAILURE(start());
  BrowserSession b;
  login(b);
  const auto cookie = session_cookie(b);
  ASSERT_TRUE(cookie);
  // <a href="https://app/oauth2/logout"> (or <img src=...>) on another site: the browser
  // sends the Lax cookie on a top-level GET, with Sec-Fetch-Site: cross-site (or nothing).
  for (const std::vector<Header>& extra :
       {std::vector<Header>{}, std::vector<Header>{{"Sec-Fetch-Site", "cross-site"}},
        std::vector<Header>{{"Sec-Fetch-Site", "same-site"}}, std::vector<Header>{{"Sec-Fetch-Site", "none"}},
        std::vector<Header>{{"Referer", "http://evil.example/page"}}}) {
    auto r = call("GET", "/oauth2/logout", cookie, kNavigation, extra);
    ASSERT_EQ(status_of(r), 200) << describe(r);
    EXPECT_FALSE(r->header("Location")) << describe(r);
    EXPECT_EQ(r->headers.all("Set-Cookie").size(), 0u) << describe(r);
    auto form = support::parse_first_form(r->body);
    ASSERT_TRUE(form) << r->body;
    EXPECT_EQ(form->method, "post");
    EXPECT_EQ(form->action, "/oauth2/logout");
    EXPECT_EQ(r->body.find("submit()"), std::string::npos) << "the page must not submit itself";
  }
  // A cross-site form POST (or one without Origin and Referer) is refused.
  for (const std::vector<Header>& extra :
       {std::vector<Header>{{"Origin", "http://evil.example"}}, std::vector<Header>{},
        std::vector<Header>{{"Origin", "null"}}, std::vector<Header>{{"Referer", "http://evil.example/x"}}}) {
    auto r = call("POST", "/oauth2/logout", cookie, kNavigation, extra);
    EXPECT_EQ(status_of(r), 403) << describe(r);
  }
  EXPECT_EQ(status_of(call("DELETE", "/oauth2/logout", cookie, kNavigation, {{"Origin", gw_url_}})), 405);
  EXPECT_EQ(metric("authgate_logout_rejections_total"), 4);
  EXPECT_EQ(metric("authgate_logouts_total"), 0);
  EXPECT_EQ(status_of(call("GET", "/app/x", cookie, kXhr)), 200) << "the session was ended cross-site";

  // The application's own sign-out link (Sec-Fetch-Site: same-origin) still ends it at once.
  auto own = call("GET", "/oauth2/logout", cookie, kNavigation, {{"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(status_of(own), 302) << describe(own);
  EXPECT_EQ(metric("authgate_logouts_total"), 1);
  EXPECT_TRUE(IsLocalError(call("GET", "/app/x", cookie, kXhr), 401));
}

TEST_F(Session, LoginFloodFromOneClientGets429AfterTheBurstAndLeavesBoundedPendingLogins) {
  SessionSetup setup;
  setup.sessions_extra = "  login_rate_limit: {per_minute: 1, burst: 5}\n"
                         "  max_pending_logins: 3\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession user;
  login(user);  // takes one token of 127.0.0.1's bucket; its pending login is taken at the callback
  const auto cookie = session_cookie(user);
  ASSERT_TRUE(cookie);

  std::map<int, int> statuses;
  std::string retry_after;
  for (int i = 0; i < 40; ++i) {
    auto r = call("GET", "/oauth2/login?rd=/app/" + std::to_string(i), std::nullopt, kNavigation);
    ++statuses[status_of(r)];
    if (status_of(r) == 429) retry_after = r->header("Retry-After").value_or("");
  }
  // 4 tokens left: 3 pending logins fit, the 4th start finds the bound full; then 429.
  EXPECT_EQ(statuses[302], 3) << "pending bound";
  EXPECT_EQ(statuses[503], 1) << "pending_full";
  EXPECT_EQ(statuses[429], 36) << "rate limited";
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  EXPECT_LE(std::atoi(retry_after.c_str()), 60);
  EXPECT_EQ(metric("authgate_login_rejections_total", {{"reason", "rate_limited"}}), 36);
  EXPECT_EQ(metric("authgate_login_rejections_total", {{"reason", "pending_full"}}), 1);
  EXPECT_EQ(metric("authgate_pending_logins"), 3);
  // The logged-in user is not evicted by the flood.
  EXPECT_EQ(status_of(call("GET", "/app/x", cookie, kXhr)), 200);
}

// The attacker writes a new X-Forwarded-For on every request to get a fresh bucket: from a
// peer that is not a trusted proxy the header is ignored, so the flood is still limited.
// Behind a trusted proxy, each forwarded client has its own bucket.
TEST_F(Session, LoginFloodWithRotatingForwardedForIsLimitedUnlessThePeerIsATrustedProxy) {
  SessionSetup setup;
  setup.sessions_extra = "  login_rate_limit: {per_minute: 1, burst: 3}\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  std::map<int, int> statuses;
  for (int i = 0; i < 10; ++i) {
    auto r = call("GET", "/oauth2/login", std::nullopt, kNavigation,
                  {{"X-Forwarded-For", "203.0.113." + std::to_string(i + 1)}});
    ++statuses[status_of(r)];
  }
  EXPECT_EQ(statuses[302], 3);
  EXPECT_EQ(statuses[429], 7);

  setup.trusted_proxies = {"127.0.0.1/32"};
  ASSERT_NO_FATAL_FAILURE(start(setup));  // a new gateway (and provider) behind a "proxy" on 127.0.0.1
  statuses.clear();
  for (int i = 0; i < 4; ++i)  // one client behind the proxy: its own bucket of 3
    ++statuses[status_of(call("GET", "/oauth2/login", std::nullopt, kNavigation, {{"X-Forwarded-For", "203.0.113.7"}}))];
  EXPECT_EQ(statuses[302], 3);
  EXPECT_EQ(statuses[429], 1);
  // Others behind the same proxy are not held back by it.
  for (const char* other : {"203.0.113.8", "198.51.100.1, 203.0.113.9"})
    EXPECT_EQ(status_of(call("GET", "/oauth2/login", std::nullopt, kNavigation, {{"X-Forwarded-For", other}})), 302)
        << other;
}

TEST_F(Session, LoginFloodBeyondThePendingBoundNeverEvictsALoggedInUser) {
  SessionSetup setup;
  setup.sessions_extra = "  login_rate_limit: {per_minute: 0}\n"  // off: only the pending bound holds
                         "  max_pending_logins: 20\n"
                         "  max_sessions: 1\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  BrowserSession user;
  login(user);
  const auto cookie = session_cookie(user);
  ASSERT_TRUE(cookie);
  int started = 0, full = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = call("GET", "/oauth2/login", std::nullopt, kNavigation);
    if (status_of(r) == 302) ++started;
    if (status_of(r) == 503) {
      ++full;
      EXPECT_TRUE(r->header("Retry-After")) << describe(r);
    }
  }
  EXPECT_EQ(started, 20);
  EXPECT_EQ(full, 180);
  EXPECT_EQ(metric("authgate_pending_logins"), 20);
  EXPECT_EQ(status_of(call("GET", "/app/x", cookie, kXhr)), 200) << "the flood evicted the session";
}

}  // namespace
}  // namespace it
