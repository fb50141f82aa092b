// Certificate-bound access tokens (RFC 8705 §3): a token whose "cnf" claim holds "x5t#S256" is
// accepted only from a client that presented that certificate. Pure: no I/O (OpenSSL parses and
// hashes in memory).
//
// Usage:
//   std::string tp = certificate_thumbprint(der);                   // from the TLS connection
//   auto tp2 = thumbprint_of_escaped_pem(header_value);            // from a trusted TLS-terminating proxy
//   if (auto ec = check_certificate_binding(claims, tp)) deny(ec); // certificate_mismatch -> 401
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace authgate::auth {

// x5t#S256 (RFC 8705 §3.1): base64url, without padding, of the SHA-256 of the certificate's DER.
std::string certificate_thumbprint(std::span<const std::uint8_t> der);

// The thumbprint of a certificate a proxy passed as URL-encoded PEM (nginx
// $ssl_client_escaped_cert): %XX decoded ("+" stays "+", it is base64), one PEM certificate.
// nullopt when it is not one.
std::optional<std::string> thumbprint_of_escaped_pem(std::string_view escaped);

// auth_errc::certificate_mismatch when the claims bind the token to a certificate ("cnf" with
// "x5t#S256") and `presented` (the client's certificate thumbprint, "" for none) is another or
// none, or when "cnf"."x5t#S256" is not a string. No error for a token without that binding.
std::error_code check_certificate_binding(const boost::json::object& claims, std::string_view presented);

}  // namespace authgate::auth
