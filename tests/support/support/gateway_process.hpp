// Runs the authgate binary for one test: writes a YAML config into a fresh
// temp dir (ports picked by binding 127.0.0.1:0), spawns the process with
// stdout/stderr captured to files, waits for admin /readyz, sends signals,
// waits for exit, and kills it on destruction.
//
// Usage:
//   support::GatewayConfig cfg;
//   cfg.upstreams.push_back({"app", up.url()});
//   cfg.routes.push_back({"api", "app", "/api"});
//   support::GatewayProcess gw(cfg);
//   ASSERT_TRUE(gw.start());
//   auto r = support::http_get(gw.port(), "/api/x");
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

// The binary under test (compile definition AUTHGATE_BINARY).
std::string authgate_binary();

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

// Runs authgate with `args` to completion (killed after `timeout`).
CommandResult run_authgate(const std::vector<std::string>& args, Clock::duration timeout = 10s);

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

  // Spawns and waits (bounded) for /readyz 200 and a connectable listener.
  ::testing::AssertionResult start(Clock::duration ready_timeout = 10s,
                                   const std::vector<std::string>& extra_args = {});

  std::uint16_t port() const { return listen_port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_path_; }
  std::string access_log_path() const { return dir_.file("access.log"); }
  const TempDir& dir() const { return dir_; }
  const GatewayConfig& config() const { return cfg_; }

  // Rewrites the config file (same ports) - for SIGHUP tests.
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

  GatewayConfig cfg_;
  TempDir dir_;
  std::uint16_t listen_port_ = 0;
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
