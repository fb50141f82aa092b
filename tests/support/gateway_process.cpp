#include "support/gateway_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "support/files.hpp"
#include "support/json.hpp"
#include "support/metrics.hpp"

namespace support {

namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "...\n" + s.substr(s.size() - n);
}

}  // namespace

int decode_exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Everything is allocated before fork(); the child makes async-signal-safe calls only.
pid_t spawn_process(const std::vector<std::string>& args, const std::string& out_path,
                    const std::string& err_path, const EnvVars& env, const std::string& cwd) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : env) replaced = replaced || k == name;
    if (!replaced) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  int in = ::open("/dev/null", O_RDONLY);
  int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || err < 0) ::_exit(126);
  if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(125);
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

std::string GatewayConfig::render(std::uint16_t listen_port, std::uint16_t admin_port,
                                  const std::string& access_target) const {
  std::ostringstream y;
  y << "listen:\n  address: " << quote("127.0.0.1:" + std::to_string(listen_port)) << "\n" << listen_yaml;
  if (!trusted_proxies.empty()) {
    y << "  trusted_proxies:\n";
    for (const auto& t : trusted_proxies) y << "    - " << quote(t) << "\n";
  }
  y << "admin:\n  address: " << quote("127.0.0.1:" + std::to_string(admin_port)) << "\n";
  y << "workers: " << workers << "\n";
  if (!limits.empty()) {
    y << "limits:\n";
    for (const auto& [k, v] : limits) y << "  " << k << ": " << quote(v) << "\n";
  }
  if (!timeouts.empty()) {
    y << "timeouts:\n";
    for (const auto& [k, v] : timeouts) y << "  " << k << ": " << quote(v) << "\n";
  }
  if (upstreams.empty()) {
    y << "upstreams: []\n";
  } else {
    y << "upstreams:\n";
    for (const auto& u : upstreams) {
      y << "  - name: " << quote(u.name) << "\n    url: " << quote(u.url) << "\n";
      for (const auto& [k, v] : u.extra) y << "    " << k << ": " << quote(v) << "\n";
    }
  }
  if (routes.empty()) {
    y << "routes: []\n";
  } else {
    y << "routes:\n";
    for (const auto& r : routes) {
      y << "  - name: " << quote(r.name) << "\n    match:\n";
      if (!r.host.empty()) y << "      host: " << quote(r.host) << "\n";
      if (!r.exact.empty()) y << "      path: {exact: " << quote(r.exact) << "}\n";
      else if (!r.regex.empty()) y << "      path: {regex: " << quote(r.regex) << "}\n";
      else y << "      path: {prefix: " << quote(r.prefix) << "}\n";
      if (!r.methods.empty()) {
        y << "      methods: [";
        for (std::size_t i = 0; i < r.methods.size(); ++i) y << (i ? ", " : "") << r.methods[i];
        y << "]\n";
      }
      y << "    upstream: " << quote(r.upstream) << "\n";
      for (const auto& [k, v] : r.extra) y << "    " << k << ": " << v << "\n";
    }
  }
  y << issuers_yaml;
  y << extra_yaml;
  y << "log:\n  level: " << quote(log_level) << "\n  access: " << quote(access_target) << "\n";
  return y.str();
}

// ---- TempDir ---------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/authgate-it-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (::testing::Test::HasFailure()) {
    std::cerr << "[support] kept " << path_ << " for inspection\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, const std::string& text) const {
  // Write to a temp name and rename, so a reader never sees a half-written file.
  std::string tmp = file(name + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, file(name));
}

// ---- run_authgate ----------------------------------------------------------

CommandResult run_command(const std::vector<std::string>& argv, Clock::duration timeout) {
  TempDir dir;
  CommandResult result;
  pid_t pid = spawn_process(argv, dir.file("stdout"), dir.file("stderr"));
  if (pid < 0) return result;
  auto deadline = Deadline::in(timeout);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (deadline.expired()) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    sleep_for(5ms);
  }
  result.exit_code = decode_exit_status(status);
  result.out = read_text(dir.file("stdout"));
  result.err = read_text(dir.file("stderr"));
  return result;
}

CommandResult run_authgate(const std::vector<std::string>& args, Clock::duration timeout) {
  std::vector<std::string> argv{authgate_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout);
}

CommandResult run_authgate_with_empty_environment(const std::vector<std::string>& args, Clock::duration timeout) {
  std::vector<std::string> argv{"/usr/bin/env", "-i"};
  // Sanitizer builds keep their options (scripts/sanitize.sh): they are not configuration.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) argv.push_back(std::string(name) + "=" + v);
  argv.push_back(authgate_binary());
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout);
}

// ---- GatewayProcess --------------------------------------------------------

GatewayProcess::GatewayProcess(GatewayConfig cfg) : cfg_(std::move(cfg)) {
  config_path_ = dir_.file("gateway.yaml");
  write_config(cfg_);
}

GatewayProcess::~GatewayProcess() {
  bool exited_by_itself = pid_ > 0 && !running() && reaped_;
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
  }
  if (pid_ > 0 && ::testing::Test::HasFailure()) {
    if (exited_by_itself) {
      std::cerr << "[support] authgate (pid " << pid_ << ") had exited with code " << exit_code_
                << (exit_code_ > 128 ? " (killed by signal " + std::to_string(exit_code_ - 128) + ")"
                                     : std::string())
                << "\n";
    }
    std::cerr << "[support] authgate (pid " << pid_ << ") stderr:\n"
              << tail(stderr_text(), 6000) << "\n[support] authgate stdout:\n"
              << tail(stdout_text(), 3000) << "\n";
  }
}

void GatewayProcess::reserve_port() {
  if (reservation_) return;
  if (pid_ > 0) ADD_FAILURE() << "reserve_port() after start(): authgate has bound its port already";
  // Held until this object dies, also after authgate has exited: the port stays this test's.
  reservation_.emplace(PortReservation::Share::reuseport);
  write_config(cfg_);
}

std::uint16_t GatewayProcess::port() const {
  if (listen_port_ != 0) return listen_port_;
  if (reservation_) return reservation_->port();
  ADD_FAILURE() << "GatewayProcess::port() before start(): the port is picked at start "
                   "(call reserve_port() first to know it earlier)";
  return 0;
}

std::uint16_t GatewayProcess::admin_port() const {
  if (admin_port_ == 0) ADD_FAILURE() << "GatewayProcess::admin_port() before start(): the port is picked at start";
  return admin_port_;
}

std::string GatewayProcess::render(const GatewayConfig& cfg) const {
  return cfg.render(config_port(), config_admin_port(),
                    cfg.access_log.empty() ? access_log_path() : cfg.access_log);
}

void GatewayProcess::write_config(const GatewayConfig& cfg) {
  cfg_ = cfg;
  write_config_text(render(cfg));
}

void GatewayProcess::write_config_text(const std::string& yaml) { dir_.write("gateway.yaml", yaml); }

namespace {
// "127.0.0.1:41234" -> 41234; "[::1]:8080" -> 8080; 0 when there is no port.
std::uint16_t port_of(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return 0;
  unsigned v = 0;
  for (char c : address.substr(colon + 1)) {
    if (c < '0' || c > '9' || v > 65535) return 0;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535 ? static_cast<std::uint16_t>(v) : 0;
}
}  // namespace

bool GatewayProcess::read_bound_addresses() {
  // authgate renames a complete file into place: it is absent or whole.
  auto doc = parse_json_object(read_text(bound_addresses_path()));
  if (!doc) return false;
  auto text = [&](const char* key) -> std::string {
    auto* v = doc->if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const std::uint16_t proxy = port_of(text("proxy"));
  const std::uint16_t admin = port_of(text("admin"));
  if (proxy == 0 || admin == 0) return false;
  listen_port_ = proxy;
  admin_port_ = admin;
  return true;
}

::testing::AssertionResult GatewayProcess::start(Clock::duration ready_timeout,
                                                 const std::vector<std::string>& extra_args) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "already started";
  std::error_code ignored;
  std::filesystem::remove(bound_addresses_path(), ignored);
  std::vector<std::string> argv{authgate_binary(), "--config", config_path_, "--bound-addresses-file",
                                bound_addresses_path()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  pid_ = spawn_process(argv, dir_.file("stdout.log"), dir_.file("stderr.log"), cfg_.env);
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);
  auto deadline = Deadline::in(ready_timeout);
  std::string last;
  while (!deadline.expired()) {
    if (!running()) {
      return ::testing::AssertionFailure()
             << "authgate exited with code " << exit_code_ << " before becoming ready\nconfig:\n"
             << read_text(config_path_) << "stderr:\n" << tail(stderr_text(), 4000)
             << "\nstdout:\n" << tail(stdout_text(), 2000);
    }
    if (admin_port_ == 0 && !read_bound_addresses()) {
      last = "no " + bound_addresses_path() + " yet";
      sleep_for(20ms);
      continue;
    }
    if (reservation_ && listen_port_ != reservation_->port()) {
      return ::testing::AssertionFailure() << "authgate bound port " << listen_port_ << ", not the reserved "
                                           << reservation_->port() << "\n" << read_text(bound_addresses_path());
    }
    auto r = admin_get(cfg_.wait_for_ready ? "/readyz" : "/healthz", 500ms);
    if (r && r->status == 200) {
      Fd probe = connect_loopback(listen_port_, Deadline::in(500ms));
      if (probe.valid()) return ::testing::AssertionSuccess();
      last = "readyz 200 but the proxy listener refuses connections";
    } else {
      last = r ? "readyz answered " + std::to_string(r->status) : "admin not answering";
    }
    sleep_for(50ms);
  }
  return ::testing::AssertionFailure() << "authgate not ready within the timeout (" << last
                                       << ")\nstderr:\n" << tail(stderr_text(), 4000);
}

bool GatewayProcess::signal(int sig) {
  if (pid_ <= 0 || reaped_) return false;
  return ::kill(pid_, sig) == 0;
}

bool GatewayProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = decode_exit_status(status);
    return false;
  }
  return true;
}

std::optional<int> GatewayProcess::wait_exit(Clock::duration timeout) {
  auto deadline = Deadline::in(timeout);
  for (;;) {
    if (!running()) {
      if (reaped_) return exit_code_;
      return std::nullopt;  // never started
    }
    if (deadline.expired()) return std::nullopt;
    sleep_for(10ms);
  }
}

std::string GatewayProcess::stdout_text() const { return read_text(dir_.file("stdout.log")); }
std::string GatewayProcess::stderr_text() const { return read_text(dir_.file("stderr.log")); }

std::optional<long> GatewayProcess::proc_status_kib(const char* key) const {
  if (pid_ <= 0 || reaped_) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
  }
  return std::nullopt;
}

std::optional<long> GatewayProcess::vm_rss_kib() const { return proc_status_kib("VmRSS"); }
std::optional<long> GatewayProcess::vm_hwm_kib() const { return proc_status_kib("VmHWM"); }

std::optional<Response> GatewayProcess::admin_get(std::string_view path,
                                                  Clock::duration timeout) const {
  return http_request(admin_port_,
                      make_request("GET", path, {{"Connection", "close"}}, {}, "127.0.0.1"),
                      timeout);
}

std::string GatewayProcess::metrics_text(Clock::duration timeout) const {
  auto r = admin_get("/metrics", timeout);
  if (!r || r->status != 200) return {};
  return r->body;
}

double GatewayProcess::wait_for_metric(std::string_view name, const std::map<std::string, std::string>& labels,
                                       double at_least, Clock::duration timeout) const {
  double value = 0;
  eventually(
      [&] {
        value = metric_value(parse_prometheus(metrics_text()), name, labels).value_or(0);
        return value >= at_least;
      },
      timeout);
  return value;
}

// ---- assertions ------------------------------------------------------------

::testing::AssertionResult IsLocalError(const std::optional<Response>& r, int status,
                                        std::string_view error) {
  if (!r) return ::testing::AssertionFailure() << "no response (expected " << status << ")";
  auto fail = [&]() {
    return std::move(::testing::AssertionFailure() << "response:\n"
                                                   << r->head_raw << r->body.substr(0, 2000)
                                                   << "\n--\n");
  };
  if (r->status != status) return fail() << "status " << r->status << ", expected " << status;
  auto ct = r->header("Content-Type");
  if (!ct || to_lower(*ct).rfind("application/json", 0) != 0)
    return fail() << "Content-Type is not application/json";
  auto rid = r->header("X-Request-Id");
  if (!rid || rid->empty()) return fail() << "no X-Request-Id header";
  auto obj = parse_json_object(r->body);
  if (!obj) return fail() << "body is not a JSON object";
  auto* e = obj->if_contains("error");
  if (!e || !e->is_string() || e->as_string().empty())
    return fail() << "no \"error\" string in the body";
  if (!error.empty() && e->as_string() != boost::json::string_view(error.data(), error.size()))
    return fail() << "error is " << e->as_string() << ", expected " << error;
  auto* s = obj->if_contains("status");
  if (!s || !s->is_number() || s->to_number<int>() != status)
    return fail() << "\"status\" in the body is not " << status;
  auto* id = obj->if_contains("request_id");
  if (!id || !id->is_string() || std::string(id->as_string()) != *rid)
    return fail() << "\"request_id\" in the body differs from X-Request-Id " << *rid;
  return ::testing::AssertionSuccess();
}

bool eventually(const std::function<bool()>& pred, Clock::duration timeout) {
  auto deadline = Deadline::in(timeout);
  for (;;) {
    if (pred()) return true;
    if (deadline.expired()) return false;
    sleep_for(20ms);
  }
}

}  // namespace support
