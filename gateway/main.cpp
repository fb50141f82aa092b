// authgate: parse the command line, load the config, run the App.
// Exit codes: 0 ok (also after a SIGTERM drain), 1 config errors, 2 usage, 3 start-up failure.
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "access/issuers.hpp"
#include "app/app.hpp"
#include "app/services.hpp"
#include "cli/revoke.hpp"
#include "cli/token_inspect.hpp"
#include "config/loader.hpp"
#include "metrics/metrics.hpp"
#include "build_info.hpp"
#include "version.hpp"

namespace {

void usage(std::ostream& os) {
  os << "usage: authgate --config FILE [--log-level LEVEL] [--bound-addresses-file PATH]\n"
        "       authgate --check-config FILE [--skip-secrets]\n"
        "         validate only; --skip-secrets: secrets that are not there (*_env unset, secret\n"
        "         *_file or listen.tls files unreadable) are notes, not errors (CI without secrets)\n"
        "       authgate --version\n"
        "       authgate token inspect JWT [--config FILE (--route NAME | --method M --path P [--host H])\n"
        "                                  [--jwks FILE]]\n"
        "         decode a token (untrusted) and say whether a route would accept it\n"
        "       authgate revoke (jti JTI [--exp UNIX] | sub SUB [--before UNIX] | list) [--admin URL]\n"
        "                       [--token-env NAME | --token-file FILE]\n"
        "         put a token on the deny-list of a running authgate (its admin port)\n"
        "LEVEL: trace, debug, info, warn, error, critical, off\n"
        "--bound-addresses-file PATH: once every listener is bound, write (atomically) the\n"
        "  addresses they got, as {\"proxy\":\"127.0.0.1:41234\",\"admin\":\"127.0.0.1:41235\"}\n"
        "  (for listen.address / admin.address with port 0: the kernel picks a free port)\n";
}

}  // namespace

int main(int argc, char** argv) {
  authgate::app::install_app_logger();  // stderr, every message escaped (before anything logs)
  if (argc >= 2 && std::string_view(argv[1]) == "token") {
    if (argc < 3 || std::string_view(argv[2]) != "inspect") {
      std::cerr << "authgate: unknown token subcommand (expected \"token inspect\")\n";
      usage(std::cerr);
      return 2;
    }
    const std::vector<std::string> args(argv + 3, argv + argc);
    try {
      return authgate::cli::token_inspect(args, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "authgate token inspect: " << e.what() << '\n';
      return 1;
    }
  }
  if (argc >= 2 && std::string_view(argv[1]) == "revoke") {
    const std::vector<std::string> args(argv + 2, argv + argc);
    return authgate::cli::revoke(args, std::cout, std::cerr);
  }
  std::optional<std::string> config_path;
  std::optional<std::string> check_path;
  std::optional<std::string> log_level;
  bool skip_secrets = false;
  std::optional<std::string> bound_addresses_file;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (a == "--version") {
      // The commit identifies a container image's binary (scripts/image.sh passes it in).
      std::cout << "authgate " << authgate::kVersion << " (commit " << authgate::kGitCommit << ")\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      usage(std::cout);
      return 0;
    } else if (a == "--config" || a == "-c") {
      config_path = value();
      if (!config_path) return usage(std::cerr), 2;
    } else if (a == "--check-config") {
      check_path = value();
      if (!check_path) return usage(std::cerr), 2;
    } else if (a == "--skip-secrets") {
      skip_secrets = true;
    } else if (a == "--log-level") {
      log_level = value();
      static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (!log_level || !levels.count(*log_level)) return usage(std::cerr), 2;
    } else if (a == "--bound-addresses-file") {
      bound_addresses_file = value();
      if (!bound_addresses_file || bound_addresses_file->empty()) return usage(std::cerr), 2;
    } else {
      std::cerr << "authgate: unknown argument \"" << a << "\"\n";
      usage(std::cerr);
      return 2;
    }
  }

  const std::string path = check_path ? *check_path : config_path.value_or("");
  if (path.empty()) return usage(std::cerr), 2;
  if (skip_secrets && !check_path) {  // a gateway never runs on placeholder secrets
    std::cerr << "authgate: --skip-secrets only goes with --check-config\n";
    return usage(std::cerr), 2;
  }

  authgate::config::GatewayConfig cfg;
  std::vector<std::string> notes;
  try {
    cfg = authgate::config::load_file(path, {.skip_secrets = skip_secrets}, notes);
  } catch (const authgate::config::ConfigError& e) {
    for (const auto& line : notes) std::cerr << line << '\n';
    for (const auto& line : e.errors()) std::cerr << line << '\n';
    return 1;
  }
  for (const auto& line : notes) std::cerr << line << '\n';
  try {
    // Local key material must load too, and the services' TLS files (nothing
    // is started: no issuer, Redis or IdP is contacted here).
    authgate::metrics::Metrics metrics(authgate::kVersion);
    boost::asio::io_context io;
    const auto services = authgate::app::Services::create(cfg, metrics);
    const authgate::access::Issuers issuers(cfg, metrics, io.get_executor());
  } catch (const std::exception& e) {
    std::cerr << path << ": " << e.what() << '\n';
    return 1;
  }
  if (check_path) {
    std::cout << path << ": ok (" << cfg.routes.size() << " routes, " << cfg.upstreams.size() << " upstreams";
    if (skip_secrets) std::cout << "; " << notes.size() << " secret(s) not checked";
    std::cout << ")\n";
    return 0;
  }

  std::signal(SIGPIPE, SIG_IGN);
  try {
    authgate::app::App app(path, std::move(cfg), log_level, bound_addresses_file.value_or(""));
    return app.run();
  } catch (const std::exception& e) {
    spdlog::critical("start-up failed: {}", e.what());
    return 3;
  }
}
