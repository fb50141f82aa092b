// Unit tests for session/cookie_codec: random tokens (length, alphabet,
// uniqueness), the signed cookie value (round trip, every tampering and
// malformed shape refused, session and login labels kept apart), Set-Cookie
// rendering, and Cookie header parsing and stripping.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "session/cookie_codec.hpp"

namespace {

using namespace std::chrono_literals;
using namespace authgate::session;
using authgate::config::SessionCookie;

const std::string kSecret = "0123456789abcdef0123456789abcdef-secret";
const std::string kOtherSecret = "fedcba9876543210fedcba9876543210-secret";

bool all_base64url(std::string_view s) {
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

TEST(RandomToken, LengthAndAlphabet) {
  const std::string t = random_token();
  EXPECT_EQ(t.size(), 43u);  // 32 bytes, no padding
  EXPECT_TRUE(all_base64url(t));
  EXPECT_EQ(random_token(16).size(), 22u);
  EXPECT_EQ(random_token(0), "");
}

TEST(RandomToken, Distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_token());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SignedCookie, RoundTrip) {
  const std::string id = random_token();
  const std::string v = sign_session_id(id, kSecret);
  ASSERT_EQ(v.size(), id.size() + 1 + 43);
  EXPECT_EQ(v.substr(0, id.size() + 1), id + ".");
  const auto got = verify_session_cookie(v, kSecret);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, id);
}

TEST(SignedCookie, Deterministic) {
  EXPECT_EQ(sign_session_id("abc", kSecret), sign_session_id("abc", kSecret));
  EXPECT_NE(sign_session_id("abc", kSecret), sign_session_id("abd", kSecret));
  EXPECT_NE(sign_session_id("abc", kSecret), sign_session_id("abc", kOtherSecret));
}

TEST(SignedCookie, KnownMac) {
  // HMAC-SHA256("key", "authgate-session-v1:id"), computed independently with
  //   printf 'authgate-session-v1:id' | openssl dgst -sha256 -hmac key -binary | basenc --base64url
  EXPECT_EQ(sign_session_id("id", "key"), "id.GAXyNsVlQ7Y8i8j6ZWzg0RXmMUU7U7_IkM4nZtMaM2o");
}

TEST(SignedCookie, WrongSecret) {
  const std::string v = sign_session_id(random_token(), kSecret);
  EXPECT_FALSE(verify_session_cookie(v, kOtherSecret));
  EXPECT_FALSE(verify_session_cookie(v, ""));
}

TEST(SignedCookie, TamperedId) {
  const std::string id = random_token();
  std::string v = sign_session_id(id, kSecret);
  v[0] = v[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_session_cookie(v, kSecret));
}

TEST(SignedCookie, TamperedMac) {
  const std::string v = sign_session_id(random_token(), kSecret);
  // Every single-character change of the mac is refused.
  for (std::size_t i = v.find('.') + 1; i < v.size(); ++i) {
    std::string t = v;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_session_cookie(t, kSecret)) << i;
  }
}

TEST(SignedCookie, MacOfAnotherId) {
  const std::string a = sign_session_id("aaaa", kSecret);
  const std::string b = sign_session_id("bbbb", kSecret);
  EXPECT_FALSE(verify_session_cookie("aaaa" + b.substr(4), kSecret));
  EXPECT_TRUE(verify_session_cookie(a, kSecret));
}

struct Malformed {
  std::string_view name;
  std::string value;
};

TEST(SignedCookie, MalformedValuesRefused) {
  const std::string good = sign_session_id("abc", kSecret);
  const std::string mac = good.substr(4);
  const std::vector<Malformed> cases = {
      {"empty", ""},
      {"no_dot", "abc" + mac},
      {"only_dot", "."},
      {"empty_id", "." + mac},
      {"empty_mac", "abc."},
      {"two_dots", "abc." + mac + ".x"},
      {"dot_in_id", "a.bc." + mac},
      {"padded_mac", good + "="},
      {"short_mac", good.substr(0, good.size() - 1)},
      {"long_mac", good + "A"},
      {"non_canonical_mac_tail", good.substr(0, good.size() - 1) + (good.back() == 'Q' ? "R" : "Q")},
      {"std_base64_chars", "abc." + std::string(43, '+')},
      {"space_in_id", "a c." + mac},
      {"percent_in_id", "a%c." + mac},
      {"quoted", "\"" + good + "\""},
      {"leading_space", " " + good},
      {"trailing_space", good + " "},
      {"nul_in_id", std::string("a\0c", 3) + "." + mac},
      {"too_long_id", std::string(kMaxSignedIdLength + 1, 'a') + "." + mac},
  };
  for (const auto& c : cases) EXPECT_FALSE(verify_session_cookie(c.value, kSecret)) << c.name;
}

TEST(SignedCookie, IdWithNonBase64urlCharsNeverVerifies) {
  // Even a correctly MACed value is refused when the id has other characters.
  const std::string v = sign_session_id("a/b", kSecret);
  EXPECT_FALSE(verify_session_cookie(v, kSecret));
}

TEST(SignedCookie, LongestIdAccepted) {
  const std::string id(kMaxSignedIdLength, 'x');
  EXPECT_EQ(verify_session_cookie(sign_session_id(id, kSecret), kSecret), id);
}

TEST(SignedCookie, SessionAndLoginLabelsAreSeparate) {
  const std::string id = random_token();
  const std::string s = sign_session_id(id, kSecret);
  const std::string l = sign_login_state(id, kSecret);
  EXPECT_NE(s, l);
  EXPECT_EQ(verify_login_cookie(l, kSecret), id);
  EXPECT_FALSE(verify_session_cookie(l, kSecret));
  EXPECT_FALSE(verify_login_cookie(s, kSecret));
}

SessionCookie cookie(std::string name, bool secure, std::string same_site = "Lax") {
  SessionCookie c;
  c.name = std::move(name);
  c.secure = secure;
  c.same_site = std::move(same_site);
  return c;
}

TEST(SetCookie, Secure) {
  EXPECT_EQ(set_cookie_header(cookie("__Host-authgate", true), "v.m", 86400s),
            "__Host-authgate=v.m; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=86400");
}

TEST(SetCookie, NotSecure) {
  EXPECT_EQ(set_cookie_header(cookie("authgate", false), "v", 60s),
            "authgate=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
}

TEST(SetCookie, StrictAndDefaultSameSite) {
  EXPECT_EQ(set_cookie_header(cookie("a", true, "Strict"), "v", 1s),
            "a=v; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=1");
  EXPECT_EQ(set_cookie_header(cookie("a", false, ""), "v", 1s), "a=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=1");
}

TEST(SetCookie, NegativeMaxAgeIsZero) {
  EXPECT_EQ(set_cookie_header(cookie("a", false), "v", -5s), "a=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
}

TEST(SetCookie, Clear) {
  EXPECT_EQ(clear_cookie_header(cookie("__Host-authgate", true)),
            "__Host-authgate=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0");
  EXPECT_EQ(clear_cookie_header(cookie("authgate", false)), "authgate=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
}

using Values = std::vector<std::string_view>;

TEST(CookieValues, Basic) {
  EXPECT_EQ(cookie_values("a=1; authgate=xyz; b=2", "authgate"), Values{"xyz"});
  EXPECT_EQ(cookie_values("authgate=xyz", "authgate"), Values{"xyz"});
  EXPECT_EQ(cookie_values("a=1; b=2", "authgate"), Values{});
  EXPECT_EQ(cookie_values("", "authgate"), Values{});
}

TEST(CookieValues, AllOccurrencesInOrder) {
  EXPECT_EQ(cookie_values("authgate=one; x=1; authgate=two", "authgate"), (Values{"one", "two"}));
}

TEST(CookieValues, WhitespaceTolerant) {
  EXPECT_EQ(cookie_values("a=1;authgate=xyz;b=2", "authgate"), Values{"xyz"});
  EXPECT_EQ(cookie_values("  a=1 ;\tauthgate = xyz\t;  ", "authgate"), Values{"xyz"});
  EXPECT_EQ(cookie_values(";;authgate=xyz;;", "authgate"), Values{"xyz"});
}

TEST(CookieValues, ExactCaseSensitiveName) {
  EXPECT_EQ(cookie_values("Authgate=1; authgate2=2; xauthgate=3; authgate=4", "authgate"), Values{"4"});
}

TEST(CookieValues, ValueMayContainEqualsAndBeEmpty) {
  EXPECT_EQ(cookie_values("authgate=a=b", "authgate"), Values{"a=b"});
  EXPECT_EQ(cookie_values("authgate=", "authgate"), Values{""});
}

TEST(CookieValues, PairWithoutEqualsIsNotAName) {
  EXPECT_EQ(cookie_values("authgate; b=2", "authgate"), Values{});
}

TEST(CookieValues, PrefixedName) {
  EXPECT_EQ(cookie_values("authgate=plain; __Host-authgate=host", "__Host-authgate"), Values{"host"});
}

TEST(StripCookie, RemovesEveryPairOfTheName) {
  EXPECT_EQ(strip_cookie("a=1; authgate=x; b=2; authgate=y", "authgate"), "a=1; b=2");
}

TEST(StripCookie, NothingLeftIsEmpty) {
  EXPECT_EQ(strip_cookie("authgate=x", "authgate"), "");
  EXPECT_EQ(strip_cookie(" authgate=x ;authgate=y; ", "authgate"), "");
  EXPECT_EQ(strip_cookie("", "authgate"), "");
}

TEST(StripCookie, OthersKeptAndNormalised) {
  EXPECT_EQ(strip_cookie("a=1;b=2", "authgate"), "a=1; b=2");
  EXPECT_EQ(strip_cookie("  a=1 ;; authgate=x;\tb = 2 ", "authgate"), "a=1; b = 2");
  EXPECT_EQ(strip_cookie("Authgate=1; authgate2=2; flag", "authgate"), "Authgate=1; authgate2=2; flag");
}

TEST(StripCookie, SpacedNameStillStripped) {
  EXPECT_EQ(strip_cookie("authgate =x; a=1", "authgate"), "a=1");
}

}  // namespace
