// Listening on port 0 and reporting the bound addresses (--bound-addresses-file), and
// binding a port the harness holds with a non-listening SO_REUSEPORT socket. The harness
// relies on both (support/gateway_process.hpp): no port is picked first and bound later,
// so parallel tests (ctest -j) cannot take each other's ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <filesystem>

#include "common.hpp"
#include "support/files.hpp"

namespace it {
namespace {

using support::PortReservation;
using support::read_text;
using support::run_authgate;
using support::TempDir;

// "127.0.0.1:41234" -> 41234, 0 when it is not 127.0.0.1:<1..65535>.
std::uint16_t loopback_port(const std::string& address) {
  const std::string prefix = "127.0.0.1:";
  if (address.rfind(prefix, 0) != 0) return 0;
  const std::string digits = address.substr(prefix.size());
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  const unsigned long v = std::stoul(digits);
  return v >= 1 && v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
}

std::string member(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A plain bind of 127.0.0.1:port without SO_REUSEADDR/SO_REUSEPORT: what another
// program would do. True when it succeeded (the port was free).
bool plain_bind_succeeds(std::uint16_t port) {
  support::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

TEST(Listen, PortZeroIsBoundByEveryWorkerAndTheBoundAddressesFileNamesTheRealPorts) {
  UpstreamServer up(support::handlers::echo());
  GatewayConfig cfg = one_route(up);
  cfg.workers = 3;
  GatewayProcess gw(cfg);
  const std::string yaml = read_text(gw.config_path());
  ASSERT_NE(yaml.find("address: \"127.0.0.1:0\""), std::string::npos) << yaml;  // listen and admin
  ASSERT_TRUE(gw.start());  // passes --bound-addresses-file

  // {"proxy":"127.0.0.1:<port>","admin":"127.0.0.1:<port>"}: real, distinct ports.
  const std::string text = read_text(gw.bound_addresses_path());
  const auto doc = support::parse_json_object(text);
  ASSERT_TRUE(doc) << text;
  EXPECT_EQ(doc->size(), 2u) << text;
  const std::uint16_t proxy = loopback_port(member(*doc, "proxy"));
  const std::uint16_t admin = loopback_port(member(*doc, "admin"));
  ASSERT_NE(proxy, 0) << text;
  ASSERT_NE(admin, 0) << text;
  EXPECT_NE(proxy, admin);
  EXPECT_EQ(proxy, gw.port());
  EXPECT_EQ(admin, gw.admin_port());
  // Written atomically: no temp file is left next to it.
  for (const auto& entry : std::filesystem::directory_iterator(gw.dir().path()))
    EXPECT_EQ(entry.path().filename().string().find("bound-addresses.json.tmp"), std::string::npos)
        << entry.path();

  // Both answer. Every fresh connection is served: whichever of the three workers'
  // SO_REUSEPORT acceptors the kernel hands it to is bound to the same port.
  for (int i = 0; i < 30; ++i) ASSERT_EQ(status_of(support::http_get(proxy, "/api/x")), 200) << i;
  auto healthz = support::http_request(admin, support::make_request("GET", "/healthz"));
  ASSERT_EQ(status_of(healthz), 200) << describe(healthz);
  const std::string log = gw.stderr_text() + gw.stdout_text();
  EXPECT_NE(log.find("listening on 127.0.0.1:" + std::to_string(proxy) + " (http), admin on 127.0.0.1:" +
                     std::to_string(admin)),
            std::string::npos)
      << log;

  // SIGHUP with the same text (port 0 again), then with the ports that were picked:
  // neither is a listen/admin change, nothing is re-bound, both reloads succeed.
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_EQ(gw.wait_for_metric("authgate_config_reloads_total", {{"result", "success"}}, 1), 1);
  gw.write_config_text(cfg.render(proxy, admin, gw.access_log_path()));
  ASSERT_TRUE(gw.signal(SIGHUP));
  EXPECT_EQ(gw.wait_for_metric("authgate_config_reloads_total", {{"result", "success"}}, 2), 2);
  EXPECT_EQ(metric_or_zero(gw, "authgate_config_reloads_total", {{"result", "failure"}}), 0);
  const std::string after = gw.stderr_text() + gw.stdout_text();
  EXPECT_EQ(after.find("need a restart"), std::string::npos) << after;
  EXPECT_EQ(status_of(support::http_get(proxy, "/api/x")), 200);
  EXPECT_EQ(read_text(gw.bound_addresses_path()), text);
}

TEST(Listen, AReservedPortIsSharedWithTheWorkersButNeverGetsAConnection) {
  UpstreamServer up(support::handlers::echo());
  GatewayConfig cfg = one_route(up);
  cfg.workers = 2;
  GatewayProcess gw(cfg);
  gw.reserve_port();  // bound, never listening, SO_REUSEPORT
  const std::uint16_t reserved = gw.port();
  ASSERT_NE(reserved, 0);
  EXPECT_FALSE(plain_bind_succeeds(reserved)) << "the reservation does not hold the port";
  // Nothing listens yet: refused at once.
  int err = 0;
  EXPECT_FALSE(support::connect_loopback(reserved, support::Deadline::in(1s), &err).valid());
  EXPECT_EQ(err, ECONNREFUSED);

  ASSERT_TRUE(gw.start());
  EXPECT_EQ(gw.port(), reserved);
  // If the kernel handed connections to the reservation, some of these would hang
  // (never accepted) or be refused.
  for (int i = 0; i < 50; ++i) ASSERT_EQ(status_of(support::http_get(reserved, "/api/x", {}, 3s)), 200) << i;

  // Once authgate has gone, the port is still held, and refuses connections again.
  ASSERT_TRUE(gw.signal(SIGTERM));
  ASSERT_EQ(gw.wait_exit(10s), 0);
  EXPECT_FALSE(plain_bind_succeeds(reserved));
  EXPECT_FALSE(support::connect_loopback(reserved, support::Deadline::in(1s), &err).valid());
  EXPECT_EQ(err, ECONNREFUSED);
}

TEST(Listen, AnUnwritableBoundAddressesFileIsAStartUpFailure) {
  TempDir dir;
  GatewayConfig cfg;
  dir.write("gw.yaml", cfg.render(0, 0, "off"));
  auto r = run_authgate({"--config", dir.file("gw.yaml"), "--bound-addresses-file", dir.file("missing/dir/bound.json")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("bound-addresses-file"), std::string::npos) << r.out << r.err;
}

TEST(Listen, TheFlagNeedsAPathAndIsInTheUsage) {
  auto r = run_authgate({"--config", "x.yaml", "--bound-addresses-file"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto help = run_authgate({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--bound-addresses-file PATH"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace it
