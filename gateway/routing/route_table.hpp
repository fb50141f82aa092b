// Ordered route table: the first route whose host, method and canonical path
// match wins; no match is a 404. Pure: no I/O.
//
// Usage:
//   RouteTable table(cfg.routes);
//   const config::Route* r = table.match("api.example.com", "GET", "/orders/7");
//
// Path matching is done on the canonical path (routing/path.hpp):
//   exact:  equal strings;
//   prefix: segment-aware, "/api" matches "/api" and "/api/x" but not "/apix";
//           a prefix ending in "/" matches only below it;
//   regex:  ECMAScript, must match the whole path.
// With case_insensitive_paths (routing.case_insensitive_paths), exact and prefix
// paths compare with ASCII case folded (the patterns are folded once here, the
// request path is compared without a copy) and regexes get std::regex::icase;
// the path forwarded upstream is not changed.
// Host matching: case-insensitive, the port is ignored; "*.example.com" matches
// any name ending in ".example.com" (not "example.com" itself).
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace authgate::routing {

class RouteTable {
 public:
  explicit RouteTable(const std::vector<config::Route>& routes, bool case_insensitive_paths = false);

  // Returns the index of the matching route in the config's list, or -1.
  // `host` is the Host header as received (a port suffix is ignored).
  int match(std::string_view host, std::string_view method, std::string_view path) const;

 private:
  struct Entry {
    const config::Route* route;
    std::unique_ptr<std::regex> regex;
    std::string folded_path;  // case_insensitive_paths: the exact/prefix path, ASCII lower-case
  };
  std::vector<Entry> entries_;
  bool case_insensitive_ = false;
};

// Exposed for tests.
bool host_matches(std::string_view pattern, std::string_view host);
bool prefix_matches(std::string_view prefix, std::string_view path);
// The same with ASCII case folded on both sides.
bool prefix_matches_icase(std::string_view prefix, std::string_view path);

}  // namespace authgate::routing
