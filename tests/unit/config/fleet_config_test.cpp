// Unit tests for config/loader, fleet mode: the top-level `redis:` and
// `revocation:` blocks and `sessions.store: redis` with its refresh lock
// durations. Defaults, every key read back, and one test per error with the
// exact "file:line:column: key.path: message" text.
//
// Positions: yaml-cpp marks are 0-based, the loader prints them 1-based. Each
// YAML document is written one line per string literal with its 1-based line
// number in a comment, and the column of the reported node worked out there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load_yaml.hpp"
#include "config/loader.hpp"

namespace cfg = authgate::config;
using ::testing::ElementsAre;

namespace {

using namespace std::chrono_literals;
using authgate::config::testing::load_errors;
using authgate::config::testing::load_ok;

std::string write_temp_file(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// A valid sessions: block; documents that add keys to it start at line 13.
std::string with_sessions(std::string_view rest) {
  ::setenv("AUTHGATE_TEST_FLEET_CLIENT_SECRET", "client-secret", 1);
  ::setenv("AUTHGATE_TEST_FLEET_COOKIE_SECRET", "0123456789abcdef0123456789abcdef", 1);
  return std::string(
             "upstreams:\n"                                                                       // 1
             "  - name: orders\n"                                                                 // 2
             "    url: http://127.0.0.1:9000\n"                                                   // 3
             "issuers:\n"                                                                         // 4
             "  - name: op\n"                                                                     // 5
             "    issuer: https://op.test\n"                                                      // 6
             "    audiences: [api]\n"                                                             // 7
             "    jwks_file: /dev/null\n"                                                         // 8
             "sessions:\n"                                                                        // 9
             "  client: {issuer: op, client_id: gw, client_secret_env: AUTHGATE_TEST_FLEET_CLIENT_SECRET}\n"  // 10
             "  public_url: https://app.test\n"                                                   // 11
             "  cookie_secret_env: AUTHGATE_TEST_FLEET_COOKIE_SECRET\n") +                        // 12
         std::string(rest);
}

constexpr std::string_view kRedisKeys =
    "address, username, password_env, password_file, db, key_prefix, connections, connect_timeout, "
    "command_timeout, reconnect_min, reconnect_max, health_check_interval, down_after, max_reply_bytes, tls";

}  // namespace

// ---------------------------------------------------------------------------
// Defaults.

TEST(FleetConfig, NoBlocksMeansNoRedisAndNoRevocation) {
  auto c = load_ok("{}");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->redis.has_value());
  EXPECT_FALSE(c->revocation.has_value());
}

TEST(FleetConfig, RedisDefaults) {
  auto c = load_ok("redis: {}\n");
  ASSERT_TRUE(c && c->redis);
  const auto& r = *c->redis;
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.port, 6379);
  EXPECT_EQ(r.unix_socket, "");
  EXPECT_EQ(r.username, "");
  EXPECT_EQ(r.password, "");
  EXPECT_EQ(r.db, 0u);
  EXPECT_EQ(r.key_prefix, "authgate:");
  EXPECT_EQ(r.connections, 2u);
  EXPECT_EQ(r.connect_timeout, 2s);
  EXPECT_EQ(r.command_timeout, 1s);
  EXPECT_EQ(r.reconnect_min, 100ms);
  EXPECT_EQ(r.reconnect_max, 5s);
  EXPECT_EQ(r.health_check_interval, 1s);
  EXPECT_EQ(r.down_after, 1s);
  EXPECT_EQ(r.max_reply_bytes, 4u * 1024 * 1024);
  EXPECT_FALSE(r.tls.has_value());
}

TEST(FleetConfig, RevocationDefaults) {
  auto c = load_ok("revocation: {}\n");
  ASSERT_TRUE(c && c->revocation);
  const auto& v = *c->revocation;
  EXPECT_EQ(v.store, "memory");
  EXPECT_EQ(v.sync_interval, 2s);
  EXPECT_EQ(v.sub_ttl, 24h);
  EXPECT_EQ(v.max_entries, 100000u);
  EXPECT_EQ(v.admin_token, "");
  EXPECT_FALSE(c->redis.has_value());  // memory needs no redis: block
}

TEST(FleetConfig, SessionStoreDefaults) {
  auto c = load_ok(with_sessions(""));
  ASSERT_TRUE(c && c->sessions);
  EXPECT_EQ(c->sessions->store, "memory");
  EXPECT_EQ(c->sessions->refresh_lock_lease, 10s);
  EXPECT_EQ(c->sessions->refresh_lock_wait, 15s);
}

// ---------------------------------------------------------------------------
// Every key read.

TEST(FleetConfig, RedisEveryKey) {
  ::setenv("AUTHGATE_TEST_REDIS_PASSWORD", "redis-password", 1);
  auto c = load_ok(
      "redis:\n"
      "  address: redis.internal:6380\n"
      "  username: gateway\n"
      "  password_env: AUTHGATE_TEST_REDIS_PASSWORD\n"
      "  db: 15\n"
      "  key_prefix: \"fleet-a:\"\n"
      "  connections: 64\n"
      "  connect_timeout: 3s\n"
      "  command_timeout: 250ms\n"
      "  reconnect_min: 50ms\n"
      "  reconnect_max: 10s\n"
      "  health_check_interval: 750ms\n"
      "  down_after: 200ms\n"
      "  max_reply_bytes: 1MiB\n"
      "  tls: {ca_file: /etc/ssl/redis-ca.pem, server_name: redis.example, verify: false}\n");
  ASSERT_TRUE(c && c->redis);
  const auto& r = *c->redis;
  EXPECT_EQ(r.host, "redis.internal");
  EXPECT_EQ(r.port, 6380);
  EXPECT_EQ(r.unix_socket, "");
  EXPECT_EQ(r.username, "gateway");
  EXPECT_EQ(r.password, "redis-password");
  EXPECT_EQ(r.db, 15u);
  EXPECT_EQ(r.key_prefix, "fleet-a:");
  EXPECT_EQ(r.connections, 64u);
  EXPECT_EQ(r.connect_timeout, 3s);
  EXPECT_EQ(r.command_timeout, 250ms);
  EXPECT_EQ(r.reconnect_min, 50ms);
  EXPECT_EQ(r.reconnect_max, 10s);
  EXPECT_EQ(r.health_check_interval, 750ms);
  EXPECT_EQ(r.down_after, 200ms);
  EXPECT_EQ(r.max_reply_bytes, 1024u * 1024);
  ASSERT_TRUE(r.tls.has_value());
  EXPECT_EQ(r.tls->ca_file, "/etc/ssl/redis-ca.pem");
  EXPECT_EQ(r.tls->server_name, "redis.example");
  EXPECT_FALSE(r.tls->verify);
}

TEST(FleetConfig, RedisTlsDefaults) {
  auto c = load_ok("redis: {address: redis.internal:6380, tls: {}}\n");
  ASSERT_TRUE(c && c->redis && c->redis->tls);
  EXPECT_EQ(c->redis->tls->ca_file, "");
  EXPECT_EQ(c->redis->tls->server_name, "");
  EXPECT_TRUE(c->redis->tls->verify);
}

TEST(FleetConfig, RedisPasswordFile) {
  const std::string file = write_temp_file("authgate_redis_password", "file-password\n");
  auto c = load_ok("redis: {password_file: " + file + "}\n");
  ASSERT_TRUE(c && c->redis);
  EXPECT_EQ(c->redis->password, "file-password");  // trailing newline dropped
}

TEST(FleetConfig, RedisAddressForms) {
  {
    auto c = load_ok("redis: {address: localhost:6379}\n");
    ASSERT_TRUE(c && c->redis);
    EXPECT_EQ(c->redis->host, "localhost");
    EXPECT_EQ(c->redis->port, 6379);
    EXPECT_EQ(c->redis->unix_socket, "");
  }
  {
    auto c = load_ok("redis: {address: \"[::1]:6379\"}\n");
    ASSERT_TRUE(c && c->redis);
    EXPECT_EQ(c->redis->host, "::1");
    EXPECT_EQ(c->redis->port, 6379);
    EXPECT_EQ(c->redis->unix_socket, "");
  }
  {
    auto c = load_ok("redis: {address: \"unix:/run/redis/redis.sock\"}\n");
    ASSERT_TRUE(c && c->redis);
    EXPECT_EQ(c->redis->unix_socket, "/run/redis/redis.sock");
  }
}

TEST(FleetConfig, RedisBoundariesAccepted) {
  auto c = load_ok("redis: {db: 0, connections: 1, reconnect_min: 1s, reconnect_max: 1s, max_reply_bytes: 1024}\n");
  ASSERT_TRUE(c && c->redis);
  EXPECT_EQ(c->redis->db, 0u);
  EXPECT_EQ(c->redis->connections, 1u);
  EXPECT_EQ(c->redis->reconnect_min, 1s);
  EXPECT_EQ(c->redis->reconnect_max, 1s);
  EXPECT_EQ(c->redis->max_reply_bytes, 1024u);
}

TEST(FleetConfig, RevocationEveryKey) {
  ::setenv("AUTHGATE_TEST_ADMIN_TOKEN", "0123456789abcdef", 1);  // exactly 16 bytes
  auto c = load_ok(
      "redis: {address: 127.0.0.1:6379}\n"
      "revocation:\n"
      "  store: redis\n"
      "  sync_interval: 500ms\n"
      "  sub_ttl: 12h\n"
      "  max_entries: 5000\n"
      "  admin_token_env: AUTHGATE_TEST_ADMIN_TOKEN\n");
  ASSERT_TRUE(c && c->revocation);
  const auto& v = *c->revocation;
  EXPECT_EQ(v.store, "redis");
  EXPECT_EQ(v.sync_interval, 500ms);
  EXPECT_EQ(v.sub_ttl, 12h);
  EXPECT_EQ(v.max_entries, 5000u);
  EXPECT_EQ(v.admin_token, "0123456789abcdef");
}

TEST(FleetConfig, RevocationAdminTokenFile) {
  const std::string file = write_temp_file("authgate_admin_token", "an-admin-token-from-a-file\n");
  auto c = load_ok("revocation: {admin_token_file: " + file + "}\n");
  ASSERT_TRUE(c && c->revocation);
  EXPECT_EQ(c->revocation->admin_token, "an-admin-token-from-a-file");
}

TEST(FleetConfig, SessionStoreRedisWithLockDurations) {
  auto c = load_ok(with_sessions(
      "  store: redis\n"
      "  refresh_lock_lease: 4s\n"
      "  refresh_lock_wait: 20s\n"
      "redis: {address: 10.0.0.5:6379}\n"));
  ASSERT_TRUE(c && c->sessions && c->redis);
  EXPECT_EQ(c->sessions->store, "redis");
  EXPECT_EQ(c->sessions->refresh_lock_lease, 4s);
  EXPECT_EQ(c->sessions->refresh_lock_wait, 20s);
  EXPECT_EQ(c->redis->host, "10.0.0.5");
}

TEST(FleetConfig, TopLevelKeysIncludeRedisAndRevocation) {
  EXPECT_THAT(load_errors("bogus: 1\n"),
              ElementsAre("t.yaml:1:1: bogus: unknown key (expected one of: listen, admin, workers, limits, "
                          "timeouts, http2, issuers, upstreams, routes, routing, identity, headers, sessions, redis, revocation, log)"));
}

// ---------------------------------------------------------------------------
// One test per error.

TEST(FleetConfigErrors, RedisBadAddress) {
  EXPECT_THAT(load_errors("redis:\n"                    // 1
                          "  address: localhost\n"),    // 2  value col 12
              ElementsAre("t.yaml:2:12: redis.address: must be host:port or unix:/path, not \"localhost\""));
  EXPECT_THAT(load_errors("redis:\n"                    // 1
                          "  address: localhost:0\n"),  // 2  port 0
              ElementsAre("t.yaml:2:12: redis.address: must be host:port or unix:/path, not \"localhost:0\""));
  EXPECT_THAT(load_errors("redis:\n"                        // 1
                          "  address: localhost:65536\n"),  // 2
              ElementsAre("t.yaml:2:12: redis.address: must be host:port or unix:/path, not \"localhost:65536\""));
  EXPECT_THAT(load_errors("redis:\n"              // 1
                          "  address: \":6379\"\n"),  // 2  no host
              ElementsAre("t.yaml:2:12: redis.address: must be host:port or unix:/path, not \":6379\""));
}

TEST(FleetConfigErrors, RedisUnixSocketMustBeAbsolute) {
  EXPECT_THAT(load_errors("redis:\n"                          // 1
                          "  address: unix:redis.sock\n"),    // 2  value col 12
              ElementsAre("t.yaml:2:12: redis.address: a unix socket address is unix:/absolute/path"));
  EXPECT_THAT(load_errors("redis:\n"            // 1
                          "  address: \"unix:\"\n"),  // 2  (quoted: a plain "unix:" is YAML map syntax)
              ElementsAre("t.yaml:2:12: redis.address: a unix socket address is unix:/absolute/path"));
}

TEST(FleetConfigErrors, RedisDbOver15) {
  EXPECT_THAT(load_errors("redis:\n"      // 1
                          "  db: 16\n"),  // 2  value col 7
              ElementsAre("t.yaml:2:7: redis.db: must be a database number from 0 to 15"));
}

TEST(FleetConfigErrors, RedisConnectionsZero) {
  EXPECT_THAT(load_errors("redis:\n"               // 1
                          "  connections: 0\n"),   // 2  value col 16
              ElementsAre("t.yaml:2:16: redis.connections: must be at least 1"));
}

TEST(FleetConfigErrors, RedisConnectionsOver64) {
  EXPECT_THAT(load_errors("redis:\n"                // 1
                          "  connections: 65\n"),   // 2  value col 16
              ElementsAre("t.yaml:2:16: redis.connections: must be at most 64"));
}

TEST(FleetConfigErrors, RedisReconnectMaxBelowMin) {
  EXPECT_THAT(load_errors("redis:\n"                  // 1
                          "  reconnect_min: 2s\n"     // 2
                          "  reconnect_max: 1s\n"),   // 3  value col 18
              ElementsAre("t.yaml:3:18: redis.reconnect_max: must not be less than reconnect_min"));
  // Only reconnect_min, above the default maximum (5s): reported at the block (2:3).
  EXPECT_THAT(load_errors("redis:\n"                  // 1
                          "  reconnect_min: 10s\n"),  // 2
              ElementsAre("t.yaml:2:3: redis.reconnect_max: must not be less than reconnect_min"));
}

TEST(FleetConfigErrors, RedisUsernameWithoutPassword) {
  EXPECT_THAT(load_errors("redis:\n"             // 1
                          "  username: gw\n"),   // 2  value col 13
              ElementsAre("t.yaml:2:13: redis.username: needs password_env or password_file"));
}

TEST(FleetConfigErrors, RedisPasswordEnvUnset) {
  ::unsetenv("AUTHGATE_TEST_UNSET_REDIS_PASSWORD");
  EXPECT_THAT(load_errors("redis:\n"                                              // 1
                          "  password_env: AUTHGATE_TEST_UNSET_REDIS_PASSWORD\n"),  // 2  value col 17
              ElementsAre("t.yaml:2:17: redis.password_env: environment variable "
                          "AUTHGATE_TEST_UNSET_REDIS_PASSWORD is not set"));
}

TEST(FleetConfigErrors, RedisPasswordEnvAndFileTogether) {
  ::setenv("AUTHGATE_TEST_REDIS_PASSWORD", "redis-password", 1);
  EXPECT_THAT(load_errors("redis:\n"                                        // 1
                          "  password_env: AUTHGATE_TEST_REDIS_PASSWORD\n"  // 2  block at col 3
                          "  password_file: /dev/null\n"),                  // 3
              ElementsAre("t.yaml:2:3: redis: needs exactly one of password_env or password_file"));
}

TEST(FleetConfigErrors, RedisTlsWithAUnixSocket) {
  EXPECT_THAT(load_errors("redis:\n"                                  // 1
                          "  address: unix:/run/redis/redis.sock\n"   // 2
                          "  tls: {verify: true}\n"),                 // 3  '{' col 8
              ElementsAre("t.yaml:3:8: redis.tls: TLS needs a host:port address, not a unix socket"));
}

TEST(FleetConfigErrors, RedisMaxReplyBytesBelow1KiB) {
  EXPECT_THAT(load_errors("redis:\n"                     // 1
                          "  max_reply_bytes: 1000\n"),  // 2  value col 20
              ElementsAre("t.yaml:2:20: redis.max_reply_bytes: must be at least 1024"));
}

TEST(FleetConfigErrors, UnknownKeyInRedis) {
  EXPECT_THAT(load_errors("redis:\n"                         // 1
                          "  adress: 127.0.0.1:6379\n"),     // 2  key col 3
              ElementsAre("t.yaml:2:3: redis.adress: unknown key (expected one of: " + std::string(kRedisKeys) +
                          ")"));
}

TEST(FleetConfigErrors, UnknownKeyInRedisTls) {
  EXPECT_THAT(load_errors("redis:\n"                  // 1
                          "  tls: {ca: /x.pem}\n"),   // 2  key col 9
              ElementsAre("t.yaml:2:9: redis.tls.ca: unknown key (expected one of: ca_file, server_name, verify)"));
}

TEST(FleetConfigErrors, UnknownKeyInRevocation) {
  EXPECT_THAT(load_errors("revocation:\n"      // 1
                          "  stor: redis\n"),  // 2  key col 3
              ElementsAre("t.yaml:2:3: revocation.stor: unknown key (expected one of: store, sync_interval, "
                          "sub_ttl, max_entries, admin_token_env, admin_token_file)"));
}

TEST(FleetConfigErrors, RevocationStoreBogus) {
  EXPECT_THAT(load_errors("revocation:\n"          // 1
                          "  store: postgres\n"),  // 2  value col 10
              ElementsAre("t.yaml:2:10: revocation.store: must be memory or redis, not \"postgres\""));
}

TEST(FleetConfigErrors, RevocationAdminTokenShorterThan16Bytes) {
  ::setenv("AUTHGATE_TEST_SHORT_ADMIN_TOKEN", "0123456789abcde", 1);  // 15 bytes
  EXPECT_THAT(load_errors("revocation:\n"                                          // 1
                          "  admin_token_env: AUTHGATE_TEST_SHORT_ADMIN_TOKEN\n"),  // 2  block at col 3
              ElementsAre("t.yaml:2:3: revocation: the admin token must be at least 16 bytes"));
}

TEST(FleetConfigErrors, RevocationAdminTokenEnvUnset) {
  ::unsetenv("AUTHGATE_TEST_UNSET_ADMIN_TOKEN");
  EXPECT_THAT(load_errors("revocation:\n"                                          // 1
                          "  admin_token_env: AUTHGATE_TEST_UNSET_ADMIN_TOKEN\n"),  // 2  value col 20
              ElementsAre("t.yaml:2:20: revocation.admin_token_env: environment variable "
                          "AUTHGATE_TEST_UNSET_ADMIN_TOKEN is not set"));
}

TEST(FleetConfigErrors, SessionStoreRedisWithoutRedisBlock) {
  EXPECT_THAT(load_errors(with_sessions("  store: redis\n")),  // 13  value col 10
              ElementsAre("t.yaml:13:10: sessions.store: redis needs a top-level redis: block"));
}

TEST(FleetConfigErrors, SessionStoreBogus) {
  EXPECT_THAT(load_errors(with_sessions("  store: memcached\n")),  // 13  value col 10
              ElementsAre("t.yaml:13:10: sessions.store: must be memory or redis, not \"memcached\""));
}

TEST(FleetConfigErrors, SessionRefreshLockDurations) {
  EXPECT_THAT(load_errors(with_sessions("  refresh_lock_lease: soon\n"   // 13  value col 23
                                        "  refresh_lock_wait: 0s\n")),   // 14  value col 22
              ElementsAre("t.yaml:13:23: sessions.refresh_lock_lease: invalid duration \"soon\" (write e.g. "
                          "250ms, 30s, 5m)",
                          "t.yaml:14:22: sessions.refresh_lock_wait: must be greater than zero"));
}

TEST(FleetConfigErrors, SessionRefreshLockWaitNotLongerThanTheLease) {
  // Waiters that give up before a dead holder's lease expires would never take the refresh over.
  EXPECT_THAT(load_errors(with_sessions("  store: redis\n"               // 13
                                        "  refresh_lock_lease: 10s\n"   // 14
                                        "  refresh_lock_wait: 10s\n"    // 15  value col 22
                                        "redis: {address: 10.0.0.5:6379}\n")),
              ElementsAre("t.yaml:15:22: sessions.refresh_lock_wait: must be longer than refresh_lock_lease, so "
                          "that waiting instances can take over a dead holder's lease"));
  // The memory store has no lease: the same durations load.
  EXPECT_TRUE(load_ok(with_sessions("  refresh_lock_lease: 10s\n  refresh_lock_wait: 10s\n")));
}

TEST(FleetConfigErrors, RevocationStoreRedisWithoutRedisBlock) {
  EXPECT_THAT(load_errors("revocation:\n"       // 1
                          "  store: redis\n"),  // 2  value col 10
              ElementsAre("t.yaml:2:10: revocation.store: redis needs a top-level redis: block"));
}

// ---- issue 13: login floods and WebSocket tunnels -------------------------------------------

TEST(SessionDefencesConfig, DefaultsOfTheLoginLimitsAndTheTunnelBounds) {
  auto c = load_ok(with_sessions(""));
  ASSERT_TRUE(c && c->sessions);
  EXPECT_EQ(c->sessions->max_pending_logins, 10'000u);
  EXPECT_EQ(c->sessions->login_rate_limit.per_minute, 60u);
  EXPECT_EQ(c->sessions->login_rate_limit.burst, 20u);
  EXPECT_EQ(c->sessions->login_rate_limit.max_clients, 10'000u);
  EXPECT_EQ(c->sessions->websocket_check_interval, 30s);
  EXPECT_EQ(c->timeouts.websocket_max_lifetime, 1h);
}

TEST(SessionDefencesConfig, EveryKeyIsReadBack) {
  auto c = load_ok(with_sessions("  max_pending_logins: 50\n"
                                 "  websocket_check_interval: 2s\n"
                                 "  login_rate_limit: {per_minute: 0, burst: 3, max_clients: 7}\n") +
                   "timeouts:\n  websocket_max_lifetime: 10m\n");
  ASSERT_TRUE(c && c->sessions);
  EXPECT_EQ(c->sessions->max_pending_logins, 50u);
  EXPECT_EQ(c->sessions->websocket_check_interval, 2s);
  EXPECT_EQ(c->sessions->login_rate_limit.per_minute, 0u);
  EXPECT_EQ(c->sessions->login_rate_limit.burst, 3u);
  EXPECT_EQ(c->sessions->login_rate_limit.max_clients, 7u);
  EXPECT_EQ(c->timeouts.websocket_max_lifetime, 10min);
}

TEST(SessionDefencesConfig, ErrorsNameFileLineColumnAndKey) {
  EXPECT_THAT(load_errors(with_sessions("  max_pending_logins: 0\n")),  // 13  value col 23
              ElementsAre("t.yaml:13:23: sessions.max_pending_logins: must be at least 1"));
  EXPECT_THAT(load_errors(with_sessions("  login_rate_limit:\n"     // 13
                                        "    burst: 0\n"            // 14  value col 12
                                        "    per_second: 3\n")),    // 15  key col 5
              ElementsAre("t.yaml:15:5: sessions.login_rate_limit.per_second: unknown key (expected one of: "
                          "per_minute, burst, max_clients)",
                          "t.yaml:14:12: sessions.login_rate_limit.burst: must be at least 1"));
}
