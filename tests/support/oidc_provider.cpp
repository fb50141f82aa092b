#include "support/oidc_provider.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>

#include "common/hex.hpp"
#include "support/files.hpp"
#include "support/json.hpp"

namespace support {

namespace {

std::string oidc_dir() { return source_dir() + "/tests/oidc"; }
const std::string kNpmLock = "/tmp/authgate-oidc-npm-ci.lock";

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "...\n" + s.substr(s.size() - n);
}

// An executable named `name` in one of $PATH's directories, or "".
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::string raw(bytes, '\0');
  for (char& c : raw) c = static_cast<char>(rd() & 0xff);
  return authgate::common::hex_encode(raw);
}

std::string base64_std(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string describe(const std::optional<Response>& r) {
  if (!r) return "no response";
  return r->head_raw + r->body.substr(0, 2000);
}

// Waits for `pid` to exit within `timeout`; its exit code, or nullopt (still running).
std::optional<int> wait_pid(pid_t pid, Clock::duration timeout) {
  auto deadline = Deadline::in(timeout);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_exit_status(status);
    if (r < 0) return -1;
    if (deadline.expired()) return std::nullopt;
    sleep_for(10ms);
  }
}

// Runs a command to completion, killed after `timeout`; exit code (-2: timed out).
int run_bounded(const std::vector<std::string>& args, const std::string& out, const std::string& err,
                const EnvVars& env, const std::string& cwd, Clock::duration timeout) {
  pid_t pid = spawn_process(args, out, err, env, cwd);
  if (pid < 0) return -1;
  if (auto code = wait_pid(pid, timeout)) return *code;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return -2;
}

// "oidc-provider" as pinned in tests/oidc/package.json and as installed in node_modules.
std::string pinned_version() {
  auto pkg = parse_json_object(read_text(oidc_dir() + "/package.json"));
  if (!pkg) return {};
  auto* deps = pkg->if_contains("dependencies");
  if (!deps || !deps->is_object()) return {};
  return json_string(deps->as_object(), "oidc-provider");
}

std::string installed_version() {
  auto pkg = parse_json_object(read_text(oidc_dir() + "/node_modules/oidc-provider/package.json"));
  return pkg ? json_string(*pkg, "version") : std::string();
}

}  // namespace

std::optional<boost::json::object> jwt_part(std::string_view token, int part) {
  std::size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  std::size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    return std::nullopt;
  std::string_view piece = part == 0 ? token.substr(0, a) : token.substr(a + 1, b - a - 1);
  if (part != 0 && part != 1) return std::nullopt;
  auto text = base64url_decode(piece);
  if (!text) return std::nullopt;
  return parse_json_object(*text);
}

std::string json_string(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

// ---- OidcProvider ----------------------------------------------------------

OidcProvider::OidcProvider(OidcProviderOptions opts)
    : opts_(std::move(opts)),
      node_(find_on_path("node")),
      gateway_secret_("gw-" + random_hex(16)),
      cli_secret_("cli-" + random_hex(16)) {}

OidcProvider::~OidcProvider() {
  stop();
  if (run_ > 0 && ::testing::Test::HasFailure()) {
    std::cerr << "[support] oidc provider (run " << run_ << ", port " << port_ << ") stderr:\n"
              << tail(stderr_text(), 4000) << "\n[support] oidc provider stdout:\n"
              << tail(stdout_text(), 2000) << "\n";
  }
}

std::optional<std::string> OidcProvider::skip_reason() {
  if (find_on_path("node").empty()) {
    return "node is not on PATH: the OpenID Provider tests run oidc-provider under Node.js "
           "(scripts/install-deps.sh test installs it)";
  }
  return std::nullopt;
}

std::uint16_t OidcProvider::port() const {
  if (port_ == 0) ADD_FAILURE() << "OidcProvider::port() before start(): the provider picks its port at start";
  return port_;
}

std::string OidcProvider::issuer() const {
  if (port_ == 0) {
    ADD_FAILURE() << "OidcProvider::issuer() before start(): it names the port the provider picks at start";
    return {};
  }
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string OidcProvider::client_id(OidcClient c) const {
  return c == OidcClient::gateway ? "authgate" : "orders-cli";
}

std::string OidcProvider::client_secret(OidcClient c) const {
  return c == OidcClient::gateway ? gateway_secret_ : cli_secret_;
}

std::string OidcProvider::stdout_text() const {
  return read_text(dir_.file("provider-" + std::to_string(run_) + ".out"));
}
std::string OidcProvider::stderr_text() const {
  return read_text(dir_.file("provider-" + std::to_string(run_) + ".err"));
}

::testing::AssertionResult OidcProvider::ensure_node_modules() {
  const std::string want = pinned_version();
  if (want.empty()) return ::testing::AssertionFailure() << "cannot read " << oidc_dir() << "/package.json";
  if (installed_version() == want) return ::testing::AssertionSuccess();

  // One `npm ci` at a time across test processes; the others wait and re-check.
  Fd lock(::open(kNpmLock.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666));
  if (!lock.valid()) return ::testing::AssertionFailure() << "cannot open " << kNpmLock;
  auto deadline = Deadline::in(360s);
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (deadline.expired()) return ::testing::AssertionFailure() << "timed out waiting for " << kNpmLock;
    sleep_for(200ms);
  }
  if (installed_version() == want) return ::testing::AssertionSuccess();
  std::string npm = find_on_path("npm");
  if (npm.empty()) {
    return ::testing::AssertionFailure()
           << oidc_dir() << "/node_modules is missing and npm is not on PATH "
           << "(run scripts/install-deps.sh test)";
  }
  std::cerr << "[support] installing oidc-provider " << want << ": npm ci in " << oidc_dir() << "\n";
  int code = run_bounded({npm, "ci", "--no-audit", "--no-fund"}, dir_.file("npm-ci.out"),
                         dir_.file("npm-ci.err"), {}, oidc_dir(), 300s);
  if (code != 0 || installed_version() != want) {
    return ::testing::AssertionFailure()
           << "npm ci in " << oidc_dir() << " failed ("
           << (code == -2 ? std::string("timed out after 300 s") : "exit code " + std::to_string(code))
           << "):\n" << tail(read_text(dir_.file("npm-ci.err")), 3000);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult OidcProvider::generate_key(std::string* jwk_out) {
  ++generation_;
  const std::string kid = "op-" + std::to_string(generation_) + "-" + random_hex(4);
  const std::string out = dir_.file("key-" + std::to_string(generation_) + ".json");
  const std::string err = dir_.file("key-" + std::to_string(generation_) + ".err");
  int code = run_bounded({node_, oidc_dir() + "/provider.mjs", "genkey", "--alg", opts_.alg, "--kid", kid},
                         out, err, {}, {}, 30s);
  auto jwk = parse_json_object(read_text(out));
  if (code != 0 || !jwk || json_string(*jwk, "kid") != kid) {
    return ::testing::AssertionFailure() << "provider.mjs genkey --alg " << opts_.alg << " failed (exit "
                                         << code << "):\n" << tail(read_text(err), 2000);
  }
  *jwk_out = boost::json::serialize(*jwk);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult OidcProvider::write_jwks_and_spawn(Clock::duration ready_timeout) {
  std::string keys;
  for (const auto& k : jwks_) keys += (keys.empty() ? "" : ",") + k;
  dir_.write("jwks.json", "{\"keys\":[" + keys + "]}\n");
  ++run_;
  const std::string out = dir_.file("provider-" + std::to_string(run_) + ".out");
  const std::string err = dir_.file("provider-" + std::to_string(run_) + ".err");
  std::vector<std::string> argv{node_,   oidc_dir() + "/provider.mjs",
                                "--port", std::to_string(port_),
                                "--jwks", dir_.file("jwks.json"),
                                "--alg",  opts_.alg,
                                "--at-ttl", std::to_string(opts_.access_token_ttl_s)};
  for (const auto& uri : opts_.redirect_uris) {
    argv.push_back("--redirect-uri");
    argv.push_back(uri);
  }
  for (const auto& uri : opts_.post_logout_redirect_uris) {
    argv.push_back("--post-logout-uri");
    argv.push_back(uri);
  }
  EnvVars env{{"OIDC_CLIENT_SECRET", gateway_secret_}, {"OIDC_CLI_SECRET", cli_secret_}};
  pid_ = spawn_process(argv, out, err, env);
  reaped_ = false;
  exit_code_ = -1;
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);
  auto deadline = Deadline::in(ready_timeout);
  while (!deadline.expired()) {
    // "READY <issuer> <host>:<port>\n" (oidc-provider prints its warnings on stderr).
    const std::string text = read_text(out);
    std::size_t at = text.rfind("READY ", 0) == 0 ? 0 : text.find("\nREADY ");
    if (at != std::string::npos && at != 0) ++at;  // past the '\n'
    const std::size_t eol = at == std::string::npos ? at : text.find('\n', at);
    if (eol != std::string::npos) {  // the whole line is there
      const std::string line = text.substr(at, eol - at);
      const auto colon = line.rfind(':');
      const int got = colon == std::string::npos ? 0 : std::atoi(line.c_str() + colon + 1);
      if (got <= 0 || got > 65535)
        return ::testing::AssertionFailure() << "oidc provider: no port in its READY line: " << line;
      if (port_ != 0 && got != port_)
        return ::testing::AssertionFailure() << "oidc provider restarted on port " << got << ", not " << port_;
      port_ = static_cast<std::uint16_t>(got);
      const std::string expected = "READY " + issuer() + " ";
      if (line.rfind(expected, 0) != 0)
        return ::testing::AssertionFailure() << "oidc provider: READY line \"" << line << "\", expected issuer "
                                             << issuer();
      return ::testing::AssertionSuccess();
    }
    if (!running()) {
      return ::testing::AssertionFailure()
             << "oidc provider exited with code " << exit_code_ << " before READY\nstderr:\n"
             << tail(read_text(err), 4000) << "\nstdout:\n" << tail(read_text(out), 2000);
    }
    sleep_for(20ms);
  }
  return ::testing::AssertionFailure() << "oidc provider not READY within the timeout\nstderr:\n"
                                       << tail(read_text(err), 4000);
}

::testing::AssertionResult OidcProvider::start(Clock::duration ready_timeout) {
  if (pid_ > 0 && !reaped_) return ::testing::AssertionFailure() << "already started";
  if (node_.empty()) return ::testing::AssertionFailure() << *skip_reason();
  if (auto r = ensure_node_modules(); !r) return r;
  std::string jwk;
  if (auto r = generate_key(&jwk); !r) return r;
  jwks_ = {jwk};
  kids_ = {json_string(*parse_json_object(jwk), "kid")};
  // Port 0 the first time (the provider reports the port it got); the same port later.
  return write_jwks_and_spawn(ready_timeout);
}

::testing::AssertionResult OidcProvider::restart_with_rotated_key(Clock::duration ready_timeout) {
  if (jwks_.empty() || port_ == 0) return ::testing::AssertionFailure() << "not started";
  if (!stop_provider(/*hold_port=*/true)) {
    return ::testing::AssertionFailure() << "oidc provider did not exit cleanly on SIGTERM (code "
                                         << exit_code_ << ")\nstderr:\n" << tail(stderr_text(), 3000);
  }
  if (!port_hold_) {
    return ::testing::AssertionFailure() << "port " << port_
                                         << " was taken by another process while the provider restarted";
  }
  std::string jwk;
  if (auto r = generate_key(&jwk); !r) return r;
  jwks_ = {jwk, jwks_.front()};
  kids_ = {json_string(*parse_json_object(jwk), "kid"), kids_.front()};
  return write_jwks_and_spawn(ready_timeout);
}

bool OidcProvider::running() {
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

bool OidcProvider::stop() { return stop_provider(/*hold_port=*/false); }

bool OidcProvider::stop_provider(bool hold_port) {
  if (pid_ <= 0) return false;
  // Binds the port once the provider's listener is gone (EADDRINUSE until then): with
  // the 1 ms polling below, no other process gets a useful window to take it.
  auto try_hold = [&] {
    if (!hold_port || port_hold_ || port_ == 0) return;
    try {
      port_hold_.emplace(PortReservation::Share::reuseaddr, port_);
    } catch (const std::exception&) {
    }
  };
  if (!reaped_) {
    ::kill(pid_, SIGTERM);
    const auto deadline = Deadline::in(5s);
    bool killed = false;
    for (;;) {
      try_hold();
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || r < 0) {
        exit_code_ = r == pid_ ? decode_exit_status(status) : -1;
        break;
      }
      if (!killed && deadline.expired()) {
        ::kill(pid_, SIGKILL);
        killed = true;
      }
      sleep_for(1ms);
    }
    reaped_ = true;
  }
  try_hold();
  return exit_code_ == 0;
}

// ---- HTTP ------------------------------------------------------------------

std::string OidcProvider::path_of(std::string_view path_or_url) const {
  const std::string base = issuer();
  if (path_or_url.substr(0, base.size()) == base) {
    std::string rest(path_or_url.substr(base.size()));
    return rest.empty() ? "/" : rest;
  }
  return std::string(path_or_url);
}

std::optional<Response> OidcProvider::get(std::string_view path_or_url, Clock::duration timeout) {
  return http_request(port_,
                      make_request("GET", path_of(path_or_url), {{"Connection", "close"}}, {},
                                   "127.0.0.1:" + std::to_string(port_)),
                      timeout);
}

std::optional<boost::json::object> OidcProvider::discovery() {
  auto r = get("/.well-known/openid-configuration");
  std::optional<boost::json::object> doc;
  if (r && r->status == 200) doc = parse_json_object(r->body);
  if (!doc) last_error_ = "discovery: " + describe(r);
  return doc;
}

std::string OidcProvider::endpoint_path(const char* metadata_name, const char* fallback) {
  auto doc = discovery();
  std::string url = doc ? json_string(*doc, metadata_name) : std::string();
  return url.empty() ? std::string(fallback) : path_of(url);
}

std::vector<std::string> OidcProvider::published_kids() {
  std::vector<std::string> kids;
  auto r = get(endpoint_path("jwks_uri", "/jwks"));
  auto doc = r && r->status == 200 ? parse_json_object(r->body) : std::nullopt;
  auto* keys = doc ? doc->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) {
    last_error_ = "jwks: " + describe(r);
    return kids;
  }
  for (const auto& k : keys->as_array()) {
    if (k.is_object()) kids.push_back(json_string(k.as_object(), "kid"));
  }
  return kids;
}

std::optional<Response> OidcProvider::post_form(std::string_view path_or_url, const EnvVars& form,
                                                OidcClient client, bool secret_post,
                                                Clock::duration timeout, const std::vector<Header>& extra_headers) {
  std::string body;
  auto add = [&](std::string_view k, std::string_view v) {
    body += (body.empty() ? "" : "&") + form_encode(k) + "=" + form_encode(v);
  };
  for (const auto& [k, v] : form) add(k, v);
  std::vector<Header> headers{{"Content-Type", "application/x-www-form-urlencoded"},
                              {"Accept", "application/json"},
                              {"Connection", "close"}};
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  if (secret_post) {
    add("client_id", client_id(client));
    add("client_secret", client_secret(client));
  } else {
    headers.push_back({"Authorization", "Basic " + base64_std(form_encode(client_id(client)) + ":" +
                                                              form_encode(client_secret(client)))});
  }
  return http_request(port_,
                      make_request("POST", path_of(path_or_url), headers, body,
                                   "127.0.0.1:" + std::to_string(port_)),
                      timeout);
}

std::string OidcProvider::client_credentials_token(const std::string& resource,
                                                   const std::string& scope, OidcClient client) {
  EnvVars form{{"grant_type", "client_credentials"}};
  if (!scope.empty()) form.push_back({"scope", scope});
  if (!resource.empty()) form.push_back({"resource", resource});
  auto r = post_form(endpoint_path("token_endpoint", "/token"), form, client);
  auto doc = r && r->status == 200 ? parse_json_object(r->body) : std::nullopt;
  std::string token = doc ? json_string(*doc, "access_token") : std::string();
  if (token.empty()) last_error_ = "token request (resource \"" + resource + "\"): " + describe(r);
  return token;
}

std::optional<boost::json::object> OidcProvider::introspect(const std::string& token,
                                                            OidcClient client) {
  auto r = post_form(endpoint_path("introspection_endpoint", "/token/introspection"),
                     {{"token", token}}, client);
  auto doc = r && r->status == 200 ? parse_json_object(r->body) : std::nullopt;
  if (!doc) last_error_ = "introspection: " + describe(r);
  return doc;
}

bool OidcProvider::revoke(const std::string& token, OidcClient client,
                          const std::string& token_type_hint) {
  EnvVars form{{"token", token}};
  if (!token_type_hint.empty()) form.push_back({"token_type_hint", token_type_hint});
  auto r = post_form(endpoint_path("revocation_endpoint", "/token/revocation"), form, client);
  if (r && r->status == 200) return true;
  last_error_ = "revocation: " + describe(r);
  return false;
}

// ---- code flow ---------------------------------------------------------------

std::optional<TokenSet> parse_token_response(const std::optional<Response>& r) {
  if (!r || r->status != 200) return std::nullopt;
  auto doc = parse_json_object(r->body);
  if (!doc) return std::nullopt;
  TokenSet t;
  t.access_token = json_string(*doc, "access_token");
  if (t.access_token.empty()) return std::nullopt;
  t.token_type = json_string(*doc, "token_type");
  t.refresh_token = json_string(*doc, "refresh_token");
  t.id_token = json_string(*doc, "id_token");
  t.scope = json_string(*doc, "scope");
  if (auto* e = doc->if_contains("expires_in"); e && e->is_number()) {
    t.expires_in = e->to_number<long long>();
  }
  return t;
}

std::string oauth_error(const std::optional<Response>& r) {
  auto doc = r ? parse_json_object(r->body) : std::nullopt;
  return doc ? json_string(*doc, "error") : std::string();
}

std::string OidcProvider::authorize_url(const AuthorizeRequest& req) {
  auto doc = discovery();
  std::string base = doc ? json_string(*doc, "authorization_endpoint") : std::string();
  if (base.empty()) base = issuer() + "/auth";
  std::vector<std::pair<std::string, std::string>> q{{"client_id", req.client_id},
                                                     {"response_type", "code"},
                                                     {"redirect_uri", req.redirect_uri},
                                                     {"scope", req.scope}};
  auto opt = [&](const char* k, const std::string& v) {
    if (!v.empty()) q.emplace_back(k, v);
  };
  opt("state", req.state);
  opt("nonce", req.nonce);
  if (!req.code_challenge.empty()) {
    q.emplace_back("code_challenge", req.code_challenge);
    q.emplace_back("code_challenge_method", "S256");
  }
  opt("resource", req.resource);
  opt("login_hint", req.login_hint);
  opt("prompt", req.prompt);
  return with_query(base, q);
}

std::optional<Response> OidcProvider::code_grant(const std::string& code,
                                                 const std::string& redirect_uri,
                                                 const std::string& code_verifier) {
  EnvVars form{{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", redirect_uri}};
  if (!code_verifier.empty()) form.push_back({"code_verifier", code_verifier});
  return post_form(endpoint_path("token_endpoint", "/token"), form, OidcClient::gateway);
}

std::optional<Response> OidcProvider::refresh_grant(const std::string& refresh_token,
                                                    const std::string& scope) {
  EnvVars form{{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
  if (!scope.empty()) form.push_back({"scope", scope});
  return post_form(endpoint_path("token_endpoint", "/token"), form, OidcClient::gateway);
}

std::string OidcProvider::end_session_url(const std::string& id_token_hint,
                                          const std::string& post_logout_redirect_uri,
                                          const std::string& state) {
  auto doc = discovery();
  std::string base = doc ? json_string(*doc, "end_session_endpoint") : std::string();
  if (base.empty()) base = issuer() + "/session/end";
  std::vector<std::pair<std::string, std::string>> q;
  if (!id_token_hint.empty()) q.emplace_back("id_token_hint", id_token_hint);
  if (!post_logout_redirect_uri.empty()) q.emplace_back("post_logout_redirect_uri", post_logout_redirect_uri);
  if (!state.empty()) q.emplace_back("state", state);
  return with_query(base, q);
}

// ---- test hooks --------------------------------------------------------------

namespace {

int int_at(const boost::json::object& o, std::string_view key) {
  auto* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v && v->is_number() ? v->to_number<int>() : 0;
}

const boost::json::object& object_at(const boost::json::object& o, std::string_view key) {
  static const boost::json::object empty;
  auto* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v && v->is_object() ? v->as_object() : empty;
}

std::map<std::string, int> int_map(const boost::json::object& o) {
  std::map<std::string, int> out;
  for (const auto& [k, v] : o)
    if (v.is_number()) out[std::string(k)] = v.to_number<int>();
  return out;
}

OidcStats::Count count_of(const boost::json::object& o) {
  return {int_at(o, "success"), int_at(o, "error")};
}

std::string json_quote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

}  // namespace

OidcStats::Count OidcStats::grant(std::string_view grant_type) const {
  auto it = grants.find(std::string(grant_type));
  return it == grants.end() ? Count{} : it->second;
}

std::optional<OidcStats> OidcProvider::stats() {
  auto r = get("/__test/stats");
  auto doc = r && r->status == 200 ? parse_json_object(r->body) : std::nullopt;
  if (!doc) {
    last_error_ = "stats: " + describe(r);
    return std::nullopt;
  }
  OidcStats s;
  for (const auto& [k, v] : object_at(*doc, "grants"))
    if (v.is_object()) s.grants[std::string(k)] = count_of(v.as_object());
  s.grant_errors = int_map(object_at(*doc, "grant_errors"));
  s.grant_error_details = int_map(object_at(*doc, "grant_error_details"));
  s.refresh_token_reuse = int_at(*doc, "refresh_token_reuse");
  s.grants_revoked = int_at(*doc, "grants_revoked");
  s.grants_revoked_by_route = int_map(object_at(*doc, "grants_revoked_by_route"));
  const auto& rev = object_at(*doc, "revocations");
  s.revocations = count_of(rev);
  s.revoked_refresh_tokens = int_at(rev, "refresh_token");
  s.revoked_access_tokens = int_at(rev, "access_token");
  s.revoked_client_credentials = int_at(rev, "client_credentials");
  const auto& te = object_at(*doc, "token_endpoint");
  s.token_endpoint_requests = int_at(te, "requests");
  s.token_endpoint_unavailable = int_at(te, "unavailable");
  s.token_endpoint_hung = int_at(te, "hung");
  s.token_endpoint_injected = int_map(object_at(te, "injected"));
  s.token_endpoint_mode = json_string(te, "mode");
  s.authorizations = count_of(object_at(*doc, "authorizations"));
  const auto& in = object_at(*doc, "interactions");
  s.logins = int_at(in, "login");
  s.consents = int_at(in, "consent");
  s.denied = int_at(in, "denied");
  s.end_sessions = int_at(*doc, "end_session");
  s.server_errors = int_at(*doc, "server_errors");
  s.raw = std::move(*doc);
  return s;
}

std::optional<Response> OidcProvider::post_json(const std::string& path, const std::string& json) {
  return http_request(port_,
                      make_request("POST", path,
                                   {{"Content-Type", "application/json"}, {"Connection", "close"}},
                                   json, "127.0.0.1:" + std::to_string(port_)),
                      5s);
}

bool OidcProvider::reset_stats() {
  auto r = post_json("/__test/reset-stats", "{}");
  if (r && r->status == 200) return true;
  last_error_ = "reset-stats: " + describe(r);
  return false;
}

bool OidcProvider::set_token_endpoint_mode(TokenEndpointMode mode, int delay_ms) {
  const char* name = "ok";
  switch (mode) {
    case TokenEndpointMode::ok: name = "ok"; break;
    case TokenEndpointMode::unavailable: name = "503"; break;
    case TokenEndpointMode::hang: name = "hang"; break;
    case TokenEndpointMode::server_error: name = "500"; break;
    case TokenEndpointMode::garbage: name = "garbage"; break;
    case TokenEndpointMode::huge: name = "huge"; break;
  }
  auto r = post_json("/__test/token-endpoint", std::string("{\"mode\":\"") + name +
                                                   "\",\"delay_ms\":" + std::to_string(delay_ms) + "}");
  if (r && r->status == 200) return true;
  last_error_ = "token-endpoint mode: " + describe(r);
  return false;
}

bool OidcProvider::set_login(const std::string& account, const std::string& error) {
  auto r = post_json("/__test/login", "{\"account\":" + json_quote(account) +
                                          ",\"error\":" + json_quote(error) + "}");
  if (r && r->status == 200) return true;
  last_error_ = "login: " + describe(r);
  return false;
}

}  // namespace support
