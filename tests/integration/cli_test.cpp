// Command line: --version and --check-config, and refusing to run a bad file.
#include <regex>

#include "common.hpp"

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
  ASSERT_TRUE(std::regex_match(r.out, m, std::regex(R"(authgate (\S+)\r?\n?)")))
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
  auto r = run_authgate({"--check-config", std::string(AUTHGATE_SOURCE_DIR) + "/config/gateway.yaml"});
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

TEST(Cli, RunRefusesInvalidConfig) {
  TempDir dir;
  dir.write("bad.yaml", valid_yaml() + "bogus_key: 1\n");
  auto r = run_authgate({"--config", dir.file("bad.yaml")}, 10s);
  ASSERT_FALSE(r.timed_out) << "authgate kept running with an invalid config";
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("bogus_key"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace it
