// The decision taken on a request's headers, before any body byte is read:
// this is where authentication and authorisation plug in (bearer tokens,
// sessions). With `auth: none` every request is allowed.
//
// Usage:
//   AccessDecision d = decide_access(route, request_fields);
//   if (!d.allowed) reply d.status with d.error; else proxy.
#pragma once

#include <string_view>

#include "config/config.hpp"
#include "http/header_hygiene.hpp"

namespace authgate::proxy {

struct AccessDecision {
  bool allowed = true;
  unsigned status = 200;             // the reply status when denied
  std::string_view error;            // short machine-readable reason when denied
  std::string_view auth_label = "none";  // the access log's "auth" field
};

inline AccessDecision decide_access(const config::Route& route, const http::Fields& request) {
  switch (route.auth) {
    case config::AuthMode::none: return {};
  }
  return {false, 500, "unsupported_auth_mode", "error"};
}

}  // namespace authgate::proxy
