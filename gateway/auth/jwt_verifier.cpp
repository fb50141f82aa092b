#include "auth/jwt_verifier.hpp"

#include "common/ossl.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

namespace authgate::auth {

namespace {

std::error_code fail(auth_errc e) {
  ossl::clear_errors();
  return e;
}

// Digests fetched once (explicit fetches avoid OpenSSL 3's per-call implicit
// fetch); they live for the whole process.
const EVP_MD* digest_for(Alg alg) {
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  static const EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
  static const EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
  switch (hash_size(alg)) {
    case 32: return sha256;
    case 48: return sha384;
    case 64: return sha512;
    default: return nullptr;  // EdDSA
  }
}

std::size_t ecdsa_coordinate_bytes(Alg alg) {
  switch (alg) {
    case Alg::ES256: return 32;
    case Alg::ES384: return 48;
    case Alg::ES512: return 66;
    default: return 0;
  }
}

// DER for ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } from JOSE's raw
// r||s (RFC 7518 §3.4). Each half must be exactly `n` bytes and non-zero.
// Output at most 2 + 1 + 2 * (2 + 1 + 66) = 141 bytes.
using DerBuffer = std::array<unsigned char, 160>;

bool ecdsa_raw_to_der(std::span<const std::uint8_t> raw, std::size_t n, DerBuffer& der,
                      std::size_t& der_len) {
  if (n == 0 || raw.size() != 2 * n) return false;
  auto trimmed = [](std::span<const std::uint8_t> v) {
    std::size_t i = 0;
    while (i < v.size() && v[i] == 0) ++i;
    return v.subspan(i);
  };
  const auto r = trimmed(raw.first(n));
  const auto s = trimmed(raw.subspan(n));
  if (r.empty() || s.empty()) return false;  // r == 0 or s == 0
  const std::size_t r_len = r.size() + ((r[0] & 0x80) ? 1 : 0);
  const std::size_t s_len = s.size() + ((s[0] & 0x80) ? 1 : 0);
  const std::size_t body = 2 + r_len + 2 + s_len;  // each INTEGER is < 128 bytes

  std::size_t i = 0;
  der[i++] = 0x30;
  if (body < 0x80) {
    der[i++] = static_cast<unsigned char>(body);
  } else {
    der[i++] = 0x81;
    der[i++] = static_cast<unsigned char>(body);
  }
  auto put_integer = [&](std::span<const std::uint8_t> v, std::size_t len) {
    der[i++] = 0x02;
    der[i++] = static_cast<unsigned char>(len);
    if (len > v.size()) der[i++] = 0x00;  // keep it positive
    for (std::uint8_t b : v) der[i++] = b;
  };
  put_integer(r, r_len);
  put_integer(s, s_len);
  der_len = i;
  return true;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return r;
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::error_code check_alg(const ParsedJwt& jwt, const KeySet& keys, std::span<const Alg> allowed,
                          Alg& out) {
  if (is_none_alg(jwt.alg())) return auth_errc::alg_not_allowed;
  const std::optional<Alg> alg = alg_from_string(jwt.alg());
  if (!alg) return auth_errc::alg_not_allowed;
  if (std::find(allowed.begin(), allowed.end(), *alg) == allowed.end()) {
    return auth_errc::alg_not_allowed;
  }
  // RFC 8725 §2.1 key confusion: an HMAC alg never meets a public key (whose
  // bytes are public), and a public-key alg never meets an HMAC secret set.
  if (is_hmac(*alg) != keys.is_hmac()) return auth_errc::alg_not_allowed;
  out = *alg;
  return {};
}

std::error_code verify_hmac(Alg alg, const Jwk& key, std::string_view input,
                            std::span<const std::uint8_t> signature) {
  const EVP_MD* md = digest_for(alg);
  const auto secret = key.secret();
  if (!md || secret.empty()) return fail(auth_errc::key_mismatch);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(md, secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len)) {
    return fail(auth_errc::signature_invalid);
  }
  // The length is public (it is the alg's); only the contents are compared in constant time.
  const bool ok = signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
  OPENSSL_cleanse(mac, sizeof mac);
  return ok ? std::error_code{} : std::error_code(auth_errc::signature_invalid);
}

// A verification context for (key, alg), initialised once per thread:
// OpenSSL 3 creates a context and fetches the signature method on every
// EVP_DigestVerifyInit, which cost about as much as half an RSA-2048 verify
// here. EVP_PKEY_verify may run any number of times on one initialised
// context. A context holds a reference to its key, so a cached address can
// never be reused by another key while its entry lives; the cache is small and
// cleared when full (a rotated-away key lingers at most until then).
EVP_PKEY_CTX* verify_context(EVP_PKEY* pkey, Alg alg, AlgFamily fam, const EVP_MD* md) {
  struct Entry {
    EVP_PKEY* pkey;
    Alg alg;
    ossl::pkey_ctx_ptr ctx;
  };
  thread_local std::vector<Entry> cache;
  for (auto& e : cache)
    if (e.pkey == pkey && e.alg == alg) return e.ctx.get();
  ossl::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1)
    return nullptr;
  if (fam == AlgFamily::rsa_pkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) return nullptr;
  } else if (fam == AlgFamily::rsa_pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt length = hash length.
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) != 1)
      return nullptr;
  }
  if (cache.size() >= 32) cache.clear();
  cache.push_back(Entry{pkey, alg, std::move(ctx)});
  return cache.back().ctx.get();
}

// The digest of `input`, on a context kept per thread: EVP_Digest creates and
// frees an EVP_MD_CTX on every call.
bool hash(const EVP_MD* md, std::string_view input, unsigned char* out, unsigned int& out_len) {
  thread_local const ossl::md_ctx_ptr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), input.data(), input.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, &out_len) == 1;
}

std::error_code verify_evp(Alg alg, EVP_PKEY* pkey, std::string_view input,
                           std::span<const std::uint8_t> signature) {
  const AlgFamily fam = family(alg);
  const EVP_MD* md = digest_for(alg);  // null for Ed25519: one-shot, no external digest
  if (fam != AlgFamily::eddsa && !md) return fail(auth_errc::signature_invalid);

  DerBuffer der{};
  std::size_t der_len = 0;
  const unsigned char* sig = signature.data();
  std::size_t sig_len = signature.size();
  switch (fam) {
    case AlgFamily::rsa_pkcs1:
    case AlgFamily::rsa_pss:
      if (sig_len != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) {
        return fail(auth_errc::signature_invalid);
      }
      break;
    case AlgFamily::ecdsa:
      // Only JOSE's fixed-length r||s; a DER signature (or any other length) is refused.
      if (!ecdsa_raw_to_der(signature, ecdsa_coordinate_bytes(alg), der, der_len)) {
        return fail(auth_errc::signature_invalid);
      }
      sig = der.data();
      sig_len = der_len;
      break;
    case AlgFamily::eddsa:
      if (sig_len != 64) return fail(auth_errc::signature_invalid);
      break;
    case AlgFamily::hmac: return fail(auth_errc::key_mismatch);
  }

  if (fam == AlgFamily::eddsa) {  // Ed25519 signs the message itself: one-shot DigestVerify
    ossl::md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1)
      return fail(auth_errc::signature_invalid);
    const int rc = EVP_DigestVerify(ctx.get(), sig, sig_len,
                                    reinterpret_cast<const unsigned char*>(input.data()), input.size());
    return rc == 1 ? std::error_code{} : fail(auth_errc::signature_invalid);
  }
  // RSA and ECDSA: hash with the pre-fetched digest, verify on a context kept
  // per thread and key (see verify_context).
  EVP_PKEY_CTX* pctx = verify_context(pkey, alg, fam, md);
  if (!pctx) return fail(auth_errc::signature_invalid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (!hash(md, input, digest, digest_len)) return fail(auth_errc::signature_invalid);
  const int rc = EVP_PKEY_verify(pctx, sig, sig_len, digest, digest_len);
  if (rc != 1) return fail(auth_errc::signature_invalid);
  return {};
}

}  // namespace

std::error_code verify_jws_signature(Alg alg, const Jwk& key, std::string_view signing_input,
                                     std::span<const std::uint8_t> signature) {
  if (!key.compatible_with(alg)) return auth_errc::key_mismatch;
  if (is_hmac(alg)) return verify_hmac(alg, key, signing_input, signature);
  if (!key.pkey()) return auth_errc::key_mismatch;
  return verify_evp(alg, key.pkey(), signing_input, signature);
}

std::error_code verify_signature(const ParsedJwt& jwt, const KeySet& keys,
                                 std::span<const Alg> allowed_algs) {
  Alg alg{};
  if (auto ec = check_alg(jwt, keys, allowed_algs, alg)) return ec;
  auto key = keys.find(jwt.kid(), alg);
  if (!key) return key.error();
  return verify_jws_signature(alg, **key, jwt.signing_input(), jwt.signature());
}

std::error_code check_type(const ParsedJwt& jwt, const VerifyPolicy& policy) {
  if (!jwt.typ()) {
    return policy.require_at_jwt ? std::error_code(auth_errc::type_not_allowed) : std::error_code{};
  }
  const std::string& typ = *jwt.typ();
  // RFC 7515 §4.1.9: "application/" may be omitted; compare case-insensitively.
  if (ascii_iequals(typ, "at+jwt") || ascii_iequals(typ, "application/at+jwt")) return {};
  if (!policy.require_at_jwt && (ascii_iequals(typ, "JWT") || ascii_iequals(typ, "application/jwt"))) {
    return {};
  }
  return auth_errc::type_not_allowed;
}

std::error_code verify_claims(const ParsedJwt& jwt, const VerifyPolicy& policy, std::int64_t now) {
  const std::int64_t leeway = std::max<std::int64_t>(0, policy.leeway_seconds);

  // Times (RFC 7519 §4.1.4-6).
  if (jwt.exp()) {
    if (now >= sat_add(*jwt.exp(), leeway)) return auth_errc::expired;
  } else if (policy.require_exp) {
    return auth_errc::claim_mismatch;
  }
  if (jwt.nbf() && sat_add(now, leeway) < *jwt.nbf()) return auth_errc::not_yet_valid;
  if (policy.reject_future_iat && jwt.iat() && *jwt.iat() > sat_add(now, leeway)) {
    return auth_errc::issued_in_future;
  }

  // Issuer: exact string comparison (RFC 7519 §4.1.1), no normalisation.
  if (policy.issuer.empty() || !jwt.iss() || *jwt.iss() != policy.issuer) {
    return auth_errc::issuer_mismatch;
  }

  // ID tokens are for the client that logged in, never API credentials.
  if (policy.reject_id_tokens) {
    if (jwt.has_nonce()) return auth_errc::id_token_rejected;
    for (const std::string& a : jwt.aud()) {
      if (contains(policy.login_client_ids, a)) return auth_errc::id_token_rejected;
    }
  }

  // Audience: one of ours.
  bool aud_ok = false;
  for (const std::string& a : jwt.aud()) {
    if (contains(policy.audiences, a)) {
      aud_ok = true;
      break;
    }
  }
  if (!aud_ok) return auth_errc::audience_mismatch;

  for (const std::string& name : policy.required_claims) {
    const boost::json::value* v = jwt.claims().if_contains(name);
    if (!v || v->is_null()) return auth_errc::claim_mismatch;
  }
  return {};
}

std::error_code verify(const ParsedJwt& jwt, const KeySet& keys, const VerifyPolicy& policy,
                       std::int64_t now_unix) {
  Alg alg{};
  if (auto ec = check_alg(jwt, keys, policy.allowed_algs, alg)) return ec;
  if (auto ec = check_type(jwt, policy)) return ec;
  auto key = keys.find(jwt.kid(), alg);
  if (!key) return key.error();
  if (auto ec = verify_jws_signature(alg, **key, jwt.signing_input(), jwt.signature())) return ec;
  return verify_claims(jwt, policy, now_unix);
}

}  // namespace authgate::auth
