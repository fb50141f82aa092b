#include "routing/route_table.hpp"

#include <algorithm>

#include "common/ascii.hpp"

namespace authgate::routing {

using common::iequals;

namespace {

std::string_view strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {  // [v6]:port
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.empty()) return true;
  host = strip_port(host);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // FQDN form
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return iequals(pattern, host);
}

bool prefix_matches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  if (prefix.ends_with('/') || path.size() == prefix.size()) return true;
  return path[prefix.size()] == '/';
}

bool prefix_matches_icase(std::string_view prefix, std::string_view path) {
  if (path.size() < prefix.size() || !iequals(path.substr(0, prefix.size()), prefix)) return false;
  if (prefix.ends_with('/') || path.size() == prefix.size()) return true;
  return path[prefix.size()] == '/';
}

RouteTable::RouteTable(const std::vector<config::Route>& routes, bool case_insensitive_paths)
    : case_insensitive_(case_insensitive_paths) {
  entries_.reserve(routes.size());
  for (const auto& r : routes) {
    Entry e{&r, nullptr, {}};
    if (r.match.path_kind == config::PathMatch::regex) {
      auto flags = std::regex::ECMAScript;
      if (case_insensitive_) flags |= std::regex::icase;
      e.regex = std::make_unique<std::regex>(r.match.path, flags);
    } else if (case_insensitive_) {
      e.folded_path = r.match.path;
      for (char& c : e.folded_path) c = common::ascii_lower(c);
    }
    entries_.push_back(std::move(e));
  }
}

int RouteTable::match(std::string_view host, std::string_view method,
                      std::string_view path) const {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    const auto& m = e.route->match;
    if (!host_matches(m.host, host)) continue;
    if (!m.methods.empty() &&
        std::find(m.methods.begin(), m.methods.end(), method) == m.methods.end())
      continue;
    bool path_ok = false;
    switch (m.path_kind) {
      case config::PathMatch::exact:
        path_ok = case_insensitive_ ? iequals(path, e.folded_path) : path == m.path;
        break;
      case config::PathMatch::prefix:
        path_ok = case_insensitive_ ? prefix_matches_icase(e.folded_path, path) : prefix_matches(m.path, path);
        break;
      case config::PathMatch::regex:
        path_ok = std::regex_match(path.begin(), path.end(), *e.regex);
        break;
    }
    if (path_ok) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace authgate::routing
