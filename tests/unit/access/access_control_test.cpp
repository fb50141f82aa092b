// access::AccessControl::check(), the one entry point of the access decision,
// and its three outcomes: allow at once (auth: none, a cached token), deny at
// once (no token: 401 and its challenge), and pending (no keys loaded yet) that
// resolves after one JWKS fetch from a fake IdP on loopback. The config goes
// through the real loader; nothing else runs.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "access/access_control.hpp"
#include "access/issuers.hpp"
#include "auth/auth_errc.hpp"
#include "auth/test_signer.hpp"
#include "config/loader.hpp"
#include "metrics/metrics.hpp"
#include "support/upstream_server.hpp"

namespace authgate::access {
namespace {

namespace ts = auth::test;
namespace bhttp = boost::beast::http;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An IdP that serves only its JWKS (rsa-1), counting the fetches.
class JwksServer {
 public:
  JwksServer()
      : server_([this](support::UpstreamConnection& c, const support::RequestHead& h) {
          if (h.target != "/jwks") return void(c.respond(404, ""));
          ++fetches_;
          c.respond(200, ts::jwks_of({ts::rsa2048().public_jwk()}), {}, "application/json");
        }) {}
  ~JwksServer() { server_.stop(); }  // before fetches_ goes
  std::string url() const { return server_.url(); }
  int fetches() const { return fetches_.load(); }

 private:
  support::UpstreamServer server_;
  std::atomic<int> fetches_{0};
};

class AccessControlCheck : public ::testing::Test {
 protected:
  AccessControlCheck()
      : cfg_(config::load_string("upstreams:\n"
                                 "  - name: app\n"
                                 "    url: http://127.0.0.1:9\n"
                                 "issuers:\n"
                                 "  - name: idp\n"
                                 "    issuer: " + idp_.url() + "\n"
                                 "    audiences: [orders-api]\n"
                                 "    jwks_uri: " + idp_.url() + "/jwks\n"
                                 "routes:\n"
                                 "  - name: open\n"
                                 "    match: {path: {prefix: /open}}\n"
                                 "    upstream: app\n"
                                 "    auth: none\n"
                                 "  - name: api\n"
                                 "    match: {path: {prefix: /api}}\n"
                                 "    upstream: app\n"
                                 "    auth: bearer\n",
                                 "t.yaml")),
        issuers_(cfg_, metrics_, io_.get_executor()),  // not started: no keys until a request asks
        access_(cfg_, issuers_, nullptr, nullptr, metrics_) {}

  const config::Route& route(std::string_view name) const {
    for (const auto& r : cfg_.routes)
      if (r.name == name) return r;
    throw std::runtime_error("no route " + std::string(name));
  }
  Verdict check(std::string_view route_name, const std::string& authorization = {}) {
    fields_.clear();
    if (!authorization.empty()) fields_.set(bhttp::field::authorization, authorization);
    return access_.check(route(route_name), Request{fields_, "GET", "/api/x", ""}, now_s());
  }
  // Runs the pending slow path on io_ to its end; the Verdict then holds the decision.
  bool resolve(Verdict& v) {
    bool done = false;
    boost::asio::co_spawn(io_, v.resolve(), [&](std::exception_ptr e) {
      done = !e;
      io_.stop();
    });
    io_.run_for(std::chrono::seconds(20));
    return done && !v.pending();
  }
  std::string bearer() const {
    return "Bearer " + ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})",
                                R"({"iss":")" + idp_.url() + R"(","sub":"alice","aud":"orders-api","exp":)" +
                                    std::to_string(now_s() + 300) + "}");
  }

  JwksServer idp_;
  metrics::Metrics metrics_{"test"};
  boost::asio::io_context io_;
  config::GatewayConfig cfg_;
  Issuers issuers_;
  AccessControl access_;
  http::Fields fields_;
};

TEST_F(AccessControlCheck, AuthNoneIsAllowedAtOnce) {
  Verdict v = check("open");
  ASSERT_FALSE(v.pending());
  const Decision d = v.take();
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.auth_label, "none");
  EXPECT_EQ(idp_.fetches(), 0);
}

TEST_F(AccessControlCheck, MissingTokenIsDeniedAtOnceWith401) {
  Verdict v = check("api");
  ASSERT_FALSE(v.pending());
  const Decision d = v.take();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.ec, auth::auth_errc::token_missing);
  EXPECT_EQ(d.auth_label, "bearer");
  EXPECT_EQ(d.reply.status, 401u);
  EXPECT_EQ(d.reply.www_authenticate, "Bearer realm=\"authgate\"");
  EXPECT_EQ(d.reply.error, "unauthorized");
  EXPECT_EQ(idp_.fetches(), 0);
}

TEST_F(AccessControlCheck, NoKeysYetIsPendingThenAllowedAfterOneFetchThenCached) {
  const std::string authorization = bearer();
  Verdict v = check("api", authorization);
  ASSERT_TRUE(v.pending());
  EXPECT_EQ(idp_.fetches(), 0);  // nothing runs before the caller awaits
  ASSERT_TRUE(resolve(v));
  const Decision* d = &v.decision();
  EXPECT_TRUE(d->allowed) << d->ec.message();
  EXPECT_EQ(d->issuer, "idp");
  EXPECT_EQ(d->sub, "alice");
  EXPECT_EQ(idp_.fetches(), 1);

  // Verified once: the same token is answered from the cache, at once.
  Verdict again = check("api", authorization);
  ASSERT_FALSE(again.pending());
  EXPECT_TRUE(again.decision().allowed);
  EXPECT_EQ(idp_.fetches(), 1);
}

}  // namespace
}  // namespace authgate::access
