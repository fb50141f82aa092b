// Unit tests for auth/dpop_nonce: the stateless DPoP server nonce (RFC 9449 §8),
// with a fixed clock. One test per rejection reason, and the rotation boundaries.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "auth/auth_errc.hpp"
#include "auth/base64url.hpp"
#include "auth/dpop_nonce.hpp"

namespace authgate::auth {
namespace {

constexpr std::int64_t kInterval = 300;             // 5m, the default rotate_interval
constexpr std::int64_t kSlotStart = 1'700'000'100;  // a multiple of 300
const std::string kSecret = "fleet-shared-dpop-nonce-secret-0123456789";

TEST(DpopNonce, MintedNonceIsAcceptedInItsSlotAsCurrent) {
  const DpopNonces nonces(kSecret, kInterval);
  const std::string n = nonces.mint(kSlotStart + 10);
  EXPECT_EQ(n.size(), 32u);
  // RFC 9449 §8.1: NQCHAR only (base64url is a subset).
  for (char ch : n) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') << n;
  auto slot = nonces.check(n, kSlotStart + 10);
  ASSERT_TRUE(slot) << slot.error().message();
  EXPECT_EQ(*slot, DpopNonces::Slot::current);
  // The same slot mints the same nonce (what lets a fleet share it), the next one another.
  EXPECT_EQ(nonces.mint(kSlotStart), n);
  EXPECT_EQ(nonces.mint(kSlotStart + kInterval - 1), n);
  EXPECT_NE(nonces.mint(kSlotStart + kInterval), n);
}

TEST(DpopNonce, RotationBoundaries) {
  const DpopNonces nonces(kSecret, kInterval);
  const std::string n = nonces.mint(kSlotStart);
  // Last second of its slot: current. First second of the next: previous (still accepted,
  // and the caller sends a fresh one). Last second of the next: previous.
  EXPECT_EQ(*nonces.check(n, kSlotStart + kInterval - 1), DpopNonces::Slot::current);
  EXPECT_EQ(*nonces.check(n, kSlotStart + kInterval), DpopNonces::Slot::previous);
  EXPECT_EQ(*nonces.check(n, kSlotStart + 2 * kInterval - 1), DpopNonces::Slot::previous);
  // The slot after that: expired.
  auto late = nonces.check(n, kSlotStart + 2 * kInterval);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), auth_errc::dpop_nonce_stale);
  // A nonce minted by an instance whose clock runs ahead into the next slot: not accepted yet.
  auto early = nonces.check(n, kSlotStart - 1);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error(), auth_errc::dpop_nonce_stale);
}

TEST(DpopNonce, MissingIsRefused) {
  const DpopNonces nonces(kSecret, kInterval);
  auto r = nonces.check("", kSlotStart);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), auth_errc::dpop_nonce_missing);
  EXPECT_TRUE(is_dpop_nonce_error(r.error()));
  EXPECT_FALSE(is_dpop_proof_error(r.error()));
}

TEST(DpopNonce, MalformedIsRefused) {
  const DpopNonces nonces(kSecret, kInterval);
  const std::string good = nonces.mint(kSlotStart);
  for (const std::string& bad : {std::string("x"), good.substr(1), good + "A", "!" + good.substr(1),
                                 std::string(32, '='), std::string(64, 'A')}) {
    auto r = nonces.check(bad, kSlotStart);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), auth_errc::dpop_nonce_malformed) << bad;
  }
}

TEST(DpopNonce, ExpiredSlotIsRefused) {
  const DpopNonces nonces(kSecret, kInterval);
  const std::string old = nonces.mint(kSlotStart - 2 * kInterval);
  auto r = nonces.check(old, kSlotStart);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), auth_errc::dpop_nonce_stale);
}

TEST(DpopNonce, WrongKeyIsRefused) {
  const DpopNonces ours(kSecret, kInterval);
  const DpopNonces theirs("another-fleet-secret-0123456789abcdef012345", kInterval);
  auto r = ours.check(theirs.mint(kSlotStart), kSlotStart);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), auth_errc::dpop_nonce_invalid);
}

TEST(DpopNonce, EveryFlippedMacBitOrMovedSlotIsRefused) {
  const DpopNonces nonces(kSecret, kInterval);
  std::string bytes;
  ASSERT_TRUE(base64url_decode(nonces.mint(kSlotStart), bytes));
  ASSERT_EQ(bytes.size(), 24u);
  for (std::size_t i = 0; i < bytes.size() * 8; ++i) {
    std::string mutated = bytes;
    mutated[i / 8] = static_cast<char>(mutated[i / 8] ^ (1 << (i % 8)));
    auto r = nonces.check(base64url_encode(mutated), kSlotStart);
    ASSERT_FALSE(r) << "bit " << i;
    // A changed slot (bytes 0-7) no longer matches its MAC either: the MAC covers the slot.
    EXPECT_EQ(r.error(), auth_errc::dpop_nonce_invalid) << "bit " << i;
  }
}

TEST(DpopNonce, SameSecretOnTwoInstancesAgrees) {
  const DpopNonces a(kSecret, kInterval);
  const DpopNonces b(kSecret, kInterval);
  EXPECT_EQ(*b.check(a.mint(kSlotStart + 7), kSlotStart + 8), DpopNonces::Slot::current);
}

}  // namespace
}  // namespace authgate::auth
