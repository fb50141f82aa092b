// Unit tests for config/loader: the shipped example files, every kind of
// config error (exact "file:line:column: key.path: message" text), and the
// duration / size scalar parsers.
//
// Positions: yaml-cpp marks are 0-based, the loader prints them 1-based. Each
// YAML document below is written one line per string literal with its 1-based
// line number in a comment; column numbers are worked out in the comments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "load_yaml.hpp"
#include "config/loader.hpp"
#include "support/paths.hpp"

namespace cfg = authgate::config;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

namespace {

using namespace std::chrono_literals;
using authgate::config::testing::load_errors;
using authgate::config::testing::load_ok;

std::string source_path(std::string_view rel) {
  return support::source_dir() + "/" + std::string(rel);
}

std::optional<cfg::GatewayConfig> load_shipped(std::string_view rel) {
  const std::string path = source_path(rel);
  try {
    return cfg::load_file(path);
  } catch (const cfg::ConfigError& e) {
    std::string all;
    for (const auto& line : e.errors()) all += line + "\n";
    ADD_FAILURE() << path << " does not load:\n" << all;
  }
  return std::nullopt;
}

// One upstream named "orders"; documents that add routes start at line 4.
constexpr std::string_view kOrdersUpstream =
    "upstreams:\n"                      // 1
    "  - name: orders\n"                // 2
    "    url: http://127.0.0.1:9000\n"; // 3

std::string with_orders(std::string_view rest) { return std::string(kOrdersUpstream) + std::string(rest); }

}  // namespace

// ---------------------------------------------------------------------------
// The shipped example files must keep loading.

TEST(ShippedConfig, GatewayYamlLoadsWithDocumentedValues) {
  auto c = load_shipped("config/gateway.yaml");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->source_file, source_path("config/gateway.yaml"));

  EXPECT_EQ(c->listen.address.host, "127.0.0.1");
  EXPECT_EQ(c->listen.address.port, 8080);
  EXPECT_FALSE(c->listen.tls.has_value());
  EXPECT_THAT(c->listen.trusted_proxies, IsEmpty());
  EXPECT_EQ(c->admin.address.host, "127.0.0.1");
  EXPECT_EQ(c->admin.address.port, 9901);
  EXPECT_EQ(c->workers, 0u);

  ASSERT_EQ(c->upstreams.size(), 3u);
  const auto& orders = c->upstreams[0];
  EXPECT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.scheme, "http");
  EXPECT_EQ(orders.host, "127.0.0.1");
  EXPECT_EQ(orders.port, 9000);
  EXPECT_EQ(orders.host_header, "");
  EXPECT_EQ(orders.max_connections, 256u);
  EXPECT_EQ(orders.max_idle, 64u);
  EXPECT_EQ(orders.protocol, cfg::UpstreamProtocol::http1);
  EXPECT_EQ(orders.h2_connections, 2u);
  const auto& billing = c->upstreams[1];
  EXPECT_EQ(billing.name, "billing");
  EXPECT_EQ(billing.scheme, "https");
  EXPECT_EQ(billing.host, "billing.internal");
  EXPECT_EQ(billing.port, 8443);
  EXPECT_EQ(billing.tls.ca_file, "");
  EXPECT_EQ(billing.tls.server_name, "");
  EXPECT_TRUE(billing.tls.verify);
  EXPECT_EQ(billing.protocol, cfg::UpstreamProtocol::http1);
  const auto& grpc = c->upstreams[2];
  EXPECT_EQ(grpc.name, "orders-grpc");
  EXPECT_EQ(grpc.protocol, cfg::UpstreamProtocol::h2c);
  EXPECT_EQ(grpc.h2_connections, 2u);

  ASSERT_EQ(c->routes.size(), 3u);
  const auto& r0 = c->routes[0];
  EXPECT_EQ(r0.name, "orders-read");
  EXPECT_EQ(r0.match.host, "api.example.com");
  EXPECT_EQ(r0.match.path_kind, cfg::PathMatch::prefix);
  EXPECT_EQ(r0.match.path, "/orders");
  EXPECT_THAT(r0.match.methods, ElementsAre("GET", "HEAD"));
  EXPECT_EQ(r0.upstream, "orders");
  EXPECT_EQ(r0.auth, cfg::AuthMode::bearer);
  EXPECT_THAT(r0.issuers, ElementsAre("corp"));
  EXPECT_THAT(r0.require.scopes_all, ElementsAre("orders:read"));
  ASSERT_EQ(r0.require.claims.size(), 1u);
  EXPECT_EQ(r0.require.claims[0].name, "email_verified");
  EXPECT_THAT(r0.require.claims[0].values, ElementsAre("true"));
  EXPECT_EQ(r0.forward.headers.size(), 2u);
  EXPECT_FALSE(r0.forward.authorization);
  ASSERT_EQ(c->issuers.size(), 2u);
  EXPECT_EQ(c->issuers[0].name, "idp");
  EXPECT_EQ(c->issuers[0].validation, cfg::Validation::jwt);
  const auto& corp = c->issuers[1];
  EXPECT_EQ(corp.issuer, "https://idp.example.com");
  EXPECT_THAT(corp.audiences, ElementsAre("orders-api"));
  EXPECT_THAT(corp.algorithms, ElementsAre("RS256", "PS256", "ES256"));
  EXPECT_EQ(corp.leeway, cfg::Issuer{}.leeway);
  EXPECT_EQ(corp.scope_claim, "scope");
  EXPECT_TRUE(corp.reject_id_tokens);
  EXPECT_FALSE(corp.require_at_jwt);
  EXPECT_EQ(c->limits.max_token_bytes, cfg::Limits{}.max_token_bytes);
  const auto& r1 = c->routes[1];
  EXPECT_EQ(r1.name, "billing");
  EXPECT_EQ(r1.match.host, "");
  EXPECT_EQ(r1.match.path_kind, cfg::PathMatch::regex);
  EXPECT_EQ(r1.match.path, "^/billing/[0-9]+$");
  EXPECT_THAT(r1.match.methods, IsEmpty());
  EXPECT_EQ(r1.upstream, "billing");
  const auto& r2 = c->routes[2];  // gRPC: a service's methods by path prefix
  EXPECT_EQ(r2.name, "orders-grpc");
  EXPECT_EQ(r2.match.path_kind, cfg::PathMatch::prefix);
  EXPECT_EQ(r2.match.path, "/orders.v1.Orders/");
  EXPECT_EQ(r2.upstream, "orders-grpc");

  EXPECT_EQ(c->log.level, "info");
  EXPECT_EQ(c->log.access, "stdout");
}

// gateway.yaml says it lists "every key, with its default": the limits and
// timeouts it spells out must equal the defaults in config.hpp.
TEST(ShippedConfig, GatewayYamlRepeatsTheCompiledInDefaults) {
  auto c = load_shipped("config/gateway.yaml");
  ASSERT_TRUE(c.has_value());
  const cfg::Limits dl;
  EXPECT_EQ(c->limits.max_header_bytes, dl.max_header_bytes);
  EXPECT_EQ(c->limits.max_body_bytes, dl.max_body_bytes);
  EXPECT_EQ(c->limits.max_connections, dl.max_connections);
  EXPECT_EQ(c->limits.max_requests_per_connection, dl.max_requests_per_connection);
  EXPECT_EQ(c->limits.max_response_header_bytes, dl.max_response_header_bytes);
  const cfg::Timeouts dt;
  EXPECT_EQ(c->timeouts.header_read, dt.header_read);
  EXPECT_EQ(c->timeouts.keepalive_idle, dt.keepalive_idle);
  EXPECT_EQ(c->timeouts.body_read, dt.body_read);
  EXPECT_EQ(c->timeouts.upstream_connect, dt.upstream_connect);
  EXPECT_EQ(c->timeouts.upstream_response, dt.upstream_response);
  EXPECT_EQ(c->timeouts.upstream_idle, dt.upstream_idle);
  EXPECT_EQ(c->timeouts.drain, dt.drain);
  EXPECT_EQ(c->timeouts.tls_handshake, dt.tls_handshake);
  EXPECT_EQ(c->timeouts.websocket_idle, dt.websocket_idle);
  EXPECT_EQ(c->timeouts.linger, dt.linger);
  EXPECT_EQ(c->timeouts.drain_force_close, dt.drain_force_close);
  EXPECT_EQ(c->timeouts.retry_after, dt.retry_after);
  EXPECT_EQ(c->timeouts.idp_request, dt.idp_request);
  EXPECT_EQ(c->limits.max_token_bytes, dl.max_token_bytes);
  EXPECT_EQ(c->limits.max_linger_bytes, dl.max_linger_bytes);
  EXPECT_EQ(c->limits.min_body_rate, dl.min_body_rate);
  EXPECT_EQ(c->limits.max_idp_response_bytes, dl.max_idp_response_bytes);
  EXPECT_EQ(c->limits.token_cache_entries, dl.token_cache_entries);
  EXPECT_EQ(c->limits.introspection_cache_entries, dl.introspection_cache_entries);
  const cfg::Http2Config dh;
  EXPECT_EQ(c->listen.h2c, cfg::ListenConfig{}.h2c);
  EXPECT_EQ(c->http2.max_concurrent_streams, dh.max_concurrent_streams);
  EXPECT_EQ(c->http2.max_header_list_bytes, dh.max_header_list_bytes);
  EXPECT_EQ(c->http2.connection_window_bytes, dh.connection_window_bytes);
  EXPECT_EQ(c->http2.stream_window_bytes, dh.stream_window_bytes);
  EXPECT_EQ(c->http2.max_resets_per_connection, dh.max_resets_per_connection);
  EXPECT_EQ(c->http2.max_control_frames_per_second, dh.max_control_frames_per_second);
  EXPECT_EQ(c->http2.max_continuations, dh.max_continuations);
  EXPECT_EQ(c->http2.idle_timeout, dh.idle_timeout);
  const cfg::Issuer di;
  const auto& remote = c->issuers.at(0);  // the discovery issuer spells out every remote-key default
  EXPECT_TRUE(remote.needs_discovery());
  EXPECT_EQ(remote.jwks_refresh_min, di.jwks_refresh_min);
  EXPECT_EQ(remote.jwks_refresh_max, di.jwks_refresh_max);
  EXPECT_EQ(remote.jwks_retry_interval, di.jwks_retry_interval);
  EXPECT_EQ(remote.jwks_refetch_interval, di.jwks_refetch_interval);
  EXPECT_EQ(remote.max_stale, di.max_stale);
  EXPECT_EQ(remote.leeway, di.leeway);
  const cfg::Upstream du;
  EXPECT_EQ(c->upstreams.at(0).max_connections, du.max_connections);
  EXPECT_EQ(c->upstreams.at(0).max_idle, du.max_idle);
  EXPECT_EQ(c->workers, cfg::GatewayConfig{}.workers);
  EXPECT_EQ(c->log.level, cfg::LogConfig{}.level);
  EXPECT_EQ(c->log.access, cfg::LogConfig{}.access);
  EXPECT_EQ(c->headers.strip_rewrite_headers, cfg::HeadersConfig{}.strip_rewrite_headers);
  EXPECT_EQ(c->headers.trusted_forwarded_headers, cfg::HeadersConfig{}.trusted_forwarded_headers);
  // And the spelled-out values are the documented ones.
  EXPECT_EQ(c->limits.max_header_bytes, 16u * 1024);
  EXPECT_EQ(c->limits.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(c->timeouts.header_read, 10s);
  EXPECT_EQ(c->timeouts.drain, 20s);
  EXPECT_EQ(c->limits.max_response_header_bytes, 64u * 1024);
  EXPECT_EQ(c->timeouts.websocket_idle, 1h);
}

TEST(ShippedConfig, DemoYamlLoads) {
  ::setenv("AUTHGATE_DEMO_SECRET", "a-demo-secret-of-at-least-thirty-two-bytes", 1);  // demo.sh sets it
  ::setenv("AUTHGATE_DEMO_OP_SECRET", "op-secret", 1);                                // and these
  ::setenv("AUTHGATE_DEMO_COOKIE_SECRET", "0123456789abcdef0123456789abcdef", 1);
  auto c = load_shipped("config/demo.yaml");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->listen.address.host, "127.0.0.1");
  EXPECT_EQ(c->listen.address.port, 8080);
  EXPECT_EQ(c->admin.address.port, 9901);
  EXPECT_EQ(c->workers, 2u);
  ASSERT_EQ(c->upstreams.size(), 1u);
  EXPECT_EQ(c->upstreams[0].name, "demo-api");
  EXPECT_EQ(c->upstreams[0].scheme, "http");
  EXPECT_EQ(c->upstreams[0].host, "127.0.0.1");
  EXPECT_EQ(c->upstreams[0].port, 9080);
  ASSERT_EQ(c->routes.size(), 4u);
  EXPECT_EQ(c->routes[0].name, "browser-app");
  EXPECT_EQ(c->routes[0].auth, cfg::AuthMode::session);
  ASSERT_TRUE(c->sessions);
  c->routes.erase(c->routes.begin());  // the checks below predate the session route
  EXPECT_EQ(c->routes[0].name, "public");
  EXPECT_EQ(c->routes[0].match.path_kind, cfg::PathMatch::prefix);
  EXPECT_EQ(c->routes[0].match.path, "/public");
  EXPECT_THAT(c->routes[0].match.methods, IsEmpty());
  EXPECT_EQ(c->routes[0].auth, cfg::AuthMode::none);
  EXPECT_EQ(c->routes[1].name, "admin");
  EXPECT_THAT(c->routes[1].require.scopes_all, ElementsAre("orders:admin"));
  EXPECT_EQ(c->routes[2].name, "api");
  EXPECT_EQ(c->routes[2].match.path, "/api");
  EXPECT_THAT(c->routes[2].match.methods, ElementsAre("GET", "POST", "PUT", "DELETE"));
  EXPECT_EQ(c->routes[2].upstream, "demo-api");
  EXPECT_EQ(c->routes[2].auth, cfg::AuthMode::bearer);
  ASSERT_EQ(c->issuers.size(), 2u);
  EXPECT_EQ(c->issuers[0].name, "op");  // the local OpenID Provider: discovery + introspection
  EXPECT_TRUE(c->issuers[0].needs_discovery());
  ASSERT_TRUE(c->issuers[0].introspection);
  EXPECT_EQ(c->issuers[0].introspection->client_secret, "op-secret");
  EXPECT_EQ(c->issuers[1].secret, "a-demo-secret-of-at-least-thirty-two-bytes");
  // Keys demo.yaml leaves out keep their defaults.
  EXPECT_EQ(c->timeouts.header_read, cfg::Timeouts{}.header_read);
  EXPECT_EQ(c->limits.max_body_bytes, cfg::Limits{}.max_body_bytes);
}

// ---------------------------------------------------------------------------
// Loading in general.

TEST(ConfigLoad, EmptyMappingGivesTheDefaults) {
  auto c = load_ok("{}\n");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->source_file, "t.yaml");
  EXPECT_EQ(c->listen.address.host, "0.0.0.0");
  EXPECT_EQ(c->listen.address.port, 8080);
  EXPECT_EQ(c->admin.address.host, "127.0.0.1");
  EXPECT_EQ(c->admin.address.port, 9901);
  EXPECT_EQ(c->workers, 0u);
  EXPECT_EQ(c->limits.max_header_bytes, 16u * 1024);
  EXPECT_EQ(c->timeouts.upstream_connect, 5s);
  EXPECT_THAT(c->upstreams, IsEmpty());
  EXPECT_THAT(c->routes, IsEmpty());
  EXPECT_EQ(c->log.level, "info");
}

TEST(ConfigLoad, ReadsEveryOptionalSection) {
  const std::string key = source_path("config/gateway.yaml");  // any readable file
  auto c = load_ok(
      "listen:\n"
      "  address: \"[::1]:8443\"\n"
      "  tls:\n"
      "    cert_file: " + key + "\n"
      "    key_file: " + key + "\n"
      "  trusted_proxies: [10.0.0.0/8, \"::1/128\", 192.168.1.1]\n"
      "admin:\n"
      "  address: 0.0.0.0:9000\n"
      "workers: 256\n"
      "limits:\n"
      "  max_header_bytes: 1024\n"
      "  max_body_bytes: 0\n"
      "  max_connections: 1KB\n"
      "  max_requests_per_connection: 1\n"
      "  max_response_header_bytes: 2KiB\n"
      "  min_body_rate: 1KiB\n"
      "timeouts:\n"
      "  header_read: 250ms\n"
      "  keepalive_idle: 5m\n"
      "  body_read: 1h\n"
      "  upstream_connect: 1s\n"
      "  upstream_response: 2s\n"
      "  upstream_idle: 1d\n"
      "  drain: 3s\n"
      "  tls_handshake: 4s\n"
      "  websocket_idle: 90s\n"
      "upstreams:\n"
      "  - name: secure\n"
      "    url: https://backend.internal/\n"
      "    host_header: backend.example.com\n"
      "    max_connections: 8\n"
      "    max_idle: 0\n"
      "    tls:\n"
      "      ca_file: " + key + "\n"
      "      server_name: backend.example.com\n"
      "      verify: false\n"
      "routes:\n"
      "  - name: any\n"
      "    match:\n"
      "      host: \"*.Example.COM\"\n"
      "      path: {exact: /healthz}\n"
      "      methods: [GET]\n"
      "    upstream: secure\n"
      "    auth: none\n"
      "  - name: default\n"
      "    upstream: secure\n"
      "log:\n"
      "  level: debug\n"
      "  access: /var/log/authgate/access.log\n");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->listen.address.host, "::1");
  EXPECT_EQ(c->listen.address.port, 8443);
  ASSERT_TRUE(c->listen.tls.has_value());
  EXPECT_EQ(c->listen.tls->cert_file, key);
  EXPECT_EQ(c->listen.tls->key_file, key);
  ASSERT_EQ(c->listen.trusted_proxies.size(), 3u);
  EXPECT_EQ(c->listen.trusted_proxies[0].text, "10.0.0.0/8");
  EXPECT_EQ(c->listen.trusted_proxies[1].text, "::1/128");
  EXPECT_EQ(c->listen.trusted_proxies[2].text, "192.168.1.1");
  EXPECT_EQ(c->admin.address.host, "0.0.0.0");
  EXPECT_EQ(c->admin.address.port, 9000);
  EXPECT_EQ(c->workers, 256u);
  EXPECT_EQ(c->limits.max_header_bytes, 1024u);
  EXPECT_EQ(c->limits.max_body_bytes, 0u);
  EXPECT_EQ(c->limits.max_connections, 1000u);
  EXPECT_EQ(c->limits.max_requests_per_connection, 1u);
  EXPECT_EQ(c->limits.max_response_header_bytes, 2048u);
  EXPECT_EQ(c->limits.min_body_rate, 1024u);
  EXPECT_EQ(c->timeouts.header_read, 250ms);
  EXPECT_EQ(c->timeouts.keepalive_idle, 5min);
  EXPECT_EQ(c->timeouts.body_read, 1h);
  EXPECT_EQ(c->timeouts.upstream_connect, 1s);
  EXPECT_EQ(c->timeouts.upstream_response, 2s);
  EXPECT_EQ(c->timeouts.upstream_idle, 24h);
  EXPECT_EQ(c->timeouts.drain, 3s);
  EXPECT_EQ(c->timeouts.tls_handshake, 4s);
  EXPECT_EQ(c->timeouts.websocket_idle, 90s);
  ASSERT_EQ(c->upstreams.size(), 1u);
  const auto& u = c->upstreams[0];
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "backend.internal");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.host_header, "backend.example.com");
  EXPECT_EQ(u.max_connections, 8u);
  EXPECT_EQ(u.max_idle, 0u);
  EXPECT_EQ(u.tls.ca_file, key);
  EXPECT_EQ(u.tls.server_name, "backend.example.com");
  EXPECT_FALSE(u.tls.verify);
  ASSERT_EQ(c->routes.size(), 2u);
  EXPECT_EQ(c->routes[0].match.host, "*.example.com");  // lower-cased at load
  EXPECT_EQ(c->routes[0].match.path_kind, cfg::PathMatch::exact);
  EXPECT_EQ(c->routes[0].match.path, "/healthz");
  EXPECT_THAT(c->routes[0].match.methods, ElementsAre("GET"));
  // A route without `match` matches everything.
  EXPECT_EQ(c->routes[1].match.host, "");
  EXPECT_EQ(c->routes[1].match.path_kind, cfg::PathMatch::prefix);
  EXPECT_EQ(c->routes[1].match.path, "/");
  EXPECT_THAT(c->routes[1].match.methods, IsEmpty());
  EXPECT_EQ(c->log.level, "debug");
  EXPECT_EQ(c->log.access, "/var/log/authgate/access.log");
}

TEST(ConfigLoad, MissingFileIsReported) {
  try {
    cfg::load_file("/nonexistent/authgate/gateway.yaml");
    FAIL() << "expected ConfigError";
  } catch (const cfg::ConfigError& e) {
    EXPECT_THAT(e.errors(), ElementsAre("/nonexistent/authgate/gateway.yaml:0:0: (file): cannot open"));
  }
}

TEST(ConfigLoad, ErrorWhatIsTheFirstLine) {
  try {
    cfg::load_string("workers: many\nbogus: 1\n", "t.yaml");
    FAIL() << "expected ConfigError";
  } catch (const cfg::ConfigError& e) {
    ASSERT_EQ(e.errors().size(), 2u);
    EXPECT_EQ(std::string(e.what()), e.errors().front());
  }
}

// ---------------------------------------------------------------------------
// One test per kind of error, each with the exact text.

TEST(ConfigLoad, RoutingCaseInsensitivePaths) {
  auto d = load_ok("{}\n");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->routing.case_insensitive_paths) << "byte-exact by default";
  auto c = load_ok("routing:\n  case_insensitive_paths: true\n");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->routing.case_insensitive_paths);
}

TEST(ConfigLoad, Http2DefaultsAndOverrides) {
  auto d = load_ok("{}\n");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->listen.h2c) << "h2c is opt-in";
  EXPECT_EQ(d->http2.max_concurrent_streams, 100u);
  EXPECT_EQ(d->http2.max_header_list_bytes, 16u * 1024);
  EXPECT_EQ(d->http2.connection_window_bytes, 1024u * 1024);
  EXPECT_EQ(d->http2.stream_window_bytes, 256u * 1024);
  EXPECT_EQ(d->http2.max_resets_per_connection, 200u);
  EXPECT_EQ(d->http2.max_control_frames_per_second, 1000u);
  EXPECT_EQ(d->http2.max_continuations, 8u);
  EXPECT_EQ(d->http2.idle_timeout, 60s);
  auto c = load_ok("listen:\n  h2c: true\nhttp2:\n  max_concurrent_streams: 7\n  stream_window_bytes: 64KiB\n"
                   "  idle_timeout: 5s\n  max_resets_per_connection: 10\n");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->listen.h2c);
  EXPECT_EQ(c->http2.max_concurrent_streams, 7u);
  EXPECT_EQ(c->http2.stream_window_bytes, 64u * 1024);
  EXPECT_EQ(c->http2.idle_timeout, 5s);
  EXPECT_EQ(c->http2.max_resets_per_connection, 10u);
}

TEST(ConfigErrors, Http2KeysAndValuesAreChecked) {
  EXPECT_THAT(load_errors("listen:\n  h2c: yes\n"),
              ElementsAre("t.yaml:2:8: listen.h2c: must be true or false, not \"yes\""));
  EXPECT_THAT(load_errors("http2:\n  max_concurrent_streams: 0\n"),
              ElementsAre("t.yaml:2:27: http2.max_concurrent_streams: must be at least 1"));
  EXPECT_THAT(load_errors("http2:\n  stream_window_bytes: 4GiB\n"),
              ElementsAre("t.yaml:2:24: http2.stream_window_bytes: must be at most 2147483647"));
  EXPECT_THAT(load_errors("http2:\n  max_streams: 1\n"),
              ElementsAre(::testing::StartsWith("t.yaml:2:3: http2.max_streams: unknown key")));
}

TEST(ConfigErrors, RoutingKeysAndValuesAreChecked) {
  EXPECT_THAT(load_errors("routing:\n  case_insensitive_paths: yes\n"),
              ElementsAre("t.yaml:2:27: routing.case_insensitive_paths: must be true or false, not \"yes\""));
  EXPECT_THAT(load_errors("routing:\n  case_insensitive: true\n"),
              ElementsAre("t.yaml:2:3: routing.case_insensitive: unknown key (expected one of: case_insensitive_paths)"));
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  EXPECT_THAT(load_errors("listen:\n"                      // 1
                          "  address: 127.0.0.1:8080\n"    // 2
                          "listn:\n"                       // 3  key at col 1
                          "  address: 127.0.0.1:8081\n"),  // 4
              ElementsAre("t.yaml:3:1: listn: unknown key (expected one of: listen, admin, "
                          "workers, limits, timeouts, http2, issuers, upstreams, routes, routing, resources, identity, headers, sessions, redis, revocation, dpop, log)"));
}

TEST(ConfigLoad, HeadersDefaultsAndOverrides) {
  auto d = load_ok("{}\n");
  ASSERT_TRUE(d);
  EXPECT_THAT(d->headers.strip_rewrite_headers,
              ElementsAre("X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method",
                          "X-Method-Override"));
  EXPECT_TRUE(d->headers.trusted_forwarded_headers.empty());
  auto c = load_ok("headers:\n"
                   "  strip_rewrite_headers: [X-Original-URL, X-My-Override]\n"
                   "  trusted_forwarded_headers: [X-Forwarded-Port, x-forwarded-prefix, Forwarded]\n");
  ASSERT_TRUE(c);
  EXPECT_THAT(c->headers.strip_rewrite_headers, ElementsAre("X-Original-URL", "X-My-Override"));
  EXPECT_THAT(c->headers.trusted_forwarded_headers,
              ElementsAre("X-Forwarded-Port", "x-forwarded-prefix", "Forwarded"));
  auto off = load_ok("headers: {strip_rewrite_headers: []}\n");
  ASSERT_TRUE(off);
  EXPECT_TRUE(off->headers.strip_rewrite_headers.empty());
}

TEST(ConfigErrors, HeadersListsNameTheBadItem) {
  EXPECT_THAT(load_errors("headers:\n"                                          // 1
                          "  strip_rewrite_headers: [X-Original-URL, \"a b\", host]\n"  // 2
                          "  trusted_forwarded_headers: [X-Forwarded-Port, X-Email, X_Forwarded_Prefix]\n"  // 3
                          "  strip_everything: true\n"),                         // 4
              ElementsAre("t.yaml:4:3: headers.strip_everything: unknown key (expected one of: "
                          "strip_rewrite_headers, trusted_forwarded_headers)",
                          "t.yaml:2:43: headers.strip_rewrite_headers[1]: not a header name",
                          "t.yaml:2:50: headers.strip_rewrite_headers[2]: Host and the framing headers "
                          "cannot be stripped (the upstream needs them)",
                          "t.yaml:3:49: headers.trusted_forwarded_headers[1]: must be an X-Forwarded-* name "
                          "or Forwarded (other headers pass through unchanged)",
                          "t.yaml:3:58: headers.trusted_forwarded_headers[2]: spellings with \"_\" are always "
                          "removed (write the name with \"-\")"));
}

TEST(ConfigUpstreamProtocol, Http1H2AndH2cWithTheirSchemes) {
  const auto c = load_ok(
      "upstreams:\n"
      "  - {name: a, url: http://127.0.0.1:9000}\n"
      "  - {name: b, url: https://grpc.internal:8443, protocol: h2, h2_connections: 4}\n"
      "  - {name: c, url: http://127.0.0.1:9001, protocol: h2c}\n"
      "  - {name: d, url: http://127.0.0.1:9002, protocol: http1}\n"
      "routes:\n"
      "  - {name: r, upstream: a}\n");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->upstreams[0].protocol, cfg::UpstreamProtocol::http1);
  EXPECT_EQ(c->upstreams[1].protocol, cfg::UpstreamProtocol::h2);
  EXPECT_EQ(c->upstreams[1].h2_connections, 4u);
  EXPECT_EQ(c->upstreams[2].protocol, cfg::UpstreamProtocol::h2c);
  EXPECT_EQ(c->upstreams[3].protocol, cfg::UpstreamProtocol::http1);
}

TEST(ConfigUpstreamProtocol, UnknownProtocolIsRefused) {
  EXPECT_THAT(load_errors(with_orders("    protocol: http3\n")),  // 4
              ElementsAre("t.yaml:4:15: upstreams[0].protocol: must be http1, h2 or h2c, not \"http3\""));
}

TEST(ConfigUpstreamProtocol, H2NeedsHttpsAndH2cNeedsHttp) {
  EXPECT_THAT(load_errors(with_orders("    protocol: h2\n")),  // 4
              ElementsAre("t.yaml:4:15: upstreams[0].protocol: h2 is HTTP/2 over TLS: it needs an https:// url "
                          "(h2c is cleartext)"));
  EXPECT_THAT(load_errors("upstreams:\n"
                          "  - name: orders\n"
                          "    url: https://127.0.0.1:9000\n"
                          "    protocol: h2c\n"),  // 4
              ElementsAre("t.yaml:4:15: upstreams[0].protocol: h2c is cleartext HTTP/2: it needs an http:// url "
                          "(h2 is over TLS)"));
}

TEST(ConfigUpstreamProtocol, ZeroH2ConnectionsIsRefused) {
  const auto errors = load_errors(with_orders("    protocol: h2c\n    h2_connections: 0\n"));  // 5
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("t.yaml:5:21: upstreams[0].h2_connections:"));
}

TEST(ConfigErrors, UnknownNestedKey) {
  EXPECT_THAT(load_errors("timeouts:\n"               // 1
                          "  header_read: 10s\n"      // 2
                          "  keepalive_idel: 60s\n"), // 3  key at col 3
              ElementsAre("t.yaml:3:3: timeouts.keepalive_idel: unknown key (expected one of: "
                          "header_read, keepalive_idle, body_read, upstream_connect, "
                          "upstream_response, upstream_idle, drain, tls_handshake, websocket_idle, websocket_max_lifetime, linger, drain_force_close, retry_after, idp_request)"));
  // Inside a list item: "    max_conections" -> key at col 5.
  EXPECT_THAT(load_errors(with_orders("    max_conections: 10\n")),  // 4
              ElementsAre("t.yaml:4:5: upstreams[0].max_conections: unknown key (expected one "
                          "of: name, url, protocol, host_header, max_connections, max_idle, h2_connections, tls)"));
  // Three levels down: "      methds" -> key at col 7.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                    // 4
                                      "  - name: r\n"                // 5
                                      "    match:\n"                 // 6
                                      "      path: {prefix: /o}\n"   // 7
                                      "      methds: [GET]\n"        // 8
                                      "    upstream: orders\n")),    // 9
              ElementsAre("t.yaml:8:7: routes[0].match.methds: unknown key (expected one of: "
                          "host, path, methods)"));
}

TEST(ConfigErrors, UnknownUpstreamReference) {
  // Line 12: "    upstream: ordrs" -> 4 spaces, "upstream" cols 5-12, ':' 13, value at 15.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                   // 4
                                      "  - name: a\n"               // 5
                                      "    upstream: orders\n"      // 6
                                      "  - name: b\n"               // 7
                                      "    upstream: orders\n"      // 8
                                      "  - name: c\n"               // 9
                                      "    match:\n"                // 10
                                      "      path: {prefix: /c}\n"  // 11
                                      "    upstream: ordrs\n")),    // 12
              ElementsAre("t.yaml:12:15: routes[2].upstream: unknown upstream \"ordrs\""));
}

TEST(ConfigErrors, DuplicateRouteName) {
  // Line 7: "  - name: a" -> '-' col 3, "name" cols 5-8, ':' 9, value at 11.
  EXPECT_THAT(load_errors(with_orders("routes:\n"               // 4
                                      "  - name: a\n"           // 5
                                      "    upstream: orders\n"  // 6
                                      "  - name: a\n"           // 7
                                      "    upstream: orders\n")),  // 8
              ElementsAre("t.yaml:7:11: routes[1].name: duplicate route name \"a\""));
}

TEST(ConfigErrors, DuplicateUpstreamName) {
  EXPECT_THAT(load_errors(with_orders("  - name: orders\n"                 // 4  value at col 11
                                      "    url: http://127.0.0.1:9001\n")),  // 5
              ElementsAre("t.yaml:4:11: upstreams[1].name: duplicate upstream name \"orders\""));
}

TEST(ConfigErrors, BadDuration) {
  // "  drain: 20sec" -> "drain" cols 3-7, ':' 8, value at 10.
  EXPECT_THAT(load_errors("timeouts:\n"            // 1
                          "  header_read: 10s\n"   // 2
                          "  drain: 20sec\n"),     // 3
              ElementsAre("t.yaml:3:10: timeouts.drain: invalid duration \"20sec\" (write e.g. "
                          "250ms, 30s, 5m)"));
  // "  upstream_connect: 0s" -> key cols 3-18, ':' 19, value at 21.
  EXPECT_THAT(load_errors("timeouts:\n"                // 1
                          "  upstream_connect: 0s\n"), // 2
              ElementsAre("t.yaml:2:21: timeouts.upstream_connect: must be greater than zero"));
}

TEST(ConfigErrors, BadSize) {
  // "  max_body_bytes: 10mb" -> key cols 3-16, ':' 17, value at 19.
  EXPECT_THAT(load_errors("limits:\n"                 // 1
                          "  max_body_bytes: 10mb\n"),  // 2
              ElementsAre("t.yaml:2:19: limits.max_body_bytes: invalid size \"10mb\" (write e.g. "
                          "512, 16KiB, 10MiB)"));
  // "    max_idle: -1" -> key cols 5-12, ':' 13, value at 15.
  EXPECT_THAT(load_errors(with_orders("    max_idle: -1\n")),  // 4
              ElementsAre("t.yaml:4:15: upstreams[0].max_idle: invalid size \"-1\" (write e.g. "
                          "512, 16KiB, 10MiB)"));
}

TEST(ConfigErrors, SizeBelowMinimum) {
  // "  max_header_bytes: 512" -> key cols 3-18, ':' 19, value at 21.
  EXPECT_THAT(load_errors("limits:\n"                   // 1
                          "  max_header_bytes: 512\n"), // 2
              ElementsAre("t.yaml:2:21: limits.max_header_bytes: must be at least 1024"));
  // "    max_connections: 0" -> key cols 5-19, ':' 20, value at 22.
  EXPECT_THAT(load_errors(with_orders("    max_connections: 0\n")),  // 4
              ElementsAre("t.yaml:4:22: upstreams[0].max_connections: must be at least 1"));
  EXPECT_THAT(load_errors("limits:\n"                                // 1
                          "  max_connections: 0\n"                   // 2  value at 20
                          "  max_requests_per_connection: 0\n"       // 3  value at 32
                          "  max_response_header_bytes: 1023\n"),    // 4  value at 30
              ElementsAre("t.yaml:2:20: limits.max_connections: must be at least 1",
                          "t.yaml:3:32: limits.max_requests_per_connection: must be at least 1",
                          "t.yaml:4:30: limits.max_response_header_bytes: must be at least 1024"));
}

TEST(ConfigErrors, BadEndpoint) {
  // "  address: 8080" -> "address" cols 3-9, ':' 10, value at 12.
  EXPECT_THAT(load_errors("listen:\n"          // 1
                          "  address: 8080\n"), // 2
              ElementsAre("t.yaml:2:12: listen.address: must be host:port, not \"8080\""));
  EXPECT_THAT(load_errors("admin:\n"                      // 1
                          "  address: 127.0.0.1:65536\n"), // 2
              ElementsAre("t.yaml:2:12: admin.address: must be host:port, not \"127.0.0.1:65536\""));
}

TEST(ConfigErrors, EndpointTable) {
  struct Good {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const Good& g : {Good{"0.0.0.0:443", "0.0.0.0", 443}, Good{"localhost:0", "localhost", 0},
                        Good{"[::1]:8080", "::1", 8080}, Good{"[::]:65535", "::", 65535},
                        Good{"gw.example.com:80", "gw.example.com", 80}}) {
    SCOPED_TRACE(g.text);
    auto c = load_ok(std::string("listen:\n  address: \"") + g.text + "\"\n");
    if (!c) continue;  // load_ok reported it
    EXPECT_EQ(c->listen.address.host, g.host);
    EXPECT_EQ(c->listen.address.port, g.port);
  }
  // The quoted value starts at col 12 (the mark is the opening quote).
  for (const char* bad : {"8080", ":8080", "host:", "host:http", "host:65536", "host:-1",
                          "host:80x", "[::1]", "[::1]8080", "[::1:8080", "[]:80", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(load_errors(std::string("listen:\n  address: \"") + bad + "\"\n"),
                ElementsAre(std::string("t.yaml:2:12: listen.address: must be host:port, not \"") +
                            bad + "\""));
  }
}

TEST(ConfigErrors, BadUrl) {
  // "    url: http..." -> "url" cols 5-7, ':' 8, value at 10.
  EXPECT_THAT(load_errors("upstreams:\n"                          // 1
                          "  - name: orders\n"                    // 2
                          "    url: http://127.0.0.1:9000/api\n"), // 3
              ElementsAre("t.yaml:3:10: upstreams[0].url: must be http://host[:port] or "
                          "https://host[:port] without a path, not \"http://127.0.0.1:9000/api\""));
}

namespace {

std::string url_doc(std::string_view url) {
  return "upstreams:\n  - name: u\n    url: \"" + std::string(url) + "\"\n";
}

// The quoted url value starts at col 10 of line 3.
std::string url_error(std::string_view url) {
  return "t.yaml:3:10: upstreams[0].url: must be http://host[:port] or https://host[:port] "
         "without a path, not \"" + std::string(url) + "\"";
}

struct GoodUrl {
  const char* url;
  const char* scheme;
  const char* host;
  std::uint16_t port;
};

void expect_url_accepted(const GoodUrl& g) {
  SCOPED_TRACE(g.url);
  auto c = load_ok(url_doc(g.url));
  if (!c) return;  // load_ok reported it
  ASSERT_EQ(c->upstreams.size(), 1u);
  EXPECT_EQ(c->upstreams[0].scheme, g.scheme);
  EXPECT_EQ(c->upstreams[0].host, g.host);
  EXPECT_EQ(c->upstreams[0].port, g.port);
}

}  // namespace

TEST(ConfigErrors, UrlTableAccepted) {
  for (const GoodUrl& g : {GoodUrl{"http://backend", "http", "backend", 80},
                           GoodUrl{"https://backend", "https", "backend", 443},
                           GoodUrl{"http://backend:8080", "http", "backend", 8080},
                           GoodUrl{"https://backend:8443/", "https", "backend", 8443},
                           GoodUrl{"http://10.1.2.3:9000", "http", "10.1.2.3", 9000},
                           GoodUrl{"http://[::1]:9000", "http", "::1", 9000}})
    expect_url_accepted(g);
}

TEST(ConfigErrors, UrlTableRejected) {
  for (const char* bad :
       {"ftp://backend", "backend:9000", "HTTP://backend", "http://", "http:///", "http://:80",
        "http://backend:", "http://backend:99999", "http://backend:http", "http://user@backend",
        "http://backend/api", "http://backend//", "http://[::1]:", "http://[::1]x"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(load_errors(url_doc(bad)), ElementsAre(url_error(bad)));
  }
}

// "[::1]" without a port gets the scheme's default port, like a name does
// (an earlier parse_url rejected it).
TEST(ConfigErrors, UrlIpv6LiteralWithoutPortGetsTheDefaultPort) {
  expect_url_accepted(GoodUrl{"https://[::1]", "https", "::1", 443});
  expect_url_accepted(GoodUrl{"http://[fd00::7]/", "http", "fd00::7", 80});
}

// Not http://host[:port]: a query, a fragment or a space must not end up in
// Upstream::host to fail only at connect time (an earlier parse_url took
// anything without '/', '@' or ':' as the host).
TEST(ConfigErrors, UrlWithQueryFragmentOrSpaceIsRejected) {
  for (const char* bad : {"http://backend?x=1", "http://backend#top", "http://back end",
                          "https://backend:8443?x"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(load_errors(url_doc(bad)), ElementsAre(url_error(bad)));
  }
}

TEST(ConfigErrors, BadRegex) {
  const std::string pattern = "^/orders/([0-9]+$";
  std::string why;
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    why = e.what();
  }
  ASSERT_FALSE(why.empty()) << "the test pattern must be an invalid regex";
  // "        regex: ^/orders..." -> 8 spaces, "regex" cols 9-13, ':' 14, value at 16.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                              // 4
                                      "  - name: r\n"                          // 5
                                      "    match:\n"                           // 6
                                      "      path:\n"                          // 7
                                      "        regex: " + pattern + "\n"       // 8
                                      "    upstream: orders\n")),              // 9
              ElementsAre("t.yaml:8:16: routes[0].match.path.regex: invalid regex: " + why));
}

TEST(ConfigErrors, NonCanonicalRoutePath) {
  // "      path: {prefix: /api//v1}" -> '{' col 13, "prefix" cols 14-19, ':' 20, value at 22.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                        // 4
                                      "  - name: r\n"                    // 5
                                      "    match:\n"                     // 6
                                      "      path: {prefix: /api//v1}\n" // 7
                                      "    upstream: orders\n")),        // 8
              ElementsAre("t.yaml:7:22: routes[0].match.path.prefix: must be written in canonical "
                          "form (no //, dot-segments, %-escapes, ?, #, \\, spaces or control bytes)"));
  // "      path: {exact: api}" -> "exact" cols 14-18, ':' 19, value at 21.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                 // 4
                                      "  - name: r\n"             // 5
                                      "    match:\n"              // 6
                                      "      path: {exact: api}\n"  // 7
                                      "    upstream: orders\n")), // 8
              ElementsAre("t.yaml:7:21: routes[0].match.path.exact: must start with \"/\""));
}

TEST(ConfigErrors, RoutePathTable) {
  auto doc = [](std::string_view path) {
    return with_orders(std::string("routes:\n  - name: r\n    match:\n      path: {prefix: \"") +
                       std::string(path) + "\"}\n    upstream: orders\n");
  };
  for (const char* good : {"/", "/api", "/api/", "/a.b/..c/...", "/~user", "/a-b_c"}) {
    SCOPED_TRACE(good);
    auto c = load_ok(doc(good));
    if (!c) continue;  // load_ok reported it
    EXPECT_EQ(c->routes.at(0).match.path, good);
  }
  for (const char* bad : {"//", "/api//v1", "/a/./b", "/a/../b", "/a/..", "/a/.", "/.", "/..",
                          "/a%2Fb", "/%7euser"}) {
    SCOPED_TRACE(bad);
    // Value quoted: the mark is the opening quote at col 22.
    EXPECT_THAT(load_errors(doc(bad)),
                ElementsAre("t.yaml:7:22: routes[0].match.path.prefix: must be written in "
                            "canonical form (no //, dot-segments, %-escapes, ?, #, \\, spaces or control bytes)"));
  }
  EXPECT_THAT(load_errors(doc("")),
              ElementsAre("t.yaml:7:22: routes[0].match.path.prefix: must start with \"/\""));
}

TEST(ConfigErrors, RoutePathNeedsExactlyOneKind) {
  // The flow map starts at '{', col 13.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                               // 4
                                      "  - name: r\n"                           // 5
                                      "    match:\n"                            // 6
                                      "      path: {prefix: /a, exact: /a}\n"   // 7
                                      "    upstream: orders\n")),               // 8
              ElementsAre("t.yaml:7:13: routes[0].match.path: needs exactly one of exact, prefix "
                          "or regex"));
}

TEST(ConfigErrors, BadMethod) {
  // "      methods: [GET, POST/PUT]" -> '[' col 16, "GET" 17-19, ',' 20, "POST/PUT" at 22.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                          // 4
                                      "  - name: r\n"                      // 5
                                      "    match:\n"                       // 6
                                      "      methods: [GET, POST/PUT]\n"   // 7
                                      "    upstream: orders\n")),          // 8
              ElementsAre("t.yaml:7:22: routes[0].match.methods[1]: not an HTTP method: "
                          "\"POST/PUT\""));
  // An empty method: the quote at col 17.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                 // 4
                                      "  - name: r\n"             // 5
                                      "    match:\n"              // 6
                                      "      methods: [\"\"]\n"   // 7
                                      "    upstream: orders\n")), // 8
              ElementsAre("t.yaml:7:17: routes[0].match.methods[0]: not an HTTP method: \"\""));
  // "methods" must be a list: the scalar starts at col 16.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                 // 4
                                      "  - name: r\n"             // 5
                                      "    match:\n"              // 6
                                      "      methods: GET\n"      // 7
                                      "    upstream: orders\n")), // 8
              ElementsAre("t.yaml:7:16: routes[0].match.methods: must be a list"));
}

TEST(ConfigErrors, BadWildcardHost) {
  // "      host: api.*.example.com" -> "host" cols 7-10, ':' 11, value at 13.
  EXPECT_THAT(load_errors(with_orders("routes:\n"                         // 4
                                      "  - name: r\n"                     // 5
                                      "    match:\n"                      // 6
                                      "      host: api.*.example.com\n"   // 7
                                      "    upstream: orders\n")),         // 8
              ElementsAre("t.yaml:7:13: routes[0].match.host: a wildcard must be written "
                          "\"*.suffix\""));
  for (const char* bad : {"*example.com", "*.", "*", "**.example.com", "*.a*.com", "a.*",
                          "example.*"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(load_errors(with_orders(std::string("routes:\n  - name: r\n    match:\n"
                                                    "      host: \"") +
                                        bad + "\"\n    upstream: orders\n")),
                ElementsAre("t.yaml:7:13: routes[0].match.host: a wildcard must be written "
                            "\"*.suffix\""));
  }
  for (const char* good : {"*.example.com", "*.a", "API.example.com"}) {
    SCOPED_TRACE(good);
    EXPECT_THAT(load_errors(with_orders(std::string("routes:\n  - name: r\n    match:\n"
                                                    "      host: \"") +
                                        good + "\"\n    upstream: orders\n")),
                IsEmpty());
  }
}

TEST(ConfigErrors, WorkersOutOfRange) {
  // "workers: 300" -> value at col 10.
  EXPECT_THAT(load_errors("workers: 300\n"),
              ElementsAre("t.yaml:1:10: workers: must be a whole number from 0 (one per core) to "
                          "256"));
  for (const char* bad : {"257", "-1", "4KiB", "2.5", "four", "", "1e2", "99999999999999999999"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(load_errors(std::string("workers: \"") + bad + "\"\n"),
                ElementsAre("t.yaml:1:10: workers: must be a whole number from 0 (one per core) "
                            "to 256"));
  }
  for (unsigned good : {0u, 1u, 256u}) {
    auto c = load_ok("workers: " + std::to_string(good) + "\n");
    if (!c) continue;  // load_ok reported it
    EXPECT_EQ(c->workers, good);
  }
}

TEST(ConfigErrors, BadLogLevel) {
  // "  level: verbose" -> "level" cols 3-7, ':' 8, value at 10.
  EXPECT_THAT(load_errors("log:\n"               // 1
                          "  level: verbose\n"), // 2
              ElementsAre("t.yaml:2:10: log.level: unknown level \"verbose\""));
  EXPECT_THAT(load_errors("log:\n  level: INFO\n"),
              ElementsAre("t.yaml:2:10: log.level: unknown level \"INFO\""));
  for (const char* good : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    SCOPED_TRACE(good);
    auto c = load_ok(std::string("log:\n  level: ") + good + "\n");
    if (!c) continue;  // load_ok reported it
    EXPECT_EQ(c->log.level, good);
  }
  // "  access: \"\"" -> value (the quote) at col 11.
  EXPECT_THAT(load_errors("log:\n  access: \"\"\n"),
              ElementsAre("t.yaml:2:11: log.access: must not be empty"));
}

TEST(ConfigErrors, WrongNodeType) {
  // "listen: 127.0.0.1:8080" -> a scalar at col 9 where a mapping belongs.
  EXPECT_THAT(load_errors("listen: 127.0.0.1:8080\n"),
              ElementsAre("t.yaml:1:9: listen: must be a mapping"));
  // A mapping where a list belongs: the block map starts at its first key.
  EXPECT_THAT(load_errors("upstreams:\n"          // 1
                          "  name: orders\n"),    // 2  'n' at col 3
              ElementsAre("t.yaml:2:3: upstreams: must be a list"));
  EXPECT_THAT(load_errors("routes: {}\n"), ElementsAre("t.yaml:1:9: routes: must be a list"));
  // A list where a scalar belongs: '[' at col 19.
  EXPECT_THAT(load_errors("limits:\n"                      // 1
                          "  max_body_bytes: [1, 2]\n"),   // 2
              ElementsAre("t.yaml:2:19: limits.max_body_bytes: must be a scalar"));
  // A scalar where a list of CIDRs belongs: value at col 20.
  EXPECT_THAT(load_errors("listen:\n"                            // 1
                          "  trusted_proxies: 10.0.0.0/8\n"),    // 2
              ElementsAre("t.yaml:2:20: listen.trusted_proxies: must be a list of CIDRs"));
  // A list item that is not a mapping: "  - orders" -> value at col 5.
  EXPECT_THAT(load_errors("upstreams:\n"    // 1
                          "  - orders\n"),  // 2
              ElementsAre("t.yaml:2:5: upstreams[0]: must be a mapping"));
  // The document itself.
  EXPECT_THAT(load_errors("- a\n- b\n"),
              ElementsAre("t.yaml:1:1: (document): the top level must be a mapping"));
  // A boolean that is not true/false: "      verify: yes" -> value at col 15.
  EXPECT_THAT(load_errors("upstreams:\n"                              // 1
                          "  - name: b\n"                             // 2
                          "    url: https://billing.internal:8443\n"  // 3
                          "    tls:\n"                                // 4
                          "      verify: yes\n"),                     // 5
              ElementsAre("t.yaml:5:15: upstreams[0].tls.verify: must be true or false, not "
                          "\"yes\""));
}

TEST(ConfigErrors, MissingRequiredKey) {
  // A block mapping in a list item starts at its first key, col 5.
  EXPECT_THAT(load_errors("upstreams:\n"                        // 1
                          "  - name: orders\n"                  // 2
                          "  - url: http://127.0.0.1:9001\n"    // 3
                          "routes:\n"                           // 4
                          "  - name: r\n"),                     // 5
              ElementsAre("t.yaml:2:5: upstreams[0].url: is required",
                          "t.yaml:3:5: upstreams[1].name: is required",
                          "t.yaml:5:5: routes[0].upstream: is required"));
  EXPECT_THAT(load_errors(with_orders("routes:\n"                 // 4
                                      "  - upstream: orders\n")), // 5
              ElementsAre("t.yaml:5:5: routes[0].name: is required"));
  // listen.tls without key_file: reported at the tls mapping ("    cert_file" col 5).
  const std::string readable = source_path("config/gateway.yaml");
  EXPECT_THAT(load_errors("listen:\n"                          // 1
                          "  tls:\n"                           // 2
                          "    cert_file: " + readable + "\n"),  // 3
              ElementsAre("t.yaml:3:5: listen.tls.key_file: is required"));
}

TEST(ConfigErrors, BadCidrInTrustedProxies) {
  // "  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]" -> '[' col 20, first item 21-30,
  // ',' 31, second item at 33.
  EXPECT_THAT(load_errors("listen:\n"                                          // 1
                          "  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33]\n"),   // 2
              ElementsAre("t.yaml:2:33: listen.trusted_proxies[1]: not an IP network: "
                          "\"10.0.0.0/33\""));
  for (const char* bad : {"10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0/8", "10.0.0.0/8/8",
                          "10.0.0.0/-1", "10.0.0.0/ 8", "example.com", "256.0.0.0/8", "", "/8"}) {
    SCOPED_TRACE(bad);
    // '"' of the first item at col 21.
    EXPECT_THAT(load_errors(std::string("listen:\n  trusted_proxies: [\"") + bad + "\"]\n"),
                ElementsAre(std::string("t.yaml:2:21: listen.trusted_proxies[0]: not an IP "
                                        "network: \"") +
                            bad + "\""));
  }
  for (const char* good : {"10.0.0.0/8", "192.168.1.1", "0.0.0.0/0", "10.0.0.1/32", "::1",
                           "::1/128", "fd00::/8", "::/0"}) {
    SCOPED_TRACE(good);
    auto c = load_ok(std::string("listen:\n  trusted_proxies: [\"") + good + "\"]\n");
    if (!c) continue;  // load_ok reported it
    if (c->listen.trusted_proxies.size() != 1u) { ADD_FAILURE() << "proxies: " << c->listen.trusted_proxies.size(); continue; }
    EXPECT_EQ(c->listen.trusted_proxies[0].text, good);
  }
}

TEST(ConfigErrors, UnreadableTlsFile) {
  const std::string readable = source_path("config/gateway.yaml");
  // "    cert_file: /nonexistent..." -> "cert_file" cols 5-13, ':' 14, value at 16.
  EXPECT_THAT(load_errors("listen:\n"                                    // 1
                          "  tls:\n"                                     // 2
                          "    cert_file: /nonexistent/authgate/cert.pem\n"  // 3
                          "    key_file: " + readable + "\n"),           // 4
              ElementsAre("t.yaml:3:16: listen.tls.cert_file: cannot read file "
                          "\"/nonexistent/authgate/cert.pem\""));
  // "    key_file: /nonexistent..." -> value at col 15.
  EXPECT_THAT(load_errors("listen:\n"                                    // 1
                          "  tls:\n"                                     // 2
                          "    cert_file: " + readable + "\n"            // 3
                          "    key_file: /nonexistent/authgate/key.pem\n"),  // 4
              ElementsAre("t.yaml:4:15: listen.tls.key_file: cannot read file "
                          "\"/nonexistent/authgate/key.pem\""));
  // "      ca_file: /nonexistent..." -> "ca_file" cols 7-13, ':' 14, value at 16.
  EXPECT_THAT(load_errors("upstreams:\n"                                  // 1
                          "  - name: billing\n"                           // 2
                          "    url: https://billing.internal:8443\n"      // 3
                          "    tls:\n"                                    // 4
                          "      ca_file: /nonexistent/authgate/ca.pem\n"),  // 5
              ElementsAre("t.yaml:5:16: upstreams[0].tls.ca_file: cannot read file "
                          "\"/nonexistent/authgate/ca.pem\""));
}

TEST(ConfigErrors, UpstreamTlsOnPlainHttp) {
  // The tls block mapping starts at "verify", col 7 of line 5.
  EXPECT_THAT(load_errors(with_orders("    tls:\n"               // 4
                                      "      verify: false\n")), // 5
              ElementsAre("t.yaml:5:7: upstreams[0].tls: only applies to https:// upstreams"));
}

TEST(ConfigErrors, UnknownAuthMode) {
  // "    auth: cookie" -> "auth" cols 5-8, ':' 9, value at 11.
  EXPECT_THAT(load_errors(with_orders("routes:\n"               // 4
                                      "  - name: r\n"           // 5
                                      "    upstream: orders\n"  // 6
                                      "    auth: cookie\n")),   // 7
              ElementsAre("t.yaml:7:11: routes[0].auth: unknown auth mode \"cookie\" "
                          "(none, bearer, session, any)"));
}

TEST(ConfigErrors, BearerRouteWithoutIssuers) {
  EXPECT_THAT(load_errors(with_orders("routes:\n"               // 4
                                      "  - name: r\n"           // 5
                                      "    upstream: orders\n"  // 6
                                      "    auth: bearer\n")),   // 7
              ElementsAre("t.yaml:7:11: routes[0].auth: auth: bearer needs at least one entry in issuers:"));
}

TEST(ConfigErrors, IssuerErrors) {
  // Line numbers are 1-based in the messages; see the comments on the right.
  const std::string doc = with_orders(
      "issuers:\n"                                   // 4
      "  - name: main\n"                             // 5
      "    issuer: https://idp.test\n"               // 6
      "    algorithms: [RS256, none, HS256]\n"       // 7
      "    jwks_file: /nonexistent/authgate/j.json\n"  // 8
      "  - name: main\n"                             // 9
      "    issuer: https://other.test\n"             // 10
      "    audiences: [a]\n"                         // 11
      "routes:\n"                                    // 12
      "  - name: r\n"                                // 13
      "    upstream: orders\n"                       // 14
      "    auth: bearer\n"                           // 15
      "    issuers: [main, mian]\n"                  // 16
      "    require: {scopes_al: [x]}\n");            // 17
  EXPECT_THAT(
      load_errors(doc),
      ElementsAre(
          "t.yaml:5:5: issuers[0].audiences: at least one audience is required (a token for "
          "another API must not pass)",
          "t.yaml:7:25: issuers[0].algorithms[1]: unknown algorithm \"none\" (\"none\" is never accepted)",
          "t.yaml:8:16: issuers[0].jwks_file: cannot read file \"/nonexistent/authgate/j.json\"",
          "t.yaml:7:17: issuers[0].algorithms: HS* algorithms need secret_env or secret_file and are "
          "never mixed with JWKS keys",
          "t.yaml:9:11: issuers[1].name: duplicate issuer name \"main\"",
          "t.yaml:16:21: routes[0].issuers[1]: unknown issuer \"mian\"",
          "t.yaml:17:15: routes[0].require.scopes_al: unknown key (expected one of: scopes_all, "
          "scopes_any, claims, acr, max_auth_age)"));
}

// Two issuers entries may share one issuer URL (the same IdP, different audiences
// per route), but a route accepts at most one entry per URL: which entry checks a
// token must not depend on list order.
TEST(ConfigErrors, RouteAcceptsAtMostOneIssuersEntryPerIssuerUrl) {
  const std::string issuers =
      "issuers:\n"                                                                                      // 4
      "  - {name: orders, issuer: https://idp.test, audiences: [orders-api], jwks_file: /dev/null}\n"    // 5
      "  - {name: billing, issuer: https://idp.test, audiences: [billing-api], jwks_file: /dev/null}\n"  // 6
      "  - {name: other, issuer: https://other.test, audiences: [orders-api], jwks_file: /dev/null}\n"   // 7
      "routes:\n"                                                                                       // 8
      "  - {name: orders, upstream: orders, auth: bearer, issuers: [orders, other, orders]}\n"          // 9
      "  - {name: billing, upstream: orders, auth: bearer, issuers: [billing]}\n"                       // 10
      "  - {name: public, upstream: orders}\n";                                                         // 11
  ASSERT_TRUE(load_ok(with_orders(issuers))) << "sharing a URL is fine while each route accepts one of them";
  EXPECT_THAT(
      load_errors(with_orders(issuers +
                              "  - {name: both, upstream: orders, auth: bearer, issuers: [other, billing, orders]}\n"  // 12
                              "  - {name: all, upstream: orders, auth: bearer}\n")),  // 13
      ElementsAre("t.yaml:12:76: routes[3].issuers[2]: issuers \"billing\" and \"orders\" have the same issuer URL "
                  "\"https://idp.test\": a route accepts at most one issuers entry per issuer URL (tell audiences "
                  "apart with require.claims, or use one route per entry)",
                  "t.yaml:13:41: routes[4].auth: accepts every issuer, and issuers \"orders\" and \"billing\" have "
                  "the same issuer URL \"https://idp.test\": list this route's issuers (at most one entry per "
                  "issuer URL)"));
}

TEST(ConfigErrors, RemoteKeySourceErrors) {
  ::setenv("AUTHGATE_TEST_OP_SECRET", "s3cret", 1);
  const std::string doc = with_orders(
      "issuers:\n"                                         // 4
      "  - name: two\n"                                    // 5
      "    issuer: https://idp.test\n"                     // 6
      "    audiences: [a]\n"                               // 7
      "    jwks_uri: https://idp.test/jwks\n"              // 8
      "    jwks: '{\"keys\":[]}'\n"                        // 9
      "  - name: plain\n"                                  // 10
      "    issuer: https://idp2.test\n"                    // 11
      "    audiences: [a]\n"                               // 12
      "    jwks_uri: http://idp2.test/jwks\n"              // 13
      "  - name: nodisc\n"                                 // 14
      "    issuer: https://idp3.test\n"                    // 15
      "    audiences: [a]\n"                               // 16
      "    discovery: false\n"                             // 17
      "  - name: urn\n"                                    // 18
      "    issuer: urn:example:idp\n"                      // 19
      "    audiences: [a]\n"                               // 20
      "  - name: intro\n"                                  // 21
      "    issuer: https://idp4.test\n"                    // 22
      "    audiences: [a]\n"                               // 23
      "    validation: introspection\n"                    // 24
      "    jwks_refresh_min: 2h\n"                         // 25
      "    jwks_refresh_max: 1h\n"                         // 26
      "  - name: creds\n"                                  // 27
      "    issuer: https://idp5.test\n"                    // 28
      "    audiences: [a]\n"                               // 29
      "    introspection: {client_id: gw}\n");             // 30
  EXPECT_THAT(
      load_errors(doc),
      ElementsAre(
          "t.yaml:5:5: issuers[0]: has more than one key source: use one of jwks_uri, jwks_file, "
          "jwks, secret_env, secret_file (none: discovery)",
          "t.yaml:13:15: issuers[1].jwks_uri: must be https (plain http only when the issuer URL is http)",
          "t.yaml:17:16: issuers[2].discovery: is off, so the issuer needs jwks_uri, jwks_file, jwks or a "
          "secret (and introspection.endpoint)",
          "t.yaml:19:13: issuers[3].issuer: discovery needs an http(s) issuer URL, not "
          "\"urn:example:idp\" (or configure jwks_uri/jwks_file)",
          "t.yaml:25:23: issuers[4].jwks_refresh_min: must not be greater than jwks_refresh_max",
          "t.yaml:24:17: issuers[4].validation: introspection needs an introspection: block",
          "t.yaml:30:20: issuers[5].introspection: needs exactly one of client_secret_env or "
          "client_secret_file"));
}

TEST(ConfigRemoteIssuers, DefaultsAndIntrospection) {
  ::setenv("AUTHGATE_TEST_OP_SECRET", "s3cret", 1);
  const auto loaded = cfg::load_string(with_orders(
      "issuers:\n"
      "  - name: op\n"
      "    issuer: http://127.0.0.1:9000\n"
      "    audiences: [a]\n"
      "    jwks_refetch_interval: 1s\n"
      "    introspection:\n"
      "      client_id: gw\n"
      "      client_secret_env: AUTHGATE_TEST_OP_SECRET\n"
      "      negative_ttl: 2s\n"), "t.yaml");
  ASSERT_EQ(loaded.issuers.size(), 1u);
  const auto& is = loaded.issuers[0];
  EXPECT_TRUE(is.remote_keys());
  EXPECT_TRUE(is.needs_discovery());
  EXPECT_EQ(is.jwks_refetch_interval, std::chrono::seconds(1));
  EXPECT_EQ(is.jwks_refresh_min, std::chrono::minutes(5));
  EXPECT_EQ(is.jwks_refresh_max, std::chrono::hours(24));
  EXPECT_EQ(is.max_stale, std::chrono::hours(24));
  ASSERT_TRUE(is.introspection);
  EXPECT_EQ(is.introspection->client_secret, "s3cret");
  EXPECT_EQ(is.introspection->cache_ttl, std::chrono::minutes(5));
  EXPECT_EQ(is.introspection->negative_ttl, std::chrono::seconds(2));
  EXPECT_EQ(is.introspection->negative_cache_entries, 10000u);
  EXPECT_EQ(is.introspection->max_concurrent_calls, 32u);
  EXPECT_EQ(is.validation, cfg::Validation::jwt);
  EXPECT_EQ(loaded.limits.token_cache_entries, 100000u);
  EXPECT_EQ(loaded.timeouts.idp_request, std::chrono::seconds(5));
}

TEST(ConfigRemoteIssuers, IntrospectionFloodLimits) {
  ::setenv("AUTHGATE_TEST_OP_SECRET", "s3cret", 1);
  const auto loaded = cfg::load_string(with_orders(
      "issuers:\n"
      "  - name: op\n"
      "    issuer: http://127.0.0.1:9000\n"
      "    audiences: [a]\n"
      "    introspection:\n"
      "      client_id: gw\n"
      "      client_secret_env: AUTHGATE_TEST_OP_SECRET\n"
      "      negative_cache_entries: 0\n"
      "      max_concurrent_calls: 4\n"), "t.yaml");
  ASSERT_EQ(loaded.issuers.size(), 1u);
  ASSERT_TRUE(loaded.issuers[0].introspection);
  EXPECT_EQ(loaded.issuers[0].introspection->negative_cache_entries, 0u);
  EXPECT_EQ(loaded.issuers[0].introspection->max_concurrent_calls, 4u);
  EXPECT_THAT(load_errors(with_orders(
                  "issuers:\n"                                         // 4
                  "  - name: op\n"                                     // 5
                  "    issuer: http://127.0.0.1:9000\n"                // 6
                  "    audiences: [a]\n"                               // 7
                  "    introspection:\n"                               // 8
                  "      client_id: gw\n"                              // 9
                  "      client_secret_env: AUTHGATE_TEST_OP_SECRET\n"  // 10
                  "      max_concurrent_calls: 0\n")),                 // 11  value col 29
              ElementsAre("t.yaml:11:29: issuers[0].introspection.max_concurrent_calls: must be at least 1"));
}

TEST(ConfigSessions, LoadsWithDefaultsAndMarksTheLoginIssuer) {
  ::setenv("AUTHGATE_TEST_CLIENT_SECRET", "client-secret", 1);
  ::setenv("AUTHGATE_TEST_COOKIE_SECRET", "0123456789abcdef0123456789abcdef", 1);
  const auto loaded = cfg::load_string(with_orders(
      "issuers:\n"
      "  - name: op\n"
      "    issuer: https://op.test\n"
      "    audiences: [api]\n"
      "    jwks_file: /dev/null\n"
      "sessions:\n"
      "  client: {issuer: op, client_id: gw, client_secret_env: AUTHGATE_TEST_CLIENT_SECRET}\n"
      "  public_url: https://app.test\n"
      "  cookie_secret_env: AUTHGATE_TEST_COOKIE_SECRET\n"
      "routes:\n"
      "  - {name: app, upstream: orders, auth: session}\n"
      "  - {name: api, upstream: orders, auth: any}\n"), "t.yaml");
  ASSERT_TRUE(loaded.sessions);
  const auto& s = *loaded.sessions;
  EXPECT_EQ(s.client.client_secret, "client-secret");
  EXPECT_EQ(s.client.auth_method, "client_secret_basic");
  EXPECT_THAT(s.client.scopes, ElementsAre("openid", "profile", "email", "offline_access"));
  EXPECT_EQ(s.prefix, "/oauth2/");
  EXPECT_EQ(s.cookie.name, "__Host-authgate");
  EXPECT_TRUE(s.cookie.secure);
  EXPECT_EQ(s.refresh_before_expiry, 30s);
  EXPECT_TRUE(loaded.issuers[0].used_for_login);
  EXPECT_TRUE(loaded.issuers[0].needs_discovery());  // static keys, but login endpoints come from discovery
  EXPECT_EQ(loaded.routes[0].auth, cfg::AuthMode::session);
  EXPECT_EQ(loaded.routes[1].auth, cfg::AuthMode::any);
}

TEST(ConfigErrors, SessionErrors) {
  ::setenv("AUTHGATE_TEST_CLIENT_SECRET", "client-secret", 1);
  ::setenv("AUTHGATE_TEST_SHORT_SECRET", "too-short", 1);
  EXPECT_THAT(load_errors(with_orders("routes:\n"                               // 4
                                      "  - {name: app, upstream: orders, auth: session}\n")),  // 5
              ElementsAre("t.yaml:5:41: routes[0].auth: auth: session and any need a sessions: block"));
  EXPECT_THAT(load_errors(with_orders(
                  "issuers:\n"                                                            // 4
                  "  - {name: op, issuer: https://op.test, audiences: [a]}\n"              // 5
                  "sessions:\n"                                                           // 6
                  "  client: {issuer: op, client_id: gw, client_secret_env: AUTHGATE_TEST_CLIENT_SECRET,"
                  " auth_method: private_key_jwt}\n"                                      // 7
                  "  public_url: https://app.test/path\n"                                 // 8
                  "  cookie: {secure: false, name: __Host-x, same_site: None}\n"          // 9
                  "  cookie_secret_env: AUTHGATE_TEST_SHORT_SECRET\n")),                  // 10
              ElementsAre("t.yaml:7:100: sessions.client.auth_method: must be client_secret_basic or "
                          "client_secret_post, not \"private_key_jwt\"",
                          "t.yaml:8:15: sessions.public_url: must be an origin: http(s)://host[:port] without a path",
                          "t.yaml:9:54: sessions.cookie.same_site: must be Lax or Strict (None would send the "
                          "cookie cross-site)",
                          "t.yaml:9:11: sessions.cookie.name: a __Host- cookie must be secure",
                          "t.yaml:7:3: sessions: the cookie secret must be at least 32 bytes"));
}

TEST(ConfigErrors, SecretEnvMustBeSet) {
  ::unsetenv("AUTHGATE_TEST_UNSET_SECRET");
  EXPECT_THAT(load_errors(with_orders("issuers:\n"                                   // 4
                                      "  - name: h\n"                                // 5
                                      "    issuer: https://idp.test\n"               // 6
                                      "    audiences: [a]\n"                         // 7
                                      "    algorithms: [HS256]\n"                    // 8
                                      "    secret_env: AUTHGATE_TEST_UNSET_SECRET\n")),  // 9
              ElementsAre("t.yaml:9:17: issuers[0].secret_env: environment variable "
                          "AUTHGATE_TEST_UNSET_SECRET is not set"));
}

// --check-config --skip-secrets: each secret that is not there is a note (same
// file:line:column: key format), a placeholder stands in for it, and every
// other check still runs, also on the secrets that are there.
TEST(ConfigLoad, SkipSecretsReportsMissingSecretsAsNotes) {
  ::unsetenv("AUTHGATE_TEST_SKIP_A");
  ::unsetenv("AUTHGATE_TEST_SKIP_B");
  ::setenv("AUTHGATE_TEST_SKIP_SHORT", "short", 1);
  const std::string doc = with_orders(
      "issuers:\n"                                                       // 4
      "  - name: h\n"                                                    // 5
      "    issuer: https://idp.test\n"                                   // 6
      "    audiences: [a]\n"                                             // 7
      "    algorithms: [HS256]\n"                                        // 8
      "    secret_env: AUTHGATE_TEST_SKIP_A\n"                           // 9  value at 17
      "    introspection:\n"                                             // 10
      "      client_id: gw\n"                                            // 11
      "      client_secret_file: /nonexistent/authgate/secret\n"         // 12 value at 27
      "redis:\n"                                                         // 13
      "  password_env: AUTHGATE_TEST_SKIP_B\n");                         // 14 value at 17
  cfg::LoadOptions skip;
  skip.skip_secrets = true;
  std::vector<std::string> notes;
  const auto c = cfg::load_string(doc, "t.yaml", skip, notes);
  EXPECT_THAT(notes, ElementsAre("t.yaml:9:17: issuers[0].secret_env: note: environment variable "
                                 "AUTHGATE_TEST_SKIP_A is not set; not checked (--skip-secrets)",
                                 "t.yaml:12:27: issuers[0].introspection.client_secret_file: note: cannot read file "
                                 "\"/nonexistent/authgate/secret\"; not checked (--skip-secrets)",
                                 "t.yaml:14:17: redis.password_env: note: environment variable AUTHGATE_TEST_SKIP_B "
                                 "is not set; not checked (--skip-secrets)"));
  // The placeholders keep the rest consistent: still an HMAC issuer, not a remote one.
  EXPECT_FALSE(c.issuers.at(0).secret.empty());
  EXPECT_FALSE(c.issuers.at(0).remote_keys());
  EXPECT_EQ(c.issuers.at(0).secret_source, "env:AUTHGATE_TEST_SKIP_A");
  EXPECT_FALSE(c.redis->password.empty());

  // Without the option the same file fails exactly as before, with no notes.
  notes.clear();
  try {
    cfg::load_string(doc, "t.yaml", cfg::LoadOptions{}, notes);
    ADD_FAILURE() << "loaded without its secrets";
  } catch (const cfg::ConfigError& e) {
    EXPECT_THAT(e.errors(), ElementsAre("t.yaml:9:17: issuers[0].secret_env: environment variable "
                                        "AUTHGATE_TEST_SKIP_A is not set",
                                        "t.yaml:12:27: issuers[0].introspection.client_secret_file: cannot read "
                                        "file \"/nonexistent/authgate/secret\"",
                                        "t.yaml:14:17: redis.password_env: environment variable AUTHGATE_TEST_SKIP_B "
                                        "is not set"));
  }
  EXPECT_THAT(notes, IsEmpty());

  // Other errors are still errors, and a secret that is there is still checked.
  const std::string bad = with_orders(
      "revocation:\n"                                 // 4
      "  admin_token_env: AUTHGATE_TEST_SKIP_SHORT\n"  // 5
      "  sync_interval: soon\n"                        // 6 value at 18
      "listen:\n"                                      // 7
      "  tls: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}\n");  // 8
  notes.clear();
  try {
    cfg::load_string(bad, "t.yaml", skip, notes);
    ADD_FAILURE() << "loaded with errors";
  } catch (const cfg::ConfigError& e) {
    EXPECT_THAT(e.errors(), ElementsAre("t.yaml:6:18: revocation.sync_interval: invalid duration \"soon\" (write "
                                        "e.g. 250ms, 30s, 5m)",
                                        "t.yaml:5:3: revocation: the admin token must be at least 16 bytes"));
  }
  EXPECT_THAT(notes, ElementsAre("t.yaml:8:20: listen.tls.cert_file: note: cannot read file "
                                 "\"/nonexistent/c.pem\"; not checked (--skip-secrets)",
                                 "t.yaml:8:50: listen.tls.key_file: note: cannot read file \"/nonexistent/k.pem\"; "
                                 "not checked (--skip-secrets)"))
      << "notes are handed back with the errors";
}

TEST(ConfigErrors, YamlSyntaxError) {
  // "  tls: cert_file: x": the second ':' (col 17) is an illegal map value.
  EXPECT_THAT(load_errors("listen:\n"                     // 1
                          "  address: 127.0.0.1:8080\n"   // 2
                          "  tls: cert_file: x\n"),       // 3
              ElementsAre("t.yaml:3:17: (document): YAML syntax error: illegal map value"));
  // A mis-indented key inside a list item ("   upstream" at col 4).
  EXPECT_THAT(load_errors("routes:\n"          // 1
                          "  - name: a\n"      // 2
                          "   upstream: b\n"), // 3
              ElementsAre("t.yaml:3:4: (document): YAML syntax error: end of sequence not found"));
}

TEST(ConfigErrors, SeveralErrorsAreReportedTogether) {
  // Reported in walk order: unknown top-level keys first, then listen, admin,
  // workers, limits, timeouts, upstreams, routes, log.
  EXPECT_THAT(load_errors("listen:\n"                   // 1
                          "  address: 8080\n"           // 2  value col 12
                          "workers: 999\n"              // 3  value col 10
                          "timeouts:\n"                 // 4
                          "  drain: forever\n"          // 5  value col 10
                          "upstreams:\n"                // 6
                          "  - name: orders\n"          // 7
                          "    url: ftp://127.0.0.1\n"  // 8  value col 10
                          "routes:\n"                   // 9
                          "  - name: r\n"               // 10
                          "    upstream: ordrs\n"       // 11 value col 15
                          "log:\n"                      // 12
                          "  level: loud\n"             // 13 value col 10
                          "bogus: 1\n"),                // 14 key col 1
              ElementsAre("t.yaml:14:1: bogus: unknown key (expected one of: listen, admin, "
                          "workers, limits, timeouts, http2, issuers, upstreams, routes, routing, resources, identity, headers, sessions, redis, revocation, dpop, log)",
                          "t.yaml:2:12: listen.address: must be host:port, not \"8080\"",
                          "t.yaml:3:10: workers: must be a whole number from 0 (one per core) to 256",
                          "t.yaml:5:10: timeouts.drain: invalid duration \"forever\" (write e.g. "
                          "250ms, 30s, 5m)",
                          "t.yaml:8:10: upstreams[0].url: must be http://host[:port] or "
                          "https://host[:port] without a path, not \"ftp://127.0.0.1\"",
                          "t.yaml:11:15: routes[0].upstream: unknown upstream \"ordrs\"",
                          "t.yaml:13:10: log.level: unknown level \"loud\""));
}

// YAML requires mapping keys to be unique, but yaml-cpp keeps both entries and
// a lookup returns the first, so without a check a repeated key is silently
// ignored (a second "routes:" block appended to a file would drop its routes).
// The repeated key is reported at its position.
TEST(ConfigErrors, DuplicateKeyIsReported) {
  EXPECT_THAT(load_errors("workers: 2\n"      // 1
                          "log:\n"            // 2
                          "  level: info\n"   // 3
                          "workers: 4\n"),    // 4  key col 1
              ElementsAre("t.yaml:4:1: workers: duplicate key (the first one would silently win)"));
  EXPECT_THAT(load_errors("log:\n"             // 1
                          "  level: info\n"    // 2
                          "  level: debug\n"), // 3  key col 3
              ElementsAre("t.yaml:3:3: log.level: duplicate key (the first one would silently "
                          "win)"));
  // In a list item too: "    name: b" -> key at col 5.
  EXPECT_THAT(load_errors("upstreams:\n"                     // 1
                          "  - name: a\n"                    // 2
                          "    url: http://127.0.0.1:9000\n" // 3
                          "    name: b\n"),                  // 4
              ElementsAre("t.yaml:4:5: upstreams[0].name: duplicate key (the first one would "
                          "silently win)"));
}

// ---------------------------------------------------------------------------
// Scalar parsers.

struct DurationCase {
  const char* text;
  std::optional<std::int64_t> ms;  // nullopt: rejected
};

TEST(ParseDuration, Table) {
  const DurationCase cases[] = {
      {"1ms", 1},
      {"250ms", 250},
      {"0ms", 0},
      {"0s", 0},
      {"30s", 30'000},
      {"5m", 300'000},
      {"1h", 3'600'000},
      {"1d", 86'400'000},
      {"007s", 7'000},
      {"1099511627776ms", 1099511627776},   // 2^40 ms: the largest accepted
      {"1099511627s", 1099511627000},
      {"1099511627777ms", std::nullopt},    // above 2^40 ms
      {"1099511628s", std::nullopt},
      {"99999999999999999999999s", std::nullopt},  // does not fit 64 bits
      {"", std::nullopt},
      {"s", std::nullopt},
      {"ms", std::nullopt},
      {"10", std::nullopt},  // a unit is required
      {"10S", std::nullopt},
      {"10MS", std::nullopt},
      {"10 s", std::nullopt},
      {" 10s", std::nullopt},
      {"10s ", std::nullopt},
      {"+10s", std::nullopt},
      {"-10s", std::nullopt},
      {"1.5s", std::nullopt},
      {"10sec", std::nullopt},
      {"10mss", std::nullopt},
      {"1m30s", std::nullopt},
      {"1e3ms", std::nullopt},
      {"0x10s", std::nullopt},
      {"10us", std::nullopt},
      {"2w", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("\"") + c.text + "\"");
    cfg::Duration d{-1};
    const bool ok = cfg::parse_duration(c.text, d);
    EXPECT_EQ(ok, c.ms.has_value());
    if (c.ms && ok) {
      EXPECT_EQ(d.count(), *c.ms);
    }
  }
}

struct SizeCase {
  const char* text;
  std::optional<std::uint64_t> bytes;  // nullopt: rejected
};

TEST(ParseSize, Table) {
  const SizeCase cases[] = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"16KiB", 16 * 1024},
      {"10MiB", 10 * 1024 * 1024},
      {"1GiB", 1ull << 30},
      {"1TiB", 1ull << 40},
      {"16KB", 16'000},
      {"10MB", 10'000'000},
      {"1GB", 1'000'000'000},
      {"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
      {"17179869183GiB", 17179869183ull << 30},  // the largest whole GiB count that fits
      {"18446744073709551616", std::nullopt},     // 2^64
      {"17179869184GiB", std::nullopt},           // 2^64 bytes
      {"", std::nullopt},
      {"B", std::nullopt},
      {"KiB", std::nullopt},
      {"16kib", std::nullopt},
      {"16kb", std::nullopt},
      {"16K", std::nullopt},
      {"16Ki", std::nullopt},
      {"16 KiB", std::nullopt},
      {"16KiBs", std::nullopt},
      {" 16", std::nullopt},
      {"16 ", std::nullopt},
      {"1.5MiB", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {"0x10", std::nullopt},
      {"ten", std::nullopt},
      {"1e3", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("\"") + c.text + "\"");
    std::uint64_t v = 12345;
    const bool ok = cfg::parse_size(c.text, v);
    EXPECT_EQ(ok, c.bytes.has_value());
    if (c.bytes && ok) {
      EXPECT_EQ(v, *c.bytes);
    }
  }
}

// Route matches that would load but could never match are errors.
TEST(ConfigErrors, RouteMatchesThatCanNeverMatch) {
  auto route = [](const std::string& match_line) {
    return with_orders("routes:\n"               // 4
                       "  - name: r\n"           // 5
                       "    upstream: orders\n"  // 6
                       "    match:\n"            // 7
                       + match_line);            // 8
  };
  EXPECT_THAT(load_errors(route("      host: \"api.example.com:8443\"\n")),
              ElementsAre("t.yaml:8:13: routes[0].match.host: must not carry a port (the request's "
                          "port is ignored)"));
  EXPECT_THAT(load_errors(route("      methods: [get]\n")),
              ElementsAre("t.yaml:8:17: routes[0].match.methods[0]: methods are case-sensitive and "
                          "upper-case: \"get\" never matches"));
  EXPECT_THAT(load_errors(route("      path: {prefix: \"/a b\"}\n")),
              ElementsAre("t.yaml:8:22: routes[0].match.path.prefix: must be written in canonical "
                          "form (no //, dot-segments, %-escapes, ?, #, \\, spaces or control bytes)"));
  EXPECT_THAT(load_errors(route("      path: {prefx: /a}\n")),
              ElementsAre("t.yaml:8:14: routes[0].match.path.prefx: unknown key (expected one of: "
                          "exact, prefix, regex)"));
}

// ---------------------------------------------------------------------------
// Step-up requirements (RFC 9470) and protected resources (RFC 9728).

namespace {
// An issuer and three routes (bearer, session-less none, bearer); resources: documents start at line 18.
constexpr std::string_view kResourceRoutes =
    "issuers:\n"                                                                                  // 4
    "  - {name: idp, issuer: https://idp.test, audiences: [orders], jwks_file: /dev/null}\n"      // 5
    "routes:\n"                                                                                   // 6
    "  - name: orders\n"                                                                          // 7
    "    upstream: orders\n"                                                                      // 8
    "    auth: bearer\n"                                                                          // 9
    "    require: {acr: [urn:mfa], max_auth_age: 5m}\n"                                           // 10
    "  - name: open\n"                                                                            // 11
    "    upstream: orders\n"                                                                      // 12
    "    auth: none\n"                                                                            // 13
    "  - name: admin\n"                                                                           // 14
    "    upstream: orders\n"                                                                      // 15
    "    auth: bearer\n"                                                                          // 16
    "resources:\n";                                                                               // 17
}  // namespace

TEST(ConfigLoad, StepUpRequirementReadsAcrValuesAndAWholeSecondMaxAuthAge) {
  const auto cfg = load_ok(with_orders(std::string(kResourceRoutes) + "  - {resource: https://api.test, routes: [orders]}\n"));
  ASSERT_TRUE(cfg);
  EXPECT_THAT(cfg->routes[0].require.acr, ElementsAre("urn:mfa"));
  EXPECT_EQ(cfg->routes[0].require.max_auth_age, std::optional<cfg::Duration>(300s));
  EXPECT_FALSE(cfg->routes[2].require.max_auth_age);
}

TEST(ConfigErrors, StepUpAcrWithASpaceAndAFractionalMaxAuthAge) {
  EXPECT_THAT(load_errors(with_orders("routes:\n"                                            // 4
                                      "  - name: orders\n"                                    // 5
                                      "    upstream: orders\n"                                // 6
                                      "    auth: bearer\n"                                    // 7
                                      "    require: {acr: [\"a b\"], max_auth_age: 1500ms}\n"  // 8
                                      "issuers:\n"                                            // 9
                                      "  - {name: i, issuer: https://i.test, audiences: [x], jwks_file: /dev/null}\n")),
              ElementsAre("t.yaml:8:21: routes[0].require.acr[0]: must be printable ASCII without spaces or quotes",
                          "t.yaml:8:43: routes[0].require.max_auth_age: \"1500ms\" is not a whole number of seconds "
                          "(auth_time is whole seconds); it would be cut to 1s"));
}

TEST(ConfigErrors, ResourceIdentifierMustBeHttpsWithoutQueryUnlessOnLoopback) {
  EXPECT_THAT(load_errors(with_orders(std::string(kResourceRoutes) +
                                      "  - {resource: http://api.test/orders, routes: [orders]}\n"     // 18
                                      "  - {resource: \"https://api.test/x?y=1\", routes: [admin]}\n"  // 19
                                      "  - {resource: orders, routes: [admin]}\n")),                   // 20
              ElementsAre("t.yaml:18:16: resources[0].resource: must use https (http only on a loopback host)",
                          "t.yaml:19:16: resources[1].resource: must be an absolute https URL without query or fragment",
                          "t.yaml:20:16: resources[2].resource: must be an absolute https URL without query or fragment"));
  EXPECT_TRUE(load_ok(with_orders(std::string(kResourceRoutes) + "  - {resource: http://127.0.0.1:8080/orders, routes: [orders]}\n")));
}

TEST(ConfigErrors, ResourceRoutesMustBeKnownTakeTokensAndBelongToOneResource) {
  EXPECT_THAT(load_errors(with_orders(std::string(kResourceRoutes) +
                                      "  - {resource: https://api.test/a, routes: [orders, nope, open]}\n"  // 18
                                      "  - {resource: https://api.test/b, routes: [orders]}\n"              // 19
                                      "  - {resource: https://api.test/a, routes: [admin]}\n"               // 20
                                      "  - {routes: [admin], bearer_methods_supported: [cookie]}\n")),      // 21
              ElementsAre("t.yaml:18:53: resources[0].routes[1]: unknown route \"nope\"",
                          "t.yaml:18:59: resources[0].routes[2]: route \"open\" takes no access token (auth: bearer or any)",
                          "t.yaml:19:45: resources[1].routes[0]: route \"orders\" already belongs to another resource",
                          "t.yaml:20:16: resources[2].resource: another resource has the same identifier",
                          "t.yaml:21:5: resources[3].resource: is required (the resource identifier, an https URL)",
                          "t.yaml:21:15: resources[3].routes[0]: route \"admin\" already belongs to another resource",
                          "t.yaml:21:50: resources[3].bearer_methods_supported[0]: must be header, body or query (RFC 6750 §2)"));
}

TEST(ConfigErrors, ClientAuthNeedsAClientCaFileAndTheCertificateHeaderATrustedProxy) {
  EXPECT_THAT(load_errors("listen:\n"                                                                      // 1
                          "  tls: {cert_file: /dev/null, key_file: /dev/null, client_auth: required}\n"   // 2
                          "  client_cert_header: X-SSL-Client-Cert\n"),                                   // 3
              ElementsAre("t.yaml:2:65: listen.tls.client_auth: needs client_ca_file (the CAs client certificates must chain to)",
                          "t.yaml:3:23: listen.client_cert_header: needs trusted_proxies (the header is read only from "
                          "the TLS-terminating proxies listed there)"));
  EXPECT_THAT(load_errors("listen:\n"                                                                      // 1
                          "  tls: {cert_file: /dev/null, key_file: /dev/null, client_ca_file: /nonexistent/ca.pem, client_auth: sometimes}\n"
                          "  trusted_proxies: [10.0.0.0/8]\n"                                              // 3
                          "  client_cert_header: \"SSL Client Cert\"\n"),                                  // 4
              ElementsAre("t.yaml:2:68: listen.tls.client_ca_file: cannot read file \"/nonexistent/ca.pem\"",
                          "t.yaml:2:102: listen.tls.client_auth: must be none, optional or required, not \"sometimes\"",
                          "t.yaml:4:23: listen.client_cert_header: must be a header name"));
}

TEST(ConfigLoad, AClientCaFileMakesClientCertificatesOptionalAndTheHeaderAnIdentityHeader) {
  const auto cfg = load_ok("listen:\n"
                           "  tls: {cert_file: /dev/null, key_file: /dev/null, client_ca_file: /dev/null}\n"
                           "  trusted_proxies: [10.0.0.0/8]\n"
                           "  client_cert_header: X-SSL-Client-Cert\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->listen.tls->client_auth, cfg::ClientAuth::optional);
  EXPECT_THAT(cfg->identity.strip_headers, ::testing::Contains("X-SSL-Client-Cert")) << "never passed upstream";
}
