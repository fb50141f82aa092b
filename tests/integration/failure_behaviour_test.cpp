// Fault injection (issue 7 §3): each fault has a defined outcome for the client, a log
// line and a metric; README "Failure behaviour" lists them with the test of each. Faults
// already covered elsewhere (upstream refused/reset, IdP and introspection failures) are
// referenced there; this file holds the rest: an upstream that stalls mid-body or answers
// garbage, SIGHUP with a broken file while requests are in flight, and an access log on a
// full disk. Token-endpoint faults are in session_test.cpp (Session.TokenEndpoint*), JWKS
// garbage in jwks_tls_test.cpp (JwksLimits.*).
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "common.hpp"

namespace it {
namespace {

using support::eventually;
using support::make_request;
using support::handlers::echo;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The application log (spdlog's console sink; the access log goes elsewhere here).
std::string app_log(const GatewayProcess& gw) { return gw.stderr_text() + gw.stdout_text(); }

double upstream_errors(const GatewayProcess& gw, const std::string& kind) {
  return metric_or_zero(gw, "authgate_upstream_errors_total", {{"upstream", "app"}, {"kind", kind}});
}

// After a fault the gateway still serves a fresh connection.
::testing::AssertionResult fresh_connection_works(const GatewayProcess& gw, UpstreamServer& up) {
  up.set_handler(echo());
  auto r = support::http_get(gw.port(), "/api/fresh", {}, 5s);
  if (!r) return ::testing::AssertionFailure() << "no answer on a fresh connection";
  if (r->status != 200) return ::testing::AssertionFailure() << "fresh connection: " << describe(r);
  return ::testing::AssertionSuccess();
}

// ---- upstream ----------------------------------------------------------------------

TEST(FailureBehaviour, UpstreamStallingMidBodyIsCutAtUpstreamResponseAndCounted) {
  // Headers and 10 of 1000 promised bytes, then silence: the status line is already out,
  // so the gateway can only cut the client connection (no complete response is faked).
  UpstreamServer up([](support::UpstreamConnection& c, const support::RequestHead&) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
    c.sleep(10s);
  });
  auto cfg = one_route(up);
  cfg.timeouts = {{"upstream_response", "700ms"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/stall")));
  const auto t0 = Clock::now();
  std::string got;
  EXPECT_TRUE(c.wait_closed(5s, &got)) << "client left hanging on a stalled upstream body";
  const double took = seconds_since(t0);
  EXPECT_GE(took, 0.6);
  EXPECT_LT(took, 3.0) << "cut at timeouts.upstream_response (700ms)";
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_EQ(got.size(), got.find("\r\n\r\n") + 4 + 10) << "exactly the 10 bytes that arrived, then the close: " << got;
  // Counted once the relay gave up, around the time the client connection is cut.
  EXPECT_EQ(gw.wait_for_metric("authgate_upstream_errors_total", {{"upstream", "app"}, {"kind", "response_timeout"}}, 1),
            1)
      << gw.metrics_text();
  EXPECT_TRUE(eventually([&] { return app_log(gw).find("upstream app body failed") != std::string::npos; }, 3s))
      << app_log(gw);
  EXPECT_TRUE(fresh_connection_works(gw, up));
}

struct Malformed {
  const char* name;
  const char* response;
};

class UpstreamMalformedResponse : public ::testing::TestWithParam<Malformed> {};

TEST_P(UpstreamMalformedResponse, Is502BadResponseAndCounted) {
  const std::string raw = GetParam().response;
  UpstreamServer up([raw](support::UpstreamConnection& c, const support::RequestHead&) {
    c.send(raw);
    c.close();
  });
  auto cfg = one_route(up);
  cfg.timeouts = {{"upstream_response", "2s"}};
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  auto r = support::http_get(gw.port(), "/api/x", {}, 5s);
  EXPECT_TRUE(support::IsLocalError(r, 502, "bad_response")) << describe(r);
  EXPECT_GE(upstream_errors(gw, "bad_response"), 1) << gw.metrics_text();
  EXPECT_TRUE(fresh_connection_works(gw, up));
}

INSTANTIATE_TEST_SUITE_P(
    Responses, UpstreamMalformedResponse,
    ::testing::Values(Malformed{"NotHttp", "SSH-2.0-OpenSSH_9.2\r\n\r\n"},
                      Malformed{"BadStatusCode", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"},
                      Malformed{"BadHeaderLine", "HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 2\r\n\r\nok"},
                      Malformed{"BadContentLength", "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nok"},
                      Malformed{"ContentLengthAndChunked",
                                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
                      Malformed{"HeadCutShort", "HTTP/1.1 200 OK\r\nContent-Le"}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return std::string(info.param.name); });

// ---- SIGHUP with a broken file under load ---------------------------------------------

TEST(FailureBehaviour, SighupWithBrokenYamlUnderLoadKeepsServingWithoutADroppedRequest) {
  UpstreamServer up(support::handlers::fixed(200, "old-config"));
  auto cfg = one_route(up);
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());

  constexpr int kThreads = 4;
  constexpr int kMaxPerThread = 3000;  // bounded in count ...
  const auto until = Clock::now() + 20s;  // ... and in time
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> load;
  for (int t = 0; t < kThreads; ++t) {
    load.emplace_back([&, t] {
      // Half the threads reuse one keep-alive connection, half open one per request.
      std::unique_ptr<HttpClient> c;
      for (int i = 0; i < kMaxPerThread && !stop && Clock::now() < until; ++i) {
        if (!c || t % 2) c = std::make_unique<HttpClient>(gw.port());
        auto r = c->request(make_request("GET", "/api/t" + std::to_string(t)), 5s);
        if (r && r->status == 200 && r->body == "old-config") {
          ++ok;
          continue;
        }
        std::lock_guard lock(mu);
        failures.push_back("thread " + std::to_string(t) + " request " + std::to_string(i) + ": " +
                           describe(r, c.get()));
        c.reset();
      }
    });
  }
  // Three broken files in a row while the requests run: a YAML syntax error, an unknown
  // key, and a route naming an unknown upstream.
  const std::string good = gw.render(cfg);
  std::string unknown_upstream = good;
  const auto at = unknown_upstream.find("upstream: \"app\"");
  ASSERT_NE(at, std::string::npos) << good;
  unknown_upstream.replace(at, std::string("upstream: \"app\"").size(), "upstream: \"ordrs\"");
  const std::vector<std::string> broken = {"listen: [unclosed\n  : :\n", good + "bogus_key: 1\n", unknown_upstream};
  bool all_counted = true;
  for (std::size_t i = 0; i < broken.size(); ++i) {
    support::sleep_for(300ms);
    gw.write_config_text(broken[i]);
    ASSERT_TRUE(gw.signal(SIGHUP));
    const double want = static_cast<double>(i + 1);
    all_counted = all_counted &&
                  gw.wait_for_metric("authgate_config_reloads_total", {{"result", "failure"}}, want) == want;
  }
  support::sleep_for(300ms);
  stop = true;
  for (auto& t : load) t.join();

  EXPECT_TRUE(all_counted) << gw.metrics_text();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed request(s), first: " << failures.front();
  EXPECT_GT(ok.load(), 100) << "the load did not overlap the reloads";
  EXPECT_EQ(metric_or_zero(gw, "authgate_config_reloads_total", {{"result", "success"}}), 0);
  const std::string err = app_log(gw);
  EXPECT_EQ(count_of(err, "keeping the previous configuration"), 3u) << err;  // once per broken file
  EXPECT_NE(err.find("bogus_key"), std::string::npos) << err;
  EXPECT_NE(err.find("ordrs"), std::string::npos) << err;
  EXPECT_TRUE(gw.running());
  EXPECT_EQ(gw.admin_get("/readyz")->status, 200);
}

// ---- the access log sink fails ----------------------------------------------------------

TEST(FailureBehaviour, AccessLogOnAFullDiskIsCountedAndNotFatal) {
  UpstreamServer up(echo());
  auto cfg = one_route(up);
  cfg.access_log = "/dev/full";  // every write fails with ENOSPC
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  const auto t0 = Clock::now();
  // ~250-byte lines into a 64 KiB stdio buffer: 1000 requests fill it several times.
  HttpClient c(gw.port());
  int ok = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = c.request(make_request("GET", "/api/line-" + std::to_string(i)), 5s);
    if (!r || r->status != 200) {
      ADD_FAILURE() << "request " << i << ": " << describe(r, &c);
      break;
    }
    ++ok;
  }
  EXPECT_EQ(ok, 1000);
  EXPECT_GE(gw.wait_for_metric("authgate_log_write_errors_total", {}, 2), 2) << gw.metrics_text();
  const std::string err = app_log(gw);
  EXPECT_NE(err.find("access log /dev/full: write failed (No space left on device)"), std::string::npos) << err;
  // One report per 10 s at most, however many writes failed.
  const double elapsed = seconds_since(t0);
  EXPECT_GE(count_of(err, "access log /dev/full: write failed"), 1u);
  EXPECT_LE(count_of(err, "access log /dev/full: write failed"), 1u + static_cast<std::size_t>(elapsed / 10)) << err;
  // Still serving: the same connection, a fresh one, admin.
  auto again = c.request(make_request("GET", "/api/after"), 5s);
  EXPECT_EQ(status_of(again), 200) << describe(again, &c);
  EXPECT_TRUE(fresh_connection_works(gw, up));
  EXPECT_EQ(gw.admin_get("/healthz")->status, 200);
  EXPECT_TRUE(gw.running());
}

TEST(FailureBehaviour, AccessLogWritesCountNoErrorsOnAHealthyFile) {
  // Control for the test above: the same traffic to a real file counts nothing.
  UpstreamServer up(echo());
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(status_of(c.request(make_request("GET", "/api/line"), 5s)), 200) << i;
  support::sleep_for(1500ms);  // past a periodic flush
  EXPECT_EQ(metric_or_zero(gw, "authgate_log_write_errors_total"), 0);
  EXPECT_NE(gw.metrics_text().find("authgate_log_write_errors_total"), std::string::npos) << "exported at 0";
  EXPECT_TRUE(eventually([&] {
    std::ifstream f(gw.access_log_path());
    std::string line;
    int n = 0;
    while (std::getline(f, line)) ++n;
    return n == 1000;
  }, 5s));
}

}  // namespace
}  // namespace it
