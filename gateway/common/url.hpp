// Absolute http(s) URLs as the gateway uses them (upstreams, issuers, JWKS and
// introspection endpoints). Pure: no I/O.
//
// Usage:
//   auto u = common::parse_http_url("https://idp.example.com:8443/jwks?v=2");
//   u->scheme == "https", u->host == "idp.example.com", u->port == 8443, u->target == "/jwks?v=2"
//
// Accepted: "http" or "https" (any case), a host (a name of letters, digits,
// "-", ".", "_", "~"; IPv4; or [IPv6] of hex digits, ":" and "."), an
// optional port 1-65535, an optional path + query ("/" when absent). Refused:
// user info ("user@host"), a fragment, whitespace or control bytes, an empty host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authgate::common {

struct HttpUrl {
  std::string scheme;  // "http" | "https" (lower case)
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path + query, starts with '/'

  bool is_https() const { return scheme == "https"; }
  // "host:port" with brackets for IPv6 when needed, for the Host header and logs.
  std::string authority() const;
};

std::optional<HttpUrl> parse_http_url(std::string_view url);

}  // namespace authgate::common
