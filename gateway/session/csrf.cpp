#include "session/csrf.hpp"

#include "common/ascii.hpp"
#include "common/url.hpp"

namespace authgate::session {

namespace {

// The origin ("scheme://host[:port]") of an absolute URL, "" when it is not one.
std::string origin_of(std::string_view url) {
  auto u = common::parse_http_url(url);
  if (!u) return {};
  return u->scheme + "://" + u->authority();
}

}  // namespace

bool is_websocket_upgrade(std::string_view method, std::string_view upgrade, std::string_view connection) {
  return method == "GET" && common::iequals(upgrade, "websocket") && common::list_has_token(connection, "upgrade");
}

bool needs_origin(std::string_view method, std::string_view upgrade, std::string_view connection) {
  const bool safe = method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
  return !safe || is_websocket_upgrade(method, upgrade, connection);
}

bool origin_allowed(std::string_view origin_header, std::string_view referer, std::string_view public_url,
                    const std::vector<std::string>& csrf_origins) {
  std::string origin(origin_header);
  if (origin.empty() || origin == "null") origin = origin_of(referer);
  if (origin.empty()) return false;
  if (common::iequals(origin, public_url)) return true;
  for (const auto& o : csrf_origins)
    if (common::iequals(origin, o)) return true;
  return false;
}

LogoutAction logout_action(std::string_view method, std::string_view sec_fetch_site, bool origin_ok) {
  if (method == "POST") return origin_ok ? LogoutAction::end_session : LogoutAction::reject_cross_site;
  if (method == "GET")
    return common::iequals(sec_fetch_site, "same-origin") ? LogoutAction::end_session : LogoutAction::confirm_page;
  if (method == "HEAD") return LogoutAction::confirm_page;
  return LogoutAction::method_not_allowed;
}

}  // namespace authgate::session
