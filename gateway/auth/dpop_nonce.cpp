#include "auth/dpop_nonce.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

#include "auth/base64url.hpp"

namespace authgate::auth {

namespace {

constexpr std::string_view kLabel = "authgate-dpop-nonce";
constexpr std::size_t kSlotBytes = 8;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kNonceBytes = kSlotBytes + kMacBytes;
constexpr std::size_t kNonceChars = 32;  // base64url of 24 bytes, no padding

using NonceBytes = std::array<std::uint8_t, kNonceBytes>;

// slot || HMAC-SHA-256(secret, label || slot)[0..16); false only when OpenSSL fails.
bool fill(std::string_view secret, std::uint64_t slot, NonceBytes& out) {
  for (std::size_t i = 0; i < kSlotBytes; ++i) out[i] = static_cast<std::uint8_t>(slot >> (8 * (kSlotBytes - 1 - i)));
  std::array<std::uint8_t, kLabel.size() + kSlotBytes> msg{};
  std::copy(kLabel.begin(), kLabel.end(), msg.begin());
  std::copy(out.begin(), out.begin() + kSlotBytes, msg.begin() + kLabel.size());
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned mac_len = 0;
  static constexpr char kEmpty = 0;  // HMAC() wants a non-null key pointer
  if (!HMAC(EVP_sha256(), secret.empty() ? &kEmpty : secret.data(), static_cast<int>(secret.size()), msg.data(),
            msg.size(), mac.data(), &mac_len) ||
      mac_len < kMacBytes)
    return false;
  std::copy(mac.begin(), mac.begin() + kMacBytes, out.begin() + kSlotBytes);
  return true;
}

}  // namespace

DpopNonces::DpopNonces(std::string secret, std::int64_t rotate_interval_seconds)
    : secret_(std::move(secret)), interval_(std::max<std::int64_t>(1, rotate_interval_seconds)) {}

std::int64_t DpopNonces::slot_of(std::int64_t now_unix) const {
  return now_unix >= 0 ? now_unix / interval_ : (now_unix - interval_ + 1) / interval_;
}

std::string DpopNonces::mint(std::int64_t now_unix) const {
  NonceBytes bytes{};
  if (!fill(secret_, static_cast<std::uint64_t>(slot_of(now_unix)), bytes)) return {};
  return base64url_encode(std::span<const std::uint8_t>(bytes));
}

common::Result<DpopNonces::Slot> DpopNonces::check(std::string_view nonce, std::int64_t now_unix) const {
  if (nonce.empty()) return auth_errc::dpop_nonce_missing;
  NonceBytes got{};
  std::size_t n = 0;
  if (nonce.size() != kNonceChars || !base64url_decode(nonce, reinterpret_cast<char*>(got.data()), n) ||
      n != kNonceBytes)
    return auth_errc::dpop_nonce_malformed;
  std::uint64_t slot = 0;
  for (std::size_t i = 0; i < kSlotBytes; ++i) slot = (slot << 8) | got[i];
  NonceBytes expected{};
  if (!fill(secret_, slot, expected) ||
      CRYPTO_memcmp(got.data() + kSlotBytes, expected.data() + kSlotBytes, kMacBytes) != 0)
    return auth_errc::dpop_nonce_invalid;
  const auto current = static_cast<std::uint64_t>(slot_of(now_unix));
  if (slot == current) return Slot::current;
  if (slot + 1 == current) return Slot::previous;
  return auth_errc::dpop_nonce_stale;
}

}  // namespace authgate::auth
