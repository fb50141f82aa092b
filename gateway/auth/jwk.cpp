#include "auth/jwk.hpp"

#include "auth/base64url.hpp"
#include "common/ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/json/value.hpp>

#include <algorithm>

namespace authgate::auth {

namespace {

namespace json = boost::json;

std::error_code fail(auth_errc e) {
  ossl::clear_errors();
  return e;
}

// Optional string member: nullptr when absent; `bad` set when present but not a string.
const json::string* string_member(const json::object& obj, std::string_view name, bool& bad) {
  const json::value* v = obj.if_contains(name);
  if (!v) return nullptr;
  const json::string* s = v->if_string();
  if (!s) bad = true;
  return s;
}

bool decode_member(const json::object& obj, std::string_view name, std::string& out) {
  bool bad = false;
  const json::string* s = string_member(obj, name, bad);
  if (!s || bad || s->empty()) return false;
  return base64url_decode(std::string_view(s->data(), s->size()), out);
}

void strip_leading_zeros(std::string& bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && bytes[i] == '\0') ++i;
  bytes.erase(0, i);
}

std::size_t bit_length(const std::string& big_endian) {  // no leading zero bytes
  if (big_endian.empty()) return 0;
  auto top = static_cast<unsigned char>(big_endian[0]);
  std::size_t bits = (big_endian.size() - 1) * 8;
  while (top) {
    ++bits;
    top >>= 1;
  }
  return bits;
}

// EVP_PKEY_fromdata for a public key of the named type.
ossl::pkey_ptr pkey_from_params(const char* type_name, const OSSL_PARAM* params) {
  ossl::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) != 1) {
    return nullptr;
  }
  return ossl::pkey_ptr(raw);
}

// SP 800-56A rev. 3 §5.6.2.3.4 partial validation: not the point at infinity,
// coordinates below p, on the curve. Every curve accepted here has cofactor 1,
// so any such point has order n and the full check's n·Q = O (a whole scalar
// multiplication, about as costly as the ECDSA verify itself) proves nothing more.
bool public_check(EVP_PKEY* pkey) {
  ossl::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  return ctx && EVP_PKEY_public_check_quick(ctx.get()) == 1;
}

bool fits(Alg alg, KeyType type, Curve curve) {
  switch (family(alg)) {
    case AlgFamily::rsa_pkcs1:
    case AlgFamily::rsa_pss: return type == KeyType::rsa;
    case AlgFamily::ecdsa:
      return type == KeyType::ec && ((alg == Alg::ES256 && curve == Curve::p256) ||
                                     (alg == Alg::ES384 && curve == Curve::p384) ||
                                     (alg == Alg::ES512 && curve == Curve::p521));
    case AlgFamily::eddsa: return type == KeyType::okp && curve == Curve::ed25519;
    case AlgFamily::hmac: return type == KeyType::oct;
  }
  return false;
}

}  // namespace

// --- SecretBytes ---

SecretBytes::SecretBytes(std::string_view bytes)
    : bytes_(reinterpret_cast<const std::uint8_t*>(bytes.data()),
             reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size()) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

void SecretBytes::wipe() noexcept {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

// --- Jwk ---

void Jwk::PkeyFree::operator()(evp_pkey_st* p) const noexcept { EVP_PKEY_free(p); }

Jwk::~Jwk() = default;

bool Jwk::compatible_with(Alg alg) const {
  if (alg_ && *alg_ != alg) return false;
  if (!fits(alg, type_, curve_)) return false;
  if (type_ == KeyType::oct) return secret_.bytes().size() >= hash_size(alg);
  return true;
}

Jwk::Result Jwk::from_hmac_secret(std::string_view secret, std::optional<std::string> kid,
                                  const KeyOptions& options) {
  if (secret.empty()) return fail(auth_errc::jwk_invalid);
  if (secret.size() < options.min_hmac_bytes) return fail(auth_errc::jwk_too_weak);
  Jwk key;
  key.kid_ = std::move(kid);
  key.type_ = KeyType::oct;
  key.bits_ = secret.size() * 8;
  key.secret_ = SecretBytes(secret);
  return key;
}

Jwk::Result Jwk::from_json(const json::object& jwk, const KeyOptions& options) {
  bool bad = false;

  // kty, and the family this set accepts.
  const json::string* kty = string_member(jwk, "kty", bad);
  if (!kty || bad) return fail(auth_errc::jwk_invalid);
  KeyType type;
  if (*kty == "RSA") {
    type = KeyType::rsa;
  } else if (*kty == "EC") {
    type = KeyType::ec;
  } else if (*kty == "OKP") {
    type = KeyType::okp;
  } else if (*kty == "oct") {
    type = KeyType::oct;
  } else {
    return fail(auth_errc::jwk_unsupported);
  }
  const bool is_secret = type == KeyType::oct;
  if (is_secret != (options.family == KeyFamily::hmac)) return fail(auth_errc::jwk_unsupported);

  // Intended use.
  if (const json::string* use = string_member(jwk, "use", bad); bad) {
    return fail(auth_errc::jwk_invalid);
  } else if (use && *use != "sig") {
    return fail(auth_errc::key_mismatch);
  }
  if (const json::value* ops = jwk.if_contains("key_ops")) {
    const json::array* arr = ops->if_array();
    if (!arr) return fail(auth_errc::jwk_invalid);
    bool verify = false;
    for (const json::value& op : *arr) {
      const json::string* s = op.if_string();
      if (!s) return fail(auth_errc::jwk_invalid);
      if (*s == "verify") verify = true;
    }
    if (!verify) return fail(auth_errc::key_mismatch);
  }

  Jwk key;
  key.type_ = type;
  if (const json::string* kid = string_member(jwk, "kid", bad); bad) {
    return fail(auth_errc::jwk_invalid);
  } else if (kid) {
    key.kid_.emplace(kid->data(), kid->size());
  }
  if (const json::string* alg = string_member(jwk, "alg", bad); bad) {
    return fail(auth_errc::jwk_invalid);
  } else if (alg) {
    key.alg_ = alg_from_string(std::string_view(alg->data(), alg->size()));
    if (!key.alg_) return fail(auth_errc::jwk_unsupported);
  }

  // Key material.
  switch (type) {
    case KeyType::rsa: {
      std::string n, e;
      if (!decode_member(jwk, "n", n) || !decode_member(jwk, "e", e)) {
        return fail(auth_errc::jwk_invalid);
      }
      strip_leading_zeros(n);
      strip_leading_zeros(e);
      if (n.empty() || e.empty() || e.size() > 8) return fail(auth_errc::jwk_invalid);
      if ((static_cast<unsigned char>(n.back()) & 1) == 0) return fail(auth_errc::jwk_invalid);
      if ((static_cast<unsigned char>(e.back()) & 1) == 0 || (e.size() == 1 && e[0] == 1)) {
        return fail(auth_errc::jwk_invalid);
      }
      key.bits_ = bit_length(n);
      if (key.bits_ < options.min_rsa_bits) return fail(auth_errc::jwk_too_weak);
      if (key.bits_ > options.max_rsa_bits) return fail(auth_errc::jwk_unsupported);

      ossl::bn_ptr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                                  static_cast<int>(n.size()), nullptr));
      ossl::bn_ptr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                                  static_cast<int>(e.size()), nullptr));
      ossl::param_bld_ptr bld(OSSL_PARAM_BLD_new());
      if (!bn_n || !bn_e || !bld ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
        return fail(auth_errc::jwk_invalid);
      }
      ossl::params_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
      if (!params) return fail(auth_errc::jwk_invalid);
      ossl::pkey_ptr pkey = pkey_from_params("RSA", params.get());
      if (!pkey) return fail(auth_errc::jwk_invalid);
      key.pkey_.reset(pkey.release());
      break;
    }
    case KeyType::ec: {
      const json::string* crv = string_member(jwk, "crv", bad);
      if (!crv || bad) return fail(auth_errc::jwk_invalid);
      struct CurveInfo {
        std::string_view jwk_name;
        Curve curve;
        const char* group;  // OpenSSL group name
        std::size_t size;   // coordinate bytes
        std::size_t bits;
      };
      static constexpr CurveInfo kCurves[] = {{"P-256", Curve::p256, "prime256v1", 32, 256},
                                              {"P-384", Curve::p384, "secp384r1", 48, 384},
                                              {"P-521", Curve::p521, "secp521r1", 66, 521}};
      const CurveInfo* info = nullptr;
      for (const CurveInfo& c : kCurves) {
        if (std::string_view(crv->data(), crv->size()) == c.jwk_name) info = &c;
      }
      if (!info) return fail(auth_errc::jwk_unsupported);  // secp256k1, ...
      key.curve_ = info->curve;
      key.bits_ = info->bits;
      const char* group = info->group;
      const std::size_t size = info->size;
      std::string x, y;
      if (!decode_member(jwk, "x", x) || !decode_member(jwk, "y", y)) {
        return fail(auth_errc::jwk_invalid);
      }
      // RFC 7518 §6.2.1.2: the full field size, leading zeros included.
      if (x.size() != size || y.size() != size) return fail(auth_errc::jwk_invalid);
      std::string point;
      point.reserve(1 + 2 * size);
      point.push_back('\x04');  // uncompressed SEC1 point
      point += x;
      point += y;
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
          OSSL_PARAM_construct_end()};
      ossl::pkey_ptr pkey = pkey_from_params("EC", params);
      // fromdata already refuses a point off the curve; the public check also
      // covers the point at infinity (and, the cofactor being 1, the subgroup).
      if (!pkey || !public_check(pkey.get())) return fail(auth_errc::jwk_invalid);
      key.pkey_.reset(pkey.release());
      break;
    }
    case KeyType::okp: {
      const json::string* crv = string_member(jwk, "crv", bad);
      if (!crv || bad) return fail(auth_errc::jwk_invalid);
      if (*crv != "Ed25519") return fail(auth_errc::jwk_unsupported);  // Ed448, X25519, X448
      key.curve_ = Curve::ed25519;
      key.bits_ = 256;
      std::string x;
      if (!decode_member(jwk, "x", x) || x.size() != 32) return fail(auth_errc::jwk_invalid);
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, x.data(), x.size()),
          OSSL_PARAM_construct_end()};
      ossl::pkey_ptr pkey = pkey_from_params("ED25519", params);
      if (!pkey) return fail(auth_errc::jwk_invalid);
      key.pkey_.reset(pkey.release());
      break;
    }
    case KeyType::oct: {
      std::string k;
      if (!decode_member(jwk, "k", k)) return fail(auth_errc::jwk_invalid);
      if (k.size() < options.min_hmac_bytes) {
        OPENSSL_cleanse(k.data(), k.size());
        return fail(auth_errc::jwk_too_weak);
      }
      key.bits_ = k.size() * 8;
      key.secret_ = SecretBytes(k);
      OPENSSL_cleanse(k.data(), k.size());
      break;
    }
  }

  // The key's own alg must fit its type, and be allowed.
  if (key.alg_) {
    if (!fits(*key.alg_, key.type_, key.curve_)) return fail(auth_errc::key_mismatch);
    if (!options.allowed_algs.empty() &&
        std::find(options.allowed_algs.begin(), options.allowed_algs.end(), *key.alg_) ==
            options.allowed_algs.end()) {
      return fail(auth_errc::alg_not_allowed);
    }
  }
  return key;
}

std::string sha256_base64url(std::string_view bytes) {
  // Fetched once: EVP_sha256() makes EVP_Digest fetch the implementation on every call.
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!sha256 || EVP_Digest(bytes.data(), bytes.size(), md, &len, sha256, nullptr) != 1) {
    ossl::clear_errors();
    return {};
  }
  return base64url_encode(std::span<const std::uint8_t>(md, len));
}

common::Result<std::string> jwk_thumbprint(const json::object& jwk) {
  bool bad = false;
  const json::string* kty = string_member(jwk, "kty", bad);
  if (!kty || bad) return fail(auth_errc::jwk_invalid);
  static constexpr std::string_view kRsa[] = {"e", "kty", "n"};
  static constexpr std::string_view kEc[] = {"crv", "kty", "x", "y"};
  static constexpr std::string_view kOkp[] = {"crv", "kty", "x"};
  static constexpr std::string_view kOct[] = {"k", "kty"};
  std::span<const std::string_view> members;
  if (*kty == "RSA") members = kRsa;
  else if (*kty == "EC") members = kEc;
  else if (*kty == "OKP") members = kOkp;
  else if (*kty == "oct") members = kOct;
  else return fail(auth_errc::jwk_unsupported);
  // RFC 7638 §3.3: lexicographic member order, no whitespace. Every accepted
  // value is base64url or a name, so no JSON escaping is ever needed; a value
  // that would need it is refused rather than escaped differently from others.
  std::string text = "{";
  for (std::string_view name : members) {
    const json::string* v = string_member(jwk, name, bad);
    if (!v || bad) return fail(auth_errc::jwk_invalid);
    for (unsigned char c : *v)
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7F) return fail(auth_errc::jwk_invalid);
    if (text.size() > 1) text += ',';
    text.append("\"").append(name).append("\":\"").append(v->data(), v->size()).append("\"");
  }
  text += '}';
  return sha256_base64url(text);
}

}  // namespace authgate::auth
