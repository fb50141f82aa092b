// Unit tests for common/hex: lowercase, two digits a byte, high nibble first,
// on named vectors (every nibble value, the bytes that sign-extend, a digest).
#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "common/hex.hpp"

namespace {

using authgate::common::hex_encode;
using namespace std::literals;

TEST(HexEncode, NamedVectors) {
  struct Case {
    const char* name;
    std::string_view bytes;
    const char* hex;
  };
  const Case cases[] = {
      {"empty", ""sv, ""},
      {"one zero byte", "\x00"sv, "00"},
      {"ascii", "v1"sv, "7631"},
      {"every nibble", "\x01\x23\x45\x67\x89\xab\xcd\xef"sv, "0123456789abcdef"},
      {"high bit set (no sign extension)", "\x80\xff\x7f"sv, "80ff7f"},
      {"embedded NUL", "a\x00z"sv, "61007a"},
  };
  for (const Case& c : cases) EXPECT_EQ(hex_encode(c.bytes), c.hex) << c.name;
}

TEST(HexEncode, SpanOfUnsignedBytesMatchesStringView) {
  const std::array<unsigned char, 4> bytes{0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(hex_encode(bytes), "deadbeef");
  EXPECT_EQ(hex_encode(std::span<const unsigned char>(bytes.data(), 2)), "dead");  // a prefix, as for fingerprints
  EXPECT_EQ(hex_encode(std::span<const unsigned char>()), "");
}

TEST(HexEncode, Sha256OfAbc) {
  // FIPS 180-2 appendix B.1: SHA-256("abc").
  const std::array<unsigned char, 32> digest{
      0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
      0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(hex_encode(digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
