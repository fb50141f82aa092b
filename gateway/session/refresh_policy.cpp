#include "session/refresh_policy.hpp"

namespace authgate::session {

RefreshMargin refresh_margin(std::int64_t configured_seconds, std::int64_t lifetime_seconds) {
  RefreshMargin m{configured_seconds, false};
  if (lifetime_seconds > 0 && configured_seconds > lifetime_seconds / 2) {
    m.seconds = lifetime_seconds / 2;
    m.clamped = true;
  }
  return m;
}

bool refresh_due(const Session& s, std::int64_t configured_margin_seconds, std::int64_t now) {
  return s.access_expires_at - now <= refresh_margin(configured_margin_seconds, s.access_lifetime).seconds;
}

}  // namespace authgate::session
