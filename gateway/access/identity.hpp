// The upstream half of an allowed request: which identity headers the
// upstream receives. Removes client copies of every identity header any route
// sets (any case, "_" for "-"): a header one route derives from claims must not
// be spoofable through another route to the same upstream. Then sets the
// route's headers from the token's claims, and strips Authorization on bearer
// routes unless forward.authorization is set.
//
// Usage:
//   const auto names = identity_header_names(cfg);             // once per Runtime
//   apply_identity(upstream_fields, route, decision, names);   // per allowed request
#pragma once

#include <span>
#include <string>
#include <vector>

#include "access/decision.hpp"
#include "config/config.hpp"
#include "http/header_hygiene.hpp"

namespace authgate::access {

void apply_identity(http::Fields& upstream, const config::Route& route, const Decision& d,
                    std::span<const std::string> identity_headers);

// The names of every forward.headers entry of every route (deduplicated).
std::vector<std::string> identity_header_names(const config::GatewayConfig& cfg);

}  // namespace authgate::access
