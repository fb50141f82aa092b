// Runs the authgate binary for one test: writes a YAML config into a fresh
// temp dir, spawns the process with stdout/stderr captured to files, waits for
// admin /readyz, sends signals, waits for exit, and kills it on destruction.
//
// Ports: the config names port 0 for the proxy and the admin listener, authgate
// binds whatever the kernel picks and reports it through --bound-addresses-file,
// and start() reads the file: port() and admin_port() are known once start()
// succeeded. No port is chosen first and bound later, so no other process can take
// it in between (ctest -j). A test that needs the proxy port before start() (a
// public_url, an OP's redirect_uris) calls reserve_port() first: the harness then
// holds that port with a bound, never listening SO_REUSEPORT socket for the
// object's lifetime, the config names it, and authgate's workers (SO_REUSEPORT,
// same user) bind it next to the reservation; connections go to the listeners only.
//
// Usage:
//   support::GatewayConfig cfg;
//   cfg.upstreams.push_back({"app", up.url()});
//   cfg.routes.push_back({"api", "app", "/api"});
//   support::GatewayProcess gw(cfg);
//   ASSERT_TRUE(gw.start());
//   auto r = support::http_get(gw.port(), "/api/x");
//
//   support::GatewayProcess gw2(cfg);
//   gw2.reserve_port();                  // port() before start()
//   cfg.extra_yaml = "sessions:\n  public_url: http://127.0.0.1:" + std::to_string(gw2.port()) + ...;
//   gw2.write_config(cfg);
//   ASSERT_TRUE(gw2.start());
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/paths.hpp"

namespace support {

struct UpstreamSpec {
  UpstreamSpec(std::string n, std::string u,
               std::vector<std::pair<std::string, std::string>> x = {})
      : name(std::move(n)), url(std::move(u)), extra(std::move(x)) {}
  std::string name;
  std::string url;
  std::vector<std::pair<std::string, std::string>> extra;  // e.g. {"max_idle", "4"}
};

// A route; the path match is `prefix` unless exact_path() or regex_path() is used.
//   RouteSpec("api", "app", "/api").with_methods({"GET"}).with_host("*.example.com")
struct RouteSpec {
  RouteSpec(std::string n, std::string up, std::string pre = "/")
      : name(std::move(n)), upstream(std::move(up)), prefix(std::move(pre)) {}
  RouteSpec& exact_path(std::string p) {
    exact = std::move(p);
    return *this;
  }
  RouteSpec& regex_path(std::string p) {
    regex = std::move(p);
    return *this;
  }
  RouteSpec& with_methods(std::vector<std::string> m) {
    methods = std::move(m);
    return *this;
  }
  RouteSpec& with_host(std::string h) {
    host = std::move(h);
    return *this;
  }

  // Extra route keys as YAML flow values, e.g. {"auth", "bearer"}, {"require", "{scopes_all: [a]}"}.
  RouteSpec& with(std::string key, std::string flow_value) {
    extra.emplace_back(std::move(key), std::move(flow_value));
    return *this;
  }

  std::string name;
  std::string upstream;
  std::string prefix;
  std::vector<std::pair<std::string, std::string>> extra;
  std::string exact;
  std::string regex;
  std::vector<std::string> methods;
  std::string host;
};

struct GatewayConfig {
  std::vector<UpstreamSpec> upstreams;
  std::vector<RouteSpec> routes;
  std::vector<std::pair<std::string, std::string>> limits;    // {"max_body_bytes", "1KiB"}
  std::vector<std::pair<std::string, std::string>> timeouts;  // {"header_read", "1s"}
  std::vector<std::string> trusted_proxies;
  std::string listen_yaml;  // further verbatim `listen:` lines, indented two spaces (e.g. "  h2c: true\n")
  unsigned workers = 2;
  std::string log_level = "info";
  std::string access_log;  // empty: <temp dir>/access.log
  std::string issuers_yaml;  // verbatim top-level `issuers:` block (with its key), if any
  // Further verbatim top-level blocks (with their keys, e.g. "sessions:\n  ..."), rendered
  // after issuers_yaml.
  std::string extra_yaml;
  // Extra environment variables for the authgate process (e.g. {"OP_SECRET", "..."} for
  // a `client_secret_env: OP_SECRET`); the test process's own environment is inherited.
  std::vector<std::pair<std::string, std::string>> env;
  // start() waits for /readyz 200; false: for /healthz (e.g. issuers whose keys cannot load).
  bool wait_for_ready = true;

  // Renders the YAML document for the given ports and access-log target.
  std::string render(std::uint16_t listen_port, std::uint16_t admin_port,
                     const std::string& access_target) const;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// fork + exec of `args` (args[0] is a path, no PATH search) with stdin from /dev/null and
// stdout/stderr to the given files, the test process's environment plus `env` (which
// replaces variables of the same name), in `cwd` when it is not empty. The child is
// killed when the test process dies. Returns the pid, or -1 when fork() failed.
pid_t spawn_process(const std::vector<std::string>& args, const std::string& out_path,
                    const std::string& err_path, const EnvVars& env = {},
                    const std::string& cwd = {});

// Exit code of a waitpid() status: the code, 128 + signal when killed by one, else -1.
int decode_exit_status(int status);

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] a path, no PATH search) to completion (killed after `timeout`).
CommandResult run_command(const std::vector<std::string>& argv, Clock::duration timeout = 10s);
// Runs authgate with `args` to completion (killed after `timeout`).
CommandResult run_authgate(const std::vector<std::string>& args, Clock::duration timeout = 10s);
// Same, with no environment variable at all (`env -i`): a CI job without secrets.
CommandResult run_authgate_with_empty_environment(const std::vector<std::string>& args,
                                                  Clock::duration timeout = 10s);

// A fresh temp directory, removed on destruction (kept if the test failed).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

class GatewayProcess {
 public:
  explicit GatewayProcess(GatewayConfig cfg);
  ~GatewayProcess();
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Spawns with --bound-addresses-file and waits (bounded) for that file, /readyz 200
  // and a connectable listener.
  ::testing::AssertionResult start(Clock::duration ready_timeout = 10s,
                                   const std::vector<std::string>& extra_args = {});

  // Holds a proxy port from now on (see above) and rewrites the config file with it, so
  // port() is known before start(). Call it before write_config() and before start().
  void reserve_port();

  // The proxy and admin ports authgate bound (after start()). Before start(), port() is
  // the reserved port; without reserve_port() both fail the test and answer 0.
  std::uint16_t port() const;
  std::uint16_t admin_port() const;
  // The ports the config file names: 0 (authgate picks one), or the reserved proxy port.
  // For tests that write their own YAML text (write_config_text()).
  std::uint16_t config_port() const { return reservation_ ? reservation_->port() : 0; }
  std::uint16_t config_admin_port() const { return 0; }
  // The YAML write_config() writes for `cfg`: config_port(), config_admin_port(), access log.
  std::string render(const GatewayConfig& cfg) const;
  std::string bound_addresses_path() const { return dir_.file("bound-addresses.json"); }
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_path_; }
  std::string access_log_path() const { return dir_.file("access.log"); }
  const TempDir& dir() const { return dir_; }
  const GatewayConfig& config() const { return cfg_; }

  // Rewrites the config file (same port specs: a reload re-binds nothing) - for SIGHUP tests.
  void write_config(const GatewayConfig& cfg);
  void write_config_text(const std::string& yaml);

  bool signal(int sig);
  // Exit code (128 + signal if killed by one), or nullopt if still running at the timeout.
  std::optional<int> wait_exit(Clock::duration timeout);
  bool running();

  std::string stdout_text() const;
  std::string stderr_text() const;

  // From /proc/<pid>/status, in KiB.
  std::optional<long> vm_rss_kib() const;
  std::optional<long> vm_hwm_kib() const;

  std::optional<Response> admin_get(std::string_view path, Clock::duration timeout = 5s) const;
  // GET /metrics body ("" on failure).
  std::string metrics_text(Clock::duration timeout = 5s) const;
  // Polls /metrics (every 20 ms) until the metric `name` (summed over the samples whose
  // labels include `labels`, 0 when there is none) is at least `at_least`, or `timeout`
  // passes; answers the last value read. authgate bumps some counters after the response
  // is written (authgate_http_requests_total, the request duration histogram, upstream
  // body errors), so a test that has its reply may still scrape the old value. Keeps
  // exact checks exact: EXPECT_EQ(gw.wait_for_metric("x_total", {{"code", "502"}}, 1), 1).
  double wait_for_metric(std::string_view name, const std::map<std::string, std::string>& labels,
                         double at_least, Clock::duration timeout = 5s) const;

 private:
  std::optional<long> proc_status_kib(const char* key) const;

  // Reads bound_addresses_path(); true once it names both ports.
  bool read_bound_addresses();

  GatewayConfig cfg_;
  TempDir dir_;
  std::optional<PortReservation> reservation_;  // reserve_port()
  std::uint16_t listen_port_ = 0;  // bound (from the file), 0 until start()
  std::uint16_t admin_port_ = 0;
  std::string config_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// Checks a locally generated error reply: status, Content-Type application/json,
// an X-Request-Id header and a JSON body {"error":..., "status":..., "request_id":...}
// whose request_id equals the header. `error` (if non-empty) must match too.
::testing::AssertionResult IsLocalError(const std::optional<Response>& r, int status,
                                        std::string_view error = {});

// Polls `pred` every 20 ms until it is true or `timeout` passes.
bool eventually(const std::function<bool()>& pred, Clock::duration timeout);

}  // namespace support
