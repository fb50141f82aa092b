#include "test_signer.hpp"

#include "auth/base64url.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <stdexcept>

namespace authgate::auth::test {

namespace {

[[noreturn]] void die(const char* what) {
  char buf[256] = {0};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  throw std::runtime_error(std::string("test_signer: ") + what + ": " + buf);
}

ossl::bn_ptr get_bn(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) die(name);
  return ossl::bn_ptr(bn);
}

std::string bn_bytes(const BIGNUM* bn, int pad = 0) {
  const int len = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(len), '\0');
  if (pad > 0) {
    if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad) != pad) die("bn2binpad");
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

const EVP_MD* md_for(std::string_view alg) {
  if (alg.ends_with("256")) return EVP_sha256();
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  return nullptr;  // EdDSA
}

std::size_t ecdsa_half(std::string_view alg) {
  if (alg == "ES256") return 32;
  if (alg == "ES384") return 48;
  if (alg == "ES512") return 66;
  return 0;
}

}  // namespace

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }

std::string TestKey::public_jwk(std::string_view extra) const {
  std::string out = "{";
  switch (type) {
    case TestKeyType::rsa: {
      auto n = get_bn(pkey.get(), OSSL_PKEY_PARAM_RSA_N);
      auto e = get_bn(pkey.get(), OSSL_PKEY_PARAM_RSA_E);
      out += R"("kty":"RSA","n":")" + b64(bn_bytes(n.get())) + R"(","e":")" + b64(bn_bytes(e.get())) + "\"";
      break;
    }
    case TestKeyType::ec: {
      auto x = get_bn(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X);
      auto y = get_bn(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
      const int n = static_cast<int>(coordinate);
      out += R"("kty":"EC","crv":")" + crv + R"(","x":")" + b64(bn_bytes(x.get(), n)) + R"(","y":")" +
             b64(bn_bytes(y.get(), n)) + "\"";
      break;
    }
    case TestKeyType::ed25519: {
      unsigned char pub[32];
      std::size_t len = 0;
      if (EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len) != 1 ||
          len != 32) {
        die("ed25519 pub");
      }
      out += R"("kty":"OKP","crv":"Ed25519","x":")" +
             b64(std::string_view(reinterpret_cast<const char*>(pub), len)) + "\"";
      break;
    }
  }
  if (!kid.empty()) out += R"(,"kid":")" + kid + "\"";
  if (!extra.empty()) {
    out += ",";
    out += extra;
  }
  out += "}";
  return out;
}

TestKey make_rsa(int bits, std::string kid) {
  TestKey k;
  k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
  if (!k.pkey) die("rsa keygen");
  k.type = TestKeyType::rsa;
  k.kid = std::move(kid);
  return k;
}

TestKey make_ec(std::string_view crv, std::string kid) {
  TestKey k;
  const char* group = crv == "P-256" ? "P-256" : crv == "P-384" ? "P-384" : "P-521";
  k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
  if (!k.pkey) die("ec keygen");
  k.type = TestKeyType::ec;
  k.crv = std::string(crv);
  k.coordinate = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 66;
  k.kid = std::move(kid);
  return k;
}

TestKey make_ed25519(std::string kid) {
  TestKey k;
  k.pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!k.pkey) die("ed25519 keygen");
  k.type = TestKeyType::ed25519;
  k.crv = "Ed25519";
  k.kid = std::move(kid);
  return k;
}

const TestKey& rsa2048() {
  static const TestKey k = make_rsa(2048, "rsa-1");
  return k;
}
const TestKey& rsa2048_b() {
  static const TestKey k = make_rsa(2048, "rsa-2");
  return k;
}
const TestKey& p256() {
  static const TestKey k = make_ec("P-256", "ec-256");
  return k;
}
const TestKey& p384() {
  static const TestKey k = make_ec("P-384", "ec-384");
  return k;
}
const TestKey& ed25519() {
  static const TestKey k = make_ed25519("ed-1");
  return k;
}

std::string ecdsa_der_to_raw(std::string_view der, std::size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const ossl::ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) die("d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return bn_bytes(r, static_cast<int>(n)) + bn_bytes(s, static_cast<int>(n));
}

std::string sign(const TestKey& key, std::string_view alg, std::string_view input, bool ecdsa_der) {
  const ossl::md_ctx_ptr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = key.type == TestKeyType::ed25519 ? nullptr : md_for(alg);
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key.pkey.get()) != 1) die("DigestSignInit");
  if (alg.starts_with("PS")) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      die("pss params");
    }
  }
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) die("DigestSign size");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1) {
    die("DigestSign");
  }
  sig.resize(len);
  if (key.type == TestKeyType::ec && !ecdsa_der) {
    const std::size_t half = ecdsa_half(alg) ? ecdsa_half(alg) : key.coordinate;
    return ecdsa_der_to_raw(sig, half);
  }
  return sig;
}

std::string hmac(std::string_view alg, std::string_view secret, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(md_for(alg), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len)) {
    die("HMAC");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string assemble(std::string_view header_json, std::string_view payload_json,
                     std::string_view signature_bytes) {
  return b64(header_json) + "." + b64(payload_json) + "." + b64(signature_bytes);
}

std::string mint(const TestKey& key, std::string_view alg, std::string_view header_json,
                 std::string_view payload_json) {
  const std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + b64(sign(key, alg, input));
}

std::string mint_hmac(std::string_view alg, std::string_view secret, std::string_view header_json,
                      std::string_view payload_json) {
  const std::string input = b64(header_json) + "." + b64(payload_json);
  return input + "." + b64(hmac(alg, secret, input));
}

std::string jwks_of(const std::vector<std::string>& jwks) {
  std::string out = R"({"keys":[)";
  for (std::size_t i = 0; i < jwks.size(); ++i) {
    if (i) out += ",";
    out += jwks[i];
  }
  out += "]}";
  return out;
}

}  // namespace authgate::auth::test
