#include "session/sealed_record.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "common/hex.hpp"
#include "common/ossl.hpp"

namespace authgate::session {

namespace {

constexpr std::string_view kVersion = "v1";
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string get_string(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::int64_t get_int(const boost::json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->get_int64() : 0;
}
std::optional<boost::json::object> parse_object(std::string_view json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, std::size_t length) {
  ossl::kdf_ptr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) throw std::runtime_error("OpenSSL has no HKDF");
  ossl::kdf_ctx_ptr ctx(EVP_KDF_CTX_new(kdf.get()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  std::string out(length, '\0');
  if (!ctx || EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) != 1)
    throw std::runtime_error("HKDF derivation failed");
  return out;
}

StoreKey derive_store_key(std::string_view cookie_secret) {
  const std::string k = hkdf_sha256(cookie_secret, "authgate-session-store", "aes-256-gcm v1", 32);
  StoreKey key{};
  std::copy(k.begin(), k.end(), key.begin());
  return key;
}

std::string seal(const StoreKey& key, std::string_view aad, std::string_view plaintext, std::string_view nonce) {
  unsigned char iv[kNonce];
  if (nonce.size() == kNonce) std::copy(nonce.begin(), nonce.end(), iv);
  else if (RAND_bytes(iv, kNonce) != 1) throw std::runtime_error("RAND_bytes failed");
  ossl::cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
  std::string out(kVersion);
  out.append(reinterpret_cast<const char*>(iv), kNonce);
  const std::size_t body = out.size();
  out.resize(body + plaintext.size() + kTag);
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), dst + body, &len, bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), dst + body + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, dst + body + plaintext.size()) != 1)
    throw std::runtime_error("AES-256-GCM sealing failed");
  return out;
}

std::optional<std::string> open(const StoreKey& key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kVersion.size() + kNonce + kTag || !sealed.starts_with(kVersion)) return std::nullopt;
  const auto* iv = bytes(sealed.substr(kVersion.size(), kNonce));
  const std::string_view ct = sealed.substr(kVersion.size() + kNonce, sealed.size() - kVersion.size() - kNonce - kTag);
  std::string tag(sealed.substr(sealed.size() - kTag));
  ossl::cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
  std::string out(ct.size(), '\0');
  int len = 0, fin = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), iv) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, bytes(ct),
                        static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1)
    return std::nullopt;
  return out;
}

std::string encode_session(const Session& s) {
  boost::json::object o;
  o["id"] = s.id;
  o["sub"] = s.sub;
  o["name"] = s.name;
  o["email"] = s.email;
  o["at"] = s.access_token;
  o["rt"] = s.refresh_token;
  o["idt"] = s.id_token;
  o["scope"] = s.scope;
  o["exp"] = s.access_expires_at;
  o["life"] = s.access_lifetime;
  o["created"] = s.created_at;
  o["seen"] = s.last_seen_at;
  return boost::json::serialize(o);
}

std::optional<Session> decode_session(std::string_view json) {
  auto o = parse_object(json);
  if (!o || !o->contains("id") || !o->contains("created")) return std::nullopt;
  Session s;
  s.id = get_string(*o, "id");
  s.sub = get_string(*o, "sub");
  s.name = get_string(*o, "name");
  s.email = get_string(*o, "email");
  s.access_token = get_string(*o, "at");
  s.refresh_token = get_string(*o, "rt");
  s.id_token = get_string(*o, "idt");
  s.scope = get_string(*o, "scope");
  s.access_expires_at = get_int(*o, "exp");
  s.access_lifetime = get_int(*o, "life");  // 0 in records written before it existed
  s.created_at = get_int(*o, "created");
  s.last_seen_at = get_int(*o, "seen");
  return s;
}

std::string encode_login(const LoginState& l) {
  boost::json::object o;
  o["state"] = l.state;
  o["verifier"] = l.verifier;
  o["nonce"] = l.nonce;
  o["redirect"] = l.redirect;
  o["created"] = l.created_at;
  return boost::json::serialize(o);
}

std::optional<LoginState> decode_login(std::string_view json) {
  auto o = parse_object(json);
  if (!o || !o->contains("state") || !o->contains("created")) return std::nullopt;
  LoginState l;
  l.state = get_string(*o, "state");
  l.verifier = get_string(*o, "verifier");
  l.nonce = get_string(*o, "nonce");
  l.redirect = get_string(*o, "redirect");
  l.created_at = get_int(*o, "created");
  return l;
}

std::string hashed_id(std::string_view id) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(bytes(id), id.size(), d);
  return common::hex_encode(d);
}

}  // namespace authgate::session
