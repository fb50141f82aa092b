#include "session/pkce.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "auth/base64url.hpp"
#include "session/cookie_codec.hpp"

namespace authgate::session {

std::string pkce_challenge_s256(std::string_view verifier) {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(verifier.data(), verifier.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
    ERR_clear_error();
    throw std::runtime_error("SHA-256 failed");
  }
  return auth::base64url_encode(std::span<const std::uint8_t>(digest.data(), len));
}

PkcePair make_pkce() {
  PkcePair p;
  p.verifier = random_token(32);
  p.challenge = pkce_challenge_s256(p.verifier);
  return p;
}

}  // namespace authgate::session
