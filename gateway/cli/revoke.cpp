#include "cli/revoke.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstdlib>
#include <optional>

#include "common/file.hpp"
#include "common/url.hpp"
#include "idp/http_client.hpp"

namespace authgate::cli {

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

void revoke_usage(std::ostream& os) {
  os << "usage: authgate revoke jti JTI [--exp UNIX] [OPTIONS]\n"
        "       authgate revoke sub SUB [--before UNIX] [OPTIONS]\n"
        "       authgate revoke list [OPTIONS]\n"
        "OPTIONS: --admin URL (http://127.0.0.1:9901)  --token-env NAME (AUTHGATE_ADMIN_TOKEN)\n"
        "         --token-file FILE  --timeout SECONDS (5)\n";
}

int revoke(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.empty()) return revoke_usage(err), kUsage;
  const std::string kind = args[0];
  std::size_t i = 1;
  std::string value;
  if (kind == "jti" || kind == "sub") {
    if (args.size() < 2 || args[1].empty()) return revoke_usage(err), kUsage;
    value = args[1];
    i = 2;
  } else if (kind != "list") {
    err << "authgate revoke: unknown kind \"" << kind << "\"\n";
    return revoke_usage(err), kUsage;
  }
  std::string admin = "http://127.0.0.1:9901", token_env = "AUTHGATE_ADMIN_TOKEN", token_file;
  std::optional<std::int64_t> exp, before;
  std::int64_t timeout_s = 5;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (i + 1 >= args.size()) {
      err << "authgate revoke: " << a << " needs a value\n";
      return revoke_usage(err), kUsage;
    }
    const std::string& v = args[++i];
    if (a == "--admin") admin = v;
    else if (a == "--token-env") token_env = v;
    else if (a == "--token-file") token_file = v;
    else if (a == "--exp" && kind == "jti" && (exp = parse_int(v))) continue;
    else if (a == "--before" && kind == "sub" && (before = parse_int(v))) continue;
    else if (a == "--timeout" && parse_int(v) && *parse_int(v) > 0) timeout_s = *parse_int(v);
    else {
      err << "authgate revoke: bad argument " << a << " " << v << '\n';
      return revoke_usage(err), kUsage;
    }
  }
  std::string token;
  if (!token_file.empty()) {
    common::Result<std::string> text = common::read_file(token_file);
    if (!text) {
      err << "authgate revoke: cannot read " << token_file << '\n';
      return kFailed;
    }
    token = std::move(*text);
    common::strip_line_endings(token);
  } else if (const char* t = std::getenv(token_env.c_str())) {
    token = t;
  }
  if (token.empty()) {
    err << "authgate revoke: no admin token (set " << token_env << " or pass --token-file)\n";
    return kFailed;
  }
  const auto url = common::parse_http_url(admin + "/revocations");
  if (!url || url->scheme != "http") {
    err << "authgate revoke: --admin must be an http:// URL of the admin listener\n";
    return kUsage;
  }

  idp::IdpRequest req;
  req.authorization = "Bearer " + token;
  if (kind != "list") {
    boost::json::object body;
    body[kind] = value;
    if (exp) body["exp"] = *exp;
    if (before) body["before"] = *before;
    req.post = true;
    req.content_type = "application/json";
    req.body = boost::json::serialize(body);
  }
  idp::IdpClientOptions options;
  options.timeout = std::chrono::seconds(timeout_s);
  idp::IdpResponse res;
  boost::asio::io_context io;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { res = co_await idp::idp_exchange(*url, req, options); },
      boost::asio::detached);
  io.run();
  if (res.status == 0) {
    err << "authgate revoke: " << admin << ": " << res.ec.message() << idp::describe(res) << '\n';
    return kFailed;
  }
  if (res.status >= 300) {
    err << "authgate revoke: HTTP " << res.status << ": " << res.body;
    return kFailed;
  }
  out << res.body;
  return kOk;
}

}  // namespace authgate::cli
