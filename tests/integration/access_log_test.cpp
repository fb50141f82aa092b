// Access log: one JSON line per request with the documented fields.
#include <fstream>
#include <sstream>

#include "common.hpp"

namespace it {
namespace {

using namespace support;

const char* const kFields[] = {"time",   "request_id", "client",    "method",
                               "path",   "route",      "upstream",  "status",
                               "bytes_in", "bytes_out", "duration_ms", "auth"};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
    lines = lines_of(slurp(gw.access_log_path()));
    return lines.size() >= 3;
  }, 3s)) << "access log has " << lines.size() << " lines";
  EXPECT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    auto obj = parse_json_object(l);
    ASSERT_TRUE(obj) << "not a JSON object: " << l;
    for (const char* f : kFields) EXPECT_TRUE(obj->if_contains(f)) << f << " missing in " << l;
  }

  auto get = entry_for(lines, "acc-1");
  ASSERT_TRUE(get) << slurp(gw.access_log_path());
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
