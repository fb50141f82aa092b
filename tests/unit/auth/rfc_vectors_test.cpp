// Published JWS test vectors, verified with their published keys (habit 23).
// These examples carry no iss/aud (and long-past exp, or no JWT at all), so they
// exercise the signature step: verify_signature() for the RFC 7515 JWTs, and
// verify_jws_signature() for RFC 7520 / RFC 8037, whose payloads are plain text.
// Each vector is also checked to fail after a one-bit change.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <string>

#include "auth/base64url.hpp"
#include "auth/jwt_verifier.hpp"

namespace {

using namespace authgate::auth;

// RFC 7515 A.2/A.3 payload (with CRLF line breaks, as published):
//   {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
constexpr std::string_view kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

// RFC 7515 A.1: HS256. Header {"typ":"JWT",\r\n "alg":"HS256"}.
const std::string kRfc7515A1 =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + std::string(kRfc7515Payload) +
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
// A.1 key (oct, 64 bytes).
constexpr std::string_view kRfc7515A1Key =
    R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})";

// RFC 7515 A.2: RS256. Header {"alg":"RS256"}.
const std::string kRfc7515A2 =
    "eyJhbGciOiJSUzI1NiJ9." + std::string(kRfc7515Payload) +
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";
// A.2 public key (RSA-2048, e = 65537).
constexpr std::string_view kRfc7515A2Key =
    R"({"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx)"
    R"(HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wG)"
    R"(zjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxv)"
    R"(b3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWy)"
    R"(uXpoQ","e":"AQAB"})";

// RFC 7515 A.3: ES256. Header {"alg":"ES256"}.
const std::string kRfc7515A3 =
    "eyJhbGciOiJFUzI1NiJ9." + std::string(kRfc7515Payload) +
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
// A.3 public key (P-256).
constexpr std::string_view kRfc7515A3Key =
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";

// RFC 7520 §4 payload (text, not JSON):
//   "It’s a dangerous business, Frodo, going out your door. You step onto the road,
//    and if you don't keep your feet, there’s no knowing where you might be swept off to."
constexpr std::string_view kRfc7520Payload =
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUg"
    "cm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0"
    "IGJlIHN3ZXB0IG9mZiB0by4";

// RFC 7520 §4.1: RS256 (RSA v1.5), header {"alg":"RS256","kid":"bilbo.baggins@hobbiton.example"}.
const std::string kRfc7520S41 =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." +
    std::string(kRfc7520Payload) +
    ".MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84w"
    "nB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnH"
    "XFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41"
    "Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";
// RFC 7520 §3.4 RSA public key.
constexpr std::string_view kRfc7520RsaKey =
    R"({"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig",)"
    R"("n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSC)"
    R"(pMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6)"
    R"(cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq)"
    R"(_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB"})";

// RFC 7520 §4.3: ES512, header {"alg":"ES512","kid":"bilbo.baggins@hobbiton.example"}.
const std::string kRfc7520S43 =
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." +
    std::string(kRfc7520Payload) +
    ".AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sD"
    "DyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";
// RFC 7520 §3.1 EC public key (P-521).
constexpr std::string_view kRfc7520EcKey =
    R"({"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521",)"
    R"("x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",)"
    R"("y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"})";

// RFC 8037 A.4: Ed25519, header {"alg":"EdDSA"}, payload "Example of Ed25519 signing".
const std::string kRfc8037A4 =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
// RFC 8037 A.2 public key.
constexpr std::string_view kRfc8037Key = R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";

KeySetPtr jwks(std::string_view jwk, KeyFamily family = KeyFamily::asymmetric) {
  KeySetOptions o;
  o.key.family = family;
  auto set = KeySet::from_jwks_json(R"({"keys":[)" + std::string(jwk) + "]}", o);
  EXPECT_TRUE(set) << (set ? "" : set.error().message());
  return set ? *set : nullptr;
}

std::string flip_last_signature_bit(const std::string& token) {
  const std::size_t dot = token.rfind('.');
  std::string sig;
  EXPECT_TRUE(base64url_decode(token.substr(dot + 1), sig));
  sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
  return token.substr(0, dot + 1) + base64url_encode(sig);
}

std::error_code verify_jwt_signature(const std::string& token, const KeySet& keys, Alg alg) {
  ParsedJwt jwt;
  if (auto ec = parse_jwt(token, kDefaultMaxTokenBytes, jwt)) return ec;
  const Alg allowed[] = {alg};
  return verify_signature(jwt, keys, allowed);
}

// Splits a compact JWS and verifies its signature with one JWK, without JWT rules.
std::error_code verify_compact(const std::string& token, std::string_view jwk_json, Alg alg) {
  auto key = Jwk::from_json(boost::json::parse(jwk_json).as_object(), KeyOptions{});
  if (!key) return key.error();
  const std::size_t dot = token.rfind('.');
  std::string sig;
  if (!base64url_decode(token.substr(dot + 1), sig)) return auth_errc::token_malformed;
  return verify_jws_signature(alg, *key, std::string_view(token).substr(0, dot),
                              {reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size()});
}

TEST(Rfc7515, A1Hs256WithTheHmacKey) {
  auto keys = jwks(kRfc7515A1Key, KeyFamily::hmac);
  ASSERT_TRUE(keys);
  EXPECT_FALSE(verify_jwt_signature(kRfc7515A1, *keys, Alg::HS256));
  EXPECT_EQ(verify_jwt_signature(flip_last_signature_bit(kRfc7515A1), *keys, Alg::HS256),
            auth_errc::signature_invalid);

  // The full pipeline runs claims after the signature: exp 1300819380 is long
  // past, and before it the token still has no audience.
  ParsedJwt jwt;
  ASSERT_FALSE(parse_jwt(kRfc7515A1, kDefaultMaxTokenBytes, jwt));
  EXPECT_EQ(jwt.typ(), "JWT");
  EXPECT_EQ(jwt.iss(), "joe");
  EXPECT_EQ(jwt.exp(), 1300819380);
  VerifyPolicy policy;
  policy.issuer = "joe";
  policy.audiences = {"anything"};
  policy.allowed_algs = {Alg::HS256};
  EXPECT_EQ(verify(jwt, *keys, policy, std::int64_t{1'700'000'000}), auth_errc::expired);
  EXPECT_EQ(verify(jwt, *keys, policy, std::int64_t{1300819000}), auth_errc::audience_mismatch);
  // And HMAC is refused when the key is published as a JWKS.
  EXPECT_FALSE(KeySet::from_jwks_json(R"({"keys":[)" + std::string(kRfc7515A1Key) + "]}"));
}

TEST(Rfc7515, A2Rs256) {
  auto keys = jwks(kRfc7515A2Key);
  ASSERT_TRUE(keys);
  EXPECT_FALSE(verify_jwt_signature(kRfc7515A2, *keys, Alg::RS256));
  EXPECT_EQ(verify_jwt_signature(flip_last_signature_bit(kRfc7515A2), *keys, Alg::RS256),
            auth_errc::signature_invalid);
  EXPECT_EQ(verify_jwt_signature(kRfc7515A2, *keys, Alg::ES256), auth_errc::alg_not_allowed);
}

TEST(Rfc7515, A3Es256) {
  auto keys = jwks(kRfc7515A3Key);
  ASSERT_TRUE(keys);
  EXPECT_FALSE(verify_jwt_signature(kRfc7515A3, *keys, Alg::ES256));
  EXPECT_EQ(verify_jwt_signature(flip_last_signature_bit(kRfc7515A3), *keys, Alg::ES256),
            auth_errc::signature_invalid);
}

TEST(Rfc7520, S41Rs256) {
  EXPECT_FALSE(verify_compact(kRfc7520S41, kRfc7520RsaKey, Alg::RS256));
  EXPECT_EQ(verify_compact(flip_last_signature_bit(kRfc7520S41), kRfc7520RsaKey, Alg::RS256),
            auth_errc::signature_invalid);
  // Not a JWT: the payload is text, so the JWT parser refuses it.
  ParsedJwt jwt;
  EXPECT_EQ(parse_jwt(kRfc7520S41, kDefaultMaxTokenBytes, jwt), auth_errc::token_malformed);
}

TEST(Rfc7520, S43Es512) {
  EXPECT_FALSE(verify_compact(kRfc7520S43, kRfc7520EcKey, Alg::ES512));
  EXPECT_EQ(verify_compact(flip_last_signature_bit(kRfc7520S43), kRfc7520EcKey, Alg::ES512),
            auth_errc::signature_invalid);
  EXPECT_EQ(verify_compact(kRfc7520S43, kRfc7520EcKey, Alg::ES256), auth_errc::key_mismatch);
}

TEST(Rfc8037, A4Ed25519) {
  EXPECT_FALSE(verify_compact(kRfc8037A4, kRfc8037Key, Alg::EdDSA));
  EXPECT_EQ(verify_compact(flip_last_signature_bit(kRfc8037A4), kRfc8037Key, Alg::EdDSA),
            auth_errc::signature_invalid);
}

}  // namespace
