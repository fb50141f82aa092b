// Unit tests for routing/route_table: order, path kinds, host and method filters.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "routing/route_table.hpp"
#include "support/paths.hpp"

namespace {

namespace cfg = authgate::config;
using authgate::routing::host_matches;
using authgate::routing::prefix_matches;
using authgate::routing::RouteTable;

cfg::Route route(std::string name, cfg::PathMatch kind, std::string path, std::string host = "",
                 std::vector<std::string> methods = {}) {
  cfg::Route r;
  r.name = std::move(name);
  r.match.host = std::move(host);
  r.match.path_kind = kind;
  r.match.path = std::move(path);
  r.match.methods = std::move(methods);
  r.upstream = "up";
  return r;
}

cfg::Route prefix(std::string name, std::string path, std::string host = "",
                  std::vector<std::string> methods = {}) {
  return route(std::move(name), cfg::PathMatch::prefix, std::move(path), std::move(host),
               std::move(methods));
}

TEST(RouteTable, EmptyTableMatchesNothing) {
  const std::vector<cfg::Route> routes;
  const RouteTable table(routes);
  EXPECT_EQ(table.match("example.com", "GET", "/"), -1);
}

TEST(RouteTable, FirstMatchWins) {
  // The broad route first shadows the narrow one.
  const std::vector<cfg::Route> broad_first{prefix("api", "/api"), prefix("api-v1", "/api/v1")};
  const RouteTable t1(broad_first);
  EXPECT_EQ(t1.match("h", "GET", "/api/v1/users"), 0);
  EXPECT_EQ(t1.match("h", "GET", "/api/v2"), 0);

  // Listed the other way round, each gets its own requests.
  const std::vector<cfg::Route> narrow_first{prefix("api-v1", "/api/v1"), prefix("api", "/api"),
                                             prefix("catch-all", "/")};
  const RouteTable t2(narrow_first);
  EXPECT_EQ(t2.match("h", "GET", "/api/v1/users"), 0);
  EXPECT_EQ(t2.match("h", "GET", "/api/v1"), 0);
  EXPECT_EQ(t2.match("h", "GET", "/api/v2"), 1);
  EXPECT_EQ(t2.match("h", "GET", "/api"), 1);
  EXPECT_EQ(t2.match("h", "GET", "/other"), 2);
  EXPECT_EQ(t2.match("h", "GET", "/"), 2);
}

TEST(RouteTable, NoMatchIsMinusOne) {
  const std::vector<cfg::Route> routes{prefix("api", "/api"),
                                       route("health", cfg::PathMatch::exact, "/healthz")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/"), -1);
  EXPECT_EQ(table.match("h", "GET", "/apix"), -1);
  EXPECT_EQ(table.match("h", "GET", "/healthz/x"), -1);
  EXPECT_EQ(table.match("h", "GET", "/api"), 0);
  EXPECT_EQ(table.match("h", "GET", "/healthz"), 1);
}

TEST(RouteTable, ExactMatchesOnlyThatPath) {
  const std::vector<cfg::Route> routes{route("health", cfg::PathMatch::exact, "/healthz")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/healthz"), 0);
  EXPECT_EQ(table.match("h", "GET", "/healthz/"), -1);
  EXPECT_EQ(table.match("h", "GET", "/healthz/x"), -1);
  EXPECT_EQ(table.match("h", "GET", "/healthzz"), -1);
  EXPECT_EQ(table.match("h", "GET", "/HEALTHZ"), -1);
  EXPECT_EQ(table.match("h", "GET", "/"), -1);
}

TEST(RouteTable, PrefixIsSegmentAware) {
  const std::vector<cfg::Route> routes{prefix("api", "/api")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/api"), 0);
  EXPECT_EQ(table.match("h", "GET", "/api/"), 0);
  EXPECT_EQ(table.match("h", "GET", "/api/x"), 0);
  EXPECT_EQ(table.match("h", "GET", "/api/x/y"), 0);
  EXPECT_EQ(table.match("h", "GET", "/apix"), -1);
  EXPECT_EQ(table.match("h", "GET", "/ap"), -1);
  EXPECT_EQ(table.match("h", "GET", "/x/api"), -1);
}

TEST(RouteTable, PrefixWithTrailingSlashMatchesOnlyBelow) {
  const std::vector<cfg::Route> routes{prefix("api", "/api/")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/api/x"), 0);
  EXPECT_EQ(table.match("h", "GET", "/api/"), 0);
  EXPECT_EQ(table.match("h", "GET", "/api"), -1);
  EXPECT_EQ(table.match("h", "GET", "/apix"), -1);
}

struct PrefixCase {
  const char* prefix;
  const char* path;
  bool matches;
};

TEST(PrefixMatches, Table) {
  const PrefixCase cases[] = {
      {"/api", "/api", true},       {"/api", "/api/", true},       {"/api", "/api/x", true},
      {"/api", "/apix", false},     {"/api", "/ap", false},        {"/api", "/", false},
      {"/api", "/API", false},      {"/api/", "/api/x", true},     {"/api/", "/api/", true},
      {"/api/", "/api", false},     {"/api/", "/apix/", false},    {"/", "/", true},
      {"/", "/anything/at/all", true}, {"/api/v1", "/api/v10", false}, {"/api/v1", "/api/v1/x", true},
      {"/a.b", "/a.b/c", true},     {"/a.b", "/a.bc", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.prefix) + " vs " + c.path);
    EXPECT_EQ(prefix_matches(c.prefix, c.path), c.matches);
  }
}

TEST(RouteTable, RegexMustMatchTheWholePath) {
  const std::vector<cfg::Route> routes{route("billing", cfg::PathMatch::regex, "/billing/[0-9]+"),
                                       route("anchored", cfg::PathMatch::regex, "^/v[12]/.*$")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/billing/42"), 0);
  EXPECT_EQ(table.match("h", "GET", "/billing/42/x"), -1);
  EXPECT_EQ(table.match("h", "GET", "/x/billing/42"), -1);
  EXPECT_EQ(table.match("h", "GET", "/billing/"), -1);
  EXPECT_EQ(table.match("h", "GET", "/billing/4a"), -1);
  EXPECT_EQ(table.match("h", "GET", "/v1/anything"), 1);
  EXPECT_EQ(table.match("h", "GET", "/v2/"), 1);
  EXPECT_EQ(table.match("h", "GET", "/v3/"), -1);
}

TEST(RouteTable, RegexPrefixOfPathIsNotAMatch) {
  const std::vector<cfg::Route> routes{route("b", cfg::PathMatch::regex, "/billing")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/billing"), 0);
  EXPECT_EQ(table.match("h", "GET", "/billing/1"), -1);
  EXPECT_EQ(table.match("h", "GET", "/xbilling"), -1);
}

TEST(RouteTable, HostExactIsCaseInsensitiveAndIgnoresThePort) {
  const std::vector<cfg::Route> routes{prefix("api", "/", "api.example.com")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("api.example.com", "GET", "/"), 0);
  EXPECT_EQ(table.match("API.Example.COM", "GET", "/"), 0);
  EXPECT_EQ(table.match("api.example.com:8443", "GET", "/"), 0);
  EXPECT_EQ(table.match("api.example.com.", "GET", "/"), 0);
  EXPECT_EQ(table.match("www.example.com", "GET", "/"), -1);
  EXPECT_EQ(table.match("xapi.example.com", "GET", "/"), -1);
  EXPECT_EQ(table.match("api.example.com.evil", "GET", "/"), -1);
  EXPECT_EQ(table.match("", "GET", "/"), -1);
}

TEST(RouteTable, WildcardHost) {
  const std::vector<cfg::Route> routes{prefix("wild", "/", "*.example.com")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("a.example.com", "GET", "/"), 0);
  EXPECT_EQ(table.match("a.b.example.com", "GET", "/"), 0);
  EXPECT_EQ(table.match("A.EXAMPLE.COM:80", "GET", "/"), 0);
  EXPECT_EQ(table.match("example.com", "GET", "/"), -1);
  EXPECT_EQ(table.match("badexample.com", "GET", "/"), -1);
  EXPECT_EQ(table.match(".example.com", "GET", "/"), -1);
  EXPECT_EQ(table.match("a.example.com.evil", "GET", "/"), -1);
  EXPECT_EQ(table.match("a.example.org", "GET", "/"), -1);
}

struct HostCase {
  const char* pattern;
  const char* host;
  bool matches;
};

TEST(HostMatches, Table) {
  const HostCase cases[] = {
      {"", "anything.example", true},
      {"", "", true},
      {"api.example.com", "api.example.com", true},
      {"api.example.com", "API.EXAMPLE.COM", true},
      {"api.example.com", "api.example.com:8080", true},
      {"api.example.com", "api.example.com.", true},
      {"api.example.com", "api.example.com.:8080", true},
      {"api.example.com", "api.example.co", false},
      {"api.example.com", "api.example.com:8080:1", false},
      {"api.example.com", "", false},
      {"*.example.com", "a.example.com", true},
      {"*.example.com", "a.b.example.com", true},
      {"*.example.com", "a.example.com:443", true},
      {"*.example.com", "a.example.com.", true},
      {"*.example.com", "example.com", false},
      {"*.example.com", "example.com:443", false},
      {"*.example.com", "badexample.com", false},
      {"*.example.com", ".example.com", false},
      {"*.example.com", "", false},
      {"127.0.0.1", "127.0.0.1:8080", true},
      {"127.0.0.1", "127.0.0.2", false},
      {"[::1]", "[::1]:8080", true},
      {"[::1]", "[::1]", true},
      {"[::1]", "[::2]:8080", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("pattern \"") + c.pattern + "\" host \"" + c.host + "\"");
    EXPECT_EQ(host_matches(c.pattern, c.host), c.matches);
  }
}

TEST(RouteTable, MethodFilter) {
  const std::vector<cfg::Route> routes{prefix("read", "/orders", "", {"GET", "HEAD"}),
                                       prefix("write", "/orders", "", {"POST"})};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("h", "GET", "/orders"), 0);
  EXPECT_EQ(table.match("h", "HEAD", "/orders/1"), 0);
  EXPECT_EQ(table.match("h", "POST", "/orders"), 1);
  EXPECT_EQ(table.match("h", "DELETE", "/orders"), -1);
  EXPECT_EQ(table.match("h", "get", "/orders"), -1);  // methods are case-sensitive
  EXPECT_EQ(table.match("h", "", "/orders"), -1);
}

TEST(RouteTable, AllConditionsMustHoldForARoute) {
  const std::vector<cfg::Route> routes{prefix("admin", "/admin", "admin.example.com", {"GET"}),
                                       prefix("fallback", "/")};
  const RouteTable table(routes);
  EXPECT_EQ(table.match("admin.example.com", "GET", "/admin/users"), 0);
  EXPECT_EQ(table.match("www.example.com", "GET", "/admin/users"), 1);    // host differs
  EXPECT_EQ(table.match("admin.example.com", "POST", "/admin/users"), 1); // method differs
  EXPECT_EQ(table.match("admin.example.com", "GET", "/adminx"), 1);       // path differs
}

// routing.case_insensitive_paths: an upstream that ignores case serves /api/ADMIN/users as
// /api/admin/users, so the /api/admin route (listed first) must take it, not /api.
TEST(RouteTable, MixedCaseAdminPathIsMatchedByTheAdminRouteWhenCaseInsensitive) {
  const std::vector<cfg::Route> routes{prefix("admin", "/api/admin"), prefix("api", "/api")};
  const RouteTable exact(routes);
  EXPECT_EQ(exact.match("h", "GET", "/api/ADMIN/users"), 1) << "byte-exact (the default): the broad route";
  const RouteTable folded(routes, /*case_insensitive_paths=*/true);
  EXPECT_EQ(folded.match("h", "GET", "/api/ADMIN/users"), 0);
  EXPECT_EQ(folded.match("h", "GET", "/API/Admin"), 0);
  EXPECT_EQ(folded.match("h", "GET", "/api/admin/users"), 0);
  EXPECT_EQ(folded.match("h", "GET", "/Api/orders"), 1);
  EXPECT_EQ(folded.match("h", "GET", "/api/ADMINx"), 1) << "still segment-aware";
  EXPECT_EQ(folded.match("h", "GET", "/apix"), -1);
}

TEST(RouteTable, CaseInsensitiveExactRegexAndUpperCasePatterns) {
  const std::vector<cfg::Route> routes{route("exact", cfg::PathMatch::exact, "/Health"),
                                       route("re", cfg::PathMatch::regex, "/v[0-9]+/items"),
                                       prefix("upper", "/ADMIN/")};
  const RouteTable folded(routes, true);
  EXPECT_EQ(folded.match("h", "GET", "/health"), 0);
  EXPECT_EQ(folded.match("h", "GET", "/HEALTH"), 0);
  EXPECT_EQ(folded.match("h", "GET", "/healthz"), -1);
  EXPECT_EQ(folded.match("h", "GET", "/V2/ITEMS"), 1);
  EXPECT_EQ(folded.match("h", "GET", "/admin/x"), 2);
  EXPECT_EQ(folded.match("h", "GET", "/admin"), -1) << "a prefix ending in / matches only below it";
  const RouteTable exact(routes);
  EXPECT_EQ(exact.match("h", "GET", "/health"), -1);
  EXPECT_EQ(exact.match("h", "GET", "/V2/ITEMS"), -1);
  EXPECT_EQ(exact.match("h", "GET", "/admin/x"), -1);
  // Only ASCII folds: escapes keep their (upper-case, canonical) hex and non-ASCII bytes are compared as they are.
  const std::vector<cfg::Route> escaped{route("e", cfg::PathMatch::exact, "/caf%C3%A9")};
  EXPECT_EQ(RouteTable(escaped, true).match("h", "GET", "/CAF%C3%A9"), 0);
  EXPECT_EQ(RouteTable(escaped, true).match("h", "GET", "/caf%C3%89"), -1);
}

TEST(RouteTable, ShippedGatewayYaml) {
  const cfg::GatewayConfig c = cfg::load_file(support::source_dir() + "/config/gateway.yaml");
  ASSERT_EQ(c.routes.size(), 3u);
  const RouteTable table(c.routes);
  EXPECT_EQ(table.match("api.example.com", "GET", "/orders/7"), 0);
  EXPECT_EQ(table.match("API.example.com:443", "HEAD", "/orders"), 0);
  EXPECT_EQ(table.match("api.example.com", "POST", "/orders/7"), -1);
  EXPECT_EQ(table.match("other.example.com", "GET", "/orders/7"), -1);
  EXPECT_EQ(table.match("api.example.com", "GET", "/ordersx"), -1);
  EXPECT_EQ(table.match("anything", "POST", "/billing/42"), 1);
  EXPECT_EQ(table.match("anything", "GET", "/billing/42/x"), -1);
  // The gRPC example: a service's methods by prefix, /package.Service/Method.
  EXPECT_EQ(table.match("anything", "POST", "/orders.v1.Orders/GetOrder"), 2);
  EXPECT_EQ(table.match("anything", "POST", "/orders.v1.Orders"), -1);
  EXPECT_EQ(table.match("anything", "POST", "/orders.v1.OrdersX/GetOrder"), -1);
}

}  // namespace
