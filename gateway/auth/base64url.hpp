// Strict base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2): no padding, the
// URL-safe alphabet only, and canonical encodings only. Pure.
//
// Usage:
//   std::string bytes;
//   if (!base64url_decode("eyJhbGciOiJSUzI1NiJ9", bytes)) reject;   // bytes == {"alg":"RS256"}
//   std::string text = base64url_encode(bytes);
//   char buf[64]; std::size_t n;                                      // no allocation:
//   if (in.size() <= base64url_max_encoded(sizeof buf) && base64url_decode(in, buf, n)) use(buf, n);
//
// Rejected by decode: '=' padding, '+', '/', whitespace, any byte outside
// [A-Za-z0-9_-], a length of 4k+1, and non-zero unused trailing bits (so every
// byte string has exactly one accepted encoding, and a token cannot be altered
// without changing its decoded bytes).
#pragma once

#include <cstddef>
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

// Decodes `in` into `out`, which must have room for base64url_decoded_size(in.size())
// bytes; `out_len` receives the decoded length. Same rejections as above.
bool base64url_decode(std::string_view in, char* out, std::size_t& out_len);

// The decoded length of `encoded_len` input characters (a length of 4k+1 is
// always rejected before anything is written; it is given the size of 4k).
constexpr std::size_t base64url_decoded_size(std::size_t encoded_len) {
  return encoded_len / 4 * 3 + (encoded_len % 4 == 0 ? 0 : encoded_len % 4 - 1);
}
// The longest input whose decoding fits `decoded_capacity` bytes.
constexpr std::size_t base64url_max_encoded(std::size_t decoded_capacity) {
  return decoded_capacity / 3 * 4 + (decoded_capacity % 3 == 0 ? 0 : decoded_capacity % 3 + 1);
}

}  // namespace authgate::auth
