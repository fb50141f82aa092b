// The browser-session CSRF rules (pure: strings in, decision out).
//
//   if (needs_origin(method, upgrade, connection) && !origin_allowed(origin, referer, public_url, csrf_origins))
//     403 csrf_rejected;
//   switch (logout_action(method, sec_fetch_site, origin_ok)) { ... }
//
// Rules:
// - Unsafe methods (anything but GET, HEAD, OPTIONS, TRACE) AND a WebSocket
//   handshake (GET with `Upgrade: websocket` and `Connection: upgrade`) need an
//   allowed origin: a cross-site page can open a WebSocket with the user's
//   cookie (browsers apply no same-origin policy to WebSockets), so an upgrade
//   is treated like a POST (cross-site WebSocket hijacking).
// - The origin is the `Origin` header, or (absent or "null") the origin of the
//   `Referer`; it must equal public_url or a csrf_origins entry (ASCII case
//   folded). No origin at all is not allowed.
// - Logout (logout CSRF): POST ends the session only with an allowed origin
//   (else 403); GET ends it only with `Sec-Fetch-Site: same-origin` (a
//   header browsers set and pages cannot), and otherwise (and HEAD) answers a
//   page with a same-origin POST form (not auto-submitted: a cross-site link must not end
//   the session). Any other method: 405.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace authgate::session {

bool is_websocket_upgrade(std::string_view method, std::string_view upgrade, std::string_view connection);

bool needs_origin(std::string_view method, std::string_view upgrade, std::string_view connection);

bool origin_allowed(std::string_view origin, std::string_view referer, std::string_view public_url,
                    const std::vector<std::string>& csrf_origins);

enum class LogoutAction { end_session, confirm_page, reject_cross_site, method_not_allowed };

LogoutAction logout_action(std::string_view method, std::string_view sec_fetch_site, bool origin_ok);

}  // namespace authgate::session
