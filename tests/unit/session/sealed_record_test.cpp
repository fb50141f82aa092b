// Unit tests for session/sealed_record: HKDF-SHA256 against RFC 5869 Appendix A
// (test cases 1-3), AES-256-GCM against the GCM specification's test cases
// (McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13, 14
// and 16: 256-bit keys), each vector also checked with python3's
// `cryptography` (AESGCM, HKDF) before being written here; open() refusing
// every tampered region of a blob, a truncated blob, another AAD and another
// key; the store key derivation; the JSON records and the hashed id.
#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/hex.hpp"
#include "session/sealed_record.hpp"

namespace {

namespace sr = authgate::session;
using sr::LoginState;
using sr::Session;
using sr::StoreKey;

std::string unhex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  return out;
}

std::string tohex(std::string_view bytes) { return authgate::common::hex_encode(bytes); }

std::string range_bytes(int first, int last_inclusive) {
  std::string out;
  for (int b = first; b <= last_inclusive; ++b) out += static_cast<char>(b);
  return out;
}

StoreKey key_from_hex(std::string_view hex) {
  const std::string raw = unhex(hex);
  StoreKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(raw[i]);
  return k;
}

const StoreKey kZeroKey{};
const std::string kZeroNonce(12, '\0');

// A blob of a non-empty plaintext under a fixed key, nonce and AAD.
const StoreKey kKey = key_from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
constexpr std::string_view kAad = "authgate:s:0123";
constexpr std::string_view kPlain = "{\"id\":\"x\",\"at\":\"secret-access-token\"}";

std::string sealed_fixture() { return sr::seal(kKey, kAad, kPlain); }

// Every byte in [from, to) with one bit flipped (low and high bit) must not open.
void expect_every_flip_refused(std::size_t from, std::size_t to) {
  const std::string blob = sealed_fixture();
  ASSERT_TRUE(sr::open(kKey, kAad, blob).has_value());  // the untouched blob opens
  ASSERT_LE(to, blob.size());
  for (std::size_t i = from; i < to; ++i) {
    for (unsigned char bit : {0x01, 0x80}) {
      std::string bad = blob;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ bit);
      EXPECT_FALSE(sr::open(kKey, kAad, bad).has_value()) << "byte " << i << " bit " << int(bit);
    }
  }
}

// ---------------------------------------------------------------------------
// RFC 5869 Appendix A, the SHA-256 cases.

TEST(Hkdf, Rfc5869TestCase1) {
  const std::string ikm(22, '\x0b');
  const std::string salt = unhex("000102030405060708090a0b0c");
  const std::string info = unhex("f0f1f2f3f4f5f6f7f8f9");
  EXPECT_EQ(tohex(sr::hkdf_sha256(ikm, salt, info, 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, Rfc5869TestCase2LongInputs) {
  const std::string ikm = range_bytes(0x00, 0x4f);
  const std::string salt = range_bytes(0x60, 0xaf);
  const std::string info = range_bytes(0xb0, 0xff);
  ASSERT_EQ(ikm.size(), 80u);
  ASSERT_EQ(salt.size(), 80u);
  ASSERT_EQ(info.size(), 80u);
  EXPECT_EQ(tohex(sr::hkdf_sha256(ikm, salt, info, 82)),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(Hkdf, Rfc5869TestCase3EmptySaltAndInfo) {
  const std::string ikm(22, '\x0b');
  EXPECT_EQ(tohex(sr::hkdf_sha256(ikm, "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// ---------------------------------------------------------------------------
// AES-256-GCM known answers; the blob is "v1" || nonce || ciphertext || tag.

TEST(SealKnownAnswer, GcmTestCase13EmptyPlaintext) {
  const std::string blob = sr::seal(kZeroKey, "", "", kZeroNonce);
  EXPECT_EQ(tohex(blob), tohex("v1") + "000000000000000000000000" + "530f8afbc74536b9a963b4f1c4cb738b");
  const auto opened = sr::open(kZeroKey, "", blob);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "");
}

TEST(SealKnownAnswer, GcmTestCase14SixteenZeroBytes) {
  const std::string plain(16, '\0');
  const std::string blob = sr::seal(kZeroKey, "", plain, kZeroNonce);
  EXPECT_EQ(tohex(blob), tohex("v1") + "000000000000000000000000" + "cea7403d4d606b6e074ec5d3baf39d18" +
                             "d0d1c8a799996bf0265b98b5d48ab919");
  const auto opened = sr::open(kZeroKey, "", blob);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plain);
}

TEST(SealKnownAnswer, GcmTestCase16WithAad) {
  const StoreKey key = key_from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const std::string iv = unhex("cafebabefacedbaddecaf888");
  const std::string plain = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const std::string aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string blob = sr::seal(key, aad, plain, iv);
  EXPECT_EQ(tohex(blob), tohex("v1") + "cafebabefacedbaddecaf888" +
                             "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
                             "76fc6ece0f4e1768cddf8853bb2d551b");
  const auto opened = sr::open(key, aad, blob);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, plain);
}

// ---------------------------------------------------------------------------
// seal/open with random nonces.

TEST(SealOpen, RoundTripAndLayout) {
  const std::string blob = sealed_fixture();
  EXPECT_EQ(blob.size(), 2 + 12 + kPlain.size() + 16);
  EXPECT_EQ(blob.substr(0, 2), "v1");
  EXPECT_EQ(blob.find(kPlain), std::string::npos);  // not in the clear
  const auto opened = sr::open(kKey, kAad, blob);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, kPlain);
}

TEST(SealOpen, RandomNoncesDifferBetweenSealsOfTheSamePlaintext) {
  const std::string a = sealed_fixture();
  const std::string b = sealed_fixture();
  EXPECT_NE(a.substr(2, 12), b.substr(2, 12));
  EXPECT_NE(a, b);
  EXPECT_EQ(sr::open(kKey, kAad, a), std::optional<std::string>(kPlain));
  EXPECT_EQ(sr::open(kKey, kAad, b), std::optional<std::string>(kPlain));
}

TEST(SealOpen, RefusesAFlippedBitInTheVersion) { expect_every_flip_refused(0, 2); }

TEST(SealOpen, RefusesAFlippedBitInTheNonce) { expect_every_flip_refused(2, 14); }

TEST(SealOpen, RefusesAFlippedBitInTheCiphertext) { expect_every_flip_refused(14, 14 + kPlain.size()); }

TEST(SealOpen, RefusesAFlippedBitInTheTag) {
  expect_every_flip_refused(14 + kPlain.size(), 14 + kPlain.size() + 16);
}

TEST(SealOpen, RefusesATruncatedBlob) {
  const std::string blob = sealed_fixture();
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{14}, std::size_t{29},
                          std::size_t{30}, blob.size() - 16, blob.size() - 1}) {
    EXPECT_FALSE(sr::open(kKey, kAad, blob.substr(0, len)).has_value()) << "length " << len;
  }
  // A byte appended is refused too (the tag is then read from the wrong place).
  EXPECT_FALSE(sr::open(kKey, kAad, blob + "x").has_value());
}

TEST(SealOpen, RefusesAnotherAad) {
  const std::string blob = sealed_fixture();
  EXPECT_FALSE(sr::open(kKey, "authgate:s:0124", blob).has_value());
  EXPECT_FALSE(sr::open(kKey, "", blob).has_value());
  // A blob sealed with an AAD does not open without one, nor the reverse.
  EXPECT_FALSE(sr::open(kKey, "", sr::seal(kKey, "aad", "plaintext")).has_value());
  EXPECT_FALSE(sr::open(kKey, "aad", sr::seal(kKey, "", "plaintext")).has_value());
}

TEST(SealOpen, RefusesAnotherKey) {
  const std::string blob = sealed_fixture();
  StoreKey other = kKey;
  other[31] ^= 0x01;
  EXPECT_FALSE(sr::open(other, kAad, blob).has_value());
  EXPECT_FALSE(sr::open(sr::derive_store_key("another cookie secret of 32+ bytes"), kAad, blob).has_value());
}

// ---------------------------------------------------------------------------
// The store key.

TEST(StoreKeyDerivation, IsHkdfOfTheCookieSecretWithTheDocumentedSaltAndInfo) {
  const std::string secret = "a-cookie-secret-of-at-least-thirty-two-bytes";
  const StoreKey k = sr::derive_store_key(secret);
  const std::string expected = sr::hkdf_sha256(secret, "authgate-session-store", "aes-256-gcm v1", 32);
  EXPECT_EQ(tohex(std::string_view(reinterpret_cast<const char*>(k.data()), k.size())), tohex(expected));
  // Pinned independently (python3 cryptography HKDF, same inputs), so a
  // change of salt or info cannot go unnoticed even if hkdf_sha256 changed too.
  EXPECT_EQ(tohex(expected), "e666b3ca394188d6b80759150daafebac58a6b09c06678ff35ed0e581d600bcb");
}

TEST(StoreKeyDerivation, IsDeterministic) {
  EXPECT_EQ(sr::derive_store_key("0123456789abcdef0123456789abcdef"),
            sr::derive_store_key("0123456789abcdef0123456789abcdef"));
}

TEST(StoreKeyDerivation, DiffersForDifferentSecrets) {
  EXPECT_NE(sr::derive_store_key("0123456789abcdef0123456789abcdef"),
            sr::derive_store_key("0123456789abcdef0123456789abcdeg"));
}

// ---------------------------------------------------------------------------
// Records.

TEST(SessionRecord, RoundTripsEveryField) {
  Session s;
  s.id = "id-\"quoted\"-\\backslash";
  s.sub = "248289761001";
  s.name = "Zoë Ångström 山田 \U0001F600";
  s.email = "zoe@example.com";
  s.access_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig";
  s.refresh_token = "rt\"with}braces{and\nnewline\ttab";
  s.id_token = "eyJ.idt.sig";
  s.scope = "openid profile email offline_access";
  s.access_expires_at = 1767225600;
  s.access_lifetime = 300;
  s.created_at = 1767220000;
  s.last_seen_at = 1767225000;
  const auto d = sr::decode_session(sr::encode_session(s));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->id, s.id);
  EXPECT_EQ(d->sub, s.sub);
  EXPECT_EQ(d->name, s.name);
  EXPECT_EQ(d->email, s.email);
  EXPECT_EQ(d->access_token, s.access_token);
  EXPECT_EQ(d->refresh_token, s.refresh_token);
  EXPECT_EQ(d->id_token, s.id_token);
  EXPECT_EQ(d->scope, s.scope);
  EXPECT_EQ(d->access_expires_at, s.access_expires_at);
  EXPECT_EQ(d->access_lifetime, s.access_lifetime);
  EXPECT_EQ(d->created_at, s.created_at);
  EXPECT_EQ(d->last_seen_at, s.last_seen_at);
}

// Records stored before the lifetime was kept decode with lifetime 0 (unknown):
// their refresh margin stays as configured (session/refresh_policy.hpp).
TEST(SessionRecord, ARecordWithoutTheLifetimeDecodesWithAnUnknownLifetime) {
  const auto d = sr::decode_session("{\"id\":\"x\",\"created\":1,\"exp\":500}");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->access_lifetime, 0);
  EXPECT_EQ(d->access_expires_at, 500);
}

TEST(SessionRecord, DecodeRefusesNonJson) {
  EXPECT_FALSE(sr::decode_session("not json").has_value());
  EXPECT_FALSE(sr::decode_session("").has_value());
  EXPECT_FALSE(sr::decode_session("{\"id\":\"x\",\"created\":1").has_value());  // truncated
}

TEST(SessionRecord, DecodeRefusesNonObject) {
  EXPECT_FALSE(sr::decode_session("[\"id\",\"created\"]").has_value());
  EXPECT_FALSE(sr::decode_session("\"id\"").has_value());
  EXPECT_FALSE(sr::decode_session("42").has_value());
}

TEST(SessionRecord, DecodeRefusesMissingId) {
  EXPECT_FALSE(sr::decode_session("{\"created\":1,\"sub\":\"s\"}").has_value());
  EXPECT_TRUE(sr::decode_session("{\"id\":\"x\",\"created\":1,\"sub\":\"s\"}").has_value());  // control
}

TEST(SessionRecord, DecodeRefusesMissingCreated) {
  EXPECT_FALSE(sr::decode_session("{\"id\":\"x\",\"sub\":\"s\"}").has_value());
}

TEST(LoginRecord, RoundTripsEveryField) {
  LoginState l;
  l.state = "st\"ate";
  l.verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  l.nonce = "n-0S6_WzA2Mj";
  l.redirect = "/orders?q=\"ünïcödé\"&x=1#frag";
  l.created_at = 1767225600;
  const auto d = sr::decode_login(sr::encode_login(l));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->state, l.state);
  EXPECT_EQ(d->verifier, l.verifier);
  EXPECT_EQ(d->nonce, l.nonce);
  EXPECT_EQ(d->redirect, l.redirect);
  EXPECT_EQ(d->created_at, l.created_at);
}

TEST(LoginRecord, DecodeRefusesNonJson) {
  EXPECT_FALSE(sr::decode_login("state=x").has_value());
  EXPECT_FALSE(sr::decode_login("").has_value());
}

TEST(LoginRecord, DecodeRefusesNonObject) {
  EXPECT_FALSE(sr::decode_login("[]").has_value());
  EXPECT_FALSE(sr::decode_login("null").has_value());
}

TEST(LoginRecord, DecodeRefusesMissingState) {
  EXPECT_FALSE(sr::decode_login("{\"created\":1,\"verifier\":\"v\"}").has_value());
  EXPECT_TRUE(sr::decode_login("{\"state\":\"s\",\"created\":1,\"verifier\":\"v\"}").has_value());  // control
}

TEST(LoginRecord, DecodeRefusesMissingCreated) {
  EXPECT_FALSE(sr::decode_login("{\"state\":\"s\",\"verifier\":\"v\"}").has_value());
}

TEST(LoginRecord, ASessionRecordIsNotALogin) {
  Session s;
  s.id = "x";
  s.created_at = 1;
  EXPECT_FALSE(sr::decode_login(sr::encode_session(s)).has_value());
}

// ---------------------------------------------------------------------------
// hashed_id: lower-case hex SHA-256 (FIPS 180-2 "abc" and the empty string).

TEST(HashedId, Sha256OfAbc) {
  EXPECT_EQ(sr::hashed_id("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashedId, Sha256OfTheEmptyString) {
  EXPECT_EQ(sr::hashed_id(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
