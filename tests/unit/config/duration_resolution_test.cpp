// Unit tests for config/loader: every duration key either keeps its value to
// the millisecond or is counted in whole seconds by the gateway, and then a
// value that is not a whole number of seconds (or below a key's floor) is a
// config error with file:line:column, never silently cut (a 900ms cache_ttl
// used to become 0: nothing cached).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
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

// "t.yaml:LINE:COL" of the text right after the first `needle` in `yaml`
// (the value of "key: "), both 1-based like the loader's positions.
std::string at(std::string_view yaml, std::string_view needle) {
  const auto p = yaml.find(needle);
  EXPECT_NE(p, std::string_view::npos) << needle;
  const auto value = p + needle.size();
  const auto line_start = yaml.rfind('\n', value == 0 ? 0 : value - 1);
  const std::size_t col = value - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(yaml.begin(), yaml.begin() + value, '\n'));
  return "t.yaml:" + std::to_string(line) + ":" + std::to_string(col);
}

// A document with every duration key of every block, each set to `v(key)`.
template <class F>
std::string every_duration(F v) {
  ::setenv("AUTHGATE_TEST_DUR_CLIENT_SECRET", "client-secret", 1);
  ::setenv("AUTHGATE_TEST_DUR_INTROSPECTION_SECRET", "introspection-secret", 1);
  ::setenv("AUTHGATE_TEST_DUR_COOKIE_SECRET", "0123456789abcdef0123456789abcdef", 1);
  std::string y = "upstreams: [{name: orders, url: http://127.0.0.1:9000}]\n"
                  "timeouts:\n";
  for (auto k : {"header_read", "keepalive_idle", "body_read", "upstream_connect", "upstream_response",
                 "upstream_idle", "drain", "tls_handshake", "websocket_idle", "linger", "drain_force_close",
                 "retry_after", "idp_request"})
    y += std::string("  ") + k + ": " + v(std::string("timeouts.") + k) + "\n";
  y += "issuers:\n"
       "  - name: op\n"
       "    issuer: https://op.test\n"
       "    audiences: [api]\n";
  for (auto k : {"leeway", "jwks_refresh_min", "jwks_refresh_max", "jwks_retry_interval", "jwks_refetch_interval",
                 "max_stale"})
    y += std::string("    ") + k + ": " + v(std::string("issuers[].") + k) + "\n";
  y += "    introspection:\n"
       "      client_id: gw\n"
       "      client_secret_env: AUTHGATE_TEST_DUR_INTROSPECTION_SECRET\n"
       "      cache_ttl: " + v("issuers[].introspection.cache_ttl") + "\n"
       "      negative_ttl: " + v("issuers[].introspection.negative_ttl") + "\n"
       "sessions:\n"
       "  client: {issuer: op, client_id: gw, client_secret_env: AUTHGATE_TEST_DUR_CLIENT_SECRET}\n"
       "  public_url: https://app.test\n"
       "  cookie_secret_env: AUTHGATE_TEST_DUR_COOKIE_SECRET\n"
       "  store: redis\n"
       "  cookie:\n"
       "    idle_timeout: " + v("sessions.cookie.idle_timeout") + "\n"
       "    absolute_timeout: " + v("sessions.cookie.absolute_timeout") + "\n";
  for (auto k : {"refresh_before_expiry", "refresh_retry_interval", "expires_in_fallback", "login_timeout",
                 "refresh_lock_lease", "refresh_lock_wait"})
    y += std::string("  ") + k + ": " + v(std::string("sessions.") + k) + "\n";
  y += "redis:\n";
  for (auto k : {"connect_timeout", "command_timeout", "reconnect_min", "reconnect_max", "health_check_interval",
                 "down_after"})
    y += std::string("  ") + k + ": " + v(std::string("redis.") + k) + "\n";
  y += "revocation:\n"
       "  store: redis\n"
       "  sync_interval: " + v("revocation.sync_interval") + "\n"
       "  sub_ttl: " + v("revocation.sub_ttl") + "\n";
  return y;
}

// The keys the gateway counts in whole seconds, and why (the error says so).
const std::vector<std::pair<std::string, std::string>> kWholeSecondKeys = {
    {"timeouts.retry_after", "Retry-After is sent in whole seconds"},
    {"issuers[0].leeway", "token times exp, nbf and iat are whole seconds"},
    {"sessions.cookie.idle_timeout", "session times and the cookie's Max-Age are whole seconds"},
    {"sessions.cookie.absolute_timeout", "session times and the cookie's Max-Age are whole seconds"},
    {"sessions.refresh_before_expiry", "access token lifetimes (expires_in, exp) are whole seconds"},
    {"sessions.expires_in_fallback", "it stands in for expires_in, a whole number of seconds"},
    {"sessions.login_timeout", "the login cookie's Max-Age and the pending login's times are whole seconds"},
    {"revocation.sub_ttl", "deny-list times and iat are whole seconds"},
};

bool whole_second_key(const std::string& key) {
  for (const auto& [k, why] : kWholeSecondKeys) {
    std::string generic = k;
    if (auto p = generic.find("[0]"); p != std::string::npos) generic.replace(p, 3, "[]");
    if (generic == key) return true;
  }
  return false;
}

// The last path segment of "issuers[0].leeway" etc.: what the YAML line starts with.
std::string leaf(const std::string& key) { return key.substr(key.rfind('.') + 1); }

}  // namespace

// Millisecond keys keep every millisecond: 1500ms is 1.5 s, 900ms is 0.9 s.
TEST(DurationResolution, MillisecondKeysKeepTheirMilliseconds) {
  const auto yaml = every_duration([](const std::string& key) {
    if (whole_second_key(key)) return std::string("2s");
    if (key == "sessions.refresh_lock_wait") return std::string("2500ms");  // longer than the lease
    if (key == "issuers[].jwks_refresh_max") return std::string("2500ms");  // not below the min
    if (key == "redis.reconnect_max") return std::string("2500ms");
    return std::string("1500ms");
  });
  const auto c = load_ok(yaml);
  ASSERT_TRUE(c);
  const auto& in = c->issuers.at(0);
  EXPECT_EQ(in.introspection->cache_ttl, 1500ms);
  EXPECT_EQ(in.introspection->negative_ttl, 1500ms);
  EXPECT_EQ(in.max_stale, 1500ms);
  EXPECT_EQ(in.jwks_refresh_min, 1500ms);
  EXPECT_EQ(in.jwks_retry_interval, 1500ms);
  EXPECT_EQ(in.jwks_refetch_interval, 1500ms);
  EXPECT_EQ(c->sessions->refresh_retry_interval, 1500ms);
  EXPECT_EQ(c->sessions->refresh_lock_lease, 1500ms);
  EXPECT_EQ(c->revocation->sync_interval, 1500ms);
  EXPECT_EQ(c->redis->command_timeout, 1500ms);
  EXPECT_EQ(c->redis->health_check_interval, 1500ms);
  EXPECT_EQ(c->redis->down_after, 1500ms);
  EXPECT_EQ(c->timeouts.header_read, 1500ms);
  EXPECT_EQ(c->timeouts.idp_request, 1500ms);
  EXPECT_EQ(in.leeway, 2s);
  EXPECT_EQ(c->timeouts.retry_after, 2s);

  const auto short_ttl = load_ok(every_duration([](const std::string& key) {
    if (key == "issuers[].introspection.cache_ttl") return std::string("900ms");
    if (key == "issuers[].introspection.negative_ttl") return std::string("1ms");
    return std::string(key == "sessions.refresh_lock_wait" ? "2m" : "1m");
  }));
  ASSERT_TRUE(short_ttl);
  EXPECT_EQ(short_ttl->issuers.at(0).introspection->cache_ttl, 900ms) << "below a second is not off";
  EXPECT_EQ(short_ttl->issuers.at(0).introspection->negative_ttl, 1ms);
}

// A whole-second key given in milliseconds is fine when it is whole seconds.
TEST(DurationResolution, WholeSecondKeysAcceptWholeSecondsInAnyUnit) {
  const auto c = load_ok(every_duration([](const std::string& key) {
    if (whole_second_key(key)) return std::string("3000ms");
    return std::string(key == "sessions.refresh_lock_wait" ? "2m" : "1m");
  }));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->issuers.at(0).leeway, 3s);
  EXPECT_EQ(c->timeouts.retry_after, 3s);
  EXPECT_EQ(c->sessions->cookie.idle_timeout, 3s);
  EXPECT_EQ(c->sessions->login_timeout, 3s);
  EXPECT_EQ(c->revocation->sub_ttl, 3s);
}

// 1500ms on a whole-second key would be cut to 1s: an error naming the key and
// its position, one per key, all reported together.
TEST(DurationResolution, WholeSecondKeysRejectFractionsOfASecond) {
  const auto yaml = every_duration([](const std::string& key) {
    if (whole_second_key(key)) return std::string("1500ms");
    return std::string(key == "sessions.refresh_lock_wait" ? "2m" : "1m");
  });
  std::vector<std::string> expected;
  for (const auto& [key, why] : kWholeSecondKeys)
    expected.push_back(at(yaml, leaf(key) + ": ") + ": " + key + ": \"1500ms\" is not a whole number of seconds (" +
                       why + "); it would be cut to 1s");
  auto errors = load_errors(yaml);
  std::sort(errors.begin(), errors.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(errors, expected);
}

// Below one second a whole-second key would be 0 (off, or expiring at once).
TEST(DurationResolution, WholeSecondKeysRejectLessThanASecond) {
  const auto yaml = every_duration([](const std::string& key) {
    if (whole_second_key(key)) return std::string("900ms");
    return std::string(key == "sessions.refresh_lock_wait" ? "2m" : "1m");
  });
  std::vector<std::string> expected;
  for (const auto& [key, why] : kWholeSecondKeys)
    expected.push_back(at(yaml, leaf(key) + ": ") + ": " + key + ": \"900ms\" is too short: must be at least 1s (" +
                       why + ")");
  auto errors = load_errors(yaml);
  std::sort(errors.begin(), errors.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(errors, expected);
}

// The exact text, position included, for one key.
TEST(DurationResolution, ErrorTextForLeeway) {
  EXPECT_THAT(load_errors("issuers:\n"                                                   // 1
                          "  - {name: a, issuer: https://a.test, audiences: [x],\n"     // 2
                          "     jwks_file: /dev/null, leeway: 2500ms}\n"),              // 3 value at col 36
              ElementsAre("t.yaml:3:36: issuers[0].leeway: \"2500ms\" is not a whole number of seconds (token "
                          "times exp, nbf and iat are whole seconds); it would be cut to 2s"));
  EXPECT_THAT(load_errors("timeouts:\n"                 // 1
                          "  retry_after: 500ms\n"),    // 2 value at col 16
              ElementsAre("t.yaml:2:16: timeouts.retry_after: \"500ms\" is too short: must be at least 1s "
                          "(Retry-After is sent in whole seconds)"));
}

// The fleet refresh lease is renewed every third of it but at most every 10ms:
// a shorter lease would expire between renewals.
TEST(DurationResolution, RefreshLockLeaseHasAFloorOf30ms) {
  const auto yaml = every_duration([](const std::string& key) {
    if (key == "sessions.refresh_lock_lease") return std::string("20ms");
    return std::string(key == "sessions.refresh_lock_wait" ? "2m" : "1m");
  });
  EXPECT_THAT(load_errors(yaml),
              ElementsAre(at(yaml, "refresh_lock_lease: ") +
                          ": sessions.refresh_lock_lease: \"20ms\" is too short: must be at least 30ms (the lease "
                          "is renewed every third of its length, at most every 10ms)"));
  const auto ok = load_ok(every_duration([](const std::string& key) {
    if (key == "sessions.refresh_lock_lease") return std::string("30ms");
    return std::string(key == "sessions.refresh_lock_wait" ? "2m" : "1m");
  }));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->sessions->refresh_lock_lease, 30ms);
}

// every_duration() writes every duration key the loader reads (a new one must be
// added there, and so gets checked by the tests above).
TEST(DurationResolution, EveryKeyIsCovered) {
  std::vector<std::string> seen;
  every_duration([&](const std::string& key) {
    seen.push_back(key);
    return std::string("1m");
  });
  EXPECT_EQ(seen.size(), 13u + 6u + 2u + 2u + 6u + 6u + 2u) << "a duration key was added: cover it here";
  for (const auto& [key, why] : kWholeSecondKeys) {
    std::string generic = key;
    if (auto p = generic.find("[0]"); p != std::string::npos) generic.replace(p, 3, "[]");
    EXPECT_NE(std::find(seen.begin(), seen.end(), generic), seen.end()) << key;
  }
}
