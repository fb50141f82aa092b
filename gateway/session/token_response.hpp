// Token endpoint responses: the success body (RFC 6749 §5.1, OpenID Connect
// Core §3.1.3.3) validated member by member, and the error body (RFC 6749
// §5.2). Pure.
//
// Usage:
//   auto r = parse_token_response(body, /*id_token_required=*/requested_openid);
//   if (auto* why = std::get_if<std::string>(&r)) { log("bad token response: {}", *why); fail; }
//   TokenSet& t = std::get<TokenSet>(r);
//   if (!t.expires_in) log("no expires_in, using the fallback"), ...;
//   if (t.refresh_token.empty()) keep the old refresh token;
//
//   if (auto e = parse_token_error(body); e && e->error == "invalid_grant") end the session;
//
// Rules (parse_token_response), each violation reported as one string that
// names the member and the problem, e.g. `token_type must be Bearer, got "mac"`:
// - the body is a JSON object (strict: a member named twice is a violation,
//   since two parsers could read two different tokens from it);
// - access_token: required, a non-empty string;
// - token_type: required, a string equal to "Bearer" ASCII case-insensitively;
// - expires_in: optional; an integer >= 0 (a JSON number without fraction:
//   3600 and 3600.0 pass; "3600", 1.5, -1, true, null do not); values above
//   kMaxExpiresIn (10 years) are clamped to it, so now + expires_in never
//   overflows;
// - refresh_token, scope, id_token: optional, strings when present (null is
//   not a string); "" is the same as absent;
// - id_token: required (non-empty) when id_token_required (openid requested).
// Unknown members are ignored. Nothing of the body is in a violation string
// except a short, sanitised excerpt of a wrong token_type or expires_in
// (never a token).
//
// parse_token_error() answers the error code and description when the body is
// a JSON object with a non-empty string "error", nullopt otherwise. Both are
// sanitised for logs: bytes outside RFC 6749's %x20-21 / %x23-5B / %x5D-7E
// become '?', error is cut at 128 bytes and the description at 512.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace authgate::session {

inline constexpr std::int64_t kMaxExpiresIn = 10LL * 365 * 24 * 3600;

struct TokenSet {
  std::string access_token;
  std::string token_type;
  std::string refresh_token;  // may be empty: absent
  std::string scope;          // may be empty: absent (the requested scopes apply)
  std::string id_token;       // may be empty: absent
  std::optional<std::int64_t> expires_in;  // seconds, 0..kMaxExpiresIn
};

struct TokenError {
  std::string error;        // "invalid_grant", "invalid_client", ...
  std::string description;  // error_description, may be empty
};

// A TokenSet, or the violation.
std::variant<TokenSet, std::string> parse_token_response(std::string_view body, bool id_token_required);

std::optional<TokenError> parse_token_error(std::string_view body);

}  // namespace authgate::session
