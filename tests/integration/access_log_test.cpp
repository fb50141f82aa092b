// Access log: one JSON line per request with the documented fields.
#include <boost/json/parse.hpp>


#include "common.hpp"
#include "support/files.hpp"
#include "text_lines.hpp"

namespace it {
namespace {

using namespace support;

const char* const kFields[] = {"time",   "request_id", "client",    "method",
                               "path",   "route",      "upstream",  "status",
                               "bytes_in", "bytes_out", "duration_ms", "auth"};

// The parsed access-log entry with request_id == id, if present.
std::optional<boost::json::object> entry_for(const std::vector<std::string>& lines,
                                             const std::string& id) {
  for (const auto& l : lines) {
    auto obj = parse_json_object(l);
    if (!obj) continue;
    auto* rid = obj->if_contains("request_id");
    if (rid && rid->is_string() && rid->as_string() == id) return obj;
  }
  return std::nullopt;
}

std::int64_t int_field(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return -1;
  return v->to_number<std::int64_t>();
}

std::string str_field(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return "<not a string>";
  return std::string(v->as_string());
}

TEST(AccessLog, OneJsonLinePerRequestWithAllFields) {
  UpstreamServer up(handlers::fixed(200, "0123456789"));
  GatewayProcess gw(one_route(up));  // access log: <tmp>/access.log
  ASSERT_TRUE(gw.start());
  ASSERT_EQ(status_of(http_get(gw.port(), "/api/x?q=1", {{"X-Request-Id", "acc-1"}})), 200);
  ASSERT_EQ(status_of(http_request(gw.port(), make_request("POST", "/api/p",
                                                            {{"X-Request-Id", "acc-2"}}, "hello"))),
            200);
  ASSERT_EQ(status_of(http_get(gw.port(), "/nowhere", {{"X-Request-Id", "acc-3"}})), 404);

  std::vector<std::string> lines;
  EXPECT_TRUE(eventually([&] {
    lines = lines_of(read_text(gw.access_log_path()));
    return lines.size() >= 3;
  }, 3s)) << "access log has " << lines.size() << " lines";
  EXPECT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    auto obj = parse_json_object(l);
    ASSERT_TRUE(obj) << "not a JSON object: " << l;
    for (const char* f : kFields) EXPECT_TRUE(obj->if_contains(f)) << f << " missing in " << l;
  }

  auto get = entry_for(lines, "acc-1");
  ASSERT_TRUE(get) << read_text(gw.access_log_path());
  EXPECT_EQ(str_field(*get, "method"), "GET");
  EXPECT_EQ(str_field(*get, "path").rfind("/api/x", 0), 0u);
  EXPECT_EQ(str_field(*get, "route"), "api");
  EXPECT_EQ(str_field(*get, "upstream"), "app");
  EXPECT_EQ(str_field(*get, "client").rfind("127.0.0.1", 0), 0u);
  EXPECT_EQ(int_field(*get, "status"), 200);
  EXPECT_GE(int_field(*get, "bytes_out"), 10);
  EXPECT_TRUE(get->at("duration_ms").is_number());
  EXPECT_EQ(str_field(*get, "auth"), "none");

  auto post = entry_for(lines, "acc-2");
  ASSERT_TRUE(post);
  EXPECT_EQ(str_field(*post, "method"), "POST");
  EXPECT_GE(int_field(*post, "bytes_in"), 5);

  auto missing = entry_for(lines, "acc-3");
  ASSERT_TRUE(missing);
  EXPECT_EQ(int_field(*missing, "status"), 404);
}

TEST(AccessLog, CanGoToStdout) {
  UpstreamServer up(handlers::echo());
  auto cfg = one_route(up);
  cfg.access_log = "stdout";
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  ASSERT_EQ(status_of(http_get(gw.port(), "/api/x", {{"X-Request-Id", "to-stdout"}})), 200);
  EXPECT_TRUE(eventually([&] { return entry_for(lines_of(gw.stdout_text()), "to-stdout").has_value(); }, 3s))
      << gw.stdout_text();
}

// Raw bytes 0x80-0xFF pass the HTTP parser in a request target; a path with
// an overlong form, a surrogate, a byte above U+10FFFF or a stray byte used to
// land in the access log as is, and a strict JSON-lines reader (one that
// checks UTF-8, as boost::json::parse does) dropped or choked on the line.
TEST(AccessLog, HostileBytesInTheRequestStillGiveValidUtf8JsonLines) {
  UpstreamServer up(handlers::fixed(200, "ok"));
  GatewayProcess gw(one_route(up));
  ASSERT_TRUE(gw.start());
  const std::string hostile = "caf\xC3\xA9/\xC0\xAE\xC0\xAF/\xED\xA0\x80/\xF4\x90\x80\x80/\xFF\xFE/\xE2\x82/"
                              "\xC2\x85\xE2\x80\xA8/";  // (DEL and C0 bytes: the HTTP parser refuses them)
  struct Case {
    std::string id;
    std::string raw;  // the whole request
  };
  auto req = [](const std::string& target, const std::string& id, const std::string& more = {}) {
    return "GET " + target + " HTTP/1.1\r\nHost: test.local\r\nX-Request-Id: " + id +
           "\r\nUser-Agent: \xFF\xC0\xAE\r\nX-Hostile: \xED\xA0\x80\r\n" + more + "\r\n";
  };
  const std::vector<Case> cases{
      {"utf8-routed", req("/api/" + hostile, "utf8-routed")},             // routed (or refused as a path)
      {"utf8-no-route", req("/elsewhere/" + hostile, "utf8-no-route")},   // 404
      {"utf8-bad-path", req("/api/%2F/" + hostile, "utf8-bad-path")},     // 400: the raw target is logged
      {"utf8-framing", req("/api/" + hostile, "utf8-framing", "Host: other.local\r\n")},  // 400 before routing
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    auto r = http_request(gw.port(), c.raw);
    ASSERT_TRUE(r);
    EXPECT_GE(r->status, 200);
  }

  std::vector<std::string> lines;
  EXPECT_TRUE(eventually([&] {
    lines = lines_of(read_text(gw.access_log_path()));
    return lines.size() >= cases.size();
  }, 5s)) << "access log has " << lines.size() << " lines";
  EXPECT_EQ(lines.size(), cases.size());
  for (const auto& l : lines) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(l, ec);  // strict: invalid UTF-8 is an error
    EXPECT_FALSE(ec) << ec.message() << ": " << l;
    EXPECT_TRUE(!ec && v.is_object()) << l;
  }
  for (const auto& c : cases) {
    auto e = entry_for(lines, c.id);
    ASSERT_TRUE(e) << c.id << " has no valid access-log line:\n" << read_text(gw.access_log_path());
    const std::string path = str_field(*e, "path");
    // Valid UTF-8 is kept, each invalid byte is U+FFFD, controls are escapes.
    EXPECT_NE(path.find("caf\xC3\xA9/"), std::string::npos) << path;
    EXPECT_NE(path.find("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD/"), std::string::npos) << path;
    EXPECT_NE(path.find("\xC2\x85\xE2\x80\xA8/"), std::string::npos) << path;  // escaped, decoded back by the parser
  }
}

TEST(AccessLog, OffWritesNothing) {
  UpstreamServer up(handlers::echo());
  auto cfg = one_route(up);
  cfg.access_log = "off";
  GatewayProcess gw(cfg);
  ASSERT_TRUE(gw.start());
  ASSERT_EQ(status_of(http_get(gw.port(), "/api/x", {{"X-Request-Id", "silent-1"}})), 200);
  sleep_for(300ms);
  auto all = gw.stdout_text() + gw.stderr_text();
  EXPECT_EQ(all.find("silent-1"), std::string::npos) << all;
}

}  // namespace
}  // namespace it
