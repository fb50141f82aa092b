// Unit tests for auth/dpop (RFC 9449 proofs) and the RFC 7638 thumbprint:
//   - named vectors: RFC 7638 §3.1, RFC 9449 §5 Figures 2 and 6 (verified at
//     their own iat with a fixed clock), the §7.1 ath example;
//   - one test per rejection reason, each from a proof that verifies but for
//     the one thing changed;
//   - htu normalisation (RFC 9449 §4.3, RFC 3986 §6).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "auth/dpop.hpp"
#include "auth/jwk.hpp"
#include "auth/strict_json.hpp"
#include "test_signer.hpp"

namespace {

using namespace authgate::auth;
namespace t = authgate::auth::test;

boost::json::object object(std::string_view text) {
  boost::json::object o;
  EXPECT_EQ(detail::parse_strict_object(text, o), detail::JsonError::none) << text;
  return o;
}

// RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint.
TEST(JwkThumbprint, Rfc7638Section3_1) {
  const auto jwk = object(
      R"({"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
  auto jkt = jwk_thumbprint(jwk);
  ASSERT_TRUE(jkt);
  EXPECT_EQ(*jkt, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkThumbprint, MissingMemberOrUnknownKty) {
  EXPECT_EQ(jwk_thumbprint(object(R"({"kty":"EC","crv":"P-256","x":"AA"})")).error(), auth_errc::jwk_invalid);
  EXPECT_EQ(jwk_thumbprint(object(R"({"kty":"XYZ"})")).error(), auth_errc::jwk_unsupported);
  EXPECT_EQ(jwk_thumbprint(object(R"({"kty":"OKP","crv":"Ed25519","x":"a\"b"})")).error(), auth_errc::jwk_invalid);
}

// RFC 9449 §5, Figure 2 (and §4.1): the ES256 proof of a token request, and
// the thumbprint of its key that §6.1 puts in cnf.jkt.
constexpr std::string_view kRfcProofFigure2 =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJo"
    "RjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGk"
    "iOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMj"
    "YyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
// Figure 6: the same key, a refresh-token request 2680 s later.
constexpr std::string_view kRfcProofFigure6 =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJo"
    "RjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGk"
    "iOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMj"
    "Y1Mjk2fQ.pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5QsGSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA";
constexpr std::string_view kRfcJkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

TEST(DpopProof, Rfc9449Figure2VerifiesAtItsIat) {
  const DpopRequest req{"POST", "https://server.example.com/token", {}, kRfcJkt};
  auto proof = verify_dpop_proof(kRfcProofFigure2, req, DpopPolicy{}, 1562262616);
  ASSERT_TRUE(proof) << proof.error().message();
  EXPECT_EQ(proof->jti, "-BwC3ESc6acc2lTc");
  EXPECT_EQ(proof->jkt, kRfcJkt);
  EXPECT_EQ(proof->iat, 1562262616);
  // The same proof today: outside any sane window.
  EXPECT_EQ(verify_dpop_proof(kRfcProofFigure2, req, DpopPolicy{}, 1'700'000'000).error(), auth_errc::dpop_iat_invalid);
}

TEST(DpopProof, Rfc9449Figure6VerifiesAtItsIat) {
  const DpopRequest req{"POST", "https://server.example.com/token", {}, kRfcJkt};
  auto proof = verify_dpop_proof(kRfcProofFigure6, req, DpopPolicy{}, 1562265296 + 30);
  ASSERT_TRUE(proof) << proof.error().message();
  EXPECT_EQ(proof->jkt, kRfcJkt);
  // Figure 2's signature on Figure 6's header and claims does not verify.
  const std::string spliced = std::string(kRfcProofFigure6.substr(0, kRfcProofFigure6.rfind('.'))) +
                              std::string(kRfcProofFigure2.substr(kRfcProofFigure2.rfind('.')));
  EXPECT_EQ(verify_dpop_proof(spliced, req, DpopPolicy{}, 1562265296).error(), auth_errc::dpop_signature_invalid);
}

// RFC 9449 §7.1: the example access token and its ath.
TEST(DpopProof, Rfc9449Section7_1Ath) {
  EXPECT_EQ(dpop_ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

// --- Proofs minted here: one field changed per rejection reason ---

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
constexpr std::string_view kHtu = "https://api.example.com/orders/1";

struct Proof {
  const t::TestKey* key = &t::p256();
  std::string alg = "ES256";
  std::string typ = R"("typ":"dpop+jwt")";
  std::string jwk;  // default: the key's public JWK
  std::string jti = R"("jti":"e1j3V_bKic8-LAEB")";
  std::string htm = "GET";
  std::string htu = std::string(kHtu);
  std::int64_t iat = kNow;
  std::string ath = dpop_ath(kToken);
  std::string extra_claims;

  std::string mint() const {
    std::string header = "{" + typ + (typ.empty() ? "" : ",") + R"("alg":")" + alg + R"(","jwk":)" +
                         (jwk.empty() ? key->public_jwk() : jwk) + "}";
    std::string claims = "{" + jti + (jti.empty() ? "" : ",") + R"("htm":")" + htm + R"(","htu":")" + htu +
                         R"(","iat":)" + std::to_string(iat);
    if (!ath.empty()) claims += R"(,"ath":")" + ath + "\"";
    claims += extra_claims + "}";
    return t::mint(*key, alg, header, claims);
  }
};

Proof with(const std::function<void(Proof&)>& change) {
  Proof p;
  change(p);
  return p;
}

std::string jkt_of(const t::TestKey& key) { return *jwk_thumbprint(object(key.public_jwk())); }

DpopRequest request(std::string_view jkt) { return DpopRequest{"GET", kHtu, kToken, jkt}; }

std::error_code check(const Proof& p, std::int64_t now = kNow) {
  const std::string jkt = jkt_of(*p.key);
  auto r = verify_dpop_proof(p.mint(), request(jkt), DpopPolicy{}, now);
  return r ? std::error_code{} : r.error();
}

TEST(DpopProof, GoodProofEveryAlgFamily) {
  EXPECT_EQ(check(Proof{}), std::error_code{});
  EXPECT_EQ(check(with([&](Proof& p) { p.key = &t::p384(); p.alg = "ES384"; })), std::error_code{});
  EXPECT_EQ(check(with([&](Proof& p) { p.key = &t::rsa2048(); p.alg = "PS256"; })), std::error_code{});
  EXPECT_EQ(check(with([&](Proof& p) { p.key = &t::rsa2048(); p.alg = "RS256"; })), std::error_code{});
  EXPECT_EQ(check(with([&](Proof& p) { p.key = &t::ed25519(); p.alg = "EdDSA"; })), std::error_code{});
  auto ok = verify_dpop_proof(Proof{}.mint(), request(jkt_of(t::p256())), DpopPolicy{}, kNow);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->jti, "e1j3V_bKic8-LAEB");
  EXPECT_EQ(ok->jkt, jkt_of(t::p256()));
}

TEST(DpopProof, Malformed) {
  const auto req = request(jkt_of(t::p256()));
  EXPECT_EQ(verify_dpop_proof("not-a-jwt", req, DpopPolicy{}, kNow).error(), auth_errc::dpop_proof_malformed);
  EXPECT_EQ(verify_dpop_proof(std::string(9000, 'a') + ".b.c", req, DpopPolicy{}, kNow).error(),
            auth_errc::dpop_proof_malformed);
  // htm of the wrong type; iat missing.
  const std::string bad_htm = t::mint(t::p256(), "ES256", R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + t::p256().public_jwk() + "}",
                                      R"({"jti":"x","htm":1,"htu":"https://api.example.com/orders/1","iat":1700000000})");
  EXPECT_EQ(verify_dpop_proof(bad_htm, req, DpopPolicy{}, kNow).error(), auth_errc::dpop_proof_malformed);
  const std::string no_iat = t::mint(t::p256(), "ES256", R"({"typ":"dpop+jwt","alg":"ES256","jwk":)" + t::p256().public_jwk() + "}",
                                     R"({"jti":"x","htm":"GET","htu":"https://api.example.com/orders/1"})");
  EXPECT_EQ(verify_dpop_proof(no_iat, req, DpopPolicy{}, kNow).error(), auth_errc::dpop_proof_malformed);
}

TEST(DpopProof, TypeNotDpopJwt) {
  EXPECT_EQ(check(with([&](Proof& p) { p.typ = R"("typ":"JWT")"; })), auth_errc::dpop_type_invalid);
  EXPECT_EQ(check(with([&](Proof& p) { p.typ = ""; })), auth_errc::dpop_type_invalid);
  EXPECT_EQ(check(with([&](Proof& p) { p.typ = R"("typ":"application/DPoP+JWT")"; })), std::error_code{});
}

TEST(DpopProof, AlgNotAllowed) {
  // HS256 over the key's "jwk" is never a proof; neither is an alg left out of the policy.
  const std::string hs = t::mint_hmac("HS256", "0123456789abcdef0123456789abcdef",
                                      R"({"typ":"dpop+jwt","alg":"HS256","jwk":)" + t::p256().public_jwk() + "}",
                                      R"({"jti":"x","htm":"GET","htu":"https://api.example.com/orders/1","iat":1700000000})");
  EXPECT_EQ(verify_dpop_proof(hs, request(jkt_of(t::p256())), DpopPolicy{}, kNow).error(),
            auth_errc::dpop_alg_not_allowed);
  DpopPolicy es_only;
  es_only.allowed_algs = {Alg::ES256};
  const Proof rsa = with([&](Proof& p) { p.key = &t::rsa2048(); p.alg = "RS256"; });
  EXPECT_EQ(verify_dpop_proof(rsa.mint(), request(jkt_of(t::rsa2048())), es_only, kNow).error(),
            auth_errc::dpop_alg_not_allowed);
}

TEST(DpopProof, JwkPrivateMembers) {
  std::string jwk = t::p256().public_jwk();
  jwk.insert(jwk.size() - 1, R"(,"d":"AAAA")");
  EXPECT_EQ(check(with([&](Proof& p) { p.jwk = jwk; })), auth_errc::dpop_jwk_private);
}

TEST(DpopProof, JwkInvalid) {
  EXPECT_EQ(check(with([&](Proof& p) { p.jwk = R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})"; })), auth_errc::dpop_jwk_invalid);
  EXPECT_EQ(check(with([&](Proof& p) { p.jwk = R"("not an object")"; })), auth_errc::dpop_jwk_invalid);
  // A P-384 key for ES256.
  EXPECT_EQ(check(with([&](Proof& p) { p.jwk = t::p384().public_jwk(); })), auth_errc::dpop_jwk_invalid);
}

TEST(DpopProof, SignatureByAnotherKey) {
  // Signed with a fresh P-256 key, carrying p256()'s public jwk.
  const t::TestKey other = t::make_ec("P-256", "other");
  EXPECT_EQ(check(with([&](Proof& p) { p.key = &other; p.jwk = t::p256().public_jwk(); })), auth_errc::dpop_signature_invalid);
}

TEST(DpopProof, JtiMissing) {
  EXPECT_EQ(check(with([&](Proof& p) { p.jti = ""; })), auth_errc::dpop_jti_missing);
  EXPECT_EQ(check(with([&](Proof& p) { p.jti = R"("jti":"")"; })), auth_errc::dpop_jti_missing);
  EXPECT_EQ(check(with([&](Proof& p) { p.jti = R"("jti":")" + std::string(300, 'j') + "\""; })), auth_errc::dpop_jti_missing);
}

TEST(DpopProof, HtmMismatch) {
  EXPECT_EQ(check(with([&](Proof& p) { p.htm = "POST"; })), auth_errc::dpop_htm_mismatch);
  EXPECT_EQ(check(with([&](Proof& p) { p.htm = "get"; })), auth_errc::dpop_htm_mismatch);  // methods are case-sensitive
}

TEST(DpopProof, HtuMismatch) {
  EXPECT_EQ(check(with([&](Proof& p) { p.htu = "https://api.example.com/orders/2"; })), auth_errc::dpop_htu_mismatch);
  EXPECT_EQ(check(with([&](Proof& p) { p.htu = "http://api.example.com/orders/1"; })), auth_errc::dpop_htu_mismatch);
  EXPECT_EQ(check(with([&](Proof& p) { p.htu = "https://evil.example.com/orders/1"; })), auth_errc::dpop_htu_mismatch);
  EXPECT_EQ(check(with([&](Proof& p) { p.htu = "https://api.example.com:8443/orders/1"; })), auth_errc::dpop_htu_mismatch);
  EXPECT_EQ(check(with([&](Proof& p) { p.htu = "/orders/1"; })), auth_errc::dpop_htu_mismatch);
  // Equivalent spellings are accepted (RFC 9449 §4.3: query and fragment ignored, RFC 3986 §6).
  EXPECT_EQ(check(with([&](Proof& p) { p.htu = "HTTPS://API.Example.com:443/orders/%31?x=1"; })), std::error_code{});
}

TEST(DpopProof, IatOutsideWindow) {
  EXPECT_EQ(check(with([&](Proof& p) { p.iat = kNow - 61; })), auth_errc::dpop_iat_invalid);
  EXPECT_EQ(check(with([&](Proof& p) { p.iat = kNow + 61; })), auth_errc::dpop_iat_invalid);
  EXPECT_EQ(check(with([&](Proof& p) { p.iat = kNow - 60; })), std::error_code{});
  EXPECT_EQ(check(with([&](Proof& p) { p.iat = kNow + 60; })), std::error_code{});
  DpopPolicy narrow;
  narrow.iat_window_seconds = 5;
  EXPECT_EQ(verify_dpop_proof(with([&](Proof& p) { p.iat = kNow - 6; }).mint(), request(jkt_of(t::p256())), narrow, kNow).error(),
            auth_errc::dpop_iat_invalid);
}

TEST(DpopProof, AthMismatch) {
  EXPECT_EQ(check(with([&](Proof& p) { p.ath = dpop_ath("another token"); })), auth_errc::dpop_ath_mismatch);
  EXPECT_EQ(check(with([&](Proof& p) { p.ath = ""; })), auth_errc::dpop_ath_mismatch);
}

TEST(DpopProof, JktMismatch) {
  auto r = verify_dpop_proof(Proof{}.mint(), request(kRfcJkt), DpopPolicy{}, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), auth_errc::dpop_jkt_mismatch);
  // No expected jkt (an unbound token on a route that allows DPoP): not compared.
  EXPECT_TRUE(verify_dpop_proof(Proof{}.mint(), request({}), DpopPolicy{}, kNow));
}

// --- DpopKeyCache: a hit gives exactly what the import gives; every other check still runs ---

authgate::common::Result<DpopProof> cached(const std::string& proof, DpopKeyCache& keys, std::string_view jkt,
                                 const DpopPolicy& policy = DpopPolicy{}) {
  return verify_dpop_proof(proof, request(jkt), policy, kNow, &keys);
}

TEST(DpopKeyCache, SecondProofOfAKeyHitsWithTheSameResult) {
  DpopKeyCache keys(16);
  const std::string jkt = jkt_of(t::p256());
  const std::string first = Proof{}.mint();
  const std::string second = with([](Proof& p) { p.jti = R"("jti":"second")"; }).mint();
  auto a = cached(first, keys, jkt);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_FALSE(a->key_cached);
  EXPECT_EQ(keys.size(), 1u);
  auto b = cached(second, keys, jkt);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_TRUE(b->key_cached);
  auto uncached = verify_dpop_proof(second, request(jkt), DpopPolicy{}, kNow);
  ASSERT_TRUE(uncached);
  EXPECT_FALSE(uncached->key_cached);
  EXPECT_EQ(b->jkt, uncached->jkt);
  EXPECT_EQ(b->jkt, jkt);
  EXPECT_EQ(b->jti, "second");
  EXPECT_EQ(b->iat, uncached->iat);
}

TEST(DpopKeyCache, CachedKeyStillRejectsABadSignature) {
  DpopKeyCache keys(16);
  const std::string jkt = jkt_of(t::p256());
  ASSERT_TRUE(cached(Proof{}.mint(), keys, jkt));
  // Same header (a hit), signed by another key; then the good proof with one signature byte changed.
  const t::TestKey other = t::make_ec("P-256", "other");
  EXPECT_EQ(cached(with([&](Proof& p) { p.key = &other; p.jwk = t::p256().public_jwk(); }).mint(), keys, jkt).error(),
            auth_errc::dpop_signature_invalid);
  std::string tampered = with([](Proof& p) { p.jti = R"("jti":"t")"; }).mint();
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(cached(tampered, keys, jkt).error(), auth_errc::dpop_signature_invalid);
}

TEST(DpopKeyCache, HeaderDifferingInOneByteIsImportedAfresh) {
  DpopKeyCache keys(16);
  const std::string jkt = jkt_of(t::p256());
  ASSERT_TRUE(cached(Proof{}.mint(), keys, jkt));
  // The cached key's jwk with the last character of y changed: the same header up to its last
  // bytes, a point off the curve. It is not a hit, so the import refuses it.
  std::string jwk = t::p256().public_jwk();
  const std::size_t y_end = jwk.find('"', jwk.find(R"("y":")") + 5);
  jwk[y_end - 1] = jwk[y_end - 1] == 'A' ? 'Q' : 'A';
  EXPECT_EQ(cached(with([&](Proof& p) { p.jwk = jwk; }).mint(), keys, jkt).error(), auth_errc::dpop_jwk_invalid);
  // A private member added to the cached jwk: refused as private, never taken from the cache.
  std::string with_d = t::p256().public_jwk();
  with_d.insert(with_d.size() - 1, R"(,"d":"AAAA")");
  EXPECT_EQ(cached(with([&](Proof& p) { p.jwk = with_d; }).mint(), keys, jkt).error(), auth_errc::dpop_jwk_private);
  EXPECT_EQ(keys.size(), 1u);
}

TEST(DpopKeyCache, EveryOtherCheckRunsOnAHit) {
  DpopKeyCache keys(16);
  const std::string jkt = jkt_of(t::p256());
  ASSERT_TRUE(cached(Proof{}.mint(), keys, jkt));
  EXPECT_EQ(cached(with([](Proof& p) { p.htm = "POST"; }).mint(), keys, jkt).error(), auth_errc::dpop_htm_mismatch);
  EXPECT_EQ(cached(with([](Proof& p) { p.ath = dpop_ath("another token"); }).mint(), keys, jkt).error(),
            auth_errc::dpop_ath_mismatch);
  EXPECT_EQ(cached(with([](Proof& p) { p.iat = kNow - 3600; }).mint(), keys, jkt).error(), auth_errc::dpop_iat_invalid);
  EXPECT_EQ(cached(Proof{}.mint(), keys, kRfcJkt).error(), auth_errc::dpop_jkt_mismatch);
  DpopPolicy no_es256;  // a reload that drops ES256
  no_es256.allowed_algs = {Alg::ES384};
  EXPECT_EQ(cached(Proof{}.mint(), keys, jkt, no_es256).error(), auth_errc::dpop_alg_not_allowed);
}

TEST(DpopKeyCache, OnlyProofsThatPassEveryCheckAreStored) {
  DpopKeyCache keys(16);
  const std::string jkt = jkt_of(t::p256());
  EXPECT_EQ(cached(with([](Proof& p) { p.htm = "POST"; }).mint(), keys, jkt).error(), auth_errc::dpop_htm_mismatch);
  EXPECT_EQ(cached(Proof{}.mint(), keys, kRfcJkt).error(), auth_errc::dpop_jkt_mismatch);
  EXPECT_EQ(keys.size(), 0u);
  auto ok = cached(Proof{}.mint(), keys, jkt);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->key_cached);
}

TEST(DpopKeyCache, BoundedAndOff) {
  DpopKeyCache one(1);
  const t::TestKey other = t::make_ec("P-256", "other");
  const Proof mine;
  const Proof theirs = with([&](Proof& p) { p.key = &other; });
  for (int round = 0; round < 2; ++round) {  // two clients alternating in one entry: always a miss
    auto a = cached(mine.mint(), one, jkt_of(t::p256()));
    auto b = cached(theirs.mint(), one, jkt_of(other));
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(a->key_cached || b->key_cached);
    EXPECT_EQ(one.size(), 1u);
  }
  DpopKeyCache off(0);
  for (int i = 0; i < 2; ++i) {
    auto r = cached(mine.mint(), off, jkt_of(t::p256()));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->key_cached);
  }
  EXPECT_EQ(off.size(), 0u);
}

TEST(DpopHtu, Normalisation) {
  EXPECT_EQ(normalize_htu("https://Server.Example.COM:443/a/./b/../c?q#f"), "https://server.example.com/a/c");
  EXPECT_EQ(normalize_htu("http://h:80"), "http://h/");
  EXPECT_EQ(normalize_htu("http://h:8080/%7euser/%2f//x/"), "http://h:8080/~user/%2F/x/");
  EXPECT_EQ(normalize_htu("http://[::1]:9000/x"), "http://[::1]:9000/x");
  EXPECT_EQ(normalize_htu("http://h/%zz"), std::nullopt);
  EXPECT_EQ(normalize_htu("ftp://h/x"), std::nullopt);
  EXPECT_EQ(normalize_htu("/relative"), std::nullopt);
  EXPECT_EQ(normalize_htu("http://user@h/x"), std::nullopt);
}

}  // namespace
