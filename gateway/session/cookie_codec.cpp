#include "session/cookie_codec.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "auth/base64url.hpp"

namespace authgate::session {

namespace {

constexpr std::string_view kSessionLabel = "authgate-session-v1:";
constexpr std::string_view kLoginLabel = "authgate-login-v1:";
constexpr std::size_t kMacBytes = 32;  // SHA-256

using Mac = std::array<unsigned char, kMacBytes>;

constexpr bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxSignedIdLength) return false;
  for (char c : id)
    if (!is_base64url_char(c)) return false;
  return true;
}

// HMAC-SHA256(secret, label + id). False only when OpenSSL fails.
bool mac_of(std::string_view label, std::string_view id, std::string_view secret, Mac& out) {
  std::string msg;
  msg.reserve(label.size() + id.size());
  msg.append(label).append(id);
  unsigned int len = 0;
  // HMAC() wants a non-null key pointer even for an empty key.
  static constexpr unsigned char kEmpty = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&kEmpty) : secret.data();
  if (secret.size() > static_cast<std::size_t>(INT_MAX)) return false;
  if (!HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out.data(), &len) ||
      len != kMacBytes) {
    ERR_clear_error();
    return false;
  }
  return true;
}

std::string sign(std::string_view label, std::string_view id, std::string_view secret) {
  Mac mac{};
  if (!mac_of(label, id, secret, mac)) throw std::runtime_error("HMAC-SHA256 failed");
  std::string out(id);
  out += '.';
  out += auth::base64url_encode(std::span<const std::uint8_t>(mac.data(), mac.size()));
  return out;
}

std::optional<std::string> verify(std::string_view label, std::string_view value, std::string_view secret) {
  if (secret.empty()) return std::nullopt;
  const auto dot = value.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view id = value.substr(0, dot);
  const std::string_view mac_text = value.substr(dot + 1);
  if (!is_valid_id(id)) return std::nullopt;
  // 32 bytes are exactly 43 characters; checking first bounds the decode.
  if (mac_text.size() != (kMacBytes * 4 + 2) / 3) return std::nullopt;
  std::string got;
  if (!auth::base64url_decode(mac_text, got) || got.size() != kMacBytes) return std::nullopt;
  Mac want{};
  if (!mac_of(label, id, secret, want)) return std::nullopt;
  if (CRYPTO_memcmp(want.data(), got.data(), kMacBytes) != 0) return std::nullopt;
  return std::string(id);
}

std::string cookie_attributes(const config::SessionCookie& cookie, std::string_view value, long long max_age) {
  std::string out;
  out.reserve(cookie.name.size() + value.size() + 64);
  out.append(cookie.name).append("=").append(value);
  out.append("; Path=/; HttpOnly; SameSite=");
  out.append(cookie.same_site.empty() ? std::string_view("Lax") : std::string_view(cookie.same_site));
  if (cookie.secure) out.append("; Secure");
  out.append("; Max-Age=").append(std::to_string(max_age < 0 ? 0 : max_age));
  return out;
}

constexpr std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(pair, name, value, has_eq) for each non-empty trimmed ';'-separated pair.
template <class F>
void for_each_pair(std::string_view header, F&& f) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    const std::string_view pair = trim_ws(header.substr(0, semi));
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) {
        f(pair, std::string_view{}, std::string_view{}, false);
      } else {
        f(pair, trim_ws(pair.substr(0, eq)), trim_ws(pair.substr(eq + 1)), true);
      }
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
}

}  // namespace

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (bytes > static_cast<std::size_t>(INT_MAX) ||
      RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    ERR_clear_error();
    throw std::runtime_error("RAND_bytes failed: no random session id can be issued");
  }
  return auth::base64url_encode(raw);
}

std::string sign_session_id(std::string_view id, std::string_view secret) {
  return sign(kSessionLabel, id, secret);
}

std::optional<std::string> verify_session_cookie(std::string_view value, std::string_view secret) {
  return verify(kSessionLabel, value, secret);
}

std::string sign_login_state(std::string_view state, std::string_view secret) {
  return sign(kLoginLabel, state, secret);
}

std::optional<std::string> verify_login_cookie(std::string_view value, std::string_view secret) {
  return verify(kLoginLabel, value, secret);
}

std::string set_cookie_header(const config::SessionCookie& cookie, std::string_view value,
                              std::chrono::seconds max_age) {
  return cookie_attributes(cookie, value, static_cast<long long>(max_age.count()));
}

std::string clear_cookie_header(const config::SessionCookie& cookie) { return cookie_attributes(cookie, "", 0); }

std::vector<std::string_view> cookie_values(std::string_view cookie_header, std::string_view name) {
  std::vector<std::string_view> out;
  for_each_pair(cookie_header, [&](std::string_view, std::string_view n, std::string_view v, bool has_eq) {
    if (has_eq && n == name) out.push_back(v);
  });
  return out;
}

std::string strip_cookie(std::string_view cookie_header, std::string_view name) {
  std::string out;
  out.reserve(cookie_header.size());
  for_each_pair(cookie_header, [&](std::string_view pair, std::string_view n, std::string_view, bool has_eq) {
    if (has_eq && n == name) return;
    if (!out.empty()) out.append("; ");
    out.append(pair);
  });
  return out;
}

}  // namespace authgate::session
