#include "auth/cert_binding.hpp"

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "auth/auth_errc.hpp"
#include "auth/base64url.hpp"
#include "common/hex.hpp"
#include "common/ossl.hpp"

namespace authgate::auth {

namespace {

// %XX decoding only: a PEM body's "+" is base64, not a space.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = common::hex_value(s[i + 1]);
    const int lo = common::hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::string certificate_thumbprint(std::span<const std::uint8_t> der) {
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(der.data(), der.size(), digest);
  return base64url_encode(std::span<const std::uint8_t>(digest, sizeof digest));
}

std::optional<std::string> thumbprint_of_escaped_pem(std::string_view escaped) {
  constexpr std::size_t kMaxPem = 16 * 1024;  // a certificate chain's leaf; a header never needs more
  if (escaped.empty() || escaped.size() > 3 * kMaxPem) return std::nullopt;
  const auto pem = percent_decode(escaped);
  if (!pem || pem->size() > kMaxPem) return std::nullopt;
  std::unique_ptr<BIO, ossl::Free> bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return std::nullopt;
  std::unique_ptr<X509, ossl::Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return std::nullopt;
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert.get(), &der);
  if (n <= 0) return std::nullopt;
  std::string thumbprint = certificate_thumbprint({der, static_cast<std::size_t>(n)});
  OPENSSL_free(der);
  return thumbprint;
}

std::error_code check_certificate_binding(const boost::json::object& claims, std::string_view presented) {
  const auto* cnf = claims.if_contains("cnf");
  if (!cnf || !cnf->is_object()) return {};
  const auto* x5t = cnf->get_object().if_contains("x5t#S256");
  if (!x5t) return {};
  if (!x5t->is_string() || presented.empty() || std::string_view(x5t->get_string()) != presented)
    return auth_errc::certificate_mismatch;
  return {};
}

}  // namespace authgate::auth
