// Strict base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2): no padding, the
// URL-safe alphabet only, and canonical encodings only. Pure.
//
// Usage:
//   std::string bytes;
//   if (!base64url_decode("eyJhbGciOiJSUzI1NiJ9", bytes)) reject;   // bytes == {"alg":"RS256"}
//   std::string text = base64url_encode(bytes);
//
// Rejected by decode: '=' padding, '+', '/', whitespace, any byte outside
// [A-Za-z0-9_-], a length of 4k+1, and non-zero unused trailing bits (so every
// byte string has exactly one accepted encoding, and a token cannot be altered
// without changing its decoded bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace authgate::auth {

// Encodes without padding.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
std::string base64url_encode(std::string_view bytes);

// Decodes `in` into `out` (replaced). Returns false, with `out` unspecified, on
// any rejection above. The empty string decodes to the empty string.
bool base64url_decode(std::string_view in, std::string& out);

}  // namespace authgate::auth
