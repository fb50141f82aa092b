// Validation of the Host header before routing. Pure: no I/O, no allocation.
//
// Usage:
//   routing::HostParts h;
//   std::error_code ec;
//   if (!routing::validate_host(req[field::host], h, ec)) reply 400 (ec names the reason);
//   h.host == "api.example.com", h.port == "8443"
//
// Accepted (RFC 3986 3.2.2 / 3.2.3, as RFC 9110 7.2 uses them for Host):
//   host [":" port]
//   host = "[" IPv6address "]"    (IPvFuture "[v1.x]" and zone ids "%25eth0" are refused)
//        | reg-name restricted to unreserved characters: A-Z a-z 0-9 "-" "." "_" "~",
//          1..255 of them (IPv4 literals are reg-names by this grammar)
//   port = 1..5 digits, at most 65535
// Refused although RFC 3986 allows them in a reg-name: percent-escapes and the
// sub-delims (! $ & ' ( ) * + , ; =). No DNS name holds them, and upstreams read
// them differently: "evil.com%2f.example.com" can decode to another host, and
// frameworks split X-Forwarded-Host at "," and keep the first name.
#pragma once

#include <string_view>
#include <system_error>

namespace authgate::routing {

enum class host_errc {
  empty = 1,        // no host (RFC 9110 4.2.1: an http URI never has an empty host)
  userinfo,         // "@": "api.example.com:@evil.com" is user "api.example.com", host evil.com
  delimiter,        // "/", "?", "#", "\": a URL parser ends the authority there
  percent_encoded,  // "%": a decoding upstream would see another name
  bad_character,    // anything else outside the grammar (sub-delims, space, controls, non-ASCII)
  bad_port,         // ":" not followed by 1..5 digits <= 65535
  bad_ip_literal,   // "[...]" that is not an IPv6 address, or an unbalanced bracket
  ip_future,        // "[v1.x]" (RFC 3986 IPvFuture): no upstream needs it
  too_long,         // a name longer than 255 characters
};

const std::error_category& host_category();
std::error_code make_error_code(host_errc e);

struct HostParts {
  std::string_view host;  // the name or "[v6]" literal, brackets kept
  std::string_view port;  // digits, empty when absent
  bool ip_literal = false;
};

// Returns false and sets `ec` on rejection; `out` points into `value`.
bool validate_host(std::string_view value, HostParts& out, std::error_code& ec);

// RFC 3986 IPv6address (the text between the brackets), without a zone id.
bool is_ipv6_address(std::string_view s);

}  // namespace authgate::routing

template <>
struct std::is_error_code_enum<authgate::routing::host_errc> : std::true_type {};
