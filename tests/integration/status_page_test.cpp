// The admin status page (GET / on the admin port) end to end: the real binary
// with two issuers (one remote behind a scriptable IdP on loopback, one with
// inline keys), three routes and live traffic; the page must show the config
// version (SHA-256 of the file's bytes), reload results, routes and policies,
// issuers with their kids and fetch state, upstream pools and the counters.
// The last test renders the page in headless Chromium (Debian's chromium).
#include <openssl/evp.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <span>

#include "auth/test_signer.hpp"
#include "common.hpp"
#include "common/hex.hpp"
#include "support/files.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;
using support::eventually;

bool has(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }

// First 12 hex digits of SHA-256 (what the page calls the config version).
std::string sha256_prefix(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return authgate::common::hex_encode(std::span<const unsigned char>(md, 6));
}

// Discovery + JWKS (kid "rsa-2"); the JWKS status can be switched to fail.
class Idp {
 public:
  Idp() : server_([this](support::UpstreamConnection& c, const support::RequestHead& h) { serve(c, h); }) {}
  ~Idp() { server_.stop(); }  // its threads read fail_ (declared after server_)
  std::string issuer() const { return server_.url(); }
  void fail_jwks(bool f) { fail_ = f; }

 private:
  void serve(support::UpstreamConnection& c, const support::RequestHead& h) {
    if (h.target == "/.well-known/openid-configuration")
      c.respond(200, R"({"issuer":")" + issuer() + R"(","jwks_uri":")" + issuer() + R"(/jwks"})", {},
                "application/json");
    else if (h.target == "/jwks" && !fail_)
      c.respond(200, ts::jwks_of({ts::rsa2048_b().public_jwk()}), {{"Cache-Control", "max-age=600"}},
                "application/json");
    else
      c.respond(500, "{\"error\":\"down\"}", {}, "application/json");
  }
  support::UpstreamServer server_;
  std::atomic<bool> fail_{false};
};

class StatusPage : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.upstreams.push_back({"app", up_.url()});
    cfg_.routes.push_back(RouteSpec{"orders-read", "app", "/orders"}
                              .with_methods({"GET", "HEAD"})
                              .with("auth", "bearer")
                              .with("issuers", "[remote-idp]")
                              .with("require", "{scopes_all: [orders:read], claims: {region: [eu, ch]}}"));
    cfg_.routes.push_back(RouteSpec{"partner", "app", "/partner"}
                              .with_host("partner.example.test")
                              .with("auth", "bearer")
                              .with("issuers", "[static-corp]")
                              .with("dpop", "allowed"));
    cfg_.routes.push_back(RouteSpec{"public", "app", "/public"});
    cfg_.issuers_yaml = "issuers:\n"
                        "  - name: remote-idp\n"
                        "    issuer: " + idp_.issuer() + "\n"
                        "    audiences: [orders-api]\n"
                        "  - name: static-corp\n"
                        "    issuer: https://corp.example.test\n"
                        "    audiences: [partner-api]\n"
                        "    algorithms: [ES256]\n"
                        "    jwks: '" + ts::jwks_of({ts::p256().public_jwk()}) + "'\n";
    gw_ = std::make_unique<GatewayProcess>(cfg_);
    ASSERT_TRUE(gw_->start());
  }

  std::string token(const std::string& scope, const std::string& kid = "rsa-2") {
    const auto payload = R"({"iss":")" + idp_.issuer() + R"(","sub":"alice","aud":"orders-api","scope":")" +
                         scope + R"(","region":"eu","exp":)" + std::to_string(now_s() + 300) + "}";
    return ts::mint(ts::rsa2048_b(), "RS256", R"({"alg":"RS256","kid":")" + kid + R"("})", payload);
  }
  int get(const std::string& path, std::vector<Header> headers = {}) {
    auto r = support::http_request(gw_->port(), support::make_request("GET", path, std::move(headers)));
    return r ? r->status : -1;
  }
  std::string page() {
    auto r = gw_->admin_get("/");
    return r && r->status == 200 ? r->body : std::string();
  }
  // Polls the page until it contains every needle (counters are bumped just after a reply).
  ::testing::AssertionResult page_shows(const std::vector<std::string>& needles) {
    std::string last;
    const bool ok = eventually(
        [&] {
          last = page();
          for (const auto& n : needles)
            if (!has(last, n)) return false;
          return true;
        },
        5s);
    if (ok) return ::testing::AssertionSuccess();
    auto fail = ::testing::AssertionFailure() << "missing:";
    for (const auto& n : needles)
      if (!has(last, n)) fail << " [" << n << "]";
    return fail << "\npage:\n" << last;
  }
  // Two public requests, 401 (no token), 403 (scope), 200 twice (token cache miss, then hit).
  void traffic() {
    ASSERT_EQ(get("/public/a"), 200);
    ASSERT_EQ(get("/public/b"), 200);
    ASSERT_EQ(get("/orders/1"), 401);
    ASSERT_EQ(get("/orders/1", {{"Authorization", "Bearer " + token("orders:write")}}), 403);
    const auto good = token("orders:read");
    ASSERT_EQ(get("/orders/1", {{"Authorization", "Bearer " + good}}), 200);
    ASSERT_EQ(get("/orders/2", {{"Authorization", "Bearer " + good}}), 200);
  }

  UpstreamServer up_{support::handlers::echo()};
  Idp idp_;
  GatewayConfig cfg_;
  std::unique_ptr<GatewayProcess> gw_;
};

TEST_F(StatusPage, HtmlWithNoStoreAndHead) {
  auto r = gw_->admin_get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(r->header("Cache-Control").value_or(""), "no-store");
  EXPECT_EQ(r->body.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_FALSE(has(r->body, "<script"));
  EXPECT_FALSE(has(r->body, "src="));

  HttpClient c(gw_->admin_port());
  support::ReadOptions head;
  head.head_request = true;
  auto h = c.request(support::make_request("HEAD", "/"), 5s, head);
  ASSERT_TRUE(h) << c.error();
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_GT(std::stoul(h->header("Content-Length").value_or("0")), 1000u);
  EXPECT_TRUE(h->body.empty());

  auto post = support::http_request(gw_->admin_port(), support::make_request("POST", "/"));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST_F(StatusPage, ConfigVersionIsTheSha256OfTheLoadedFile) {
  const auto sha = sha256_prefix(support::read_text(gw_->config_path()));
  EXPECT_TRUE(page_shows({"<code>" + gw_->config_path() + "</code>", "load #1",
                          "sha256 <code>" + sha + "</code>", "no reload since start", ">ready</span>"}));
}

TEST_F(StatusPage, RoutesWithMatchAuthPolicyAndUpstream) {
  EXPECT_TRUE(page_shows({
      "Routes (3)",
      "<strong>orders-read</strong>",
      "prefix <code>/orders</code>",
      "<code>GET</code>, <code>HEAD</code>",
      "issuers: <code>remote-idp</code>",
      "scopes, all of: <code>orders:read</code>",
      "claim <code>region</code> one of <code>eu</code>, <code>ch</code>",
      "<strong>partner</strong></td><td><code>partner.example.test</code>",
      "issuers: <code>static-corp</code>",
      "<strong>public</strong>",
      ">public</span>",
      // Sender constraints: DPoP per route (nonce off by default); this plain listener cannot check
      // a certificate-bound token.
      "<td class=\"sender\">DPoP: <span class=\"badge warn\">off</span><br>mTLS-bound tokens: "
      "<span class=\"muted\">refused (no client certificate)</span>",
      "<td class=\"sender\">DPoP: <span class=\"badge ok\">allowed</span>, nonce off<br>",
      "<td class=\"sender\"><span class=\"muted\">none</span></td>",
  }));
}

TEST_F(StatusPage, IssuersWithKidsFetchTimesAndSources) {
  EXPECT_TRUE(page_shows({
      "<strong>remote-idp</strong>",
      "discovery " + idp_.issuer() + "/.well-known/openid-configuration -&gt; jwks_uri " + idp_.issuer() + "/jwks",
      "<code>rsa-2</code>",
      ">fresh</span>",
      "<strong>static-corp</strong>",
      "inline jwks",
      "<code>ec-256</code>",
      ">static</span>",
  }));
  // The next refresh follows the JWKS's max-age=600 (within [jwks_refresh_min, jwks_refresh_max]).
  const auto html = page();
  EXPECT_TRUE(has(html, "(in 10m 0s)") || has(html, "(in 9m 5")) << html;
  EXPECT_FALSE(has(html, ">never</span>")) << "the remote issuer's last fetch time is shown";
}

TEST_F(StatusPage, FailedJwksRefetchShowsStaleKeysAndTheError) {
  idp_.fail_jwks(true);
  // An unknown kid makes one request-triggered refetch; the IdP answers 500.
  ASSERT_EQ(get("/orders/1", {{"Authorization", "Bearer " + token("orders:read", "rsa-unknown")}}), 401);
  EXPECT_TRUE(page_shows({">stale: refresh failing</span>", "(1 in a row)", "<code>http_error: "}));
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_jwks_fetches_total", {{"issuer", "remote-idp"}, {"result", "http_error"}}), 1);
}

TEST_F(StatusPage, UpstreamPoolsAndLiveCounters) {
  traffic();
  EXPECT_TRUE(page_shows({
      "<code>" + up_.url() + "</code></td><td>",  // the pool row
      "256 connections, 64 idle",
      "<div class=\"big\">6</div>",               // requests
      "<code>2xx</code></td><td>4</td>",
      "<code>4xx</code></td><td>2</td>",
      "allowed: 2",
      "<code>missing</code></td><td>1</td>",
      "<code>insufficient_scope</code></td><td>1</td>",
      "33.3 % (1 of 3 lookups)",                 // token cache: 403 and first 200 miss, second 200 hits
      "active sessions: <span class=\"big\">0</span>",
  }));
  // Keep-alive connections to the upstream stay pooled: at least one is idle now.
  const auto html = page();
  const auto row = html.find("<code>" + up_.url() + "</code></td><td>");
  ASSERT_NE(row, std::string::npos);
  const auto idle_start = row + ("<code>" + up_.url() + "</code></td><td>").size();
  EXPECT_GE(std::stoi(html.substr(idle_start, html.find('<', idle_start) - idle_start)), 1) << html;
}

TEST_F(StatusPage, ReloadFailureThenSuccessChangeTheVersion) {
  const auto first_sha = sha256_prefix(support::read_text(gw_->config_path()));
  const auto good = support::read_text(gw_->config_path());
  gw_->write_config_text(good + "limits:\n  max_body_byte: 1KiB\n");
  ASSERT_TRUE(gw_->signal(SIGHUP));
  EXPECT_TRUE(page_shows({"failed: previous configuration kept", "limits.max_body_byte: unknown key", "load #1",
                          "sha256 <code>" + first_sha + "</code>", "reloads: 0 ok, 1 failed"}));

  auto changed = cfg_;
  changed.routes.push_back(RouteSpec{"added-by-reload", "app", "/added"});
  gw_->write_config(changed);
  const auto second_sha = sha256_prefix(support::read_text(gw_->config_path()));
  ASSERT_NE(first_sha, second_sha);
  ASSERT_TRUE(gw_->signal(SIGHUP));
  EXPECT_TRUE(page_shows({">ok</span>", "load #2", "sha256 <code>" + second_sha + "</code>",
                          "<strong>added-by-reload</strong>", "Routes (4)", "reloads: 1 ok, 1 failed"}));
}

// ---- headless Chromium ---------------------------------------------------------------

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

// Runs chromium under coreutils timeout (which kills its whole process group), bounded
// again here. Returns the exit code, -1 when it had to be killed.
int run_chromium(const std::string& chromium, const std::vector<std::string>& args, const support::TempDir& dir,
                 const std::string& out_name) {
  std::vector<std::string> argv{"/usr/bin/timeout", "-k", "5", "60", chromium, "--headless", "--no-sandbox",
                                "--disable-gpu", "--disable-background-networking", "--no-first-run",
                                "--disable-extensions", "--user-data-dir=" + dir.file("profile")};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = support::spawn_process(argv, dir.file(out_name), dir.file(out_name + ".err"), {{"HOME", dir.path()}});
  if (pid < 0) return -1;
  int status = 0;
  const auto deadline = Clock::now() + 75s;
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return support::decode_exit_status(status);
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(50ms);
  }
}

TEST_F(StatusPage, RendersInHeadlessChromium) {
  const auto chromium = find_chromium();
  if (chromium.empty()) {
    if (std::getenv("CI")) FAIL() << "chromium is not installed (scripts/install-deps.sh installs it)";
    GTEST_SKIP() << "chromium not installed (Debian package chromium; scripts/install-deps.sh)";
  }
  traffic();
  ASSERT_TRUE(page_shows({"<div class=\"big\">6</div>"}));  // counters settled
  const std::string url = "http://127.0.0.1:" + std::to_string(gw_->admin_port()) + "/";

  support::TempDir dir;
  ASSERT_EQ(run_chromium(chromium, {"--dump-dom", url}, dir, "dom.html"), 0) << support::read_text(dir.file("dom.html.err"));
  const auto dom = support::read_text(dir.file("dom.html"));
  // The DOM as Chromium parsed it: every section, the routes, the kids, the counters.
  for (const auto& needle : std::vector<std::string>{
           "<title>authgate status</title>", "id=\"routes\"", "id=\"issuers\"", "id=\"upstreams\"",
           "id=\"counters\"", "<strong>orders-read</strong>", "<strong>partner</strong>",
           "<strong>public</strong>", "<code>rsa-2</code>", "<code>ec-256</code>",
           "<div class=\"big\">6</div>", "<code>missing</code></td><td>1</td>",
           "<code>insufficient_scope</code></td><td>1</td>", "33.3 % (1 of 3 lookups)"})
    EXPECT_TRUE(has(dom, needle)) << needle << "\nDOM:\n" << dom.substr(0, 4000);

  const std::string png = dir.file("status.png");
  ASSERT_EQ(run_chromium(chromium, {"--screenshot=" + png, "--window-size=1280,1600", "--hide-scrollbars", url},
                         dir, "shot.out"),
            0)
      << support::read_text(dir.file("shot.out.err"));
  const auto image = support::read_text(png);
  ASSERT_GT(image.size(), 20'000u) << "a blank page compresses far below this";
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // AUTHGATE_STATUS_SCREENSHOT=docs/status-page.png keeps the picture (the one in docs/).
  if (const char* keep = std::getenv("AUTHGATE_STATUS_SCREENSHOT"))
    std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace it
