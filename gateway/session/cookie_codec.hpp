// Session cookies: random ids, the signed cookie value, Set-Cookie rendering and
// Cookie header parsing. Pure apart from the randomness of random_token().
//
// Usage:
//   std::string id = random_token();                        // 43 chars, 256 random bits
//   std::string value = sign_session_id(id, secret);        // id "." base64url(HMAC-SHA256)
//   headers.set("Set-Cookie", set_cookie_header(cfg.cookie, value, 24h));
//   for (std::string_view v : cookie_values(req["Cookie"], cfg.cookie.name))
//     if (auto id = verify_session_cookie(v, secret)) { ... break; }
//   upstream_cookie = strip_cookie(req["Cookie"], cfg.cookie.name);  // "" -> drop the header
//
// Rules:
// - The cookie carries only the session id, never a token. The MAC is
//   HMAC-SHA256(secret, "authgate-session-v1:" + id); the label separates it
//   from any other value signed with the same secret (sign_login_state uses
//   "authgate-login-v1:", so one kind of cookie never verifies as the other).
// - verify_*() answers nullopt for everything but an exact, canonical
//   `id "." mac`: an id of 1..256 base64url characters, a mac that decodes
//   (strict base64url) to exactly 32 bytes and matches in constant time
//   (CRYPTO_memcmp). An empty secret verifies nothing.
// - A Cookie header may carry the same name several times (a sibling subdomain
//   can plant a cookie for the parent domain): cookie_values() returns every
//   value in order; try each and take the first that verifies.
// - Cookie names compare case-sensitively (RFC 6265 §5.4); pairs are split on
//   ';' and trimmed of spaces and tabs; a pair without '=' is not a cookie of
//   any name (kept by strip_cookie). Values are returned as sent (quotes kept).
// - random_token() throws std::runtime_error only when RAND_bytes fails (the
//   system has no entropy: nothing safe can be issued).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace authgate::session {

// `bytes` random bytes from RAND_bytes, base64url without padding
// (32 bytes -> 43 characters).
std::string random_token(std::size_t bytes = 32);

// The longest id verify_*() accepts (random_token(32) is 43 characters).
inline constexpr std::size_t kMaxSignedIdLength = 256;

// `id "." base64url(HMAC-SHA256(secret, "authgate-session-v1:" + id))`.
std::string sign_session_id(std::string_view id, std::string_view secret);
// The id when `value` is a cookie sign_session_id() made with `secret`.
std::optional<std::string> verify_session_cookie(std::string_view value, std::string_view secret);

// The same with the label "authgate-login-v1:", for a short-lived cookie that
// binds a pending login (its state) to the browser that started it.
std::string sign_login_state(std::string_view state, std::string_view secret);
std::optional<std::string> verify_login_cookie(std::string_view value, std::string_view secret);

// `name=value; Path=/; HttpOnly; SameSite=<same_site>[; Secure]; Max-Age=N`.
// SameSite is cookie.same_site ("Lax" when empty); a negative max_age is 0.
std::string set_cookie_header(const config::SessionCookie& cookie, std::string_view value,
                              std::chrono::seconds max_age);
// The same attributes with an empty value and Max-Age=0 (the browser deletes it).
std::string clear_cookie_header(const config::SessionCookie& cookie);

// Every value of the cookie `name` in one Cookie header, in order.
std::vector<std::string_view> cookie_values(std::string_view cookie_header, std::string_view name);

// The Cookie header without any pair named `name`, the others re-joined with
// "; "; "" when nothing remains (the caller then drops the header).
std::string strip_cookie(std::string_view cookie_header, std::string_view name);

}  // namespace authgate::session
