// Command line: --version, --check-config, refusing to run a bad file, and
// `authgate token inspect`.
#include <algorithm>
#include <regex>

#include "auth/test_signer.hpp"
#include "common.hpp"
#include "support/paths.hpp"

namespace it {
namespace {

using support::run_authgate;
using support::TempDir;

// A valid config file (ports need not be free: --check-config does not bind).
std::string valid_yaml() {
  GatewayConfig cfg;
  cfg.upstreams.push_back({"orders", "http://127.0.0.1:9000"});
  cfg.routes.push_back(RouteSpec("orders-read", "orders", "/orders").with_methods({"GET", "HEAD"}));
  cfg.routes.push_back(RouteSpec("orders-write", "orders", "/orders"));
  return cfg.render(18080, 19901, "off");
}

TEST(Cli, VersionPrintsNameAndVersion) {
  auto r = run_authgate({"--version"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.out, m, std::regex(R"(authgate (\S+) \(commit ([0-9a-f]{40}(-dirty)?|unknown)\)\r?\n?)")))
      << "stdout: [" << r.out << "] stderr: [" << r.err << "]";
  if (std::string_view(AUTHGATE_VERSION) != "") {
    EXPECT_EQ(m[1].str(), AUTHGATE_VERSION);
  }
}

TEST(Cli, CheckConfigAcceptsValidFile) {
  TempDir dir;
  dir.write("good.yaml", valid_yaml());
  auto r = run_authgate({"--check-config", dir.file("good.yaml")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
}

TEST(Cli, CheckConfigAcceptsReferenceConfig) {
  auto r = run_authgate({"--check-config", support::source_dir() + "/config/gateway.yaml"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
}

TEST(Cli, CheckConfigReportsUnknownUpstreamWithPosition) {
  TempDir dir;
  std::string yaml = valid_yaml();
  // Point the second route at a misspelt upstream.
  auto at = yaml.rfind("upstream: \"orders\"");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, std::string("upstream: \"orders\"").size(), "upstream: ordrs");
  int line = 1 + static_cast<int>(std::count(yaml.begin(), yaml.begin() + at, '\n'));
  dir.write("bad.yaml", yaml);

  auto r = run_authgate({"--check-config", dir.file("bad.yaml")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  std::string all = r.out + r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      all, m, std::regex(R"(bad\.yaml:(\d+):(\d+): routes\[1\]\.upstream: unknown upstream "ordrs")")))
      << all;
  EXPECT_EQ(std::stoi(m[1].str()), line) << all;
}

TEST(Cli, CheckConfigRejectsUnknownKey) {
  TempDir dir;
  std::string yaml = valid_yaml() + "limits:\n  max_body_byte: 1MiB\n";
  dir.write("typo.yaml", yaml);
  auto r = run_authgate({"--check-config", dir.file("typo.yaml")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find("limits.max_body_byte"), std::string::npos) << r.out << r.err;
}

TEST(Cli, CheckConfigReportsEveryError) {
  TempDir dir;
  std::string yaml = valid_yaml() + "timeouts:\n  header_read: 10 seconds\n  drain: 0s\n";
  dir.write("two.yaml", yaml);
  auto r = run_authgate({"--check-config", dir.file("two.yaml")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  std::string all = r.out + r.err;
  EXPECT_NE(all.find("timeouts.header_read"), std::string::npos) << all;
  EXPECT_NE(all.find("timeouts.drain"), std::string::npos) << all;
}

TEST(Cli, CheckConfigMissingFileFails) {
  auto r = run_authgate({"--check-config", "/nonexistent/authgate-it.yaml"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE((r.out + r.err).empty());
}

// config/compose.yaml takes five secrets from the environment (the compose
// file's demo values). A CI job that validates it has none of them.
TEST(Cli, CheckConfigWithoutSecretsFailsAsBefore) {
  const std::string compose = support::source_dir() + "/config/compose.yaml";
  auto r = support::run_authgate_with_empty_environment({"--check-config", compose});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("issuers[1].secret_env: environment variable AUTHGATE_DEMO_SECRET is not set"),
            std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("note:"), std::string::npos) << r.err;
}

TEST(Cli, CheckConfigSkipSecretsPassesComposeYamlWithAnEmptyEnvironment) {
  const std::string compose = support::source_dir() + "/config/compose.yaml";
  auto r = support::run_authgate_with_empty_environment({"--check-config", compose, "--skip-secrets"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE(r.out.find(": ok ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5 secret(s) not checked"), std::string::npos) << r.out;
  // One note per secret, each with file:line:column and the key.
  const std::regex note(R"(compose\.yaml:\d+:\d+: ([a-z_.\[\]0-9]+): note: environment variable (\w+) is not set; )"
                        R"(not checked \(--skip-secrets\))");
  std::vector<std::string> keys;
  for (auto it = std::sregex_iterator(r.err.begin(), r.err.end(), note); it != std::sregex_iterator(); ++it)
    keys.push_back((*it)[1].str() + "=" + (*it)[2].str());
  std::sort(keys.begin(), keys.end());
  const std::vector<std::string> expected{
      "issuers[0].introspection.client_secret_env=AUTHGATE_DEMO_OP_SECRET",
      "issuers[1].secret_env=AUTHGATE_DEMO_SECRET",
      "revocation.admin_token_env=AUTHGATE_DEMO_ADMIN_TOKEN",
      "sessions.client.client_secret_env=AUTHGATE_DEMO_OP_SECRET",
      "sessions.cookie_secret_env=AUTHGATE_DEMO_COOKIE_SECRET",
  };
  EXPECT_EQ(keys, expected) << r.err;
}

// Everything but the secrets is still checked, and a secret file that is
// missing is a note too; a secret that is there is still validated.
TEST(Cli, CheckConfigSkipSecretsStillReportsEveryOtherError) {
  TempDir dir;
  dir.write("short", "too-short");
  std::string yaml = valid_yaml() +
                     "issuers:\n"
                     "  - name: h\n"
                     "    issuer: https://idp.test\n"
                     "    audiences: [a]\n"
                     "    algorithms: [HS256]\n"
                     "    secret_file: " + dir.file("missing-secret") + "\n"
                     "revocation:\n"
                     "  admin_token_file: " + dir.file("short") + "\n"
                     "limits:\n"
                     "  max_body_byte: 1MiB\n";
  dir.write("ci.yaml", yaml);
  auto r = run_authgate({"--check-config", dir.file("ci.yaml"), "--skip-secrets"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("limits.max_body_byte: unknown key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("revocation: the admin token must be at least 16 bytes"), std::string::npos) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex(R"(ci\.yaml:\d+:18: issuers\[0\]\.secret_file: note: cannot read )"
                                                  R"(file ".*missing-secret"; not checked \(--skip-secrets\))")))
      << r.err;
  // Without the unknown key and the short token: it passes.
  yaml = yaml.substr(0, yaml.find("revocation:"));
  dir.write("ci2.yaml", yaml);
  r = run_authgate({"--check-config", dir.file("ci2.yaml"), "--skip-secrets"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 secret(s) not checked"), std::string::npos) << r.out;
}

TEST(Cli, SkipSecretsIsOnlyForCheckConfig) {
  TempDir dir;
  dir.write("good.yaml", valid_yaml());
  auto r = run_authgate({"--config", dir.file("good.yaml"), "--skip-secrets"}, 10s);
  ASSERT_FALSE(r.timed_out) << "authgate ran with --skip-secrets";
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--skip-secrets only goes with --check-config"), std::string::npos) << r.err;
}

TEST(Cli, RunRefusesInvalidConfig) {
  TempDir dir;
  dir.write("bad.yaml", valid_yaml() + "bogus_key: 1\n");
  auto r = run_authgate({"--config", dir.file("bad.yaml")}, 10s);
  ASSERT_FALSE(r.timed_out) << "authgate kept running with an invalid config";
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("bogus_key"), std::string::npos) << r.out << r.err;
}


// ---- authgate token inspect ----

namespace ts = authgate::auth::test;

std::string rs256(const std::string& payload) {
  return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})", payload);
}

std::string claims(std::int64_t exp_offset, const std::string& aud = "orders-api",
                   const std::string& iss = "https://idp.test", const std::string& scope = "orders:read") {
  return R"({"iss":")" + iss + R"(","sub":"alice","aud":")" + aud + R"(","scope":")" + scope +
         R"(","exp":)" + std::to_string(now_s() + exp_offset) + R"(,"iat":)" + std::to_string(now_s() - 5) +
         "}";
}

// Route "api" (/api, bearer, scope orders:read, issuer "main" with a jwks_file) and
// route "remote" (/remote, bearer, issuer "remote" using OpenID discovery).
class TokenInspect : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("jwks.json", ts::jwks_of({ts::rsa2048().public_jwk()}));
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", "http://127.0.0.1:9000"});
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}
                             .with("auth", "bearer")
                             .with("issuers", "[main]")
                             .with("require", "{scopes_all: [orders:read]}"));
    cfg.routes.push_back(RouteSpec{"remote", "app", "/remote"}.with("auth", "bearer").with("issuers", "[remote]"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: main\n"
                       "    issuer: https://idp.test\n"
                       "    audiences: [orders-api]\n"
                       "    jwks_file: " + dir_.file("jwks.json") + "\n"
                       "  - name: remote\n"
                       "    issuer: https://remote-idp.test\n"
                       "    audiences: [orders-api]\n";
    dir_.write("gw.yaml", cfg.render(18080, 19901, "off"));
  }
  support::CommandResult inspect(const std::string& token, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"token", "inspect", token};
    if (!more.empty()) {
      args.push_back("--config");
      args.push_back(dir_.file("gw.yaml"));
      args.insert(args.end(), more.begin(), more.end());
    }
    auto r = run_authgate(args);
    EXPECT_FALSE(r.timed_out);
    return r;
  }
  TempDir dir_;
};

TEST_F(TokenInspect, DecodesValidToken) {
  auto r = inspect(rs256(claims(252)));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"alg\": \"RS256\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"sub\": \"alice\""), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(exp: \d+ \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, in 4m 1\ds\))")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(iat: \d+ \(.* UTC, \ds ago\))"))) << r.out;
}

TEST_F(TokenInspect, MalformedTokenExitsOneWithReason) {
  auto r = inspect(ts::b64("{\"alg\":\"RS256\"}") + ".%%%." + ts::b64("sig"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("payload: not valid base64url"), std::string::npos) << r.err;
  auto r2 = inspect("only.two");
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(r2.err.find("2 parts, expected 3"), std::string::npos) << r2.err;
}

TEST_F(TokenInspect, HelpMentionsSubcommand) {
  auto r = run_authgate({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("token inspect"), std::string::npos) << r.out;
  auto u = run_authgate({"token", "inspect"});
  EXPECT_EQ(u.exit_code, 2) << u.out << u.err;
}

TEST_F(TokenInspect, AcceptedOnJwksFileRoute) {
  auto r = inspect(rs256(claims(300)), {"--route", "api"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("accepted (issuer main, sub alice)"), std::string::npos) << r.out;
  // The same route picked through the route table on the canonical path.
  auto r2 = inspect(rs256(claims(300)), {"--method", "GET", "--path", "/x/../api//orders"});
  EXPECT_EQ(r2.exit_code, 0) << r2.out << r2.err;
  EXPECT_NE(r2.out.find("route: api (GET /api/orders)"), std::string::npos) << r2.out;
  EXPECT_NE(r2.out.find("accepted (issuer main, sub alice)"), std::string::npos) << r2.out;
}

TEST_F(TokenInspect, RejectedExpired) {
  auto r = inspect(rs256(claims(-7200)), {"--route", "api"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("expired 2h ago"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected: expired \u2014 token has expired"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HTTP 401"), std::string::npos) << r.out;
}

TEST_F(TokenInspect, RejectedWrongAudience) {
  auto r = inspect(rs256(claims(300, "billing-api")), {"--route", "api"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("rejected: bad_audience \u2014 token audience is not accepted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HTTP 401"), std::string::npos) << r.out;
}

TEST_F(TokenInspect, RejectedMissingScope) {
  auto r = inspect(rs256(claims(300, "orders-api", "https://idp.test", "orders:write")),
                   {"--method", "GET", "--path", "/api/orders"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("rejected: insufficient_scope \u2014 token lacks a required scope"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("HTTP 403"), std::string::npos) << r.out;
}

TEST_F(TokenInspect, DiscoveryIssuerNeedsNetworkThenJwksChecksSignature) {
  const std::string good = rs256(claims(300, "orders-api", "https://remote-idp.test"));
  auto r = inspect(good, {"--route", "remote"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("needs the network"), std::string::npos) << r.out;

  auto ok = inspect(good, {"--route", "remote", "--jwks", dir_.file("jwks.json")});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("accepted (issuer remote, sub alice)"), std::string::npos) << ok.out;

  // Signed by another key than the JWKS holds (same kid): a bad signature.
  const std::string forged = ts::mint(ts::rsa2048_b(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})",
                                      claims(300, "orders-api", "https://remote-idp.test"));
  auto bad = inspect(forged, {"--route", "remote", "--jwks", dir_.file("jwks.json")});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("rejected: bad_signature"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("HTTP 401"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace it
