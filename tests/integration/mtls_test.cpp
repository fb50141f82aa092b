// Certificate-bound access tokens (RFC 8705) end to end: the real oidc-provider binds client
// "orders-mtls"'s tokens to the certificate of the token request (cnf.x5t#S256); the real authgate
// binary accepts such a token only over a TLS connection whose client certificate is that one, or,
// behind a TLS-terminating proxy in listen.trusted_proxies, with that certificate in the proxy's
// listen.client_cert_header. curl is the TLS client. Certificates are minted per test with the
// openssl command-line tool: a CA, two client certificates it signed, and the server's.
#include <cctype>

#include "common.hpp"
#include "support/files.hpp"
#include "support/oidc_provider.hpp"

namespace it {
namespace {

using support::OidcClient;
using support::OidcProvider;

// nginx's $ssl_client_escaped_cert: every byte outside the unreserved characters as %XX.
std::string escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

class CertificateBoundTokens : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = OidcProvider::skip_reason()) GTEST_SKIP() << *why;
    op_ = std::make_unique<OidcProvider>();
    ASSERT_TRUE(op_->start());
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    const std::string d = dir_.path() + "/";
    ASSERT_TRUE(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout " + d + "ca.key -out " + d + "ca.pem"));
    for (const std::string name : {"alice", "mallory"}) {
      ASSERT_TRUE(sh("openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + d + name + ".key -out " + d + name + ".csr"));
      ASSERT_TRUE(sh("openssl x509 -req -days 1 -in " + d + name + ".csr -CA " + d + "ca.pem -CAkey " + d + "ca.key -CAcreateserial -out " + d + name + ".pem"));
    }
    ASSERT_TRUE(sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout " +
                   d + "server.key -out " + d + "server.pem"));
  }

  // The gateway: a TLS listener asking for client certificates (tls: true), or plain http behind
  // a trusted (or untrusted) proxy that passes X-SSL-Client-Cert.
  void start_gateway(bool tls, const std::string& trusted_proxy = "127.0.0.1/32") {
    const std::string d = dir_.path() + "/";
    GatewayConfig cfg;
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}.with("auth", "bearer").with("require", "{scopes_all: [orders:read]}"));
    cfg.issuers_yaml = "issuers:\n"
                       "  - name: op\n"
                       "    issuer: " + op_->issuer() + "\n"
                       "    audiences: [https://orders.test]\n"
                       "    algorithms: [RS256]\n";
    cfg.listen_yaml = tls ? "  tls: {cert_file: " + d + "server.pem, key_file: " + d + "server.key, client_ca_file: " +
                                d + "ca.pem, client_auth: optional}\n"
                          : "  client_cert_header: X-SSL-Client-Cert\n";
    if (!tls) cfg.trusted_proxies = {trusted_proxy};
    gw_ = std::make_unique<GatewayProcess>(cfg);
    ASSERT_TRUE(gw_->start());
  }

  // A token for scope orders:read from `client`; for OidcClient::mtls bound to `cert`'s certificate.
  std::string token(OidcClient client, const std::string& cert = "alice") {
    std::vector<Header> headers;
    if (client == OidcClient::mtls) headers.push_back({"X-SSL-Client-Cert", escape(support::read_text(dir_.path() + "/" + cert + ".pem"))});
    auto r = op_->post_form("/token", {{"grant_type", "client_credentials"}, {"scope", "orders:read"}, {"resource", "https://orders.test"}},
                            client, false, 10s, headers);
    EXPECT_EQ(status_of(r), 200) << describe(r);
    if (status_of(r) != 200) return {};
    return support::json_string(*support::parse_json_object(r->body), "access_token");
  }

  // GET /api/x over TLS with curl, presenting `cert` ("" for none); the status, or -1.
  int call_tls(const std::string& bearer, const std::string& cert) {
    const std::string d = dir_.path() + "/";
    const std::string port = std::to_string(gw_->port());
    std::vector<std::string> argv{"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                                  "--cacert", d + "server.pem", "--resolve", "localhost:" + port + ":127.0.0.1",
                                  "-H", "Authorization: Bearer " + bearer};
    if (!cert.empty()) argv.insert(argv.end(), {"--cert", d + cert + ".pem", "--key", d + cert + ".key"});
    argv.push_back("https://localhost:" + port + "/api/x");
    const auto r = support::run_command(argv, 15s);
    if (r.exit_code != 0) ADD_FAILURE() << "curl: " << r.err;
    return r.exit_code == 0 ? std::atoi(r.out.c_str()) : -1;
  }

  // GET /api/x over plain http as from a TLS-terminating proxy that passes `cert` ("" for none).
  std::optional<Response> call_proxied(const std::string& bearer, const std::string& cert) {
    std::vector<Header> h{{"Authorization", "Bearer " + bearer}};
    if (!cert.empty()) h.push_back({"X-SSL-Client-Cert", escape(support::read_text(dir_.path() + "/" + cert + ".pem"))});
    return support::http_request(gw_->port(), support::make_request("GET", "/api/x", h));
  }

  support::TempDir dir_;
  std::unique_ptr<OidcProvider> op_;
  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(CertificateBoundTokens, TheProviderBindsTheTokenToTheCertificateOfTheTokenRequest) {
  const std::string t = token(OidcClient::mtls);
  ASSERT_FALSE(t.empty());
  const auto claims = support::jwt_part(t, 1);
  ASSERT_TRUE(claims && claims->contains("cnf")) << t;
  EXPECT_EQ(claims->at("cnf").as_object().at("x5t#S256").as_string().size(), 43u);
}

TEST_F(CertificateBoundTokens, OverTlsTheTokenPassesOnlyWithItsOwnClientCertificate) {
  start_gateway(true);
  const std::string bound = token(OidcClient::mtls, "alice");
  ASSERT_FALSE(bound.empty());
  EXPECT_EQ(call_tls(bound, "alice"), 200);
  EXPECT_EQ(call_tls(bound, "mallory"), 401) << "another certificate of the same CA";
  EXPECT_EQ(call_tls(bound, ""), 401) << "no certificate";
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_auth_decisions_total", {{"route", "api"}, {"reason", "certificate_mismatch"}}), 2);
  // A token bound to nothing still passes, with a certificate or without.
  const std::string plain = token(OidcClient::cli);
  EXPECT_EQ(call_tls(plain, ""), 200);
  EXPECT_EQ(call_tls(plain, "mallory"), 200);
  // The status page's route row says where a certificate-bound token's certificate comes from.
  const auto page = gw_->admin_get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("mTLS-bound tokens: checked: TLS client certificate optional</td>"), std::string::npos)
      << page->body;
}

TEST_F(CertificateBoundTokens, BehindATrustedProxyTheCertificateComesFromItsHeaderAndNeverReachesTheUpstream) {
  start_gateway(false, "127.0.0.1/32");
  const std::string bound = token(OidcClient::mtls, "alice");
  ASSERT_FALSE(bound.empty());
  auto ok = call_proxied(bound, "alice");
  EXPECT_EQ(status_of(ok), 200) << describe(ok);
  const auto page = gw_->admin_get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("mTLS-bound tokens: checked: header X-SSL-Client-Cert from trusted proxies</td>"),
            std::string::npos)
      << page->body;
  const auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.get("X-SSL-Client-Cert")) << "the certificate header is not passed on";
  EXPECT_EQ(status_of(call_proxied(bound, "mallory")), 401);
  EXPECT_EQ(status_of(call_proxied(bound, "")), 401);
}

TEST_F(CertificateBoundTokens, AClientCertificateHeaderFromAnUntrustedPeerIsIgnored) {
  start_gateway(false, "10.0.0.0/8");  // the test client (127.0.0.1) is no trusted proxy
  const std::string bound = token(OidcClient::mtls, "alice");
  ASSERT_FALSE(bound.empty());
  auto r = call_proxied(bound, "alice");
  EXPECT_EQ(status_of(r), 401) << describe(r);
  EXPECT_FALSE(up_->saw_target_containing("/api/x"));
}

}  // namespace
}  // namespace it
