// Fleet mode end to end (issue 5): two authgate instances A and B on their own ports
// share one real redis-server (support/redis_server.hpp) and one real oidc-provider
// with rotating refresh tokens. Sessions live in Redis (sessions.store: redis), the
// refresh lease makes one grant per session across both, and the deny-list
// (revocation.store: redis) is shared. Plus the deny-list on a single instance
// (revocation.store: memory) through the admin API.
//
// Both instances have public_url = A's URL: they stand for one origin behind a load
// balancer. A request "on B" is a request with the same cookie sent to B's port.
#include <signal.h>

#include <boost/json/serialize.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include "auth/test_signer.hpp"
#include "common.hpp"
#include "support/browser.hpp"
#include "support/oidc_provider.hpp"
#include "support/redis_server.hpp"

namespace it {
namespace {

using support::BrowserSession;
using support::OidcClient;
using support::OidcProvider;
using support::RedisServer;
using support::TokenEndpointMode;
using support::json_string;
using support::jwt_part;
namespace ts = authgate::auth::test;

constexpr const char* kCookieSecret = "fleet-test-cookie-secret-0123456789-abcdefghijkl";
constexpr const char* kAdminToken = "fleet-admin-token-0123456789";
constexpr const char* kXhr = "application/json";

struct FleetSetup {
  int at_ttl_s = 600;
  std::string refresh_before_expiry = "1s";
  std::string lock_lease = "10s";
  std::string lock_wait = "15s";
  int instances = 2;
  support::RedisServerOptions redis;
  std::string redis_extra;    // more lines of the redis: block, e.g. "  tls: {...}\n"
  std::string sessions_extra;  // more lines of the sessions: block
};

class Fleet : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    if (auto why = RedisServer::skip_reason()) GTEST_SKIP() << *why;
  }

  void start(const FleetSetup& setup = {}) {
    redis_ = std::make_unique<RedisServer>(setup.redis);
    ASSERT_TRUE(redis_->start());
    op_ = std::make_unique<OidcProvider>();
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    // The gateways' ports are reserved first (A's is the public_url and the provider's
    // redirect_uri), then the provider starts (its issuer URL names the port it picked),
    // then the gateways' config is written with both.
    instances_ = setup.instances;
    for (int i = 0; i < instances_; ++i) {
      gw_[i] = std::make_unique<GatewayProcess>(GatewayConfig{});  // the config is written below
      gw_[i]->reserve_port();
    }
    public_url_ = url(0);
    op_->options().redirect_uris = {public_url_ + "/oauth2/callback"};
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
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: op\n"
                       "    issuer: " + op_->issuer() + "\n"
                       "    audiences: [https://orders.test]\n"
                       "    algorithms: [RS256]\n";
    cfg.timeouts.push_back({"retry_after", "7s"});  // not the default: every 503 must say 7
    cfg.env.push_back({"OP_SECRET", op_->client_secret(OidcClient::gateway)});
    cfg.env.push_back({"COOKIE_SECRET", kCookieSecret});
    cfg.env.push_back({"ADMIN_TOKEN", kAdminToken});
    if (!setup.redis.password.empty()) cfg.env.push_back({"REDIS_PASSWORD", setup.redis.password});
    cfg.extra_yaml = "sessions:\n"
                     "  client:\n"
                     "    issuer: op\n"
                     "    client_id: " + op_->client_id(OidcClient::gateway) + "\n"
                     "    client_secret_env: OP_SECRET\n"
                     "    scopes: [openid, profile, email, offline_access, \"orders:read\"]\n"
                     "    resource: https://orders.test\n"
                     "  public_url: " + public_url_ + "\n"
                     "  cookie: {secure: false}\n"
                     "  cookie_secret_env: COOKIE_SECRET\n"
                     "  refresh_before_expiry: " + setup.refresh_before_expiry + "\n"
                     "  store: redis\n"
                     "  refresh_lock_lease: " + setup.lock_lease + "\n"
                     "  refresh_lock_wait: " + setup.lock_wait + "\n" + setup.sessions_extra +
                     "redis:\n"
                     "  address: " + (setup.redis.unix_socket ? "unix:" + redis_->unix_socket_path() : redis_->address()) + "\n"
                     "  key_prefix: \"fleet:\"\n"
                     "  command_timeout: 500ms\n"
                     "  reconnect_min: 50ms\n"
                     "  reconnect_max: 300ms\n" + setup.redis_extra +
                     "revocation:\n"
                     "  store: redis\n"
                     "  sync_interval: 300ms\n"
                     "  admin_token_env: ADMIN_TOKEN\n";
    for (int i = 0; i < instances_; ++i) gw_[i]->write_config(cfg);
    for (int i = 0; i < instances_; ++i) ASSERT_TRUE(gw_[i]->start());
  }

  std::string url(int i) const { return "http://127.0.0.1:" + std::to_string(gw_[i]->port()); }
  std::string host(int i) const { return "127.0.0.1:" + std::to_string(gw_[i]->port()); }

  // A headless login through A; answers the session cookie's value.
  std::string login() {
    BrowserSession b;
    auto nav = b.follow_redirects(url(0) + "/app/page");
    EXPECT_EQ(nav.status(), 200) << nav.describe();
    auto cookie = b.jar().value(host(0), "authgate");
    EXPECT_TRUE(cookie) << nav.describe();
    return cookie.value_or("");
  }

  std::optional<Response> call(int i, const std::string& target, const std::string& cookie,
                               std::vector<Header> extra = {}) {
    std::vector<Header> h{{"Accept", kXhr}, {"Cookie", "authgate=" + cookie}};
    for (auto& x : extra) h.push_back(std::move(x));
    return support::http_request(gw_[i]->port(), support::make_request("GET", target, h, "", host(i)), 20s);
  }

  std::optional<Response> bearer(int i, const std::string& target, const std::string& token) {
    return support::http_request(gw_[i]->port(),
                                 support::make_request("GET", target, {{"Authorization", "Bearer " + token}}), 10s);
  }

  std::int64_t access_expires_at(int i, const std::string& cookie) {
    auto r = call(i, "/oauth2/session", cookie);
    if (status_of(r) != 200) return -1;
    auto info = support::parse_json_object(r->body);
    return info && info->contains("access_token_expires_at") ? info->at("access_token_expires_at").to_number<std::int64_t>()
                                                           : -1;
  }

  // A gateway (no sessions) whose redis: block (`redis_lines` after the address) cannot
  // complete the connection handshake with this server: /readyz stays 503 naming Redis,
  // authgate_redis_up 0, and the log says why (`expected_log`). Answers the log.
  std::string expect_never_ready(const support::RedisServerOptions& server, const std::string& redis_lines,
                                 std::vector<std::pair<std::string, std::string>> env,
                                 const std::string& expected_log) {
    redis_ = std::make_unique<RedisServer>(server);
    EXPECT_TRUE(redis_->start());
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"app", "app", "/app"});
    cfg.env = std::move(env);
    cfg.extra_yaml = "redis:\n  address: " + redis_->address() + "\n" + redis_lines;
    cfg.wait_for_ready = false;
    GatewayProcess gw(cfg);
    EXPECT_TRUE(gw.start());
    std::optional<Response> ready;
    for (int i = 0; i < 20; ++i) {
      ready = gw.admin_get("/readyz");
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(status_of(ready), 503);
    if (ready) EXPECT_NE(ready->body.find("redis:"), std::string::npos) << ready->body;
    EXPECT_EQ(metric_or_zero(gw, "authgate_redis_up"), 0);
    const std::string log = gw.stdout_text() + gw.stderr_text();
    EXPECT_NE(log.find(expected_log), std::string::npos) << log;
    return log;
  }

  // Requests the provider's token endpoint has received (-1 when its stats do not answer).
  int token_requests() {
    auto s = op_->stats();
    return s ? s->raw.at("token_endpoint").at("requests").to_number<int>() : -1;
  }
  // Waits (at most 3 s) until a token request beyond the first `before` has reached the provider.
  bool token_request_arrived(int before) {
    for (int i = 0; i < 300; ++i) {
      if (token_requests() > before) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  int refresh_successes() {
    auto s = op_->stats();
    return s ? s->grant("refresh_token").success : -1;
  }
  std::string stats_text() {
    auto s = op_->stats();
    return s ? boost::json::serialize(s->raw) : "stats: " + op_->last_error();
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<OidcProvider> op_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_[2];
  int instances_ = 2;
  std::string public_url_;
};

// ---- sessions are shared --------------------------------------------------------------

// Login floods (issue 13): every login start writes a pending-login key into Redis; the
// instance bounds them (sessions.max_pending_logins) and rate-limits the client, and the
// sessions already in Redis stay.
TEST_F(Fleet, LoginFloodLeavesAtMostTheBoundOfPendingLoginKeysInRedisAndKeepsSessions) {
  FleetSetup setup;
  setup.sessions_extra = "  login_rate_limit: {per_minute: 1, burst: 30}\n"
                         "  max_pending_logins: 10\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  const std::string cookie = login();  // one token of 127.0.0.1's bucket on A
  ASSERT_FALSE(cookie.empty());
  std::map<int, int> statuses;
  for (int i = 0; i < 60; ++i) {
    auto r = support::http_request(gw_[0]->port(),
                                   support::make_request("GET", "/oauth2/login?rd=/app/" + std::to_string(i),
                                                         {{"Accept", "text/html"}}, "", host(0)),
                                   10s);
    ++statuses[status_of(r)];
  }
  EXPECT_EQ(statuses[302], 10);
  EXPECT_EQ(statuses[503], 19);  // the rest of the burst: pending_full
  EXPECT_EQ(statuses[429], 31);
  auto keys = redis_->command({"KEYS", "fleet:login:*"});
  ASSERT_TRUE(keys && keys->is_array());
  EXPECT_EQ(keys->elements.size(), 10u) << "pending-login keys beyond max_pending_logins";
  EXPECT_EQ(metric_or_zero(*gw_[0], "authgate_login_rejections_total", {{"reason", "pending_full"}}), 19);
  EXPECT_EQ(metric_or_zero(*gw_[0], "authgate_login_rejections_total", {{"reason", "rate_limited"}}), 31);
  EXPECT_EQ(status_of(call(0, "/app/page", cookie)), 200);
  EXPECT_EQ(status_of(call(1, "/app/page", cookie)), 200);
}

TEST_F(Fleet, ACookieFromALoginOnAWorksOnBAndSurvivesARestartOfA) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::string token = bearer_of(*up_->last_request());
  ASSERT_FALSE(token.empty());

  auto on_b = call(1, "/app/page", cookie);
  ASSERT_EQ(status_of(on_b), 200) << describe(on_b);
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.get("X-User-Id"), "alice") << seen->raw;
  EXPECT_EQ(bearer_of(*seen), token) << "B forwards the same session's access token";

  // A Redis dump holds no usable token: the records are sealed, the keys are hashes.
  auto keys = redis_->command({"KEYS", "fleet:*"});
  ASSERT_TRUE(keys && keys->is_array());
  std::string dump;
  int session_records = 0;
  for (const auto& k : keys->elements) {
    dump += k.str + "\n";
    auto type = redis_->command({"TYPE", k.str});
    ASSERT_TRUE(type);
    if (type->str == "hash") {
      auto all = redis_->command({"HGETALL", k.str});
      ASSERT_TRUE(all);
      for (const auto& v : all->elements) dump += v.str + "\n";
      ++session_records;
    } else if (type->str == "string") {
      dump += redis_->command({"GET", k.str})->str + "\n";
    }
  }
  EXPECT_EQ(session_records, 1) << dump;
  EXPECT_EQ(dump.find(token), std::string::npos) << "the access token is readable in Redis";
  EXPECT_EQ(dump.find(token.substr(token.size() - 20)), std::string::npos);
  EXPECT_EQ(dump.find("alice"), std::string::npos) << "the record is not sealed";
  EXPECT_EQ(dump.find(cookie.substr(0, cookie.find('.'))), std::string::npos) << "a key names the session id";
  // The TTL follows the idle timeout (default 8h).
  for (const auto& k : keys->elements)
    if (k.str.rfind("fleet:session:", 0) == 0) {
      auto ttl = redis_->command({"TTL", k.str});
      ASSERT_TRUE(ttl);
      EXPECT_GT(ttl->integer, 8 * 3600 - 60) << k.str;
      EXPECT_LE(ttl->integer, 8 * 3600) << k.str;
      // For the README's sizing note: what one session costs in Redis, with its tokens.
      auto bytes = redis_->command({"MEMORY", "USAGE", k.str});
      ASSERT_TRUE(bytes && bytes->is_integer());
      RecordProperty("redis_session_bytes", static_cast<int>(bytes->integer));
      std::cout << "[ fleet    ] one session in Redis: " << bytes->integer << " bytes (access token "
                << token.size() << " bytes)\n";
    }

  // A restart loses nothing: the session is in Redis. A is killed and a new process with
  // the same configuration (on new ports) takes its place.
  ASSERT_TRUE(gw_[0]->signal(SIGKILL));
  ASSERT_TRUE(gw_[0]->wait_exit(5s));
  const GatewayConfig same = gw_[0]->config();
  gw_[0] = std::make_unique<GatewayProcess>(same);
  ASSERT_TRUE(gw_[0]->start());
  auto after = call(0, "/app/page", cookie);
  EXPECT_EQ(status_of(after), 200) << describe(after);
  EXPECT_EQ(refresh_successes(), 0) << stats_text();
}

TEST_F(Fleet, FiftyConcurrentRequestsOverAAndBAfterExpiryMakeExactlyOneRefreshGrant) {
  ASSERT_NO_FATAL_FAILURE(start(FleetSetup{.at_ttl_s = 4, .refresh_before_expiry = "1s"}));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::int64_t exp = access_expires_at(0, cookie);
  ASSERT_GT(exp, 0);
  sleep_until_unix(static_cast<double>(exp) + 0.3);  // expired: every request needs the refresh
  ASSERT_EQ(refresh_successes(), 0) << stats_text();

  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::string> failures(kRequests);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kRequests; ++i)
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto r = call(i % 2, "/app/page", cookie);
      if (status_of(r) == 200) ++ok;
      else failures[i] = describe(r);
    });
  go = true;
  for (auto& t : threads) t.join();
  std::string why;
  for (const auto& f : failures) why += f.empty() ? "" : f + "\n";
  EXPECT_EQ(ok.load(), kRequests) << why;

  auto s = op_->stats();
  ASSERT_TRUE(s) << op_->last_error();
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").total(), 1) << stats_text();
  const double grants = metric_or_zero(*gw_[0], "authgate_refresh_grants_total", {{"result", "success"}}) +
                        metric_or_zero(*gw_[1], "authgate_refresh_grants_total", {{"result", "success"}});
  EXPECT_EQ(grants, 1);
  // Whether the other instance had to wait on the lease depends on timing (under TSan it can
  // arrive after the holder stored the tokens); the wait itself is asserted by
  // ALiveHoldersLeaseIsRenewedSoAGrantSlowerThanTheLeaseIsNeverTakenOver, where the provider
  // holds the grant for 4 s.
  // Every upstream request after the refresh carries the one new token.
  EXPECT_GT(access_expires_at(1, cookie), exp);
}

// ---- Redis goes away and comes back ------------------------------------------------------

TEST_F(Fleet, RedisDownGivesSessionRoutes503WhileBearerRoutesWorkAndEverythingRecovers) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::string token = bearer_of(*up_->last_request());
  EXPECT_EQ(metric_or_zero(*gw_[0], "authgate_redis_up"), 1);

  ASSERT_TRUE(redis_->stop(/*save=*/true));  // a clean stop: the data comes back with it
  for (int i = 0; i < 2; ++i) {
    auto r = call(i, "/app/page", cookie);
    EXPECT_EQ(status_of(r), 503) << describe(r);
    if (r) EXPECT_TRUE(r->header("Retry-After")) << describe(r);
    if (r) EXPECT_EQ(r->header("Retry-After"), "7") << "timeouts.retry_after: " << describe(r);
    auto login_page = call(i, "/oauth2/login?rd=/app/", cookie);
    EXPECT_EQ(status_of(login_page), 503) << describe(login_page);
    if (login_page) EXPECT_EQ(login_page->header("Retry-After"), "7") << "timeouts.retry_after: " << describe(login_page);
    auto b = bearer(i, "/api/orders", token);
    EXPECT_EQ(status_of(b), 200) << "bearer routes do not need Redis: " << describe(b);
  }
  // Ready but degraded: a load balancer keeps the instances (bearer routes still work);
  // 503 would drain the whole fleet at once, since every instance shares this Redis.
  auto ready = gw_[1]->admin_get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_NE(ready->body.find("\"degraded\""), std::string::npos) << ready->body;
  EXPECT_NE(ready->body.find("redis:" + redis_->address()), std::string::npos) << ready->body;
  EXPECT_EQ(metric_or_zero(*gw_[0], "authgate_redis_up"), 0);
  auto page = gw_[0]->admin_get("/");  // the status page's Fleet panel
  ASSERT_TRUE(page);
  const auto fleet = page->body.find("id=\"fleet\"");
  ASSERT_NE(fleet, std::string::npos) << page->body;
  EXPECT_NE(page->body.find(redis_->address(), fleet), std::string::npos);
  EXPECT_NE(page->body.find(">down<", fleet), std::string::npos) << page->body.substr(fleet, 600);
  EXPECT_GE(metric_or_zero(*gw_[0], "authgate_redis_commands_total", {{"result", "unavailable"}}), 1);
  EXPECT_GE(metric_or_zero(*gw_[0], "authgate_auth_decisions_total",
                           {{"route", "app"}, {"result", "deny"}, {"reason", "session_store_unavailable"}}),
            1);
  const std::string log = gw_[0]->stdout_text() + gw_[0]->stderr_text();
  EXPECT_NE(log.find("redis " + redis_->address() + ": connection"), std::string::npos) << log;

  ASSERT_TRUE(redis_->start());
  // Reconnects with backoff (reconnect_max 300ms): the same cookie works on both again.
  for (int i = 0; i < 2; ++i) {
    int status = 0;
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline && (status = status_of(call(i, "/app/page", cookie))) != 200)
      std::this_thread::sleep_for(100ms);
    EXPECT_EQ(status, 200) << "instance " << i << " did not recover";
  }
  EXPECT_EQ(metric_or_zero(*gw_[1], "authgate_redis_up"), 1);
  auto ready_again = gw_[1]->admin_get("/readyz");
  EXPECT_EQ(status_of(ready_again), 200);
  if (ready_again) EXPECT_EQ(ready_again->body, "{\"status\":\"ready\"}\n");
}

// ---- the refresh lease holder dies ------------------------------------------------------

TEST_F(Fleet, WhenTheLeaseHolderDiesMidRefreshTheOtherInstanceCompletesItAfterTheLease) {
  ASSERT_NO_FATAL_FAILURE(start(FleetSetup{.at_ttl_s = 4, .refresh_before_expiry = "1s", .lock_lease = "1500ms"}));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::int64_t exp = access_expires_at(0, cookie);
  sleep_until_unix(static_cast<double>(exp) + 0.3);

  // A's grant is held at the provider; A dies before the provider processes it.
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 5000));
  const int requests_before = token_requests();
  std::thread doomed([&] { call(0, "/app/page", cookie); });
  const bool in_flight = token_request_arrived(requests_before);
  ASSERT_TRUE(in_flight) << stats_text();
  ASSERT_TRUE(gw_[0]->signal(SIGKILL));
  ASSERT_TRUE(gw_[0]->wait_exit(5s));
  doomed.join();
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 0));

  const auto t0 = Clock::now();
  auto on_b = call(1, "/app/page", cookie);
  EXPECT_EQ(status_of(on_b), 200) << describe(on_b);
  EXPECT_LT(seconds_since(t0), 8.0) << "B waited for the lease to expire, not for refresh_lock_wait";
  EXPECT_GT(access_expires_at(1, cookie), exp);

  // The provider saw A's abandoned grant (never processed) and B's, which succeeded.
  std::this_thread::sleep_for(5s);  // A's held request finishes its delay and is dropped
  auto s = op_->stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").total(), 1) << stats_text();
  EXPECT_EQ(s->raw.at("token_endpoint").at("abandoned").to_number<int>(), 1) << stats_text();
  EXPECT_EQ(metric_or_zero(*gw_[1], "authgate_refresh_grants_total", {{"result", "success"}}), 1);
  EXPECT_GE(metric_or_zero(*gw_[1], "authgate_refresh_lock_seconds_count", {{"phase", "wait"}}), 1);
}

TEST_F(Fleet, ALiveHoldersLeaseIsRenewedSoAGrantSlowerThanTheLeaseIsNeverTakenOver) {
  ASSERT_NO_FATAL_FAILURE(start(FleetSetup{.at_ttl_s = 4, .refresh_before_expiry = "1s", .lock_lease = "1500ms"}));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::int64_t exp = access_expires_at(0, cookie);
  sleep_until_unix(static_cast<double>(exp) + 0.3);

  // The provider holds A's grant for 4 s, more than twice the 1.5 s lease: without renewal
  // the lease would lapse and B would send a second grant with the same refresh token.
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 4000));
  const int requests_before = token_requests();
  std::optional<Response> on_a;
  std::thread holder([&] { on_a = call(0, "/app/page", cookie); });
  const bool in_flight = token_request_arrived(requests_before);
  auto on_b = call(1, "/app/page", cookie);  // waits on A's (renewed) lease, then reads A's tokens
  holder.join();
  ASSERT_TRUE(op_->set_token_endpoint_mode(TokenEndpointMode::ok, 0));
  ASSERT_TRUE(in_flight) << stats_text();
  EXPECT_EQ(status_of(on_a), 200) << describe(on_a);
  EXPECT_EQ(status_of(on_b), 200) << describe(on_b);

  auto s = op_->stats();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->grant("refresh_token").total(), 1) << stats_text();
  EXPECT_EQ(s->grant("refresh_token").success, 1) << stats_text();
  EXPECT_EQ(metric_or_zero(*gw_[0], "authgate_refresh_grants_total", {{"result", "success"}}), 1);
  EXPECT_EQ(metric_or_zero(*gw_[1], "authgate_refresh_grants_total", {{"result", "success"}}), 0);
  EXPECT_GE(metric_or_zero(*gw_[0], "authgate_refresh_lock_seconds_count", {{"phase", "hold"}}), 1);
  EXPECT_GE(metric_or_zero(*gw_[1], "authgate_refresh_lock_seconds_count", {{"phase", "wait"}}), 1);
}

// ---- the deny-list is shared -----------------------------------------------------------

TEST_F(Fleet, AJtiRevokedThroughAIsRefusedByBWithinTheSyncInterval) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::string token = bearer_of(*up_->last_request());
  auto payload = jwt_part(token, 1);
  ASSERT_TRUE(payload);
  const std::string jti = json_string(*payload, "jti");
  ASSERT_FALSE(jti.empty()) << token;
  ASSERT_EQ(status_of(bearer(1, "/api/orders", token)), 200);

  // `authgate revoke` against A's admin port.
  support::TempDir dir;
  dir.write("admin-token", std::string(kAdminToken) + "\n");
  auto cli = support::run_authgate({"revoke", "jti", jti, "--exp", std::to_string(now_s() + 600), "--admin",
                                    "http://127.0.0.1:" + std::to_string(gw_[0]->admin_port()), "--token-file",
                                    dir.file("admin-token")});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_NE(cli.out.find(jti), std::string::npos) << cli.out;

  auto on_a = bearer(0, "/api/orders", token);  // A applied it at once
  ASSERT_EQ(status_of(on_a), 401) << describe(on_a);
  EXPECT_NE(on_a->header("WWW-Authenticate").value_or("").find("invalid_token"), std::string::npos);
  EXPECT_NE(on_a->header("WWW-Authenticate").value_or("").find("revoked"), std::string::npos);

  const auto t0 = Clock::now();
  int status = 200;
  while (Clock::now() - t0 < 5s && (status = status_of(bearer(1, "/api/orders", token))) == 200)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(status, 401);
  EXPECT_LT(seconds_since(t0), 2.0) << "B took longer than a few sync intervals (300ms)";
  EXPECT_GE(metric_or_zero(*gw_[1], "authgate_auth_decisions_total",
                           {{"route", "api"}, {"result", "deny"}, {"reason", "revoked"}}),
            1);
  EXPECT_GE(metric_or_zero(*gw_[1], "authgate_revoked_tokens_total", {{"kind", "jti"}}), 1);
  EXPECT_EQ(metric_or_zero(*gw_[1], "authgate_revocation_entries"), 1);

  // The list, through B's admin port.
  auto list = support::run_authgate({"revoke", "list", "--admin",
                                     "http://127.0.0.1:" + std::to_string(gw_[1]->admin_port()), "--token-file",
                                     dir.file("admin-token")});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(jti), std::string::npos) << list.out;
}

// The attack (issue 13), with the Redis deny-list: `authgate revoke sub` through A; the
// subject's session, used on B once its token is due, used to refresh there and get a
// fresh token (iat after the cut-off) past the deny-list. B ends the session instead: 401,
// no refresh grant, and the session is gone from Redis for A too.
TEST_F(Fleet, ASubRevokedThroughAEndsItsSessionOnBWithoutARefreshGrant) {
  ASSERT_NO_FATAL_FAILURE(start(FleetSetup{.at_ttl_s = 6, .refresh_before_expiry = "1s"}));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::int64_t exp = access_expires_at(0, cookie);
  ASSERT_GT(exp, 0);

  support::TempDir dir;
  dir.write("admin-token", std::string(kAdminToken) + "\n");
  auto cli = support::run_authgate({"revoke", "sub", "alice", "--admin",
                                    "http://127.0.0.1:" + std::to_string(gw_[0]->admin_port()), "--token-file",
                                    dir.file("admin-token")});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  const std::int64_t revoked_at = now_s();
  EXPECT_EQ(gw_[1]->wait_for_metric("authgate_revocation_entries", {}, 1, 3s), 1) << "B never read the entry";
  const int requests_before = token_requests();
  ASSERT_GE(requests_before, 0) << op_->last_error();
  // Due for refresh, in a later second than the revocation: a refreshed token would pass.
  sleep_until_unix(std::max(static_cast<double>(exp - 1) + 0.1, static_cast<double>(revoked_at + 1) + 0.1));
  ASSERT_LT(unix_now(), static_cast<double>(exp)) << "too slow: the token expired";

  auto on_b = call(1, "/app/after-revoke", cookie);
  EXPECT_TRUE(IsLocalError(on_b, 401));
  EXPECT_FALSE(up_->saw_target_containing("/app/after-revoke")) << "nothing reaches the upstream";
  EXPECT_EQ(token_requests(), requests_before) << "a revoked subject's session refreshed; " << stats_text();
  EXPECT_GE(metric_or_zero(*gw_[1], "authgate_revoked_tokens_total", {{"kind", "sub"}}), 1);
  EXPECT_EQ(status_of(call(0, "/oauth2/session", cookie)), 401) << "the session is still in Redis";
}

// ---- Redis frozen: command timeouts, then recovery ----------------------------------

TEST_F(Fleet, AFrozenRedisTimesOutAt503AndTheInstancesRecoverWhenItThaws) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  ASSERT_EQ(::kill(redis_->pid(), SIGSTOP), 0);  // accepts nothing, answers nothing
  const auto t0 = Clock::now();
  auto r = call(0, "/app/page", cookie);
  const double took = seconds_since(t0);
  ::kill(redis_->pid(), SIGCONT);
  EXPECT_EQ(status_of(r), 503) << describe(r);
  EXPECT_LT(took, 3.0) << "bounded by redis.command_timeout (500ms), not hanging";
  EXPECT_GE(metric_or_zero(*gw_[0], "authgate_redis_commands_total", {{"result", "timeout"}}), 1);
  const std::string log = gw_[0]->stdout_text() + gw_[0]->stderr_text();
  EXPECT_NE(log.find("no reply within 500 ms"), std::string::npos) << log;
  int status = 0;
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && (status = status_of(call(0, "/app/page", cookie))) != 200)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status, 200) << "the dropped connection is re-made and the session is intact";
}

// ---- Redis frozen: health comes from replies, not from connects ------------------------

// A stopped (SIGSTOP) or hung Redis still completes TCP connects in the kernel. The client
// must not call that "up": a fresh connection is ready only once it answers PING, idle
// connections are PINGed every health_check_interval, and a command unanswered for down_after
// reports Redis down until a reply arrives.
TEST_F(Fleet, AFrozenRedisThatStillAcceptsConnectsIsReportedDownNotUp) {
  FleetSetup setup;
  setup.instances = 1;
  setup.redis_extra = "  health_check_interval: 200ms\n  down_after: 300ms\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  GatewayProcess& gw = *gw_[0];
  ASSERT_EQ(gw.wait_for_metric("authgate_redis_up", {}, 1), 1);

  const pid_t pid = redis_->pid();
  struct Thaw {  // SIGCONT whatever happens below
    pid_t pid;
    bool done = false;
    void operator()() {
      if (!done) ::kill(pid, SIGCONT);
      done = true;
    }
    ~Thaw() { (*this)(); }
  } thaw{pid};
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);  // connects still complete (the kernel's backlog); nothing answers

  // Down within down_after of the first unanswered PING or deny-list read (each within 300ms).
  const auto t0 = Clock::now();
  double up = 1;
  while (Clock::now() - t0 < 10s && (up = metric_or_zero(gw, "authgate_redis_up")) != 0)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(up, 0) << "still up " << seconds_since(t0) << " s after SIGSTOP";
  EXPECT_LT(seconds_since(t0), 5.0);

  // And it stays down while Redis is frozen, although reconnects keep completing their TCP
  // connect (reconnect_min 50ms): sampled for longer than command_timeout + connect_timeout.
  std::string flaps;
  const auto t1 = Clock::now();
  while (Clock::now() - t1 < 2500ms) {
    if (metric_or_zero(gw, "authgate_redis_up") != 0) flaps += "redis_up 1 at " + std::to_string(seconds_since(t1)) + " s\n";
    auto ready = gw.admin_get("/readyz");
    if (!ready || ready->status != 200 || ready->body.find("\"degraded\"") == std::string::npos ||
        ready->body.find("redis:" + redis_->address()) == std::string::npos)
      flaps += "readyz " + describe(ready) + "\n";
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(flaps, "") << "a frozen Redis must never be reported up or ready";

  // Session requests fail at once rather than queueing behind the frozen server.
  auto r = call(0, "/app/page", cookie);
  EXPECT_EQ(status_of(r), 503) << describe(r);
  if (r) EXPECT_TRUE(r->header("Retry-After")) << describe(r);
  EXPECT_GE(metric_or_zero(gw, "authgate_redis_commands_total", {{"result", "unavailable"}}), 1);
  EXPECT_GE(metric_or_zero(gw, "authgate_redis_unresponsive_total"), 1);
  const std::string log = gw.stdout_text() + gw.stderr_text();
  EXPECT_NE(log.find("no reply within 300 ms (redis.down_after); reporting Redis down"), std::string::npos) << log;

  thaw();
  EXPECT_EQ(gw.wait_for_metric("authgate_redis_up", {}, 1, 10s), 1) << "recovers once Redis answers again";
  auto ready = gw.admin_get("/readyz");
  EXPECT_EQ(status_of(ready), 200);
  if (ready) EXPECT_EQ(ready->body, "{\"status\":\"ready\"}\n");
  int status = 0;
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && (status = status_of(call(0, "/app/page", cookie))) != 200)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status, 200) << "the session is intact";
  const std::string after = gw.stdout_text() + gw.stderr_text();
  EXPECT_NE(after.find("answering again"), std::string::npos) << after;
}

// ---- Redis over TLS and over a unix socket -------------------------------------------------

TEST_F(Fleet, SessionsWorkWithRedisOverTls) {
  support::TempDir certs;
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost -keyout " + certs.file("key.pem") +
                          " -out " + certs.file("cert.pem") + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  FleetSetup setup;
  setup.instances = 1;
  setup.redis.tls_cert_file = certs.file("cert.pem");
  setup.redis.tls_key_file = certs.file("key.pem");
  setup.redis_extra = "  tls: {ca_file: " + certs.file("cert.pem") + ", server_name: localhost}\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(status_of(call(0, "/app/page", cookie)), 200);
  auto keys = redis_->command({"KEYS", "fleet:session:*"});  // over the plain port: it is there
  ASSERT_TRUE(keys && keys->is_array());
  EXPECT_EQ(keys->elements.size(), 1u);
}

TEST_F(Fleet, AnUntrustedRedisCertificateKeepsTheInstanceUnready) {
  support::TempDir certs;
  for (const char* name : {"a", "b"}) {
    const std::string cmd = std::string("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost ") +
                            "-addext subjectAltName=DNS:localhost -keyout " + certs.file(std::string(name) + "-key.pem") +
                            " -out " + certs.file(std::string(name) + ".pem") + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  expect_never_ready(support::RedisServerOptions{certs.file("a.pem"), certs.file("a-key.pem"), false},
                     "  tls: {ca_file: " + certs.file("b.pem") + ", server_name: localhost}\n", {},
                     "certificate verify failed");
}

TEST_F(Fleet, SessionsUseRedisAuthAndTheConfiguredDatabase) {
  FleetSetup setup;
  setup.instances = 1;
  setup.redis.password = "fleet-redis-password-0123";
  setup.redis_extra = "  password_env: REDIS_PASSWORD\n  db: 3\n";
  ASSERT_NO_FATAL_FAILURE(start(setup));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(status_of(call(0, "/app/page", cookie)), 200);
  auto in_db0 = redis_->command({"KEYS", "fleet:session:*"});
  ASSERT_TRUE(in_db0 && in_db0->is_array());
  EXPECT_TRUE(in_db0->elements.empty()) << "the session went to database 0";
  auto in_db3 = redis_->command({"EVAL", "redis.call('SELECT', 3) return redis.call('KEYS', 'fleet:session:*')", "0"});
  ASSERT_TRUE(in_db3 && in_db3->is_array());
  EXPECT_EQ(in_db3->elements.size(), 1u);
}

TEST_F(Fleet, AWrongRedisPasswordKeepsTheInstanceUnready) {
  const std::string log = expect_never_ready(support::RedisServerOptions{.password = "the-right-password-0123"},
                                            "  password_env: REDIS_PASSWORD\n",
                                            {{"REDIS_PASSWORD", "a-wrong-password-4567"}}, "AUTH: WRONGPASS");
  EXPECT_EQ(log.find("a-wrong-password-4567"), std::string::npos) << "the password is logged";
}

TEST_F(Fleet, SessionsWorkWithRedisOverAUnixSocket) {
  FleetSetup setup;
  setup.instances = 1;
  setup.redis.unix_socket = true;
  ASSERT_NO_FATAL_FAILURE(start(setup));
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(status_of(call(0, "/app/page", cookie)), 200);
}

// ---- the deny-list on one instance (revocation.store: memory), admin API rejections ----

class Revocation : public ::testing::Test {
 protected:
  void SetUp() override {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}.with("auth", "bearer"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: main\n"
                       "    issuer: https://idp.test\n"
                       "    audiences: [orders-api]\n"
                       "    algorithms: [HS256]\n"
                       "    secret_env: HS_SECRET\n";
    cfg.extra_yaml = "revocation:\n"
                     "  store: memory\n"
                     "  admin_token_env: ADMIN_TOKEN\n";
    cfg.env.push_back({"HS_SECRET", kSecret});
    cfg.env.push_back({"ADMIN_TOKEN", kAdminToken});
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  static std::string token(const std::string& sub, const std::string& jti, std::int64_t iat,
                           std::int64_t exp = now_s() + 600) {
    const std::string payload = R"({"iss":"https://idp.test","aud":"orders-api","sub":")" + sub + R"(","jti":")" +
                                jti + R"(","iat":)" + std::to_string(iat) + R"(,"exp":)" +
                                std::to_string(exp) + "}";
    return ts::mint_hmac("HS256", kSecret, R"({"alg":"HS256","typ":"at+jwt"})", payload);
  }

  std::optional<Response> get(const std::string& t) {
    return support::http_request(gw_->port(), support::make_request("GET", "/api/x", {{"Authorization", "Bearer " + t}}));
  }

  std::optional<Response> admin(const std::string& method, const std::string& body,
                                const std::string& auth = std::string("Bearer ") + kAdminToken) {
    std::vector<Header> h{{"Content-Type", "application/json"}};
    if (!auth.empty()) h.push_back({"Authorization", auth});
    return support::http_request(gw_->admin_port(), support::make_request(method, "/revocations", h, body));
  }

  static constexpr const char* kSecret = "revocation-test-hmac-secret-0123456789abcdef";
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(Revocation, AJtiIsRefusedAtOnceAndOtherTokensAreNot) {
  const std::string t1 = token("alice", "jti-1", now_s() - 10);
  const std::string t2 = token("alice", "jti-2", now_s() - 10);
  ASSERT_EQ(status_of(get(t1)), 200);
  auto r = admin("POST", R"({"jti":"jti-1"})");
  ASSERT_EQ(status_of(r), 201) << describe(r);
  auto denied = get(t1);
  EXPECT_EQ(status_of(denied), 401) << describe(denied);
  EXPECT_NE(denied->header("WWW-Authenticate").value_or("").find("invalid_token"), std::string::npos);
  EXPECT_EQ(status_of(get(t2)), 200);
  auto list = admin("GET", "");
  ASSERT_EQ(status_of(list), 200);
  EXPECT_NE(list->body.find("\"jti-1\""), std::string::npos) << list->body;
}

TEST_F(Revocation, ASubIsRefusedForTokensIssuedBeforeTheCutOffOnly) {
  const std::int64_t cut = now_s();
  const std::string old_token = token("bob", "b-1", cut - 60);
  const std::string new_token = token("bob", "b-2", cut + 1);
  const std::string other = token("carol", "c-1", cut - 60);
  auto r = admin("POST", R"({"sub":"bob","before":)" + std::to_string(cut) + "}");
  ASSERT_EQ(status_of(r), 201) << describe(r);
  EXPECT_EQ(status_of(get(old_token)), 401);
  EXPECT_EQ(status_of(get(new_token)), 200);
  EXPECT_EQ(status_of(get(other)), 200);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_revoked_tokens_total", {{"kind", "sub"}}), 1);
}

// The attack (issue 13): a token verifies until exp + its issuer's leeway (30 s by
// default), but its jti entry ended at exp, so a revoked token was accepted again for
// the leeway after its exp.
TEST_F(Revocation, ARevokedJtiIsStillRefusedDuringTheIssuersLeewayAfterItsExp) {
  const std::int64_t exp = now_s() + 1;
  const std::string t = token("alice", "jti-leeway", now_s() - 10, exp);
  const std::string control = token("alice", "jti-control", now_s() - 10, exp);
  auto r = admin("POST", R"({"jti":"jti-leeway","exp":)" + std::to_string(exp) + "}");
  ASSERT_EQ(status_of(r), 201) << describe(r);
  EXPECT_EQ(status_of(get(t)), 401);
  sleep_until_unix(static_cast<double>(exp) + 1.2);  // past exp, within the 30 s leeway
  EXPECT_EQ(status_of(get(control)), 200) << "the leeway lets an unrevoked token through";
  auto denied = get(t);
  EXPECT_EQ(status_of(denied), 401) << describe(denied);
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_revoked_tokens_total", {{"kind", "jti"}}), 2);
}

// The attack (issue 13): iat has whole seconds, and a sub entry refused only iat < before,
// so a token issued in the second of the revocation (possibly just before it) passed.
// The rule is iat <= before.
TEST_F(Revocation, ASubRevocationRefusesATokenIssuedInTheSameSecond) {
  const std::int64_t cut = now_s();
  const std::string same_second = token("dave", "d-1", cut);
  const std::string next_second = token("dave", "d-2", cut + 1);
  auto r = admin("POST", R"({"sub":"dave","before":)" + std::to_string(cut) + "}");
  ASSERT_EQ(status_of(r), 201) << describe(r);
  auto denied = get(same_second);
  EXPECT_EQ(status_of(denied), 401) << describe(denied);
  EXPECT_EQ(status_of(get(next_second)), 200);
}

TEST_F(Revocation, TheAdminEndpointRefusesAMissingOrWrongToken) {
  EXPECT_EQ(status_of(admin("POST", R"({"jti":"x"})", "")), 401);
  EXPECT_EQ(status_of(admin("POST", R"({"jti":"x"})", "Bearer wrong-token-0123456789")), 401);
  EXPECT_EQ(status_of(admin("GET", "", std::string("Basic ") + kAdminToken)), 401);
  auto list = admin("GET", "");
  ASSERT_EQ(status_of(list), 200);
  EXPECT_EQ(list->body, "{\"entries\":[]}\n") << "nothing was revoked by the refused calls";
}

TEST_F(Revocation, TheAdminEndpointRefusesABadBody) {
  auto r = admin("POST", R"({"jti":"x","sub":"y"})");
  EXPECT_EQ(status_of(r), 400) << describe(r);
  EXPECT_EQ(status_of(admin("POST", "not json")), 400);
  EXPECT_EQ(status_of(admin("DELETE", "")), 405);
}

TEST_F(Revocation, OtherAdminPathsStillRefuseBodies) {
  auto r = support::http_request(gw_->admin_port(),
                                 support::make_request("POST", "/metrics", {{"Content-Type", "text/plain"}}, "x"));
  EXPECT_EQ(status_of(r), 400) << describe(r);
  EXPECT_EQ(status_of(gw_->admin_get("/healthz")), 200) << "a fresh connection still works";
}

}  // namespace
}  // namespace it
