// OpenSSL ownership helpers for every module that calls OpenSSL directly (auth's
// JWK import and JWS verification, session's sealed records, the test signer):
// every OpenSSL object is a std::unique_ptr with a deleter, and failed EVP calls
// drain the thread's error queue.
//
//   ossl::md_ctx_ptr ctx(EVP_MD_CTX_new());
//   if (!ctx || EVP_DigestVerifyInit(ctx.get(), ...) != 1) { ossl::clear_errors(); return error; }
//
// Namespace authgate::ossl (not common::) so that code in any module writes
// ossl::pkey_ptr, as the auth module always has.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace authgate::ossl {

// One deleter type for every OpenSSL object: an overload per *_free function.
struct Free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const noexcept { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_KDF* p) const noexcept { EVP_KDF_free(p); }
  void operator()(EVP_KDF_CTX* p) const noexcept { EVP_KDF_CTX_free(p); }
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
  void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
  void operator()(BIO* p) const noexcept { BIO_free(p); }
  void operator()(X509* p) const noexcept { X509_free(p); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, Free>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, Free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, Free>;
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, Free>;
using kdf_ptr = std::unique_ptr<EVP_KDF, Free>;
using kdf_ctx_ptr = std::unique_ptr<EVP_KDF_CTX, Free>;
using bn_ptr = std::unique_ptr<BIGNUM, Free>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, Free>;
using params_ptr = std::unique_ptr<OSSL_PARAM, Free>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, Free>;
using bio_ptr = std::unique_ptr<BIO, Free>;

// Drains this thread's OpenSSL error queue into one line ("" when empty).
inline std::string last_error() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// Clears the queue without formatting (the hot-path variant: a rejected token is
// not an OpenSSL failure worth logging, but must not leave errors behind).
inline void clear_errors() noexcept { ERR_clear_error(); }

}  // namespace authgate::ossl
