// Heap allocations per proxied request, counted (never timed): the real binary under
// the LD_PRELOAD counter tests/integration/alloc_counter.cpp, one worker, one keep-alive
// client connection, requests without a body. The bounds are the figures measured when
// they were set (load-tests/RESULTS.md, "Allocations per request") plus a margin for the
// control thread's own work during the window; an allocation added to every request
// fails them.
//
// Skipped in the sanitizer builds (AUTHGATE_SANITIZE): ASan and TSan intercept malloc
// themselves, so the counter is not built there (tests/integration/CMakeLists.txt).
#include <fstream>
#include <sstream>

#include "auth/test_signer.hpp"
#include "common.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;

// Requests before the first reading: pools, caches and Asio's recycled blocks fill up.
constexpr int kWarmup = 300;
constexpr int kMeasured = 2000;
// Measured: 0 (auth: none) and 0.0015 (cached bearer) allocations per request, 0 and
// 0.14 bytes: the request's objects live in a pooled workspace and every coroutine
// frame is recycled by Asio (RESULTS.md). One allocation added to every other request
// fails the count bound; 128 bytes more per request fail the byte bound.
constexpr double kMaxAllocationsAuthNone = 0.5;
constexpr double kMaxAllocationsCachedBearer = 0.5;
constexpr double kMaxBytesPerRequest = 128;

struct Reading {
  unsigned long number = 0;
  unsigned long allocations = 0;
  unsigned long bytes = 0;
};

class Allocations : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef AUTHGATE_ALLOC_COUNTER
    GTEST_SKIP() << "no allocation counter in this build (sanitizer build: ASan/TSan own malloc)";
#endif
  }

#ifdef AUTHGATE_ALLOC_COUNTER
  // One worker, the counter preloaded, access log off (as load-tests/alloc_per_request.sh).
  GatewayConfig config(const UpstreamServer& up) {
    GatewayConfig cfg = one_route(up);
    cfg.workers = 1;
    cfg.log_level = "warn";
    cfg.access_log = "off";
    cfg.env = {{"LD_PRELOAD", AUTHGATE_ALLOC_COUNTER}, {"AUTHGATE_ALLOC_COUNT_FILE", count_file_}};
    return cfg;
  }
#endif

  // Asks the counter for its totals (SIGUSR2) and waits for that reading's line.
  std::optional<Reading> read_counter(GatewayProcess& gw) {
    const unsigned long want = ++readings_;
    if (!gw.signal(SIGUSR2)) return std::nullopt;
    for (auto until = Clock::now() + 5s; Clock::now() < until; std::this_thread::sleep_for(5ms)) {
      std::ifstream in(count_file_);
      Reading r;
      if (in >> r.number >> r.allocations >> r.bytes && r.number == want) return r;
    }
    return std::nullopt;
  }

  // Sends `n` identical requests on `c`, each answered 200.
  static ::testing::AssertionResult send(HttpClient& c, const std::string& request, int n) {
    for (int i = 0; i < n; ++i) {
      auto r = c.request(request);
      if (!r) return ::testing::AssertionFailure() << "request " << i << ": " << c.error();
      if (r->status != 200) return ::testing::AssertionFailure() << "request " << i << ": " << describe(r);
    }
    return ::testing::AssertionSuccess();
  }

  // Allocations per request over kMeasured requests on one keep-alive connection.
  void expect_at_most(GatewayProcess& gw, UpstreamServer& up, const std::string& request, double bound) {
    HttpClient c(gw.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(send(c, request, kWarmup));
    const auto before = read_counter(gw);
    ASSERT_TRUE(before) << "no reading from the counter: " << gw.stderr_text();
    ASSERT_TRUE(send(c, request, kMeasured));
    const auto after = read_counter(gw);
    ASSERT_TRUE(after) << "no reading from the counter: " << gw.stderr_text();
    EXPECT_EQ(up.accepted(), 1) << "the upstream connection must have been reused throughout";
    const double per_request = static_cast<double>(after->allocations - before->allocations) / kMeasured;
    const double bytes = static_cast<double>(after->bytes - before->bytes) / kMeasured;
    std::cout << "[ allocations ] " << per_request << " per request, " << bytes << " bytes\n";
    RecordProperty("allocations_per_request", std::to_string(per_request));
    EXPECT_LE(per_request, bound) << bytes << " bytes per request";
    EXPECT_LE(bytes, kMaxBytesPerRequest) << per_request << " allocations per request";
  }

  std::string count_file_ = "/tmp/authgate-alloc-count-" + std::to_string(::getpid()) + "-" +
                            ::testing::UnitTest::GetInstance()->current_test_info()->name();
  unsigned long readings_ = 0;
};

TEST_F(Allocations, AuthNoneProxiedRequestStaysUnderItsBound) {
#ifdef AUTHGATE_ALLOC_COUNTER
  UpstreamServer up(support::handlers::fixed(200, "ok"));
  GatewayProcess gw(config(up));
  ASSERT_TRUE(gw.start());
  expect_at_most(gw, up, support::make_request("GET", "/api/x"), kMaxAllocationsAuthNone);
  std::remove(count_file_.c_str());
#endif
}

TEST_F(Allocations, CachedBearerRequestStaysUnderItsBound) {
#ifdef AUTHGATE_ALLOC_COUNTER
  UpstreamServer up(support::handlers::fixed(200, "ok"));
  GatewayConfig cfg = config(up);
  cfg.routes = {RouteSpec{"api", "app", "/api"}.with("auth", "bearer")};
  const std::string jwks = count_file_ + ".jwks.json";
  std::ofstream(jwks) << ts::jwks_of({ts::rsa2048().public_jwk()});
  cfg.issuers_yaml = "issuers:\n"
                     "  - name: main\n"
                     "    issuer: https://idp.test\n"
                     "    audiences: [orders-api]\n"
                     "    jwks_file: " + jwks + "\n";
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  const std::string token = ts::mint(
      ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})",
      R"({"iss":"https://idp.test","sub":"alice","aud":"orders-api","exp":)" + std::to_string(now_s() + 3600) +
          R"(,"iat":)" + std::to_string(now_s() - 5) + "}");
  // The first request verifies the token and caches it; every later one is a cache hit.
  expect_at_most(gw, up, support::make_request("GET", "/api/x", {{"Authorization", "Bearer " + token}}),
                 kMaxAllocationsCachedBearer);
  std::remove(jwks.c_str());
  std::remove(count_file_.c_str());
#endif
}

}  // namespace
}  // namespace it
