// Unit tests for auth/base64url: RFC 4648 §10 vectors in the URL-safe alphabet,
// and every strictness rule of the decoder.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "auth/base64url.hpp"

namespace {

using authgate::auth::base64url_decode;
using authgate::auth::base64url_encode;

std::string decode_or(std::string_view in, std::string fallback = "<rejected>") {
  std::string out;
  return base64url_decode(in, out) ? out : fallback;
}

TEST(Base64url, Rfc4648Vectors) {
  // RFC 4648 §10 without padding.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg"},        {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : vectors) {
    EXPECT_EQ(base64url_encode(std::string_view(plain)), enc);
    EXPECT_EQ(decode_or(enc), plain);
  }
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64url_encode(bytes), "-_-_");
  EXPECT_EQ(decode_or("-_-_"), bytes);
  EXPECT_EQ(decode_or("+/+/"), "<rejected>");  // standard alphabet refused
}

TEST(Base64url, RejectsPaddingAndForeignBytes) {
  for (const char* bad : {"Zg==", "Zm8=", "Zg=", "=", "Zm9v====", "Zm 9v", "Zm9v\n", " Zm9v", "Zm9v.",
                          "Zm9v!", "Zm\x80v", "Zm9v%3D"}) {
    EXPECT_EQ(decode_or(bad), "<rejected>") << bad;
  }
}

TEST(Base64url, RejectsImpossibleLengths) {
  EXPECT_EQ(decode_or("Z"), "<rejected>");
  EXPECT_EQ(decode_or("Zm9vY"), "<rejected>");
}

TEST(Base64url, RejectsNonCanonicalTrailingBits) {
  // "Zg" is "f"; "Zh" carries the same byte with a set unused bit.
  EXPECT_EQ(decode_or("Zg"), "f");
  for (const char* bad : {"Zh", "Zi", "Zv", "Zm9", "Zm-", "Zm_"}) {
    EXPECT_EQ(decode_or(bad), "<rejected>") << bad;
  }
  EXPECT_EQ(decode_or("Zm8"), "fo");
  EXPECT_EQ(decode_or("Zm9"), "<rejected>");
}

TEST(Base64url, DecodesIntoACallersBufferLikeIntoAString) {
  using authgate::auth::base64url_decoded_size;
  using authgate::auth::base64url_max_encoded;
  for (const char* in : {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "-_-_", "Zh", "Zm9vY", "Zg=="}) {
    const std::string_view v(in);
    std::string buf(base64url_decoded_size(v.size()) + 1, '#');  // one guard byte
    std::size_t n = 99;
    const bool ok = base64url_decode(v, buf.data(), n);
    EXPECT_EQ(ok, decode_or(v) != "<rejected>") << in;
    if (ok) {
      EXPECT_EQ(std::string(buf.data(), n), decode_or(v)) << in;
      EXPECT_EQ(n, base64url_decoded_size(v.size())) << in;  // exact for accepted input
    }
    EXPECT_EQ(buf.back(), '#') << in;  // nothing written past the computed size
  }
  // The two sizes are inverse: the longest input that fits n bytes decodes to exactly n.
  for (std::size_t cap = 0; cap < 40; ++cap) EXPECT_EQ(base64url_decoded_size(base64url_max_encoded(cap)), cap) << cap;
}

TEST(Base64url, RoundTripsRandomBytes) {
  std::mt19937 rng(7);
  for (std::size_t len = 0; len < 200; ++len) {
    std::string bytes(len, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xFF);
    const std::string enc = base64url_encode(bytes);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(decode_or(enc), bytes) << len;
  }
}

}  // namespace
