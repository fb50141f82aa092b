// TLS on both sides, end to end: client --http--> authgate A --https--> authgate B
// (TLS listener) --http--> test upstream. A verifies B's certificate against a
// CA file and by name (SNI + hostname verification). The certificate is minted
// per test run with the openssl command-line tool.
#include <cstdlib>

#include "common.hpp"

namespace it {
namespace {

std::string yaml_proxy(std::uint16_t port, std::uint16_t admin, const std::string& listen_tls,
                       const std::string& upstream_block) {
  return "listen:\n  address: 127.0.0.1:" + std::to_string(port) + "\n" + listen_tls +
         "admin:\n  address: 127.0.0.1:" + std::to_string(admin) + "\n"
         "workers: 1\n"
         "upstreams:\n" + upstream_block +
         "routes:\n  - name: all\n    match: {path: {prefix: /}}\n    upstream: next\n"
         "log: {level: info, access: \"off\"}\n";
}

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    GatewayConfig placeholder = one_route(*up_);
    b_ = std::make_unique<GatewayProcess>(placeholder);
    cert_ = b_->dir().file("cert.pem");
    key_ = b_->dir().file("key.pem");
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                            "-addext subjectAltName=DNS:localhost -keyout " + key_ + " -out " + cert_ +
                            " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not mint a test certificate";
    b_->write_config_text(yaml_proxy(
        b_->config_port(), b_->config_admin_port(), "  tls: {cert_file: " + cert_ + ", key_file: " + key_ + "}\n",
        "  - name: next\n    url: " + up_->url() + "\n"));
    ASSERT_TRUE(b_->start());
  }

  // authgate A in front of B, verifying B as `server_name`.
  std::unique_ptr<GatewayProcess> front(const std::string& server_name) {
    auto a = std::make_unique<GatewayProcess>(one_route(*up_));
    a->write_config_text(yaml_proxy(
        a->config_port(), a->config_admin_port(), "",
        "  - name: next\n    url: https://127.0.0.1:" + std::to_string(b_->port()) +
            "\n    tls: {ca_file: " + cert_ + ", server_name: " + server_name + "}\n"));
    EXPECT_TRUE(a->start());
    return a;
  }

  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> b_;
  std::string cert_, key_;
};

TEST_F(Tls, HttpsUpstreamWithVerifiedNameAndTlsListener) {
  auto a = front("localhost");
  auto r = support::http_request(a->port(), support::make_request("GET", "/api/through-tls"));
  ASSERT_EQ(status_of(r), 200) << describe(r);
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/api/through-tls");
  // B's listener is TLS: B, not trusting A, sets the scheme it was reached by.
  EXPECT_EQ(seen->headers.get("X-Forwarded-Proto"), "https");
}

TEST_F(Tls, WrongServerNameFailsVerificationWith502) {
  auto a = front("wrong.example");
  auto r = support::http_request(a->port(), support::make_request("GET", "/api/x"));
  ASSERT_EQ(status_of(r), 502) << describe(r);
  EXPECT_NE(r->body.find("tls_failed"), std::string::npos) << r->body;
  EXPECT_EQ(metric_or_zero(*a, "authgate_upstream_errors_total", {{"upstream", "next"}, {"kind", "tls_failed"}}),
            1);
  EXPECT_FALSE(up_->saw_target_containing("/api/x"));
}

TEST_F(Tls, PlainHttpToTheTlsListenerIsRefused) {
  auto r = support::http_request(b_->port(), support::make_request("GET", "/api/plain"));
  EXPECT_NE(status_of(r), 200);
  EXPECT_FALSE(up_->saw_target_containing("/api/plain"));
}

}  // namespace
}  // namespace it
