// The credentials of a "Bearer" Authorization header (RFC 6750 §2.1), as a
// view into the request's header. Pure.
//
// Usage:
//   std::string_view token;
//   if (std::error_code ec = extract_bearer(fields, token)) deny(ec);  // token_missing | request_malformed
#pragma once

#include <string_view>
#include <system_error>

#include "http/header_hygiene.hpp"

namespace authgate::access {

// token_missing: no Authorization header, or another scheme. request_malformed:
// two Authorization headers, no credentials, or bytes outside token68.
std::error_code extract_bearer(const http::Fields& request, std::string_view& token);
// The same, also accepting the "DPoP" scheme (RFC 9449 §7.1) when `accept_dpop`;
// `dpop` tells which scheme carried the token.
std::error_code extract_token(const http::Fields& request, bool accept_dpop, std::string_view& token, bool& dpop);

// A JWS in compact serialization has exactly two dots (RFC 7515 §7.1); anything
// else is an opaque token (introspection).
bool is_compact_jws(std::string_view token);

}  // namespace authgate::access
