// Logs end to end: where the application log goes (stderr, as the README
// says; the access log keeps stdout), and that client-controlled values can
// neither forge application-log lines nor break the access log's JSON.
#include <sstream>

#include "common.hpp"
#include "text_lines.hpp"

namespace it {
namespace {

using namespace support;

// The README: "Application logs go to stderr"; log.access defaults to stdout. Mixed
// on one stream, a JSON-lines collector on stdout would choke on the app's lines.
TEST(Logs, ApplicationLogGoesToStderrAndNeverMixesWithTheAccessLogOnStdout) {
  UpstreamServer up(handlers::fixed(200, "ok"));
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", up.url()});
  cfg.upstreams.push_back({"gone", "http://127.0.0.1:1"});  // refused: a warning per request
  cfg.routes.push_back(RouteSpec{"api", "app", "/api"});
  cfg.routes.push_back(RouteSpec{"down", "gone", "/down"});
  cfg.access_log = "stdout";
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  ASSERT_EQ(status_of(http_get(gw.port(), "/api/x", {{"X-Request-Id", "to-stdout-1"}})), 200);
  ASSERT_EQ(status_of(http_get(gw.port(), "/down/x", {{"X-Request-Id", "to-stdout-2"}})), 502);

  // The access log is flushed periodically; the warning is written at once.
  EXPECT_TRUE(eventually([&] {
    const std::string out = gw.stdout_text();
    return out.find("to-stdout-1") != std::string::npos && out.find("to-stdout-2") != std::string::npos;
  }, 5s)) << gw.stdout_text();
  EXPECT_TRUE(eventually([&] {
    return gw.stderr_text().find("request to-stdout-2 to upstream gone failed: connect_refused") !=
           std::string::npos;
  }, 5s)) << gw.stderr_text();

  const std::string out = gw.stdout_text();
  const std::string err = gw.stderr_text();
  EXPECT_NE(err.find("listening on"), std::string::npos) << err;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << "application log on stdout:\n" << out;
  EXPECT_EQ(out.find("connect_refused\",\"status\""), std::string::npos);
  const auto lines = lines_of(out);
  EXPECT_EQ(lines.size(), 2u) << out;
  for (const auto& l : lines) EXPECT_TRUE(parse_json_object(l)) << "not an access-log line on stdout: " << l;
  // And the access log is not on stderr.
  EXPECT_EQ(err.find("\"request_id\":\"to-stdout-1\""), std::string::npos) << err;
}

// Anyone can call the callback with error=...&error_description=...; the value
// is form-decoded (%0D%0A is CR LF) and logged. Unescaped, it writes a line of
// its own that looks like any other log line.
TEST(Logs, CrlfInTheCallbackErrorDescriptionDoesNotInjectALogLine) {
  UpstreamServer up(handlers::fixed(200, "ok"));
  GatewayConfig cfg;
  cfg.upstreams.push_back({"app", up.url()});
  cfg.routes.push_back(RouteSpec{"app", "app", "/app"}.with("auth", "session"));
  // The callback's error branch never talks to the IdP: an unreachable one will do.
  cfg.issuers_yaml = "issuers:\n  - name: op\n    issuer: http://127.0.0.1:1\n    audiences: [x]\n";
  cfg.extra_yaml = "sessions:\n"
                   "  client: {issuer: op, client_id: gw, client_secret_env: OP_SECRET}\n"
                   "  public_url: http://127.0.0.1:1\n"
                   "  cookie: {secure: false}\n"
                   "  cookie_secret_env: COOKIE_SECRET\n";
  cfg.env = {{"OP_SECRET", "s"}, {"COOKIE_SECRET", "0123456789abcdef0123456789abcdef"}};
  cfg.wait_for_ready = false;
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());

  const std::string forged = "[2026-12-07 12:00:00.000] [critical] FORGED-LINE admin token rotated";
  auto r = http_get(gw.port(),
                    "/oauth2/callback?error=access_denied%0D%0A" + std::string("FORGED-ERROR") +
                        "&error_description=denied%0D%0A%5B2026-12-07%2012%3A00%3A00.000%5D%20%5Bcritical%5D"
                        "%20FORGED-LINE%20admin%20token%20rotated%0A%1B%5B2Kbell%07");
  ASSERT_EQ(status_of(r), 400) << describe(r);

  std::string err;
  ASSERT_TRUE(eventually([&] {
    err = gw.stderr_text();
    return err.find("FORGED-LINE") != std::string::npos;
  }, 5s)) << err;
  int forged_lines = 0;
  for (const auto& line : lines_of(err)) {
    if (line.find("FORGED") == std::string::npos) continue;
    ++forged_lines;
    // One line, the real one, with the client's bytes escaped in it.
    EXPECT_NE(line.find("login: the identity provider answered error=access_denied\\r\\nFORGED-ERROR"),
              std::string::npos) << line;
    EXPECT_NE(line.find("(denied\\r\\n" + forged + "\\n\\x1b[2Kbell\\x07)"), std::string::npos) << line;
    EXPECT_NE(line.rfind(forged, 0), 0u) << "a forged line: " << line;
  }
  EXPECT_EQ(forged_lines, 1) << err;
  for (char c : err) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_FALSE(b == 0x1B || b == 0x07) << "a control byte from the client reached the log";
  }
}

}  // namespace
}  // namespace it
