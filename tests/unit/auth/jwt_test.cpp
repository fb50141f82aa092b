// Unit tests for auth/jwt (parse_jwt) and the strict JSON parser beneath it:
// accessors on a well-formed token, then one check per parse rule. The
// signature is never looked at here (see jwt_verifier_test.cpp).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <memory>
#include <string>

#include "auth/json_arena.hpp"
#include "auth/jwt.hpp"
#include "auth/strict_json.hpp"
#include "test_signer.hpp"

namespace {

using namespace authgate::auth;
using authgate::auth::test::b64;
using detail::JsonError;
using detail::parse_strict_object;

std::string token(std::string_view header, std::string_view payload, std::string_view sig = "sig") {
  return b64(header) + "." + b64(payload) + "." + b64(sig);
}

std::error_code parse(std::string_view t, ParsedJwt& out, std::size_t cap = kDefaultMaxTokenBytes) {
  return parse_jwt(t, cap, out);
}
std::error_code parse(std::string_view t) {
  ParsedJwt out;
  return parse_jwt(t, kDefaultMaxTokenBytes, out);
}

TEST(ParseJwt, AccessorsOnAWellFormedToken) {
  // header:  {"alg":"ES256","kid":"k1","typ":"at+jwt"}
  // payload: {"iss":"https://idp/","sub":"u1","aud":["a","b"],"exp":2000,"nbf":1000,"iat":999.7,"nonce":"n","x":{"y":1}}
  const std::string t = token(R"({"alg":"ES256","kid":"k1","typ":"at+jwt"})",
                              R"({"iss":"https://idp/","sub":"u1","aud":["a","b"],"exp":2000,)"
                              R"("nbf":1000,"iat":999.7,"nonce":"n","x":{"y":1}})",
                              "\x01\x02\x03");
  ParsedJwt jwt;
  ASSERT_FALSE(parse(t, jwt));
  EXPECT_EQ(jwt.token(), t);
  EXPECT_EQ(jwt.alg(), "ES256");
  EXPECT_EQ(jwt.kid(), "k1");
  EXPECT_EQ(jwt.typ(), "at+jwt");
  EXPECT_EQ(jwt.iss(), "https://idp/");
  EXPECT_EQ(jwt.sub(), "u1");
  EXPECT_TRUE(jwt.has_aud());
  EXPECT_EQ(jwt.aud(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(jwt.exp(), 2000);
  EXPECT_EQ(jwt.nbf(), 1000);
  EXPECT_EQ(jwt.iat(), 999);  // reals are floored
  EXPECT_TRUE(jwt.has_nonce());
  EXPECT_EQ(jwt.signing_input(), t.substr(0, t.rfind('.')));
  ASSERT_EQ(jwt.signature().size(), 3u);
  EXPECT_EQ(jwt.signature()[2], 3);
  EXPECT_EQ(jwt.header().at("kid").as_string(), "k1");
  EXPECT_EQ(jwt.claims().at("x").at("y").as_int64(), 1);
}

TEST(ParseJwt, OptionalMembersAbsent) {
  ParsedJwt jwt;
  ASSERT_FALSE(parse(token(R"({"alg":"RS256"})", R"({})", ""), jwt));
  EXPECT_FALSE(jwt.kid());
  EXPECT_FALSE(jwt.typ());
  EXPECT_FALSE(jwt.iss());
  EXPECT_FALSE(jwt.sub());
  EXPECT_FALSE(jwt.has_aud());
  EXPECT_TRUE(jwt.aud().empty());
  EXPECT_FALSE(jwt.exp());
  EXPECT_FALSE(jwt.nbf());
  EXPECT_FALSE(jwt.iat());
  EXPECT_FALSE(jwt.has_nonce());
  EXPECT_TRUE(jwt.signature().empty());
}

TEST(ParseJwt, AudienceAsString) {
  ParsedJwt jwt;
  ASSERT_FALSE(parse(token(R"({"alg":"RS256"})", R"({"aud":"api"})"), jwt));
  EXPECT_EQ(jwt.aud(), std::vector<std::string>{"api"});
}

TEST(ParseJwt, SigningInputSurvivesCopyAndMove) {
  const std::string t = token(R"({"alg":"RS256"})", R"({"a":1})");
  ParsedJwt a;
  ASSERT_FALSE(parse(t, a));
  ParsedJwt b = a;
  ParsedJwt c = std::move(a);
  EXPECT_EQ(b.signing_input(), t.substr(0, t.rfind('.')));
  EXPECT_EQ(c.signing_input(), t.substr(0, t.rfind('.')));
}

TEST(ParseJwt, SizeCapIsCheckedBeforeDecoding) {
  const std::string t = token(R"({"alg":"RS256"})", R"({"a":1})");
  ParsedJwt jwt;
  EXPECT_FALSE(parse(t, jwt, t.size()));
  EXPECT_EQ(parse(t, jwt, t.size() - 1), auth_errc::token_malformed);
  // Over the cap, even garbage that would fail later reports the same error.
  EXPECT_EQ(parse(std::string(kDefaultMaxTokenBytes + 1, '.')), auth_errc::token_malformed);
  EXPECT_EQ(parse(""), auth_errc::token_malformed);
}

TEST(ParseJwt, PartCount) {
  const std::string h = b64(R"({"alg":"RS256"})"), p = b64(R"({})");
  EXPECT_EQ(parse(h), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p), auth_errc::token_malformed);
  EXPECT_FALSE(parse(h + "." + p + "."));
  EXPECT_EQ(parse(h + "." + p + ".c.d"), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p + ".c.d.e"), auth_errc::token_malformed);  // JWE shape
  EXPECT_EQ(parse("." + p + ".c"), auth_errc::token_malformed);          // empty header
  EXPECT_EQ(parse(h + "..c"), auth_errc::token_malformed);               // empty payload
  EXPECT_EQ(parse(".."), auth_errc::token_malformed);
}

TEST(ParseJwt, Base64urlStrictness) {
  const std::string h = b64(R"({"alg":"RS256"})"), p = b64(R"({"a":1})");
  EXPECT_FALSE(parse(h + "." + p + ".AAAA"));
  EXPECT_EQ(parse(h + "=." + p + ".AAAA"), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p + "==.AAAA"), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p + ".AA=="), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p + ".AA+/"), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p + ".AA A"), auth_errc::token_malformed);
  EXPECT_EQ(parse(h + "." + p + ".AB"), auth_errc::token_malformed);  // non-canonical
  EXPECT_EQ(parse(h + "." + p + ".A"), auth_errc::token_malformed);   // impossible length
}

TEST(ParseJwt, HeaderAndPayloadMustBeJsonObjects) {
  EXPECT_EQ(parse(token(R"(["RS256"])", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"("RS256")", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"([1,2])")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"(null)")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", "not json")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"a":1} x)")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"a":1,})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"} // c)", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", "{\"a\":\"\xff\"}")), auth_errc::token_malformed);
  EXPECT_FALSE(parse(token(" {\"alg\":\"RS256\"}\r\n", "\t{}\n")));  // JSON whitespace is fine
}

TEST(ParseJwt, DuplicateMemberNamesAreRejected) {
  EXPECT_EQ(parse(token(R"({"alg":"RS256","alg":"none"})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","kid":"a","kid":"b"})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"sub":"a","sub":"b"})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"x":{"a":1,"a":1}})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"x":[{"a":1,"a":2}]})")), auth_errc::token_malformed);
  // The same name in different objects is not a duplicate; an escaped spelling is the same name.
  EXPECT_FALSE(parse(token(R"({"alg":"RS256"})", R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})")));
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"sub":"a","s\u0075b":"b"})")),
            auth_errc::token_malformed);
}

TEST(ParseJwt, CopiesOwnTheirClaimsAndSurviveTheOriginal) {
  // Long strings and many members: the DOM spills from the inline arena to the heap.
  std::string payload = R"({"iss":"https://idp.example.com/a/very/long/issuer/path","sub":"u1","aud":["a","b"],"x":{"y":[1,2,3]})";
  for (int i = 0; i < 60; ++i) payload += ",\"claim_" + std::to_string(i) + "\":\"" + std::string(40, 'v') + "\"";
  payload += "}";
  const std::string t = token(R"({"alg":"RS256","kid":"a-rather-long-key-id-0123456789"})", payload, "sig-bytes");
  auto original = std::make_unique<ParsedJwt>();
  ASSERT_FALSE(parse(t, *original));
  ParsedJwt copy(*original);
  ParsedJwt assigned;
  ASSERT_FALSE(parse(token(R"({"alg":"HS256"})", R"({"sub":"other"})"), assigned));
  assigned = *original;
  const boost::json::object expected = boost::json::parse(payload).as_object();
  original.reset();
  for (const ParsedJwt* j : {&copy, &assigned}) {
    EXPECT_EQ(j->claims(), expected);
    EXPECT_EQ(j->header().at("kid").as_string(), "a-rather-long-key-id-0123456789");
    EXPECT_EQ(j->token(), t);
    EXPECT_EQ(j->signing_input(), t.substr(0, t.rfind('.')));
    EXPECT_EQ(std::string(j->signature().begin(), j->signature().end()), "sig-bytes");
    EXPECT_EQ(j->iss(), "https://idp.example.com/a/very/long/issuer/path");
    EXPECT_EQ(j->aud(), (std::vector<std::string>{"a", "b"}));
  }
  // A value copied out with its own storage outlives the token it came from.
  boost::json::value x;
  {
    ParsedJwt scoped(copy);
    x = boost::json::value(scoped.claims().at("x"), boost::json::storage_ptr());
  }
  EXPECT_EQ(x.at("y").as_array().size(), 3u);
}

TEST(ParseJwt, ReparsingReplacesEverything) {
  ParsedJwt jwt;
  ASSERT_FALSE(parse(token(R"({"alg":"RS256","kid":"k1","typ":"JWT"})",
                           R"({"iss":"https://idp/","sub":"u1","aud":"a","exp":2,"nbf":1,"iat":1,"nonce":"n"})",
                           "s1"),
                     jwt));
  EXPECT_EQ(parse(token(R"({"alg":"RS256"})", R"({"sub":"a","sub":"b"})"), jwt), auth_errc::token_malformed);
  ASSERT_FALSE(parse(token(R"({"alg":"ES256"})", R"({"sub":"u2"})", ""), jwt));
  EXPECT_EQ(jwt.alg(), "ES256");
  EXPECT_FALSE(jwt.kid());
  EXPECT_FALSE(jwt.typ());
  EXPECT_FALSE(jwt.iss());
  EXPECT_EQ(jwt.sub(), "u2");
  EXPECT_FALSE(jwt.has_aud());
  EXPECT_FALSE(jwt.exp());
  EXPECT_FALSE(jwt.nbf());
  EXPECT_FALSE(jwt.iat());
  EXPECT_FALSE(jwt.has_nonce());
  EXPECT_TRUE(jwt.signature().empty());
  EXPECT_EQ(jwt.claims(), boost::json::parse(R"({"sub":"u2"})").as_object());
  EXPECT_EQ(jwt.header(), boost::json::parse(R"({"alg":"ES256"})").as_object());
}

TEST(ParseJwt, CritAndB64AreUnsupported) {
  EXPECT_EQ(parse(token(R"({"alg":"RS256","crit":["exp"],"exp":1})", R"({})")), auth_errc::crit_unsupported);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","crit":[]})", R"({})")), auth_errc::crit_unsupported);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","b64":false,"crit":["b64"]})", R"({})")),
            auth_errc::crit_unsupported);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","b64":true})", R"({})")), auth_errc::crit_unsupported);
}

TEST(ParseJwt, HeaderParameterTypes) {
  EXPECT_EQ(parse(token(R"({})", R"({})")), auth_errc::token_malformed);               // no alg
  EXPECT_EQ(parse(token(R"({"alg":null})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":256})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":["RS256"]})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","kid":7})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","kid":null})", R"({})")), auth_errc::token_malformed);
  EXPECT_EQ(parse(token(R"({"alg":"RS256","typ":{}})", R"({})")), auth_errc::token_malformed);
  // alg values are not judged by the parser.
  EXPECT_FALSE(parse(token(R"({"alg":"none"})", R"({})", "")));
  EXPECT_FALSE(parse(token(R"({"alg":"XX999"})", R"({})")));
}

TEST(ParseJwt, ClaimTypes) {
  const std::string h = R"({"alg":"RS256"})";
  for (const char* bad : {R"({"exp":"1700000000"})", R"({"nbf":"1"})", R"({"iat":true})", R"({"exp":null})",
                          R"({"exp":[1]})", R"({"exp":1e300})", R"({"exp":-1e300})",
                          R"({"exp":18446744073709551615})", R"({"iss":1})", R"({"iss":null})",
                          R"({"sub":{}})", R"({"aud":1})", R"({"aud":null})", R"({"aud":["a",1]})",
                          R"({"aud":[["a"]]})", R"({"aud":{"a":1}})"}) {
    EXPECT_EQ(parse(token(h, bad)), auth_errc::token_malformed) << bad;
  }
  for (const char* good : {R"({"exp":9223372036854775807})", R"({"exp":-5})", R"({"exp":1.5e9})",
                           R"({"aud":[]})", R"({"nonce":null})", R"({"custom":"anything"})"}) {
    EXPECT_FALSE(parse(token(h, good))) << good;
  }
}

TEST(NumericDate, IntegersRealsAndRange) {
  std::int64_t t = 0;
  EXPECT_TRUE(numeric_date(boost::json::value(42), t));
  EXPECT_EQ(t, 42);
  EXPECT_TRUE(numeric_date(boost::json::value(1700000000.999), t));
  EXPECT_EQ(t, 1700000000);
  EXPECT_TRUE(numeric_date(boost::json::value(-0.5), t));
  EXPECT_EQ(t, -1);
  EXPECT_TRUE(numeric_date(boost::json::value(std::uint64_t{9223372036854775807ull}), t));
  EXPECT_FALSE(numeric_date(boost::json::value(std::uint64_t{9223372036854775808ull}), t));
  EXPECT_FALSE(numeric_date(boost::json::value(9.3e18), t));
  EXPECT_FALSE(numeric_date(boost::json::value("1"), t));
  EXPECT_FALSE(numeric_date(boost::json::value(true), t));
}

TEST(StrictJson, ReportsWhyItRejects) {
  boost::json::object o;
  EXPECT_EQ(parse_strict_object(R"({"a":1,"b":[1,2,{"c":null}],"d":"x\"y"})", o), JsonError::none);
  EXPECT_EQ(o.at("d").as_string(), "x\"y");
  EXPECT_EQ(o.at("b").as_array().size(), 3u);
  EXPECT_EQ(parse_strict_object(R"({"a":1,"a":1})", o), JsonError::duplicate_member);
  EXPECT_EQ(parse_strict_object(R"([1])", o), JsonError::not_object);
  EXPECT_EQ(parse_strict_object(R"(7)", o), JsonError::not_object);
  EXPECT_EQ(parse_strict_object(R"({"a":)", o), JsonError::syntax);
  EXPECT_EQ(parse_strict_object(R"({"a":1}{})", o), JsonError::syntax);
  EXPECT_EQ(parse_strict_object("", o), JsonError::syntax);
  // Depth limit.
  std::string deep(40, '[');
  deep = "{\"a\":" + deep + std::string(40, ']') + "}";
  EXPECT_EQ(parse_strict_object(deep, o), JsonError::syntax);
  EXPECT_EQ(parse_strict_object(deep, o, 64), JsonError::none);
}

TEST(StrictJson, TheFirstProblemInTheTextIsTheOneReported) {
  boost::json::object o;
  // A duplicate is reported as soon as its name is read, even if the text breaks later.
  EXPECT_EQ(parse_strict_object(R"({"a":1,"a":)", o), JsonError::duplicate_member);
  EXPECT_EQ(parse_strict_object(R"({"a":1,"\u0061":2)", o), JsonError::duplicate_member);
  EXPECT_EQ(parse_strict_object(R"({"a":{"b":1,"b")", o), JsonError::duplicate_member);
  // A syntax error before any duplicate is a syntax error.
  EXPECT_EQ(parse_strict_object(R"({"a":1,,"a":2})", o), JsonError::syntax);
}

TEST(StrictJson, DuplicatesInLargeObjects) {
  // Past the linear-scan size the names go into a set; both paths must catch a repeat.
  for (int members : {5, 31, 32, 33, 200}) {
    std::string text = "{";
    for (int i = 0; i < members; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    boost::json::object o;
    ASSERT_EQ(parse_strict_object(text + "}", o), JsonError::none) << members;
    EXPECT_EQ(o.size(), static_cast<std::size_t>(members));
    EXPECT_EQ(o.at("k" + std::to_string(members - 1)).as_int64(), members - 1);
    for (int dup : {0, members / 2, members - 1}) {
      EXPECT_EQ(parse_strict_object(text + ",\"k" + std::to_string(dup) + "\":0}", o), JsonError::duplicate_member)
          << members << " " << dup;
    }
  }
}

TEST(StrictJson, BuildsTheValueInTheTargetsStorage) {
  detail::JsonArena arena;
  boost::json::object o{boost::json::storage_ptr(&arena)};
  ASSERT_EQ(parse_strict_object(R"({"key":"a string longer than the small buffer","n":[1,{"m":null}]})", o),
            JsonError::none);
  EXPECT_EQ(o.storage().get(), &arena);
  EXPECT_EQ(o.at("n").as_array().storage().get(), &arena);
  EXPECT_GT(arena.used(), 0u);
  EXPECT_EQ(o, boost::json::parse(R"({"key":"a string longer than the small buffer","n":[1,{"m":null}]})").as_object());
}

TEST(JsonArena, SpillsToTheHeapAndStopsBumpingOnceSealed) {
  detail::JsonArena arena;
  boost::json::storage_ptr sp(&arena);
  {
    boost::json::string small("a string of some forty bytes, in the arena", sp);
    const std::size_t used = arena.used();
    EXPECT_GT(used, 0u);
    boost::json::string big(std::string(detail::JsonArena::kInlineBytes * 2, 'x'), sp);  // does not fit: heap
    EXPECT_EQ(arena.used(), used);
    arena.seal();
    boost::json::string after("another string of some forty bytes, on the heap", sp);
    EXPECT_EQ(arena.used(), used);
    EXPECT_EQ(after, "another string of some forty bytes, on the heap");
    EXPECT_EQ(small, "a string of some forty bytes, in the arena");
  }
  arena.reset();
  EXPECT_EQ(arena.used(), 0u);
}

TEST(StrictJson, LongStringsAndKeysSplitAcrossParserBuffers) {
  const std::string long_value(5000, 'v');
  const std::string long_key(3000, 'k');
  boost::json::object o;
  ASSERT_EQ(parse_strict_object("{\"" + long_key + "\":\"" + long_value + "\",\"x\":1}", o), JsonError::none);
  EXPECT_EQ(o.at(long_key).as_string(), long_value);
  EXPECT_EQ(parse_strict_object("{\"" + long_key + "\":1,\"" + long_key + "\":2}", o),
            JsonError::duplicate_member);
}

}  // namespace
