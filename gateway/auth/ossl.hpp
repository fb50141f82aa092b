// OpenSSL ownership helpers for the auth module's .cpp files (habit 7): every
// OpenSSL object is a std::unique_ptr with a deleter, and failed EVP calls drain
// the thread's error queue. Internal: include only from gateway/auth/*.cpp.
//
// TODO(auth): move to gateway/common/ossl.hpp when a second module (session
// cookies, TLS) needs it; it lives here because this change may only add files
// under gateway/auth/.
#pragma once

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>

namespace authgate::auth::ossl {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct ParamsFree {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using bn_ptr = std::unique_ptr<BIGNUM, BnFree>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using params_ptr = std::unique_ptr<OSSL_PARAM, ParamsFree>;

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

}  // namespace authgate::auth::ossl
