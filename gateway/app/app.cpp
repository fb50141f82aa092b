#include "app/app.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "admin/admin_server.hpp"
#include "common/log_escape.hpp"
#include "app/services.hpp"
#include "app/status_snapshot.hpp"
#include "config/loader.hpp"
#include "metrics/metrics.hpp"
#include "net/tls.hpp"
#include "proxy/worker.hpp"
#include "version.hpp"

namespace authgate::app {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

void apply_log_level(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

namespace {

// Passes every message, escaped, to the sink it wraps. This is the one place
// the application log's text is made safe: every spdlog call goes through it,
// whatever it formats (escaping at each call site would miss the next one).
// The pattern's own parts (time, level) are the logger's; only the message is
// escaped.
class EscapingSink final : public spdlog::sinks::sink {
 public:
  explicit EscapingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!common::needs_log_escaping(payload)) {
      inner_->log(msg);
      return;
    }
    const std::string escaped = common::log_escaped(payload);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
    inner_->log(copy);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

void install_app_logger() {
  auto sink = std::make_shared<EscapingSink>(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("", std::move(sink));
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
}

void write_bound_addresses(const std::string& path, const std::string& proxy, const std::string& admin) {
  // Same directory as the target, so rename() is atomic: a reader sees no file or the whole one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << "{\"proxy\":\"" << proxy << "\",\"admin\":\"" << admin << "\"}\n";
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp + " (--bound-addresses-file)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
}

namespace {

tcp::endpoint resolve_endpoint(const config::Endpoint& ep) {
  std::string host = ep.host;
  if (host == "localhost") host = "127.0.0.1";
  return {asio::ip::make_address(host), ep.port};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string to_string(const tcp::endpoint& ep) {
  std::ostringstream os;
  os << ep;
  return os.str();
}

}  // namespace

struct App::Impl {
  Impl(std::string path, config::GatewayConfig cfg, std::optional<std::string> level, std::string bound_file)
      : config_path(std::move(path)),
        log_level_override(std::move(level)),
        bound_addresses_file(std::move(bound_file)),
        metrics(kVersion),
        state(metrics),
        initial(std::move(cfg)) {}

  std::vector<asio::any_io_executor> worker_executors() {
    std::vector<asio::any_io_executor> out;
    for (auto& w : workers) out.push_back(w->io().get_executor());
    return out;
  }

  int run() {
    apply_log_level(log_level_override.value_or(initial.log.level));
    unsigned n = initial.workers ? initial.workers : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) workers.push_back(std::make_unique<proxy::Worker>(i, state));
    if (initial.listen.tls)
      state.server_tls = net::make_server_context(initial.listen.tls->cert_file, initial.listen.tls->key_file,
                                                  initial.listen.tls->alpn_h2);
    services = Services::create(initial, metrics);
    services.start(control.get_executor());
    auto first = std::make_shared<proxy::Runtime>(initial, metrics, worker_executors(), control.get_executor(),
                                                  nullptr, services.redis, services.revocations);
    state.runtime.store(first);
    first->start();

    // Port 0: the first worker's bind picks the port; the others (SO_REUSEPORT) bind that one.
    auto endpoint = resolve_endpoint(initial.listen.address);
    workers[0]->listen(endpoint);
    endpoint = workers[0]->local_endpoint();  // the real port when 0 was asked for
    for (std::size_t i = 1; i < workers.size(); ++i) workers[i]->listen(endpoint);
    bound_proxy = endpoint;

    admin = std::make_unique<admin::AdminServer>(control, health, metrics, [this] {
      auto rt = state.runtime.load();
      admin::AdminLimits l;
      l.read_timeout = rt->cfg.timeouts.header_read;
      l.retry_after = std::max(std::chrono::seconds(1),
                               std::chrono::duration_cast<std::chrono::seconds>(rt->cfg.timeouts.retry_after));
      l.max_header_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(rt->cfg.limits.max_header_bytes, UINT32_MAX));
      return l;
    });
    health.waiting_for = [this] {
      std::vector<std::string> waiting;
      if (auto rt = state.runtime.load())
        for (auto& name : rt->issuers.not_ready()) waiting.push_back("issuer:" + name);
      if (services.redis && !services.redis->was_up()) waiting.push_back("redis:" + services.redis->address());
      if (services.revocations && !services.revocations->synced()) waiting.push_back("revocation");
      return waiting;
    };
    health.degraded = [this] {
      std::vector<std::string> down;
      if (services.redis && services.redis->was_up() && !services.redis->up())
        down.push_back("redis:" + services.redis->address());
      return down;
    };
    config_status.path = config_path;
    {
      std::string fp;
      try {
        load_config(config_path, fp);  // main() loaded it just before; fingerprint the same file
      } catch (const std::exception&) {
      }
      config_status.loaded(fp, unix_now());
    }
    admin->set_status_page([this] {
      auto rt = state.runtime.load();
      if (!rt) return admin::StatusSnapshot{};
      return build_status_snapshot(*rt, metrics, health, config_status, started_unix, unix_now());
    });
    if (services.revocations) admin->set_revocations(services.revocations);
    admin->listen(resolve_endpoint(initial.admin.address));
    bound_admin = admin->local_endpoint();
    // Every listener is bound (and listening: connections queue until the threads run).
    // Written before the threads start, so a failure here leaves nothing to join.
    if (!bound_addresses_file.empty())
      write_bound_addresses(bound_addresses_file, to_string(bound_proxy), to_string(bound_admin));

    for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
    health.listeners_up = true;
    spdlog::info("authgate {} listening on {} ({}), admin on {}, {} worker(s)", kVersion,
                 to_string(bound_proxy), state.server_tls ? "https" : "http", to_string(bound_admin),
                 workers.size());

    asio::co_spawn(control, handle_signals(), asio::detached);
    asio::co_spawn(control, flush_logs(), asio::detached);
    control.run();

    for (auto& w : workers) w->stop();
    for (auto& t : threads) t.join();
    services.stop();
    if (auto rt = state.runtime.load(); rt && rt->access_log) rt->access_log->flush();
    state.runtime.store(nullptr);
    spdlog::info("authgate stopped");
    spdlog::default_logger()->flush();
    return 0;
  }

  asio::awaitable<void> handle_signals() {
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    asio::signal_set signals(control, SIGINT, SIGTERM, SIGHUP);
    for (;;) {
      auto [ec, sig] = co_await signals.async_wait(use_tuple);
      if (ec) co_return;
      if (sig == SIGHUP) {
        reload();
        continue;
      }
      if (health.draining) {
        spdlog::warn("second stop signal: stopping now");
        stop_now();
        co_return;
      }
      spdlog::info("signal {}: draining", sig);
      asio::co_spawn(control, drain(), asio::detached);
    }
  }

  asio::awaitable<void> drain() {
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    health.draining = true;  // 1. /readyz -> 503
    state.draining = true;   //    in-flight requests answer with Connection: close
    for (auto& w : workers) w->begin_drain();  // 2. stop accepting, 3. close idle
    const auto& drain_cfg = state.runtime.load()->cfg.timeouts;
    const auto drain_timeout = drain_cfg.drain;
    const auto force_grace = drain_cfg.drain_force_close;
    const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    asio::steady_timer timer(control);
    // 4. in-flight requests finish, up to timeouts.drain.
    while (state.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(use_tuple);
    }
    if (const auto left = state.connections.load()) {
      spdlog::warn("drain timeout: closing {} connection(s) still open", left);
      for (auto& w : workers) w->force_close();
      const auto hard = std::chrono::steady_clock::now() + force_grace;
      while (state.connections.load() > 0 && std::chrono::steady_clock::now() < hard) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(use_tuple);
      }
    }
    stop_now();  // 5. exit 0
  }

  void stop_now() {
    if (admin) admin->stop();
    control.stop();
  }

  asio::awaitable<void> flush_logs() {
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    asio::steady_timer timer(control);
    for (;;) {
      timer.expires_after(std::chrono::seconds(1));
      auto [ec] = co_await timer.async_wait(use_tuple);
      if (ec) co_return;
      if (auto rt = state.runtime.load(); rt && rt->access_log) rt->access_log->flush();
    }
  }

  void reload() {
    auto old = state.runtime.load();
    try {
      std::string fp;
      auto cfg = load_config(config_path, fp);
      // A port matches what is bound when it is 0 (any port) or the port the listener got:
      // a config that names port 0, or the port picked for it, needs no re-bind.
      auto same_port = [](std::uint16_t wanted, const tcp::endpoint& bound) {
        return wanted == 0 || wanted == bound.port();
      };
      if (cfg.listen.address.host != old->cfg.listen.address.host ||
          !same_port(cfg.listen.address.port, bound_proxy) ||
          !same_port(cfg.admin.address.port, bound_admin) ||
          cfg.admin.address.host != old->cfg.admin.address.host ||
          cfg.workers != old->cfg.workers || cfg.listen.tls.has_value() != old->cfg.listen.tls.has_value())
        spdlog::warn("reload: listen, admin, workers and listen.tls changes need a restart; keeping the old ones");
      if (cfg.redis.has_value() != old->cfg.redis.has_value() ||
          cfg.revocation.has_value() != old->cfg.revocation.has_value())
        throw std::runtime_error("adding or removing the redis: or revocation: block needs a restart");
      auto rt = std::make_shared<proxy::Runtime>(std::move(cfg), metrics, worker_executors(),
                                                 control.get_executor(), old.get(), services.redis,
                                                 services.revocations);
      state.runtime.store(rt);
      rt->start();
      apply_log_level(log_level_override.value_or(rt->cfg.log.level));
      metrics.reload_success.Increment();
      config_status.loaded(std::move(fp), unix_now());
      spdlog::info("reload: {} loaded ({} routes, {} upstreams)", config_path, rt->cfg.routes.size(),
                   rt->cfg.upstreams.size());
    } catch (const config::ConfigError& e) {
      metrics.reload_failure.Increment();
      for (const auto& line : e.errors()) spdlog::error("reload failed: {}", line);
      std::string text;
      for (const auto& line : e.errors()) text += line + "\n";
      config_status.reload_failed(std::move(text), unix_now());
      spdlog::error("reload failed: keeping the previous configuration");
    } catch (const std::exception& e) {
      metrics.reload_failure.Increment();
      spdlog::error("reload failed: {}; keeping the previous configuration", e.what());
      config_status.reload_failed(e.what(), unix_now());
    }
  }

  std::string config_path;
  std::optional<std::string> log_level_override;
  std::string bound_addresses_file;  // --bound-addresses-file; empty: none
  tcp::endpoint bound_proxy;         // what the listeners got (the real port when 0 was asked for)
  tcp::endpoint bound_admin;
  metrics::Metrics metrics;
  proxy::GatewayState state;
  admin::Health health;
  config::GatewayConfig initial;
  asio::io_context control{1};
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  std::vector<std::thread> threads;
  std::unique_ptr<admin::AdminServer> admin;
  Services services;  // outlives every Runtime (redis:, revocation: need a restart)
  ConfigStatus config_status;  // the status page's config version (control thread)
  std::int64_t started_unix = unix_now();
};

App::App(std::string config_path, config::GatewayConfig cfg, std::optional<std::string> log_level,
         std::string bound_addresses_file)
    : impl_(std::make_unique<Impl>(std::move(config_path), std::move(cfg), std::move(log_level),
                                   std::move(bound_addresses_file))) {}

App::~App() = default;

int App::run() { return impl_->run(); }

}  // namespace authgate::app
