// libFuzzer target: the YAML config loader (config/loader.hpp), arbitrary bytes
// as the text of a config file.
//
// The loader either returns a config or throws ConfigError (its documented way:
// it runs at start-up and on SIGHUP). Any other exception escapes this function
// and is a finding (libFuzzer reports an uncaught exception as a crash), like a
// crash or a sanitizer report.
//
// Invariants (a violation aborts):
//   - a ConfigError carries at least one line, and every line reads
//     "fuzz.yaml:LINE:COLUMN: KEY.PATH: MESSAGE" with decimal LINE and COLUMN
//     (0:0 only for a position the loader does not know), a key path (empty
//     for an empty YAML key) and a message; LINE is at most the number of lines
//     of the text;
//   - what() is the first line (up to a NUL byte the loader quoted from a value);
//   - a loaded config: every prefix/exact route path is canonical, i.e.
//     routing::canonicalize_target gives it back unchanged (the loader promises
//     "canonical form", and routing matches canonical paths only: a path that is
//     not canonical is a route that can never match); the route table builds
//     from the routes (regexes compile) and routes a request for each route's
//     own exact path to that route or an earlier one.
// Files named by *_file keys are read when they exist: the fuzzer could name a
// FIFO or a device; the dictionary names no such path.
#include "fuzz_env.hpp"

#include "config/loader.hpp"
#include "routing/path.hpp"
#include "routing/route_table.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace authgate;

namespace {

constexpr std::string_view kSource = "fuzz.yaml";

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Line breaks yaml-cpp may count: \n, \r, and NEL/LS/PS in UTF-8, plus one for
// the last line; an upper bound of the 1-based line numbers it reports.
std::size_t max_line(std::string_view text) {
  std::size_t n = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\r' || c == 0x85) ++n;
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(text[i + 2]) == 0xA8 || static_cast<unsigned char>(text[i + 2]) == 0xA9))
      ++n;
  }
  // yaml-cpp reads UTF-16/32 input too (BOM or NUL pattern), where one code unit
  // is several bytes: those only shrink the count, so the bound holds.
  return n;
}

void check_error_line(const std::string& line, std::string_view text) {
  std::string_view rest(line);
  FUZZ_CHECK(rest.starts_with(kSource) && rest.size() > kSource.size() && rest[kSource.size()] == ':');
  rest.remove_prefix(kSource.size() + 1);
  const auto c1 = rest.find(':');
  FUZZ_CHECK(c1 != std::string_view::npos);
  const std::string_view ln = rest.substr(0, c1);
  rest.remove_prefix(c1 + 1);
  const auto c2 = rest.find(':');
  FUZZ_CHECK(c2 != std::string_view::npos);
  const std::string_view col = rest.substr(0, c2);
  rest.remove_prefix(c2 + 1);
  FUZZ_CHECK(all_digits(ln) && all_digits(col));
  const long line_no = std::stol(std::string(ln));
  const long col_no = std::stol(std::string(col));
  FUZZ_CHECK((line_no == 0) == (col_no == 0));  // 0:0 is "no position", never half of one
  FUZZ_CHECK(static_cast<std::size_t>(line_no) <= max_line(text));
  // " KEY.PATH: MESSAGE"
  FUZZ_CHECK(rest.size() > 1 && rest[0] == ' ');
  rest.remove_prefix(1);
  // The key path may be empty (an empty YAML key) or hold ": " itself (a quoted
  // key), so only the presence of a separator and a message is checked.
  const auto c3 = rest.find(": ");
  FUZZ_CHECK(c3 != std::string_view::npos && rest.size() > c3 + 2);
}

void check_config(const config::GatewayConfig& cfg) {
  for (const config::Route& r : cfg.routes) {
    if (r.match.path_kind == config::PathMatch::regex) continue;
    routing::CanonicalTarget c;
    std::error_code ec;
    FUZZ_CHECK(routing::canonicalize_target(r.match.path, c, ec));
    FUZZ_CHECK(c.path == r.match.path && !c.has_query);
  }
  const routing::RouteTable table(cfg.routes);
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    const config::Route& r = cfg.routes[i];
    if (r.match.path_kind == config::PathMatch::regex) continue;
    // A request for the route's own path, on its host (a wildcard's suffix made
    // concrete), with its first method: this route or an earlier one answers.
    std::string host = r.match.host.empty() ? "any.example" : r.match.host;
    if (host.starts_with("*.")) host = "x" + host.substr(1);
    const std::string method = r.match.methods.empty() ? "GET" : r.match.methods.front();
    const int got = table.match(host, method, r.match.path);
    FUZZ_CHECK(got >= 0 && static_cast<std::size_t>(got) <= i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const config::GatewayConfig cfg = config::load_string(text, std::string(kSource));
    check_config(cfg);
  } catch (const config::ConfigError& e) {
    FUZZ_CHECK(!e.errors().empty());
    // what() is a C string: the first line up to a NUL (the loader quotes values as they are).
    const std::string& first = e.errors().front();
    FUZZ_CHECK(std::string_view(e.what()) == std::string_view(first).substr(0, first.find('\0')));
    for (const std::string& line : e.errors()) check_error_line(line, text);
  }
  return 0;
}

// For the replay driver: seed files named valid-* must load.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  try {
    config::load_string(std::string_view(reinterpret_cast<const char*>(data), size), std::string(kSource));
    return 1;
  } catch (const config::ConfigError&) {
    return 0;
  }
}
