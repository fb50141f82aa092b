#include "auth/alg.hpp"

namespace authgate::auth {

std::optional<Alg> alg_from_string(std::string_view name) {
  for (Alg a : kAllAlgs) {
    if (to_string(a) == name) return a;
  }
  return std::nullopt;
}

std::string_view to_string(Alg alg) {
  switch (alg) {
    case Alg::RS256: return "RS256";
    case Alg::RS384: return "RS384";
    case Alg::RS512: return "RS512";
    case Alg::PS256: return "PS256";
    case Alg::PS384: return "PS384";
    case Alg::PS512: return "PS512";
    case Alg::ES256: return "ES256";
    case Alg::ES384: return "ES384";
    case Alg::ES512: return "ES512";
    case Alg::EdDSA: return "EdDSA";
    case Alg::HS256: return "HS256";
    case Alg::HS384: return "HS384";
    case Alg::HS512: return "HS512";
  }
  return "";
}

AlgFamily family(Alg alg) {
  switch (alg) {
    case Alg::RS256:
    case Alg::RS384:
    case Alg::RS512: return AlgFamily::rsa_pkcs1;
    case Alg::PS256:
    case Alg::PS384:
    case Alg::PS512: return AlgFamily::rsa_pss;
    case Alg::ES256:
    case Alg::ES384:
    case Alg::ES512: return AlgFamily::ecdsa;
    case Alg::EdDSA: return AlgFamily::eddsa;
    case Alg::HS256:
    case Alg::HS384:
    case Alg::HS512: return AlgFamily::hmac;
  }
  return AlgFamily::hmac;
}

std::size_t hash_size(Alg alg) {
  switch (alg) {
    case Alg::RS256:
    case Alg::PS256:
    case Alg::ES256:
    case Alg::HS256: return 32;
    case Alg::RS384:
    case Alg::PS384:
    case Alg::ES384:
    case Alg::HS384: return 48;
    case Alg::RS512:
    case Alg::PS512:
    case Alg::ES512:
    case Alg::HS512: return 64;
    case Alg::EdDSA: return 0;
  }
  return 0;
}

bool is_none_alg(std::string_view name) {
  if (name.size() != 4) return false;
  constexpr std::string_view kNone = "none";
  for (std::size_t i = 0; i < 4; ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kNone[i]) return false;
  }
  return true;
}

}  // namespace authgate::auth
