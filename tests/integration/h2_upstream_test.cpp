// HTTP/2 to upstreams (upstreams[].protocol: h2c | h2), end to end through the real
// binary over loopback, with real peers: a gRPC server and client (Debian python3-grpcio,
// tests/integration/grpc/*.py: generic handlers with raw bytes, no protoc) and nghttpd
// (Debian nghttp2-server) behind authgate, reached by curl, nghttp and HTTP/1.1 clients.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <fstream>

#include "auth/test_signer.hpp"
#include "common.hpp"
#include "support/files.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;

std::string claims(const std::string& scope) {
  return R"({"iss":"https://idp.test","sub":"alice","aud":"echo-api","exp":)" + std::to_string(now_s() + 300) +
         R"(,"iat":)" + std::to_string(now_s() - 5) + (scope.empty() ? "" : R"(,"scope":")" + scope + "\"") + "}";
}

std::string token(const std::string& scope = "echo:call") {
  return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})", claims(scope));
}

std::string script(const std::string& name) { return support::source_dir() + "/tests/integration/grpc/" + name; }

// A peer process for one test, stopped (SIGTERM, then SIGKILL) when it ends.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log) {
    pid_ = support::spawn_process(argv, log, log + ".err");
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool running() const { return pid_ > 0; }
  // Waits for the exit (bounded); true when it exited.
  bool wait(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    while (pid_ > 0 && Clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return pid_ <= 0;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!wait(3s)) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
};

bool wait_connectable(std::uint16_t port, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (support::connect_loopback(port, support::Deadline::in(500ms)).valid()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// tests/integration/grpc/echo_server.py on a port of its own choosing.
class GrpcServer {
 public:
  explicit GrpcServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"/usr/bin/python3", script("echo_server.py"), dir_.file("port"), dir_.file("events")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_.emplace(argv, dir_.file("server.log"));
  }
  ::testing::AssertionResult ready() {
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      const std::string p = support::read_text(dir_.file("port"));
      if (!p.empty()) {
        port_ = static_cast<std::uint16_t>(std::stoi(p));
        return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(50ms);
    }
    return ::testing::AssertionFailure() << "the gRPC server did not start: " << support::read_text(dir_.file("server.log"))
                                         << support::read_text(dir_.file("server.log.err"));
  }
  std::uint16_t port() const { return port_; }
  std::string url(std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
  }
  std::string events() const { return support::read_text(dir_.file("events")); }
  bool saw(std::string_view event, Clock::duration timeout) const {
    const auto deadline = Clock::now() + timeout;
    do {
      if (events().find(event) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    } while (Clock::now() < deadline);
    return false;
  }

 private:
  support::TempDir dir_;
  std::optional<Child> child_;
  std::uint16_t port_ = 0;
};

// tests/integration/grpc/client.py through authgate; its stdout.
std::string grpc_client(std::uint16_t port, const std::string& mode, const std::string& bearer = {},
                        const std::vector<std::string>& metadata = {}) {
  std::vector<std::string> argv{"/usr/bin/python3", script("client.py"), "127.0.0.1:" + std::to_string(port), mode,
                                bearer};
  argv.insert(argv.end(), metadata.begin(), metadata.end());
  const auto r = support::run_command(argv, 30s);
  return r.out + r.err;
}

// A raw HTTP/1.1 exchange (the connection closes after it): every byte that came back.
std::string http1_raw(std::uint16_t port, const std::string& request) {
  auto fd = support::connect_loopback(port, support::Deadline::in(2s));
  if (!fd.valid() || !support::send_all(fd.get(), request, support::Deadline::in(5s))) return {};
  std::string out;
  char buf[16384];
  const auto deadline = support::Deadline::in(10s);
  for (;;) {
    std::size_t n = 0;
    if (support::recv_some(fd.get(), buf, sizeof buf, deadline, n) != support::RecvStatus::data) break;
    out.append(buf, n);
  }
  return out;
}


// A raw h2c upstream for what real servers do not do on request: reset streams. It
// acknowledges the client's SETTINGS and answers each request's HEADERS with the frames
// `reply(stream id)` returns (RFC 9113 4.1 framing, written here by hand).
std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view payload) {
  std::string f;
  const auto n = payload.size();
  for (int shift : {16, 8, 0}) f += static_cast<char>((n >> shift) & 0xff);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) f += static_cast<char>((stream >> shift) & 0xff);
  return f + std::string(payload);
}
constexpr std::uint8_t kHeaders = 1, kRstStream = 3, kSettings = 4, kEndHeaders = 0x4, kAck = 0x1;
std::string rst_stream(std::uint32_t stream, std::uint32_t code) {
  std::string p;
  for (int shift : {24, 16, 8, 0}) p += static_cast<char>((code >> shift) & 0xff);
  return frame(kRstStream, 0, stream, p);
}

class RawH2Upstream {
 public:
  explicit RawH2Upstream(std::function<std::string(std::uint32_t)> reply)
      : reply_(std::move(reply)), listener_(support::listen_loopback(0, 16, &port_)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~RawH2Upstream() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void serve() {
    std::vector<support::Fd> conns;
    std::vector<std::string> bufs;
    while (!stop_) {
      std::vector<pollfd> fds{{listener_.get(), POLLIN, 0}};
      for (auto& c : conns) fds.push_back({c.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        conns.emplace_back(::accept(listener_.get(), nullptr, nullptr));
        bufs.emplace_back();
        support::send_all(conns.back().get(), frame(kSettings, 0, 0, ""), support::Deadline::in(2s));
      }
      for (std::size_t i = 0; i + 1 < fds.size(); ++i) {
        if (!(fds[i + 1].revents & (POLLIN | POLLHUP))) continue;
        char tmp[16384];
        std::size_t n = 0;
        if (support::recv_some(conns[i].get(), tmp, sizeof tmp, support::Deadline::in(1s), n) !=
            support::RecvStatus::data) {
          conns[i].reset();
          continue;
        }
        std::string& b = bufs[i];
        b.append(tmp, n);
        if (b.rfind("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0) == 0) b.erase(0, 24);
        while (b.size() >= 9) {
          const std::size_t len = (static_cast<unsigned char>(b[0]) << 16) | (static_cast<unsigned char>(b[1]) << 8) |
                                  static_cast<unsigned char>(b[2]);
          if (b.size() < 9 + len) break;
          const auto type = static_cast<std::uint8_t>(b[3]), flags = static_cast<std::uint8_t>(b[4]);
          std::uint32_t stream = 0;
          for (int k = 5; k < 9; ++k) stream = (stream << 8) | static_cast<unsigned char>(b[k]);
          b.erase(0, 9 + len);
          std::string out;
          if (type == kSettings && !(flags & kAck)) out = frame(kSettings, kAck, 0, "");
          if (type == kHeaders && (flags & kEndHeaders)) out = reply_(stream & 0x7fffffff);
          if (!out.empty()) support::send_all(conns[i].get(), out, support::Deadline::in(2s));
        }
      }
      for (std::size_t i = conns.size(); i-- > 0;) {
        if (conns[i].valid()) continue;
        conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
        bufs.erase(bufs.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }

  std::function<std::string(std::uint32_t)> reply_;
  std::uint16_t port_ = 0;
  support::Fd listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

support::CommandResult sh(const std::string& cmd) { return support::run_command({"/bin/sh", "-c", cmd}, 30s); }

class H2Upstream : public ::testing::Test {
 protected:
  void SetUp() override {
    jwks_path_ = dir_.file("jwks.json");
    std::ofstream(jwks_path_) << ts::jwks_of({ts::rsa2048().public_jwk()});
  }

  // A gRPC route (/echo.Echo/: bearer, scope echo:call, the subject forwarded as X-User-Id)
  // to an upstream at `url` speaking `protocol`.
  GatewayConfig config(const std::string& url, const std::string& protocol = "h2c",
                       std::vector<std::pair<std::string, std::string>> upstream_extra = {}) {
    GatewayConfig cfg;
    cfg.listen_yaml = "  h2c: true\n";
    upstream_extra.insert(upstream_extra.begin(), {"protocol", protocol});
    cfg.upstreams.push_back({"echo", url, upstream_extra});
    cfg.routes.push_back(RouteSpec{"echo", "echo", "/echo.Echo/"}
                             .with("auth", "bearer")
                             .with("require", "{scopes_any: [echo:call]}")
                             .with("forward", "{headers: {X-User-Id: sub}}"));
    cfg.routes.push_back(RouteSpec{"web", "echo", "/"});
    cfg.issuers_yaml = "issuers:\n  - name: main\n    issuer: https://idp.test\n    audiences: [echo-api]\n"
                       "    jwks_file: " + jwks_path_ + "\n";
    return cfg;
  }
  void start(GatewayConfig cfg) {
    gw_ = std::make_unique<GatewayProcess>(std::move(cfg));
    ASSERT_TRUE(gw_->start());
  }
  // The same, the upstream verified against `ca_file` as "localhost" (its tls: block).
  void start_with_upstream_tls(const GatewayConfig& cfg, const std::string& ca_file) {
    gw_ = std::make_unique<GatewayProcess>(cfg);
    std::string yaml = gw_->render(cfg);
    const std::string after = "    protocol: \"h2\"\n";
    const auto at = yaml.find(after);
    ASSERT_NE(at, std::string::npos) << yaml;
    yaml.insert(at + after.size(), "    tls: {ca_file: " + ca_file + ", server_name: localhost}\n");
    gw_->write_config_text(yaml);
    ASSERT_TRUE(gw_->start());
  }

  support::TempDir dir_;
  std::string jwks_path_;
  std::unique_ptr<GatewayProcess> gw_;
};

// --- a real gRPC server behind authgate (h2c) ------------------------------------

TEST_F(H2Upstream, GrpcUnaryCallWithATokenReachesTheServerWithTheIdentityAndNoSpoofedMetadata) {
  GrpcServer server;
  ASSERT_TRUE(server.ready());
  start(config(server.url()));
  const std::string out = grpc_client(gw_->port(), "unary", token(), {"x-user-id=mallory", "x-auth-subject=mallory"});
  EXPECT_NE(out.find("status OK"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("body": "hello")"), std::string::npos) << out;
  // The identity header the route forwards arrives as metadata; the client's own copies do not.
  EXPECT_NE(out.find(R"(["x-user-id", "alice"])"), std::string::npos) << out;
  EXPECT_EQ(out.find("mallory"), std::string::npos) << out;
  EXPECT_EQ(out.find("authorization"), std::string::npos) << "the token is not forwarded: " << out;
  // The server's trailing metadata came back as HTTP/2 trailers (with grpc-status: OK).
  EXPECT_NE(out.find("key='x-echo-trailer', value='done'"), std::string::npos) << out;
  EXPECT_EQ(gw_->wait_for_metric("authgate_http_requests_total",
                                 {{"route", "echo"}, {"method", "POST"}, {"code", "200"}, {"protocol", "h2"}}, 1),
            1);
}

TEST_F(H2Upstream, GrpcBidiStreamingCallStreamsBothWays) {
  GrpcServer server;
  ASSERT_TRUE(server.ready());
  start(config(server.url()));
  // The client sends each message only after the echo of the one before came back:
  // a body buffered whole in either direction would stall it until its deadline.
  const std::string out = grpc_client(gw_->port(), "bidi", token());
  EXPECT_NE(out.find("status OK echo:one,echo:msg1,echo:msg2"), std::string::npos) << out;
}

TEST_F(H2Upstream, GrpcWithoutTokenIsUnauthenticatedAndWithoutScopeIsPermissionDenied) {
  GrpcServer server;
  ASSERT_TRUE(server.ready());
  start(config(server.url()));
  std::string out = grpc_client(gw_->port(), "unary");
  EXPECT_NE(out.find("status UNAUTHENTICATED"), std::string::npos) << out;
  out = grpc_client(gw_->port(), "unary", token("other:scope"));
  EXPECT_NE(out.find("status PERMISSION_DENIED insufficient_scope"), std::string::npos) << out;
  out = grpc_client(gw_->port(), "bidi");
  EXPECT_NE(out.find("status UNAUTHENTICATED"), std::string::npos) << out;
  EXPECT_EQ(server.events(), "") << "a denied call reached the server";
}

TEST_F(H2Upstream, GrpcUpstreamDownIsUnavailable) {
  const support::PortReservation nobody;  // bound, never listening: connections are refused
  start(config("http://127.0.0.1:" + std::to_string(nobody.port())));
  const std::string out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status UNAVAILABLE connect_refused"), std::string::npos) << out;
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_upstream_errors_total", {{"upstream", "echo"}, {"kind", "connect_refused"}}),
            1);
}

TEST_F(H2Upstream, AClientCancellingItsCallResetsTheUpstreamStream) {
  GrpcServer server;
  ASSERT_TRUE(server.ready());
  start(config(server.url()));
  // No deadline goes with the call: only the cancellation passed on ends it early.
  const std::string out = grpc_client(gw_->port(), "slow", token());
  EXPECT_NE(out.find("cancelled"), std::string::npos) << out;
  EXPECT_TRUE(server.saw("cancelled", 3s)) << server.events();
}

TEST_F(H2Upstream, NoStreamSlotWithinTheConnectTimeoutIs503AndTheNextCallGetsOne) {
  GrpcServer server({"--max-streams", "1"});
  ASSERT_TRUE(server.ready());
  GatewayConfig cfg = config(server.url(), "h2c", {{"h2_connections", "1"}});
  cfg.workers = 1;
  cfg.timeouts.push_back({"upstream_connect", "300ms"});
  start(cfg);
  Child hold({"/usr/bin/python3", script("client.py"), "127.0.0.1:" + std::to_string(gw_->port()), "hold", token()},
             dir_.file("hold.out"));
  ASSERT_TRUE(server.saw("call Slow", 10s));
  // The server allows one stream and authgate one connection: the call waits 300 ms for a slot.
  std::string out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status UNAVAILABLE pool_exhausted"), std::string::npos) << out;
  EXPECT_TRUE(hold.wait(10s));
  EXPECT_NE(support::read_text(dir_.file("hold.out")).find("status OK late"), std::string::npos);
  out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status OK"), std::string::npos) << out;
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_upstream_errors_total", {{"upstream", "echo"}, {"kind", "pool_exhausted"}}),
            1);
}

TEST_F(H2Upstream, GrpcOverAnH2UpstreamWithTlsAndAlpn) {
  const std::string cert = dir_.file("cert.pem"), key = dir_.file("key.pem");
  ASSERT_EQ(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
               "-addext subjectAltName=DNS:localhost -keyout " + key + " -out " + cert + " >/dev/null 2>&1")
                .exit_code,
            0);
  GrpcServer server({"--tls", cert, key});
  ASSERT_TRUE(server.ready());
  start_with_upstream_tls(config(server.url("https"), "h2"), cert);
  const std::string out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status OK"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(["x-forwarded-proto", "http"])"), std::string::npos) << out;
  EXPECT_NE(out.find("key='x-echo-trailer', value='done'"), std::string::npos) << out;
  const std::string bidi = grpc_client(gw_->port(), "bidi", token());
  EXPECT_NE(bidi.find("status OK echo:one,echo:msg1,echo:msg2"), std::string::npos) << bidi;
}

TEST_F(H2Upstream, AnUpstreamCertificateThatFailsVerificationIsUnavailable) {
  const std::string cert = dir_.file("cert.pem"), key = dir_.file("key.pem");
  ASSERT_EQ(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=elsewhere "
               "-addext subjectAltName=DNS:elsewhere -keyout " + key + " -out " + cert + " >/dev/null 2>&1")
                .exit_code,
            0);
  GrpcServer server({"--tls", cert, key});
  ASSERT_TRUE(server.ready());
  start_with_upstream_tls(config(server.url("https"), "h2"), cert);
  const std::string out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status UNAVAILABLE tls_failed"), std::string::npos) << out;
  EXPECT_EQ(server.events(), "");
}

TEST_F(H2Upstream, AnHttp1ClientReachesTheGrpcServerWithTheIdentityAndGetsTheStatusAsChunkedTrailers) {
  GrpcServer server;
  ASSERT_TRUE(server.ready());
  start(config(server.url()));
  // One gRPC message (uncompressed, 5 bytes) in the gRPC framing, over HTTP/1.1.
  const std::string message = std::string("\0\0\0\0\x05", 5) + "hello";
  const std::string out = http1_raw(
      gw_->port(), "POST /echo.Echo/Unary HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/grpc\r\n"
                   "TE: trailers\r\nConnection: TE, close\r\nAuthorization: Bearer " + token() +
                       "\r\nX-User-Id: mallory\r\nX-Auth-Subject: mallory\r\nContent-Length: " +
                       std::to_string(message.size()) + "\r\n\r\n" + message);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(["x-user-id", "alice"])"), std::string::npos) << out;
  EXPECT_EQ(out.find("mallory"), std::string::npos) << out;
  // grpc-status comes after the last chunk, with the server's own trailing metadata. (Status 0
  // also shows that `te: trailers` went up: gRPC servers refuse calls without it.)
  const auto last = out.find("\r\n0\r\n");
  ASSERT_NE(last, std::string::npos) << out;
  EXPECT_NE(out.find("grpc-status: 0\r\n", last), std::string::npos) << out;
  EXPECT_NE(out.find("x-echo-trailer: done\r\n", last), std::string::npos) << out;
}

// --- stream resets from the upstream ------------------------------------------------

TEST_F(H2Upstream, AnUpstreamResetBeforeTheResponseIs502AndUnavailableForGrpc) {
  RawH2Upstream raw([](std::uint32_t id) { return rst_stream(id, 0x2); });  // INTERNAL_ERROR
  start(config("http://127.0.0.1:" + std::to_string(raw.port())));
  const auto r = sh("curl -sS --max-time 10 --http2-prior-knowledge -D - " + std::string("http://127.0.0.1:") +
                    std::to_string(gw_->port()) + "/reset");
  EXPECT_NE(r.out.find("HTTP/2 502"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("bad_response"), std::string::npos) << r.out;
  const std::string out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status UNAVAILABLE bad_response"), std::string::npos) << out;
  EXPECT_EQ(gw_->wait_for_metric("authgate_upstream_errors_total", {{"upstream", "echo"}, {"kind", "bad_response"}}, 2),
            2);
}

TEST_F(H2Upstream, AnUpstreamResetAfterTheResponseHeadResetsTheClientsStreamWithItsCode) {
  // ":status: 200" (HPACK static table index 8), then RST_STREAM CANCEL.
  RawH2Upstream raw([](std::uint32_t id) { return frame(kHeaders, kEndHeaders, id, "\x88") + rst_stream(id, 0x8); });
  start(config("http://127.0.0.1:" + std::to_string(raw.port())));
  const auto r = sh("nghttp -v -t 10 http://127.0.0.1:" + std::to_string(gw_->port()) + "/reset");
  // Not answered as a failure before the head (502): the client's stream is reset with the
  // upstream's error code. (nghttp2 sends RST_STREAM ahead of queued HEADERS, so the client
  // may see the reset alone.)
  EXPECT_EQ(r.out.find(":status: 502"), std::string::npos) << r.out;
  const auto rst = r.out.find("recv RST_STREAM frame");
  ASSERT_NE(rst, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(error_code=CANCEL(0x08))", rst), std::string::npos) << r.out;
}

TEST_F(H2Upstream, AReloadRetiresTheOldConnectionsAndShutdownIsClean) {
  GrpcServer server;
  ASSERT_TRUE(server.ready());
  const GatewayConfig cfg = config(server.url());
  start(cfg);
  std::string out = grpc_client(gw_->port(), "unary", token());
  EXPECT_NE(out.find("status OK"), std::string::npos) << out;
  // The old Runtime's pools go with it (on another thread than their workers').
  gw_->write_config(cfg);
  ASSERT_TRUE(gw_->signal(SIGHUP));
  EXPECT_EQ(gw_->wait_for_metric("authgate_config_reloads_total", {{"result", "success"}}, 1, 5s), 1);
  out = grpc_client(gw_->port(), "bidi", token());
  EXPECT_NE(out.find("status OK echo:one,echo:msg1,echo:msg2"), std::string::npos) << out;
  ASSERT_TRUE(gw_->signal(SIGTERM));
  EXPECT_EQ(gw_->wait_exit(10s), 0);
}

// --- nghttpd (an h2c web server) behind authgate ----------------------------------

class H2UpstreamNghttpd : public H2Upstream {
 protected:
  void SetUp() override {
    H2Upstream::SetUp();
    std::filesystem::create_directories(dir_.file("htdocs"));
    std::ofstream(dir_.file("htdocs/index.txt")) << "served over h2c\n";
    std::ofstream(dir_.file("htdocs/big.bin")) << std::string(3 * 1024 * 1024, 'z');
    start_nghttpd();
    start(config("http://127.0.0.1:" + std::to_string(port_.port())));
  }
  // nghttpd binds with SO_REUSEADDR next to the reservation (which never listens).
  void start_nghttpd() {
    nghttpd_.reset();
    // -v: the frames it receives are logged (its stdout), request trailers among them.
    nghttpd_.emplace(std::vector<std::string>{"/usr/sbin/nghttpd", "-v", "--no-tls", "-a", "127.0.0.1", "-d",
                                              dir_.file("htdocs"), "--echo-upload", "--trailer",
                                              "x-upstream-trailer: yes", std::to_string(port_.port())},
                     dir_.file("nghttpd.log"));
    ASSERT_TRUE(wait_connectable(port_.port(), 10s)) << support::read_text(dir_.file("nghttpd.log.err"));
  }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(gw_->port()) + std::string(path);
  }

  support::PortReservation port_{support::PortReservation::Share::reuseaddr};
  std::optional<Child> nghttpd_;
};

TEST_F(H2UpstreamNghttpd, CurlAndNghttpReachTheH2cUpstreamWithItsTrailers) {
  auto r = sh("curl -sS --max-time 10 --http2-prior-knowledge -D - " + url("/index.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("served over h2c"), std::string::npos) << r.out;
  r = sh("nghttp -v -t 10 " + url("/index.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto data = r.out.find("recv DATA frame");
  const auto trailer = r.out.find("x-upstream-trailer: yes");
  ASSERT_NE(data, std::string::npos) << r.out;
  EXPECT_NE(trailer, std::string::npos) << r.out;
  EXPECT_GT(trailer, data) << "the trailer comes after the body: " << r.out;
}

TEST_F(H2UpstreamNghttpd, RequestTrailersOfAnHttp2ClientReachTheUpstream) {
  const std::string upload = dir_.file("upload.txt");
  std::ofstream(upload) << "with trailers";
  const auto r = sh("nghttp -v -t 10 -d " + upload + " --trailer 'x-request-trailer: sent-after-the-body' " +
                    url("/echo"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("with trailers"), std::string::npos) << r.out;  // echoed
  std::string log;
  for (int i = 0; i < 50 && log.find("x-request-trailer") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    log = support::read_text(dir_.file("nghttpd.log"));
  }
  EXPECT_NE(log.find("x-request-trailer: sent-after-the-body"), std::string::npos) << log;
}

TEST_F(H2UpstreamNghttpd, BodiesStreamBothWaysUnderSmallWindows) {
  // 16 KiB windows on the client side: 3 MiB come through as the client reopens them.
  auto r = sh("nghttp -w 14 -W 14 -t 20 " + url("/big.bin") + " | wc -c");
  EXPECT_EQ(r.out, "3145728\n") << r.err;
  const std::string upload = dir_.file("upload.bin");
  std::ofstream(upload) << std::string(2 * 1024 * 1024, 'u');
  r = sh("curl -sS --max-time 20 --http2-prior-knowledge --data-binary @" + upload + " " + url("/echo") + " | wc -c");
  EXPECT_EQ(r.out, "2097152\n") << r.err;
  r = sh("curl -sS --max-time 20 --http1.1 --data-binary @" + upload + " " + url("/echo") + " | wc -c");
  EXPECT_EQ(r.out, "2097152\n") << r.err;
}

TEST_F(H2UpstreamNghttpd, Http1ClientsReachTheH2cUpstreamAndGetTrailersOnlyWithTeTrailers) {
  const std::string port = std::to_string(gw_->port());
  std::string out = http1_raw(gw_->port(), "GET /index.txt HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                                               "\r\nTE: trailers\r\nConnection: TE, close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\n10\r\nserved over h2c\n\r\n0\r\nx-upstream-trailer: yes\r\n\r\n"), std::string::npos)
      << out;
  out = http1_raw(gw_->port(), "GET /index.txt HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("content-length: 16\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("x-upstream-trailer"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n\r\nserved over h2c\n"), std::string::npos) << out;
  // The harness's client (keep-alive, Content-Length framing).
  auto r = support::http_request(gw_->port(), support::make_request("GET", "/index.txt"));
  ASSERT_EQ(status_of(r), 200) << describe(r);
  EXPECT_EQ(r->body, "served over h2c\n");
}

TEST_F(H2UpstreamNghttpd, AnUpstreamThatWentAwayIsReconnectedOnceItIsBack) {
  auto r = support::http_request(gw_->port(), support::make_request("GET", "/index.txt"));
  ASSERT_EQ(status_of(r), 200) << describe(r);
  nghttpd_.reset();  // the pooled connection closes under authgate
  r = support::http_request(gw_->port(), support::make_request("GET", "/index.txt"));
  EXPECT_EQ(status_of(r), 502) << describe(r);
  start_nghttpd();
  r = support::http_request(gw_->port(), support::make_request("GET", "/index.txt"));
  ASSERT_EQ(status_of(r), 200) << describe(r);
  EXPECT_EQ(r->body, "served over h2c\n");
}

}  // namespace
}  // namespace it
