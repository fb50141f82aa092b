// auth: remote keys over TLS, and the limits on every IdP exchange, end to end.
//
// JwksTls*: client --http--> authgate A (under test, `auth: bearer`, its issuer's
// jwks_uri is https) --https--> authgate B (a TLS terminator, listener cert minted
// per test with the openssl CLI, route `/` auth: none) --http--> a scripted IdP.
// A must verify B's certificate (chain against tls.ca_file, and by name), and a
// failed verification must surface as result="tls_error", a 503 and not-ready.
//
// JwksLimits*: a plain-http scripted IdP that misbehaves (oversized body, too
// slow, no usable keys, discovery for another issuer); each failure has its own
// authgate_jwks_fetches_total result and the token gets 503 jwks_unavailable
// promptly, never a hang.
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <list>
#include <mutex>
#include <thread>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::eventually;

std::string token(const ts::TestKey& key, const std::string& kid, const std::string& iss,
                  const std::string& jti = "1") {
  return ts::mint(key, "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":")" + kid + R"("})",
                  R"({"iss":")" + iss + R"(","sub":"alice","aud":"orders-api","scope":"orders:read","exp":)" +
                      std::to_string(now_s() + 300) + R"(,"jti":")" + jti + R"("})");
}

// A scriptable IdP on plain http: discovery (whose "issuer" can be made to lie)
// and a JWKS endpoint that can serve any body, late, chunked or trickled.
class ScriptedIdp {
 public:
  enum class JwksMode { normal, chunked, trickle };

  ScriptedIdp()
      : server_([this](support::UpstreamConnection& c, const support::RequestHead& h) { serve(c, h); }) {
    set_jwks_body(ts::jwks_of({ts::rsa2048().public_jwk()}));
  }
  ~ScriptedIdp() { server_.stop(); }  // its threads read the members below (declared after server_)
  std::string url() const { return server_.url(); }
  void set_jwks_body(std::string body) {
    std::lock_guard lock(mu_);
    jwks_ = std::move(body);
  }
  void set_discovery_issuer(std::string iss) {
    std::lock_guard lock(mu_);
    discovery_issuer_ = std::move(iss);
  }
  void set_jwks_delay(std::chrono::milliseconds d) { jwks_delay_ms_ = static_cast<int>(d.count()); }
  void set_jwks_mode(JwksMode m) { mode_ = m; }
  int discovery_fetches() const { return discovery_.load(); }
  int jwks_fetches() const { return jwks_fetches_.load(); }

 private:
  void serve(support::UpstreamConnection& c, const support::RequestHead& h) {
    if (h.target == "/.well-known/openid-configuration") {
      ++discovery_;
      std::string iss;
      {
        std::lock_guard lock(mu_);
        iss = discovery_issuer_.empty() ? url() : discovery_issuer_;
      }
      c.respond(200, R"({"issuer":")" + iss + R"(","jwks_uri":")" + url() + R"(/jwks"})", {}, "application/json");
    } else if (h.target == "/jwks") {
      ++jwks_fetches_;
      if (jwks_delay_ms_ > 0) c.sleep(std::chrono::milliseconds(jwks_delay_ms_.load()));
      if (c.stopping() || c.closed()) return;
      std::string body;
      {
        std::lock_guard lock(mu_);
        body = jwks_;
      }
      switch (mode_.load()) {
        case JwksMode::normal:
          c.respond(200, body, {}, "application/json");
          break;
        case JwksMode::chunked: {
          // No Content-Length: the cap must hold while the body streams in.
          std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
          for (std::size_t at = 0; at < body.size(); at += 512) {
            const std::string piece = body.substr(at, 512);
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            out += size + piece + "\r\n";
          }
          out += "0\r\n\r\n";
          c.send(out, 5s);
          break;
        }
        case JwksMode::trickle: {
          // Headers at once, then 8 bytes every 100 ms: every single read is
          // quick, only the whole exchange is too slow.
          if (!c.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n",
                      2s))
            return;
          for (std::size_t at = 0; at < body.size() && !c.stopping(); at += 8) {
            if (!c.send(std::string_view(body).substr(at, 8), 2s)) return;
            c.sleep(100ms);
          }
          break;
        }
      }
    } else {
      c.respond(404, "");
    }
  }

  support::UpstreamServer server_;
  std::mutex mu_;
  std::string jwks_;
  std::string discovery_issuer_;
  std::atomic<int> jwks_delay_ms_{0};
  std::atomic<JwksMode> mode_{JwksMode::normal};
  std::atomic<int> discovery_{0};
  std::atomic<int> jwks_fetches_{0};
};

// A bare TLS server (OpenSSL, blocking, one thread per connection) that answers
// every request with `body` and then, instead of closing, holds the connection
// open for `hold` without sending close_notify or FIN; after the hold it
// closes without close_notify. It records the SNI each client sent. For IdP
// behaviour that authgate B (a well-behaved TLS terminator) cannot produce.
class RawTlsIdp {
 public:
  RawTlsIdp(const std::string& cert, const std::string& key, std::string body, Clock::duration hold)
      : body_(std::move(body)), hold_(hold) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    ok_ = ctx_ && SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) == 1 &&
          SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) == 1;
    listen_ = support::listen_loopback(0, 16, &port_);
    ok_ = ok_ && listen_.valid();
    if (ok_) acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~RawTlsIdp() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : threads_) t.join();
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }
  // SNI of each completed handshake ("" when the client sent none).
  std::vector<std::string> server_names() const {
    std::lock_guard lock(mu_);
    return server_names_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(listen_.get(), nullptr, nullptr);
      if (fd < 0) continue;
      threads_.emplace_back([this, fd] { serve(support::Fd(fd)); });
    }
  }
  void serve(support::Fd fd) {
    sigset_t pipe;  // a write to a closed peer: EPIPE in this thread, never a process-wide SIGPIPE
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    timeval tv{2, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd.get());
    if (SSL_accept(ssl) == 1) {
      {
        const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        std::lock_guard lock(mu_);
        server_names_.emplace_back(sni ? sni : "");
      }
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      if (head.find("\r\n\r\n") != std::string::npos) {
        ++requests_;
        const std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body_.size()) + "\r\n\r\n" + body_;
        if (SSL_write(ssl, out.data(), static_cast<int>(out.size())) > 0)
          support::interruptible_sleep(hold_, stop_);
      }
    }
    SSL_free(ssl);  // no SSL_shutdown: the connection ends without close_notify
  }

  std::string body_;
  Clock::duration hold_;
  SSL_CTX* ctx_ = nullptr;
  bool ok_ = false;
  support::Fd listen_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::string> server_names_;
  std::thread acceptor_;
  std::list<std::thread> threads_;  // touched by the acceptor thread only, joined after it
};

// authgate A: one `auth: bearer` route to an echo upstream, one issuer "idp".
class GatewayUnderTest {
 public:
  ::testing::AssertionResult start(const std::string& issuer_block, bool wait_ready,
                                   std::vector<std::pair<std::string, std::string>> limits = {},
                                   std::vector<std::pair<std::string, std::string>> timeouts = {}) {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}.with("auth", "bearer"));
    cfg.issuers_yaml = "issuers:\n  - name: idp\n    audiences: [orders-api]\n" + issuer_block;
    cfg.limits = std::move(limits);
    cfg.timeouts = std::move(timeouts);
    cfg.wait_for_ready = wait_ready;
    gw_ = std::make_unique<GatewayProcess>(cfg);
    return gw_->start();
  }
  std::optional<Response> call(const std::string& tok) const {
    return support::http_request(
        gw_->port(), support::make_request("GET", "/api/x", {{"Authorization", "Bearer " + tok}}));
  }
  double fetches(const std::string& result) const {
    return metric_or_zero(*gw_, "authgate_jwks_fetches_total", {{"issuer", "idp"}, {"result", result}});
  }
  // All authgate_jwks_fetches_total samples of issuer "idp", for failure messages.
  std::string all_fetches() const {
    std::string out;
    const std::string text = gw_->metrics_text();
    std::size_t at = 0;
    while ((at = text.find("authgate_jwks_fetches_total{", at)) != std::string::npos) {
      const auto end = text.find('\n', at);
      out += text.substr(at, end - at) + "\n";
      at = end;
    }
    return out.empty() ? "(no authgate_jwks_fetches_total samples)" : out;
  }
  GatewayProcess& gw() { return *gw_; }

 private:
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
};

// ---- JWKS over https through a TLS terminator ------------------------------

constexpr const char* kHttpsIssuer = "https://idp.test";

class JwksTls : public ::testing::Test {
 protected:
  void SetUp() override {
    // B's config is written below, once the certificate exists; the placeholder
    // only gives B its temp dir (its ports: 0, picked at start).
    b_ = std::make_unique<GatewayProcess>(GatewayConfig{});
    cert_ = b_->dir().file("cert.pem");
    key_ = b_->dir().file("key.pem");
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                            "-addext subjectAltName=DNS:localhost -keyout " + key_ + " -out " + cert_ +
                            " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not mint a test certificate";
    b_->write_config_text(
        "listen:\n  address: 127.0.0.1:" + std::to_string(b_->config_port()) + "\n"
        "  tls: {cert_file: " + cert_ + ", key_file: " + key_ + "}\n"
        "admin:\n  address: 127.0.0.1:" + std::to_string(b_->config_admin_port()) + "\n"
        "workers: 1\n"
        "upstreams:\n  - name: idp\n    url: " + idp_.url() + "\n"
        "routes:\n  - name: all\n    match: {path: {prefix: /}}\n    upstream: idp\n    auth: none\n"
        "log: {level: info, access: \"off\"}\n");
    ASSERT_TRUE(b_->start());
  }

  std::string jwks_uri(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(b_->port()) + "/jwks";
  }
  // The issuer block of A: https issuer, jwks_uri through B, then `tls_block`.
  std::string issuer_block(const std::string& uri, const std::string& tls_block) const {
    return std::string("    issuer: ") + kHttpsIssuer + "\n    jwks_uri: " + uri + "\n" + tls_block;
  }

  // Common checks for a JWKS fetch that A refused to complete because B's
  // certificate did not verify: tls_error, 503 + Retry-After, not ready, and
  // not a byte of the JWKS request reached the IdP behind B.
  void expect_tls_failure() {
    auto r = a_.call(token(ts::rsa2048(), "rsa-1", kHttpsIssuer));
    EXPECT_TRUE(IsLocalError(r, 503, "jwks_unavailable")) << describe(r);
    if (r) {
      EXPECT_FALSE(r->header("Retry-After").value_or("").empty()) << describe(r);
    }
    EXPECT_GE(a_.fetches("tls_error"), 1) << a_.all_fetches();
    EXPECT_EQ(a_.fetches("success"), 0) << a_.all_fetches();
    auto readyz = a_.gw().admin_get("/readyz");
    ASSERT_TRUE(readyz);
    EXPECT_EQ(readyz->status, 503);
    EXPECT_NE(readyz->body.find("issuer:idp"), std::string::npos) << readyz->body;
    EXPECT_EQ(idp_.jwks_fetches(), 0) << "the handshake must fail before any request is sent";
  }

  ScriptedIdp idp_;
  std::unique_ptr<GatewayProcess> b_;
  std::string cert_, key_;
  GatewayUnderTest a_;
};

TEST_F(JwksTls, VerifiedHttpsJwksUriLoadsKeysAndTokensVerify) {
  ASSERT_TRUE(a_.start(issuer_block(jwks_uri("localhost"), "    tls: {ca_file: " + cert_ + "}\n"),
                       /*wait_ready=*/true));
  auto r = a_.call(token(ts::rsa2048(), "rsa-1", kHttpsIssuer));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(a_.fetches("success"), 1) << a_.all_fetches();
  EXPECT_EQ(a_.fetches("tls_error"), 0) << a_.all_fetches();
  EXPECT_EQ(idp_.jwks_fetches(), 1) << "the keys came through B";
  EXPECT_EQ(idp_.discovery_fetches(), 0) << "jwks_uri is configured: no discovery";
  EXPECT_EQ(a_.gw().admin_get("/readyz")->status, 200);
}

TEST_F(JwksTls, SelfSignedCertWithoutCaFileIsTlsErrorAnd503AndNotReady) {
  // No ca_file: the system trust store, which does not know the minted cert.
  ASSERT_TRUE(a_.start(issuer_block(jwks_uri("localhost"), ""), /*wait_ready=*/false));
  expect_tls_failure();
}

TEST_F(JwksTls, HostnameMismatchIsTlsErrorEvenWithTheRightCa) {
  // The chain verifies (ca_file is the cert itself), but the cert names
  // DNS:localhost only and the URL host is the IP literal 127.0.0.1.
  ASSERT_TRUE(a_.start(issuer_block(jwks_uri("127.0.0.1"), "    tls: {ca_file: " + cert_ + "}\n"),
                       /*wait_ready=*/false));
  expect_tls_failure();
}

TEST_F(JwksTls, VerifyFalseAcceptsTheUnknownCert) {
  // tls.verify: false turns off chain AND hostname verification towards the
  // IdP: anyone on the path can serve keys. It exists for tests and local
  // development only, never for production configs.
  ASSERT_TRUE(a_.start(issuer_block(jwks_uri("localhost"), "    tls: {verify: false}\n"), /*wait_ready=*/true));
  auto r = a_.call(token(ts::rsa2048(), "rsa-1", kHttpsIssuer));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(a_.fetches("success"), 1) << a_.all_fetches();
  EXPECT_EQ(a_.fetches("tls_error"), 0) << a_.all_fetches();
}

// The IdP below ends every connection without close_notify (a truncation in
// TLS terms) after a complete, Content-Length framed response: the body is
// whole, so the keys must load.
TEST_F(JwksTls, IdpClosingWithoutCloseNotifyAfterACompleteResponseStillLoads) {
  RawTlsIdp raw(cert_, key_, ts::jwks_of({ts::rsa2048().public_jwk()}), 0ms);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(a_.start(issuer_block("https://localhost:" + std::to_string(raw.port()) + "/jwks",
                                    "    tls: {ca_file: " + cert_ + "}\n"),
                       /*wait_ready=*/true));
  auto r = a_.call(token(ts::rsa2048(), "rsa-1", kHttpsIssuer));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(a_.fetches("success"), 1) << a_.all_fetches();
}

// An IdP (or a load balancer in front of it) that keeps the connection open
// after a complete response must not stretch the exchange to the full
// timeouts.idp_request: the client closes once the response is complete,
// without waiting for the IdP's close_notify.
TEST_F(JwksTls, FetchDoesNotWaitForTheIdpToCloseAfterACompleteResponse) {
  RawTlsIdp raw(cert_, key_, ts::jwks_of({ts::rsa2048().public_jwk()}), 10s);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(a_.start(issuer_block("https://localhost:" + std::to_string(raw.port()) + "/jwks",
                                    "    tls: {ca_file: " + cert_ + "}\n"),
                       /*wait_ready=*/false, {}, {{"idp_request", "4s"}}));
  const auto t0 = Clock::now();
  ASSERT_TRUE(eventually([&] { return a_.gw().admin_get("/readyz")->status == 200; }, 8s)) << a_.all_fetches();
  EXPECT_LT(seconds_since(t0), 2.0) << "the JWKS response was complete at once; the fetch waited for the IdP to close";
  EXPECT_EQ(raw.requests(), 1);
}

// RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted in
// HostName": an IP-literal host sends no SNI (strict servers refuse it).
TEST_F(JwksTls, NoSniIsSentForAnIpLiteralHost) {
  RawTlsIdp raw(cert_, key_, ts::jwks_of({ts::rsa2048().public_jwk()}), 0ms);
  ASSERT_TRUE(raw.ok());
  // verify: false, as the cert names DNS:localhost only (tests only, see above).
  ASSERT_TRUE(a_.start(issuer_block("https://127.0.0.1:" + std::to_string(raw.port()) + "/jwks",
                                    "    tls: {verify: false}\n"),
                       /*wait_ready=*/true));
  const auto names = raw.server_names();
  ASSERT_FALSE(names.empty());
  for (const auto& n : names) EXPECT_EQ(n, "") << "SNI sent for an IP literal";
}

// ---- config: an https issuer's jwks_uri must be https -----------------------

std::string check_config_yaml(const std::string& jwks_uri) {
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", "http://127.0.0.1:9000"});
  cfg.routes.push_back(RouteSpec{"api", "app", "/api"}.with("auth", "bearer"));
  cfg.issuers_yaml = std::string("issuers:\n  - name: idp\n    issuer: ") + kHttpsIssuer +
                     "\n    audiences: [orders-api]\n    jwks_uri: " + jwks_uri + "\n";
  return cfg.render(18080, 19901, "off");  // --check-config binds nothing
}

TEST(JwksTlsConfig, PlainHttpJwksUriForAnHttpsIssuerIsAConfigError) {
  support::TempDir dir;
  dir.write("bad.yaml", check_config_yaml("http://127.0.0.1:9443/jwks"));
  auto r = support::run_authgate({"--check-config", dir.file("bad.yaml")});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("issuers[0].jwks_uri"), std::string::npos) << r.out << r.err;

  // Control: the same file with an https jwks_uri is fine.
  dir.write("good.yaml", check_config_yaml("https://127.0.0.1:9443/jwks"));
  auto ok = support::run_authgate({"--check-config", dir.file("good.yaml")});
  ASSERT_FALSE(ok.timed_out);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

// ---- limits on IdP exchanges (plain http) -----------------------------------

constexpr auto kIdpTimeout = 300ms;

class JwksLimits : public ::testing::Test {
 protected:
  // A with discovery against the scripted IdP, 2 KiB response cap and a 300 ms
  // exchange deadline; not waiting for ready (the keys are meant not to load).
  void start(const std::string& extra = {}) {
    ASSERT_TRUE(a_.start("    issuer: " + idp_.url() + "\n" + extra, /*wait_ready=*/false,
                         {{"max_idp_response_bytes", "2KiB"}}, {{"idp_request", "300ms"}}));
  }

  // The token is refused with 503 jwks_unavailable (+ Retry-After), promptly,
  // and `result` was counted.
  void expect_unavailable(const std::string& result) {
    const auto t0 = Clock::now();
    auto r = a_.call(token(ts::rsa2048(), "rsa-1", idp_.url()));
    const double took = seconds_since(t0);
    EXPECT_TRUE(IsLocalError(r, 503, "jwks_unavailable")) << describe(r);
    if (r) {
      EXPECT_FALSE(r->header("Retry-After").value_or("").empty()) << describe(r);
    }
    // The request waits for at most one fetch cycle: discovery plus one JWKS
    // exchange, each bounded by idp_request.
    EXPECT_LT(took, 2 * std::chrono::duration<double>(kIdpTimeout).count() + 1.0);
    EXPECT_TRUE(eventually([&] { return a_.fetches(result) >= 1; }, 5s)) << a_.all_fetches();
    EXPECT_EQ(a_.fetches("success"), 0) << a_.all_fetches();
    auto readyz = a_.gw().admin_get("/readyz");
    ASSERT_TRUE(readyz);
    EXPECT_EQ(readyz->status, 503);
    EXPECT_NE(readyz->body.find("issuer:idp"), std::string::npos) << readyz->body;
  }

  // A real JWKS (the served key verifies tokens) padded to `size` bytes with an
  // extra member the key parser ignores.
  static std::string padded_jwks(std::size_t size) {
    std::string jwk = ts::rsa2048().public_jwk(R"("x-pad":")");
    const std::size_t base = ts::jwks_of({jwk + "\"}"}).size();
    jwk += std::string(size > base ? size - base : 0, 'A') + "\"}";
    return ts::jwks_of({jwk});
  }

  ScriptedIdp idp_;
  GatewayUnderTest a_;
};

TEST_F(JwksLimits, ControlAJwksUnderTheCapLoads) {
  idp_.set_jwks_body(padded_jwks(1800));
  ASSERT_LT(padded_jwks(1800).size(), 2048u);
  start();
  ASSERT_TRUE(eventually([&] { return a_.gw().admin_get("/readyz")->status == 200; }, 5s)) << a_.all_fetches();
  auto r = a_.call(token(ts::rsa2048(), "rsa-1", idp_.url()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(a_.fetches("success"), 1) << a_.all_fetches();
}

TEST_F(JwksLimits, JwksBodyOverTheCapIsTooLarge) {
  idp_.set_jwks_body(padded_jwks(4096));
  start();
  expect_unavailable("too_large");
  EXPECT_EQ(a_.fetches("discovery_too_large"), 0) << "the discovery document is small";
}

TEST_F(JwksLimits, ChunkedJwksBodyOverTheCapIsTooLarge) {
  idp_.set_jwks_body(padded_jwks(4096));
  idp_.set_jwks_mode(ScriptedIdp::JwksMode::chunked);
  start();
  expect_unavailable("too_large");
}

TEST_F(JwksLimits, SlowIdpIsTimeoutAndTheWaitingRequestIsNotHeld) {
  idp_.set_jwks_delay(5s);  // far beyond idp_request
  start();
  expect_unavailable("timeout");
  EXPECT_GE(idp_.jwks_fetches(), 1);
}

TEST_F(JwksLimits, ConnectThatNeverCompletesIsTimeout) {
  support::BlackholeListener hole;  // SYNs are dropped: connect never completes
  start("    jwks_uri: http://127.0.0.1:" + std::to_string(hole.port()) + "/jwks\n");
  expect_unavailable("timeout");
}

TEST_F(JwksLimits, TrickledBodyIsCutAtTheExchangeDeadline) {
  // Each read completes within 100 ms; only a deadline over the whole exchange
  // (connect to last byte) stops this.
  idp_.set_jwks_body(padded_jwks(1500));
  idp_.set_jwks_mode(ScriptedIdp::JwksMode::trickle);
  start();
  expect_unavailable("timeout");
}

TEST_F(JwksLimits, GarbageJwksIsInvalid) {
  idp_.set_jwks_body("<html><body>502 Bad Gateway</body></html>");  // a proxy's error page with 200
  start();
  expect_unavailable("invalid");
  EXPECT_TRUE(a_.gw().running());
}

TEST_F(JwksLimits, TruncatedJwksIsInvalid) {
  const std::string full = padded_jwks(1500);
  idp_.set_jwks_body(full.substr(0, full.size() / 2));
  start();
  expect_unavailable("invalid");
}

TEST_F(JwksLimits, EmptyKeySetIsInvalid) {
  idp_.set_jwks_body(R"({"keys":[]})");
  start();
  expect_unavailable("invalid");
}

TEST_F(JwksLimits, OnlyAnEncryptionKeyIsInvalid) {
  idp_.set_jwks_body(ts::jwks_of({ts::rsa2048().public_jwk(R"("use":"enc")")}));
  start();
  expect_unavailable("invalid");
}

TEST_F(JwksLimits, DiscoveryForAnotherIssuerIsDiscoveryInvalid) {
  idp_.set_discovery_issuer("http://127.0.0.1:1/someone-else");
  start();
  expect_unavailable("discovery_invalid");
  EXPECT_EQ(idp_.jwks_fetches(), 0) << "a jwks_uri from a document for another issuer is never used";
  EXPECT_GE(idp_.discovery_fetches(), 1);
}

}  // namespace
}  // namespace it
