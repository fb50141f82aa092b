// The status page renderer (admin/status_page.hpp): every section present,
// hostile strings from the config and from IdPs escaped, the states and
// counters shown as the snapshot says, time formatting with a fixed clock.
#include <gtest/gtest.h>

#include <string>

#include "admin/status_page.hpp"
#include "common/html.hpp"

namespace authgate::admin {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;  // 2023-11-14 22:13:20 UTC

bool has(const std::string& html, std::string_view needle) { return html.find(needle) != std::string::npos; }

StatusSnapshot typical() {
  StatusSnapshot s;
  s.version = "1.2.3";
  s.now_unix = kNow;
  s.started_unix = kNow - 3600;
  s.ready = true;
  s.config = {"/etc/authgate/gateway.yaml", 3, "0123456789ab", kNow - 120};
  s.last_reload = {true, true, "", kNow - 120};
  StatusSnapshot::Route orders;
  orders.name = "orders-read";
  orders.host = "api.example.com";
  orders.path_kind = "prefix";
  orders.path = "/orders";
  orders.methods = {"GET", "HEAD"};
  orders.auth = "bearer";
  orders.issuers = {"corp"};
  orders.scopes_all = {"orders:read"};
  orders.scopes_any = {"orders:admin", "orders:ops"};
  orders.step_up_acr = {"urn:example:mfa"};
  orders.step_up_max_auth_age = "600s";
  orders.resource_metadata = "https://api.example.com/.well-known/oauth-protected-resource/orders";
  orders.claims = {{"email_verified", {"true"}}, {"region", {"eu", "ch"}}};
  orders.upstream = "orders";
  orders.dpop = "required";
  orders.dpop_nonce = true;
  orders.client_certificate = "checked: TLS client certificate optional";
  StatusSnapshot::Route pub;
  pub.name = "public";
  pub.path_kind = "exact";
  pub.path = "/health";
  pub.auth = "none";
  pub.upstream = "orders";
  s.routes = {orders, pub};
  StatusSnapshot::Issuer corp;
  corp.name = "corp";
  corp.issuer = "https://idp.example.com";
  corp.key_source = "discovery https://idp.example.com/.well-known/openid-configuration";
  corp.validation = "jwt";
  corp.remote = true;
  corp.usable = true;
  corp.kids = {"key-2026-11", ""};
  corp.last_success_unix = kNow - 90;
  corp.next_refresh_unix = kNow + 210;
  s.issuers = {corp};
  StatusSnapshot::Upstream up;
  up.name = "orders";
  up.url = "http://127.0.0.1:9000";
  up.max_connections = 256;
  up.max_idle = 64;
  up.idle = 5;
  up.busy = 2;
  up.errors = {{"connect_refused", 4}};
  s.upstreams = {up};
  s.counters.requests = 1234;
  s.counters.requests_by_class = {{"2xx", 1200}, {"4xx", 34}};
  s.counters.allowed = 1100;
  s.counters.denials = {{"expired", 7}, {"insufficient_scope", 3}};
  s.counters.token_cache_hits = 3;
  s.counters.token_cache_misses = 1;
  s.counters.refresh_grants = {{"success", 12}, {"invalid_grant", 2}};
  s.counters.logins = {{"success", 9}};
  s.counters.sessions_active = 17;
  s.counters.connections_active = 4;
  s.counters.reloads_ok = 2;
  return s;
}

TEST(StatusPage, SelfContainedHtmlWithEverySection) {
  const auto html = render_status_page(typical());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(has(html, "<meta charset=\"utf-8\">"));
  for (auto id : {"id=\"config\"", "id=\"routes\"", "id=\"issuers\"", "id=\"upstreams\"", "id=\"counters\"",
                  "id=\"requests\"", "id=\"denials\"", "id=\"caches\"", "id=\"sessions\""})
    EXPECT_TRUE(has(html, id)) << id;
  // No script, no external asset of any kind.
  for (auto bad : {"<script", "src=", "href=", "@import", "url(", "<link", "<iframe"})
    EXPECT_FALSE(has(html, bad)) << bad;
  EXPECT_TRUE(has(html, "</html>"));
}

TEST(StatusPage, ConfigVersionAndReloadOk) {
  const auto html = render_status_page(typical());
  EXPECT_TRUE(has(html, "<code>/etc/authgate/gateway.yaml</code>"));
  EXPECT_TRUE(has(html, "load #3"));
  EXPECT_TRUE(has(html, "<code>0123456789ab</code>"));
  EXPECT_TRUE(has(html, "2023-11-14 22:11:20 UTC"));  // loaded 2 minutes before kNow
  EXPECT_TRUE(has(html, "2m 0s ago"));
  EXPECT_TRUE(has(html, ">ok</span>"));
  EXPECT_TRUE(has(html, ">ready</span>"));
  EXPECT_TRUE(has(html, "version 1.2.3"));
}

TEST(StatusPage, FailedReloadShowsTheErrorText) {
  auto s = typical();
  s.last_reload = {true, false, "gateway.yaml:3:3: limits.max_body_byte: unknown key\n", kNow - 5};
  const auto html = render_status_page(s);
  EXPECT_TRUE(has(html, "failed: previous configuration kept"));
  EXPECT_TRUE(has(html, "gateway.yaml:3:3: limits.max_body_byte: unknown key"));
  EXPECT_TRUE(has(html, "5s ago"));
}

TEST(StatusPage, NoReloadYet) {
  auto s = typical();
  s.last_reload = {};
  EXPECT_TRUE(has(render_status_page(s), "no reload since start"));
}

TEST(StatusPage, ReadinessStates) {
  auto s = typical();
  s.ready = false;
  s.waiting_for = {"issuer:corp"};
  auto html = render_status_page(s);
  EXPECT_TRUE(has(html, ">starting</span>"));
  EXPECT_TRUE(has(html, "waiting for <code>issuer:corp</code>"));
  s.draining = true;
  EXPECT_TRUE(has(render_status_page(s), ">draining</span>"));
}

TEST(StatusPage, RoutesWithMatchAuthPolicyAndUpstream) {
  const auto html = render_status_page(typical());
  EXPECT_TRUE(has(html, "Routes (2)"));
  EXPECT_TRUE(has(html, "<strong>orders-read</strong>"));
  EXPECT_TRUE(has(html, "<code>api.example.com</code>"));
  EXPECT_TRUE(has(html, "prefix <code>/orders</code>"));
  EXPECT_TRUE(has(html, "<code>GET</code>, <code>HEAD</code>"));
  EXPECT_TRUE(has(html, ">bearer</span>"));
  EXPECT_TRUE(has(html, "issuers: <code>corp</code>"));
  EXPECT_TRUE(has(html, "scopes, all of: <code>orders:read</code>"));
  EXPECT_TRUE(has(html, "scopes, one of: <code>orders:admin</code>, <code>orders:ops</code>"));
  EXPECT_TRUE(has(html, "claim <code>email_verified</code> = <code>true</code>"));
  EXPECT_TRUE(has(html, "claim <code>region</code> one of <code>eu</code>, <code>ch</code>"));
  EXPECT_TRUE(has(html, "step-up: acr one of <code>urn:example:mfa</code>"));
  EXPECT_TRUE(has(html, "step-up: authenticated within <code>600s</code>"));
  EXPECT_TRUE(has(html, "resource metadata: <code>https://api.example.com/.well-known/oauth-protected-resource/orders</code>"));
  // Sender constraints, beside the policy: DPoP mode and nonce, and where a client certificate comes from.
  EXPECT_TRUE(has(html, "<td class=\"sender\">DPoP: <span class=\"badge ok\">required</span>, nonce on"
                        "<br>mTLS-bound tokens: checked: TLS client certificate optional</td>"));
  EXPECT_TRUE(has(html, "<th>policy</th><th>sender constraints</th><th>upstream</th>"));
  // The public route has none.
  EXPECT_TRUE(has(html, "<td class=\"sender\"><span class=\"muted\">none</span></td><td><code>orders</code>"));
  // The public route: any host, any method, no policy.
  EXPECT_TRUE(has(html, "<strong>public</strong></td><td><span class=\"muted\">any</span>"));
  EXPECT_TRUE(has(html, "exact <code>/health</code>"));
  EXPECT_TRUE(has(html, ">public</span>"));
}

TEST(StatusPage, IssuerKeysFetchTimesAndState) {
  const auto html = render_status_page(typical());
  EXPECT_TRUE(has(html, "<strong>corp</strong>"));
  EXPECT_TRUE(has(html, "<code>key-2026-11</code>, <code>(no kid)</code>"));
  EXPECT_TRUE(has(html, "1m 30s ago"));  // last fetch
  EXPECT_TRUE(has(html, "in 3m 30s"));   // next refresh
  EXPECT_TRUE(has(html, ">fresh</span>"));
}

TEST(StatusPage, IssuerServingStaleKeysWhileRefreshFails) {
  auto s = typical();
  s.issuers[0].consecutive_failures = 3;
  s.issuers[0].fetch_errors = 5;
  s.issuers[0].last_error = "timeout: IdP request timed out";
  s.issuers[0].last_error_unix = kNow - 10;
  const auto html = render_status_page(s);
  EXPECT_TRUE(has(html, ">stale: refresh failing</span>"));
  EXPECT_TRUE(has(html, "5 <span class=\"muted\">(3 in a row)</span>"));
  EXPECT_TRUE(has(html, "<code>timeout: IdP request timed out</code>"));
  EXPECT_TRUE(has(html, "10s ago"));
}

TEST(StatusPage, IssuerWithoutUsableKeys) {
  auto s = typical();
  s.issuers[0].usable = false;
  s.issuers[0].kids.clear();
  s.issuers[0].last_success_unix = 0;
  const auto html = render_status_page(s);
  EXPECT_TRUE(has(html, ">no usable keys</span>"));
  EXPECT_TRUE(has(html, ">no keys</span>"));
  EXPECT_TRUE(has(html, ">never</span>"));
}

TEST(StatusPage, StaticIssuer) {
  auto s = typical();
  s.issuers[0].remote = false;
  s.issuers[0].key_source = "jwks_file /etc/authgate/corp.json";
  const auto html = render_status_page(s);
  EXPECT_TRUE(has(html, ">static</span>"));
  EXPECT_TRUE(has(html, "jwks_file /etc/authgate/corp.json"));
}

TEST(StatusPage, UpstreamPools) {
  const auto html = render_status_page(typical());
  EXPECT_TRUE(has(html, "<code>http://127.0.0.1:9000</code></td><td>5</td><td>2</td>"));
  EXPECT_TRUE(has(html, "256 connections, 64 idle"));
  EXPECT_TRUE(has(html, "<code>connect_refused</code> 4"));
}

TEST(StatusPage, Counters) {
  const auto html = render_status_page(typical());
  EXPECT_TRUE(has(html, "<div class=\"big\">1234</div>"));
  EXPECT_TRUE(has(html, "<code>2xx</code></td><td>1200</td>"));
  EXPECT_TRUE(has(html, "allowed: 1100"));
  EXPECT_TRUE(has(html, "<code>expired</code></td><td>7</td>"));
  EXPECT_TRUE(has(html, "<code>insufficient_scope</code></td><td>3</td>"));
  EXPECT_TRUE(has(html, "75.0 % (3 of 4 lookups)"));
  EXPECT_TRUE(has(html, "n/a (no lookups yet)"));  // introspection cache unused
  EXPECT_TRUE(has(html, "<code>invalid_grant</code></td><td>2</td>"));
  EXPECT_TRUE(has(html, "active sessions: <span class=\"big\">17</span>"));
  EXPECT_TRUE(has(html, "reloads: 2 ok, 0 failed"));
}

TEST(StatusPage, EmptyCountersSayNoneYet) {
  StatusSnapshot s;
  s.now_unix = kNow;
  const auto html = render_status_page(s);
  EXPECT_TRUE(has(html, "no denials"));
  EXPECT_TRUE(has(html, "No issuers configured."));
  EXPECT_TRUE(has(html, "Routes (0)"));
}

// Every string that reaches the page from the config file or an IdP, hostile.
TEST(StatusPage, HostileStringsAreEscapedEverywhere) {
  const std::string evil = "<script>alert(1)</script>\"'&";
  const std::string escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;";
  StatusSnapshot s = typical();
  s.version = evil;
  s.config.path = evil;
  s.config.sha256 = evil;
  s.last_reload = {true, false, evil, kNow};
  s.waiting_for = {evil};
  auto& r = s.routes[0];
  r.name = r.host = r.path = r.path_kind = r.auth = r.upstream = evil;
  r.methods = r.issuers = r.scopes_all = r.scopes_any = r.step_up_acr = {evil};
  r.step_up_max_auth_age = r.resource_metadata = evil;
  r.claims = {{evil, {evil, evil}}};
  auto& i = s.issuers[0];
  i.name = i.issuer = i.key_source = i.last_error = i.introspection_endpoint = evil;
  i.kids = {evil};
  i.validation = "introspection";
  auto& u = s.upstreams[0];
  u.name = u.url = evil;
  u.errors = {{evil, 1}};
  s.counters.denials = {{evil, 1}};
  s.counters.requests_by_class = {{evil, 1}};
  s.counters.refresh_grants = {{evil, 1}};
  s.counters.logins = {{evil, 1}};
  const auto html = render_status_page(s);
  EXPECT_FALSE(has(html, "<script")) << "raw markup from a snapshot string";
  EXPECT_FALSE(has(html, "alert(1)</")) << html;
  // Count the escaped copies: one per hostile field above.
  std::size_t copies = 0;
  for (auto pos = html.find(escaped); pos != std::string::npos; pos = html.find(escaped, pos + 1)) ++copies;
  EXPECT_GE(copies, 30u);
  // Quotes never appear raw inside text, so no attribute can be broken out of.
  const auto body = html.substr(html.find("<main>"));
  EXPECT_FALSE(has(body, "\"'&<")) << "unescaped run of hostile characters";
}

// common/html.hpp: the escaping of every page authgate renders (status page, session pages).
TEST(HtmlEscape, NamedVectors) {
  const auto html_escape = [](std::string_view t) { return common::html_escaped(t); };
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("plain text / path?x=1"), "plain text / path?x=1");
  EXPECT_EQ(html_escape("a&b"), "a&amp;b");
  EXPECT_EQ(html_escape("<b>"), "&lt;b&gt;");
  EXPECT_EQ(html_escape("\"quoted\""), "&quot;quoted&quot;");
  EXPECT_EQ(html_escape("it's"), "it&#39;s");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;") << "already-escaped text is escaped again, not trusted";
  EXPECT_EQ(html_escape("ümlaut €"), "ümlaut €") << "UTF-8 passes through";
}

TEST(StatusPageTime, Formats) {
  EXPECT_EQ(format_unix_time(0), "never");
  EXPECT_EQ(format_unix_time(kNow), "2023-11-14 22:13:20 UTC");
  EXPECT_EQ(format_relative(kNow, kNow), "now");
  EXPECT_EQ(format_relative(kNow - 59, kNow), "59s ago");
  EXPECT_EQ(format_relative(kNow - 61, kNow), "1m 1s ago");
  EXPECT_EQ(format_relative(kNow + 3 * 3600 + 120, kNow), "in 3h 2m");
  EXPECT_EQ(format_relative(kNow - 2 * 86400 - 3600, kNow), "2d 1h ago");
}

}  // namespace
}  // namespace authgate::admin
