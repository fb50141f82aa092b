// When a session's access token is refreshed (pure: no I/O, no clock; `now` is passed in).
//
// Usage:
//   const RefreshMargin m = refresh_margin(seconds(cfg.refresh_before_expiry), s.access_lifetime);
//   if (m.clamped) log once;
//   if (refresh_due(s, seconds(cfg.refresh_before_expiry), now)) refresh
//
// The rule: a token is due when it expires within the margin, i.e.
// access_expires_at - now <= margin. The margin is refresh_before_expiry, but at
// most half the token's lifetime (expires_in of the grant that gave it): with
// refresh_before_expiry 30s and 30-second tokens, the configured margin would
// make every token due from the moment it arrives, and every request would run a
// refresh grant. Half keeps one grant per half lifetime at most. A lifetime of 0
// (unknown: a record stored before the lifetime was kept) leaves the margin as
// configured.
#pragma once

#include <cstdint>

#include "session/session_store.hpp"

namespace authgate::session {

struct RefreshMargin {
  std::int64_t seconds = 0;
  bool clamped = false;  // the configured margin was longer than half the lifetime
};

RefreshMargin refresh_margin(std::int64_t configured_seconds, std::int64_t lifetime_seconds);

bool refresh_due(const Session& s, std::int64_t configured_margin_seconds, std::int64_t now);

}  // namespace authgate::session
