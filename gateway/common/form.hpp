// application/x-www-form-urlencoded (RFC 6749 Appendix B; WHATWG URL) and
// query strings, plus HTTP Basic credentials for OAuth client authentication.
// Pure.
//
// Usage:
//   std::string body = "token=" + form_encode(token) + "&token_type_hint=access_token";
//   std::optional<std::string> code = form_value("code=abc&state=xyz", "code");   // "abc"
//   std::string auth = basic_credentials(client_id, secret);   // "Basic ..." (RFC 6749 §2.3.1)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authgate::common {

std::string form_encode(std::string_view s);
// "+" -> " ", "%XX" -> byte; nullopt for a malformed escape.
std::optional<std::string> form_decode(std::string_view s);
// The decoded value of the first `key` pair in `query` (no leading "?").
// nullopt when absent or malformed.
std::optional<std::string> form_value(std::string_view query, std::string_view key);
// "Basic " + base64(form_encode(id) ":" form_encode(secret)).
std::string basic_credentials(std::string_view client_id, std::string_view client_secret);

}  // namespace authgate::common
