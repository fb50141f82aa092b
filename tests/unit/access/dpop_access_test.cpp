// DPoP (RFC 9449) in access::AccessControl::check(): presentation (Authorization:
// DPoP + one DPoP header), the binding (cnf.jkt) against the route's dpop mode,
// the proof checked on every request (a cached token too), the in-memory jti
// replay cache (counted), the challenges, and htu from public_url or a trusted
// proxy's X-Forwarded-*. Real loader, real key set fetched from a loopback IdP.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <exception>
#include <string>

#include "access/access_control.hpp"
#include "access/issuers.hpp"
#include "auth/auth_errc.hpp"
#include "auth/dpop.hpp"
#include "auth/jwk.hpp"
#include "auth/test_signer.hpp"
#include "config/loader.hpp"
#include "metrics/metrics.hpp"
#include "support/upstream_server.hpp"

namespace authgate::access {
namespace {

namespace ts = auth::test;
namespace bhttp = boost::beast::http;
using auth::auth_errc;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string jkt_of(const ts::TestKey& key) {
  return *auth::jwk_thumbprint(boost::json::parse(key.public_jwk()).as_object());
}

class DpopAccess : public ::testing::Test {
 protected:
  // `dpop_extra`: more lines of the dpop: block; `issuer_extra`: more lines of the issuer idp. A
  // second issuer, idp2 (iss <idp>/two, same keys), has no settings of its own. The nonce secret
  // is configured; `nonce_enabled` is dpop.nonce.enabled (routes nonce_on and nonce_off set their own).
  explicit DpopAccess(const std::string& dpop_extra = "", const std::string& issuer_extra = "",
                      bool nonce_enabled = false)
      : idp_([](support::UpstreamConnection& c, const support::RequestHead&) {
          c.respond(200, ts::jwks_of({ts::rsa2048().public_jwk()}), {}, "application/json");
        }),
        cfg_(config::load_string("upstreams:\n"
                                 "  - {name: app, url: http://127.0.0.1:9}\n"
                                 "issuers:\n"
                                 "  - name: idp\n"
                                 "    issuer: " + idp_.url() + "\n"
                                 "    audiences: [orders-api]\n"
                                 "    jwks_uri: " + idp_.url() + "/jwks\n" + issuer_extra +
                                 "  - name: idp2\n"
                                 "    issuer: " + idp_.url() + "/two\n"
                                 "    audiences: [orders-api]\n"
                                 "    jwks_uri: " + idp_.url() + "/jwks\n"
                                 "dpop:\n"
                                 "  algs: [ES256, PS256]\n" + dpop_extra + nonce_yaml(nonce_enabled) +
                                 "routes:\n"
                                 "  - {name: off, match: {path: {prefix: /off}}, upstream: app, auth: bearer}\n"
                                 "  - {name: allowed, match: {path: {prefix: /allowed}}, upstream: app, auth: bearer,"
                                 " dpop: allowed}\n"
                                 "  - {name: required, match: {path: {prefix: /required}}, upstream: app, auth: bearer,"
                                 " dpop: required}\n"
                                 "  - {name: passthrough, match: {path: {prefix: /pass}}, upstream: app, auth: bearer,"
                                 " dpop: required, forward: {authorization: true, dpop_proof: true}}\n"
                                 "  - {name: nonce_on, match: {path: {prefix: /nonce-on}}, upstream: app, auth: bearer,"
                                 " dpop: required, dpop_nonce: true}\n"
                                 "  - {name: nonce_off, match: {path: {prefix: /nonce-off}}, upstream: app, auth: bearer,"
                                 " dpop: required, dpop_nonce: false}\n",
                                 "t.yaml")),
        issuers_(cfg_, metrics_, io_.get_executor()),
        access_(cfg_, issuers_, nullptr, nullptr, metrics_) {}
  ~DpopAccess() override { idp_.stop(); }

  static std::string nonce_yaml(bool enabled) {
    ::setenv("AUTHGATE_TEST_DPOP_NONCE", "unit-test-dpop-nonce-secret-0123456789abcdef", 1);
    return std::string("  nonce: {enabled: ") + (enabled ? "true" : "false") +
           ", rotate_interval: 1h, secret_env: AUTHGATE_TEST_DPOP_NONCE}\n";
  }

  const config::Route& route(std::string_view name) const {
    for (const auto& r : cfg_.routes)
      if (r.name == name) return r;
    throw std::runtime_error("no route " + std::string(name));
  }

  std::string token(bool bound, const ts::TestKey& key = ts::p256(), std::string_view iss_suffix = "") const {
    std::string claims = R"({"iss":")" + idp_.url() + std::string(iss_suffix) +
                         R"(","sub":"alice","aud":"orders-api","exp":)" +
                         std::to_string(now_s() + 300);
    if (bound) claims += R"(,"cnf":{"jkt":")" + jkt_of(key) + R"("})";
    return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})", claims + "}");
  }

  std::string proof(std::string_view access_token, std::string_view htm, std::string_view htu,
                    std::string jti = {}, const ts::TestKey& key = ts::p256(), std::string_view nonce = {},
                    std::int64_t iat_offset = 0, const std::string& alg = "ES256") {
    if (jti.empty()) jti = "jti-" + std::to_string(++jti_seq_);
    std::string claims = R"({"jti":")" + jti + R"(","htm":")" + std::string(htm) + R"(","htu":")" +
                         std::string(htu) + R"(","iat":)" + std::to_string(now_s() + iat_offset) + R"(,"ath":")" +
                         auth::dpop_ath(access_token) + "\"";
    if (!nonce.empty()) claims += R"(,"nonce":")" + std::string(nonce) + "\"";
    return ts::mint(key, alg, R"({"typ":"dpop+jwt","alg":")" + alg + R"(","jwk":)" + key.public_jwk() + "}",
                    claims + "}");
  }

  // One request; the pending path (the first one fetches the keys) is run to its end.
  Decision decide(std::string_view route_name, std::string_view authorization,
                  std::vector<std::string> proofs = {}, std::string_view path = "/required/x",
                  std::string_view method = "GET", bool trusted = false) {
    fields_.clear();
    fields_.set(bhttp::field::host, "api.example.com");
    fields_.set(bhttp::field::authorization, authorization);
    for (const auto& p : proofs) fields_.insert("DPoP", p);
    for (const auto& [k, v] : extra_) fields_.insert(k, v);
    Verdict v = access_.check(route(route_name), Request{fields_, method, path, "", "https", trusted}, now_s());
    if (v.pending()) {
      boost::asio::co_spawn(io_, v.resolve(), [&](std::exception_ptr) { io_.stop(); });
      io_.restart();
      io_.run_for(std::chrono::seconds(20));
    }
    return v.take();
  }

  support::UpstreamServer idp_;
  metrics::Metrics metrics_{"test"};
  boost::asio::io_context io_;
  config::GatewayConfig cfg_;
  Issuers issuers_;
  AccessControl access_;
  http::Fields fields_;
  std::vector<std::pair<std::string, std::string>> extra_;
  int jti_seq_ = 0;
};

constexpr std::string_view kUrl = "https://api.example.com/required/x";

TEST_F(DpopAccess, FreshProofAllowedThenEveryReplayRefusedCounted) {
  const std::string t = token(true);
  const std::string p = proof(t, "GET", kUrl);
  constexpr int kRequests = 10;
  int allowed = 0, replayed = 0;
  for (int i = 0; i < kRequests; ++i) {
    const Decision d = decide("required", "DPoP " + t, {p});
    if (d.allowed) ++allowed;
    if (d.ec == auth_errc::dpop_replayed) ++replayed;
  }
  EXPECT_EQ(allowed, 1);
  EXPECT_EQ(replayed, kRequests - 1);
  EXPECT_EQ(metrics_.dpop_replays.Value(), kRequests - 1);
  // A fresh proof for the same (now cached) token is accepted again.
  EXPECT_TRUE(decide("required", "DPoP " + t, {proof(t, "GET", kUrl)}).allowed);
}

TEST_F(DpopAccess, AClientsNextProofsTakeItsKeyFromTheCacheCounted) {
  const std::string t = token(true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(decide("required", "DPoP " + t, {proof(t, "GET", kUrl)}).allowed);
  EXPECT_EQ(metrics_.dpop_key_cache_miss.Value(), 1);
  EXPECT_EQ(metrics_.dpop_key_cache_hit.Value(), 2);
  // A refused proof counts in neither; the next Runtime (a reload, same size) keeps the cache.
  EXPECT_FALSE(decide("required", "DPoP " + t, {proof(t, "POST", kUrl)}).allowed);
  AccessControl reloaded(cfg_, issuers_, nullptr, nullptr, metrics_, nullptr, &access_);
  fields_.clear();
  fields_.set(bhttp::field::host, "api.example.com");
  fields_.set(bhttp::field::authorization, "DPoP " + t);
  fields_.insert("DPoP", proof(t, "GET", kUrl));
  Verdict v = reloaded.check(route("required"), Request{fields_, "GET", "/required/x", "", "https", false}, now_s());
  ASSERT_FALSE(v.pending());
  EXPECT_TRUE(v.take().allowed);
  EXPECT_EQ(metrics_.dpop_key_cache_miss.Value(), 1);
  EXPECT_EQ(metrics_.dpop_key_cache_hit.Value(), 3);
}

// The attack: fill the memory replay cache with fresh proofs (one valid token is enough) until
// the proof to replay is dropped, then replay it. A full cache refuses new proofs instead (503
// dpop_replay_unavailable), and the accepted proof stays remembered for its whole window.
class DpopReplayFlood : public DpopAccess {
 protected:
  DpopReplayFlood() : DpopAccess("  replay_cache_entries: 16\n") {}
};

TEST_F(DpopReplayFlood, AFloodOfFreshProofsCannotEvictAnAcceptedProofToReplayIt) {
  const std::string t = token(true);
  const std::string victim = proof(t, "GET", kUrl);
  ASSERT_TRUE(decide("required", "DPoP " + t, {victim}).allowed);
  int allowed = 0, refused_full = 0;
  for (int i = 0; i < 200; ++i) {
    const Decision d = decide("required", "DPoP " + t, {proof(t, "GET", kUrl)});
    if (d.allowed) ++allowed;
    if (d.ec == auth_errc::dpop_replay_unavailable) ++refused_full;
  }
  EXPECT_LE(allowed, 15) << "at most the cache's room";
  EXPECT_GT(refused_full, 0);
  const Decision replay = decide("required", "DPoP " + t, {victim});
  EXPECT_FALSE(replay.allowed) << "the flood evicted the accepted proof";
  EXPECT_EQ(replay.ec, auth_errc::dpop_replayed);
}

TEST_F(DpopAccess, AReloadKeepsTheReplayCache) {
  const std::string t = token(true);
  const std::string p = proof(t, "GET", kUrl);
  ASSERT_TRUE(decide("required", "DPoP " + t, {p}).allowed);
  // The next Runtime's AccessControl (SIGHUP), built with the previous one.
  AccessControl reloaded(cfg_, issuers_, nullptr, nullptr, metrics_, nullptr, &access_);
  fields_.clear();
  fields_.set(bhttp::field::host, "api.example.com");
  fields_.set(bhttp::field::authorization, "DPoP " + t);
  fields_.insert("DPoP", p);
  Verdict v = reloaded.check(route("required"), Request{fields_, "GET", "/required/x", "", "https", false}, now_s());
  ASSERT_FALSE(v.pending());  // the keys are loaded
  EXPECT_EQ(v.take().ec, auth_errc::dpop_replayed);
}

TEST_F(DpopAccess, ForwardingRemovesTheProofUnlessConfigured) {
  const std::string t = token(true);
  const std::string p = proof(t, "GET", kUrl);
  const Decision d = decide("required", "DPoP " + t, {p});
  ASSERT_TRUE(d.allowed);
  for (const char* r : {"required", "passthrough"}) {
    http::Fields upstream;
    upstream.set(bhttp::field::authorization, "DPoP " + t);
    upstream.insert("DPoP", p);
    access_.forward_identity(upstream, route(r), d);
    const bool pass = std::string_view(r) == "passthrough";
    EXPECT_EQ(upstream.count("DPoP"), pass ? 1u : 0u) << r;
    EXPECT_EQ(upstream.count(bhttp::field::authorization), pass ? 1u : 0u) << r;
  }
}

TEST_F(DpopAccess, CachedTokenStillNeedsAValidProof) {
  const std::string t = token(true);
  ASSERT_TRUE(decide("required", "DPoP " + t, {proof(t, "GET", kUrl)}).allowed);
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(t, "GET", "https://api.example.com/other")}).ec,
            auth_errc::dpop_htu_mismatch);
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(t, "POST", kUrl)}).ec, auth_errc::dpop_htm_mismatch);
  // Signed by another key than the one the token is bound to.
  const ts::TestKey other = ts::make_ec("P-256", "other");
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(t, "GET", kUrl, {}, other)}).ec, auth_errc::dpop_jkt_mismatch);
  // A proof made for another token.
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(token(false), "GET", kUrl)}).ec, auth_errc::dpop_ath_mismatch);
}

TEST_F(DpopAccess, BoundTokenAsBearerIsRefusedOnEveryRoute) {
  const std::string t = token(true);
  for (const char* r : {"off", "allowed", "required"}) {
    const Decision d = decide(r, "Bearer " + t);
    EXPECT_FALSE(d.allowed) << r;
    EXPECT_EQ(d.ec, auth_errc::dpop_bound_token_as_bearer) << r;
    EXPECT_EQ(d.reply.status, 401u) << r;
  }
}

TEST_F(DpopAccess, UnboundTokens) {
  const std::string t = token(false);
  EXPECT_TRUE(decide("off", "Bearer " + t).allowed);
  EXPECT_TRUE(decide("allowed", "Bearer " + t).allowed);
  EXPECT_EQ(decide("required", "Bearer " + t).ec, auth_errc::dpop_token_unbound);
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(t, "GET", kUrl)}).ec, auth_errc::dpop_token_unbound);
  // allowed: an unbound token with a valid proof passes (nothing to bind it to); a bad proof does not.
  const std::string allowed_url = "https://api.example.com/allowed/x";
  EXPECT_TRUE(decide("allowed", "DPoP " + t, {proof(t, "GET", allowed_url)}, "/allowed/x").allowed);
  EXPECT_EQ(decide("allowed", "DPoP " + t, {proof(t, "GET", kUrl)}, "/allowed/x").ec, auth_errc::dpop_htu_mismatch);
}

TEST_F(DpopAccess, ProofHeaderCount) {
  const std::string t = token(true);
  EXPECT_EQ(decide("required", "DPoP " + t).ec, auth_errc::dpop_proof_missing);
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(t, "GET", kUrl), proof(t, "GET", kUrl)}).ec,
            auth_errc::dpop_proof_repeated);
  // On a route without DPoP the scheme is not one authgate takes.
  EXPECT_EQ(decide("off", "DPoP " + t, {proof(t, "GET", kUrl)}).ec, auth_errc::token_missing);
}

TEST_F(DpopAccess, Challenges) {
  const std::string t = token(true);
  // required: the DPoP challenge only, with the proof error and the algs.
  Decision d = decide("required", "DPoP " + t, {proof(t, "PUT", kUrl)});
  EXPECT_EQ(d.reply.status, 401u);
  EXPECT_EQ(d.reply.error, "invalid_dpop_proof");
  EXPECT_EQ(d.reply.www_authenticate,
            "DPoP realm=\"authgate\", error=\"invalid_dpop_proof\", error_description=\"" +
                std::error_code(auth_errc::dpop_htm_mismatch).message() + "\", algs=\"ES256 PS256\"");
  // allowed: Bearer and DPoP together (RFC 9110 §11.6.1), the token error on both.
  d = decide("allowed", "Bearer " + t, {}, "/allowed/x");
  const std::string desc = std::error_code(auth_errc::dpop_bound_token_as_bearer).message();
  EXPECT_EQ(d.reply.www_authenticate,
            "Bearer realm=\"authgate\", error=\"invalid_token\", error_description=\"" + desc +
                "\", DPoP realm=\"authgate\", error=\"invalid_token\", error_description=\"" + desc +
                "\", algs=\"ES256 PS256\"");
  // No credentials on an allowed route: both challenges, no error.
  d = decide("allowed", "", {}, "/allowed/x");
  EXPECT_EQ(d.reply.www_authenticate, "Bearer realm=\"authgate\", DPoP realm=\"authgate\", algs=\"ES256 PS256\"");
  // off: Bearer only, as before.
  EXPECT_EQ(decide("off", "", {}, "/off/x").reply.www_authenticate, "Bearer realm=\"authgate\"");
}

TEST_F(DpopAccess, HtuFromTrustedForwardedHeadersOnly) {
  const std::string t = token(true);
  extra_ = {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "public.example.com"}};
  const std::string public_url = "https://public.example.com/required/x";
  EXPECT_TRUE(decide("required", "DPoP " + t, {proof(t, "GET", public_url)}, "/required/x", "GET", true).allowed);
  // The same headers from an untrusted peer are ignored: the Host header counts.
  EXPECT_EQ(decide("required", "DPoP " + t, {proof(t, "GET", public_url)}, "/required/x", "GET", false).ec,
            auth_errc::dpop_htu_mismatch);
}

TEST(DpopConfig, PublicUrlAndErrorsNameTheKey) {
  const auto cfg = config::load_string(
      "upstreams: [{name: app, url: http://127.0.0.1:9}]\n"
      "dpop: {public_url: https://gw.example.com, iat_window: 30s, replay_cache_entries: 10}\n",
      "t.yaml");
  EXPECT_EQ(cfg.dpop.public_url, "https://gw.example.com");
  EXPECT_EQ(cfg.dpop.iat_window, std::chrono::seconds(30));
  EXPECT_EQ(cfg.dpop.replay_cache_entries, 10u);
  EXPECT_EQ(cfg.dpop.key_cache_entries, 10'000u);  // the default
  EXPECT_EQ(config::load_string("dpop: {key_cache_entries: 0}\n", "t.yaml").dpop.key_cache_entries, 0u);
  auto error_of = [](const std::string& yaml) {
    try {
      config::load_string(yaml, "t.yaml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("dpop:\n  algs: [HS256]\n").find("t.yaml:2:10: dpop.algs[0]"), std::string::npos);
  EXPECT_NE(error_of("dpop:\n  public_url: https://x/path\n").find("t.yaml:2:15: dpop.public_url"),
            std::string::npos);
  EXPECT_NE(error_of("dpop:\n  key_cache_entries: many\n").find("t.yaml:2:22: dpop.key_cache_entries"),
            std::string::npos);
  EXPECT_NE(error_of("dpop:\n  replay_store: redis\n").find("dpop.replay_store: redis needs a top-level redis"),
            std::string::npos);
  EXPECT_NE(error_of("upstreams: [{name: app, url: http://127.0.0.1:9}]\n"
                     "routes:\n"
                     "  - name: r\n"
                     "    upstream: app\n"
                     "    auth: bearer\n"
                     "    dpop: sometimes\n")
                .find("t.yaml:6:11: routes[0].dpop: unknown DPoP mode"),
            std::string::npos);
}


// The server nonce (RFC 9449 §8, dpop.nonce), stateless: minted from the configured secret.
constexpr std::string_view kNonceSecret = "unit-test-dpop-nonce-secret-0123456789abcdef";
constexpr std::int64_t kNonceInterval = 3600;

class DpopNonceAccess : public DpopAccess {
 protected:
  DpopNonceAccess() : DpopAccess("", "", true) {}
  const auth::DpopNonces nonces_{std::string(kNonceSecret), kNonceInterval};
  // Runs `body` once more if the nonce slot changed while it ran (the slot is an hour long).
  template <class F>
  void in_one_slot(F body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const std::int64_t slot = now_s() / kNonceInterval;
      body();
      if (now_s() / kNonceInterval == slot || ::testing::Test::HasFailure()) return;
    }
  }
};

TEST_F(DpopNonceAccess, AProofWithoutTheNonceGetsUseDpopNonceAndTheNonceThenWorks) {
  in_one_slot([&] {
    const std::string t = token(true);
    const Decision d = decide("required", "DPoP " + t, {proof(t, "GET", kUrl)});
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.ec, auth_errc::dpop_nonce_missing);
    EXPECT_EQ(d.reply.status, 401u);
    EXPECT_EQ(d.reply.error, "use_dpop_nonce");
    EXPECT_EQ(d.reply.www_authenticate,
              "DPoP realm=\"authgate\", error=\"use_dpop_nonce\", error_description=\"" +
                  std::error_code(auth_errc::dpop_nonce_missing).message() + "\", algs=\"ES256 PS256\"");
    EXPECT_EQ(d.dpop_nonce, nonces_.mint(now_s()));
    // The retry with that nonce passes, and needs no new one (it is the current slot's).
    const Decision ok = decide("required", "DPoP " + t, {proof(t, "GET", kUrl, {}, ts::p256(), d.dpop_nonce)});
    EXPECT_TRUE(ok.allowed) << ok.ec.message();
    EXPECT_TRUE(ok.dpop_nonce.empty());
  });
}

TEST_F(DpopNonceAccess, APreviousSlotNonceIsAcceptedAndAFreshOneHandedOut) {
  in_one_slot([&] {
    const std::string t = token(true);
    const Decision d =
        decide("required", "DPoP " + t, {proof(t, "GET", kUrl, {}, ts::p256(), nonces_.mint(now_s() - kNonceInterval))});
    EXPECT_TRUE(d.allowed) << d.ec.message();
    EXPECT_EQ(d.dpop_nonce, nonces_.mint(now_s()));
  });
}

TEST_F(DpopNonceAccess, StaleMalformedAndForeignNoncesAreRefusedEachWithAFreshNonce) {
  in_one_slot([&] {
    const std::string t = token(true);
    const auth::DpopNonces foreign(std::string("another-deployment-secret-0123456789abcdef"), kNonceInterval);
    const std::pair<std::string, auth_errc> cases[] = {
        {nonces_.mint(now_s() - 2 * kNonceInterval), auth_errc::dpop_nonce_stale},
        {"not-a-nonce", auth_errc::dpop_nonce_malformed},
        {foreign.mint(now_s()), auth_errc::dpop_nonce_invalid},
    };
    for (const auto& [nonce, ec] : cases) {
      const Decision d = decide("required", "DPoP " + t, {proof(t, "GET", kUrl, {}, ts::p256(), nonce)});
      EXPECT_EQ(d.ec, ec) << nonce;
      EXPECT_EQ(d.reply.error, "use_dpop_nonce") << nonce;
      EXPECT_EQ(d.dpop_nonce, nonces_.mint(now_s())) << nonce;
    }
  });
}

TEST_F(DpopNonceAccess, TheProofIsCheckedBeforeItsNonceAndBearerTokensNeedNone) {
  const std::string t = token(true);
  const Decision d = decide("required", "DPoP " + t, {proof(t, "POST", kUrl)});
  EXPECT_EQ(d.ec, auth_errc::dpop_htm_mismatch);
  EXPECT_TRUE(d.dpop_nonce.empty());
  const Decision bearer = decide("allowed", "Bearer " + token(false), {}, "/allowed/x");
  EXPECT_TRUE(bearer.allowed);
  EXPECT_TRUE(bearer.dpop_nonce.empty());
}

// routes[].dpop_nonce: a route opts out of dpop.nonce.enabled (here), or in without it (below).
TEST_F(DpopNonceAccess, ARouteWithDpopNonceFalseNeedsNone) {
  const std::string t = token(true);
  const std::string url = "https://api.example.com/nonce-off/x";
  const Decision d = decide("nonce_off", "DPoP " + t, {proof(t, "GET", url)}, "/nonce-off/x");
  EXPECT_TRUE(d.allowed) << d.ec.message();
  EXPECT_TRUE(d.dpop_nonce.empty());
}

TEST_F(DpopAccess, ARouteWithDpopNonceTrueNeedsOneWhileOtherRoutesDoNot) {
  const std::string t = token(true);
  const Decision d = decide("nonce_on", "DPoP " + t, {proof(t, "GET", "https://api.example.com/nonce-on/x")},
                            "/nonce-on/x");
  EXPECT_EQ(d.ec, auth_errc::dpop_nonce_missing);
  EXPECT_FALSE(d.dpop_nonce.empty());
  EXPECT_TRUE(decide("required", "DPoP " + t, {proof(t, "GET", kUrl)}).allowed);
}

TEST(DpopConfig, NonceDefaultsAndErrors) {
  const auto defaults = config::load_string("upstreams: [{name: app, url: http://127.0.0.1:9}]\n", "t.yaml");
  EXPECT_FALSE(defaults.dpop.nonce.enabled);
  EXPECT_EQ(defaults.dpop.nonce.rotate_interval, std::chrono::minutes(5));
  ::setenv("AUTHGATE_TEST_DPOP_NONCE", std::string(kNonceSecret).c_str(), 1);
  ::setenv("AUTHGATE_TEST_DPOP_NONCE_SHORT", "too-short", 1);
  const auto on = config::load_string(
      "upstreams: [{name: app, url: http://127.0.0.1:9}]\n"
      "dpop:\n  nonce: {enabled: true, rotate_interval: 2m, secret_env: AUTHGATE_TEST_DPOP_NONCE}\n",
      "t.yaml");
  EXPECT_TRUE(on.dpop.nonce.enabled);
  EXPECT_EQ(on.dpop.nonce.rotate_interval, std::chrono::minutes(2));
  EXPECT_EQ(on.dpop.nonce.secret, kNonceSecret);
  auto error_of = [](const std::string& yaml) {
    try {
      config::load_string(yaml, "t.yaml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("dpop:\n  nonce:\n    enabled: true\n").find("t.yaml:3:5: dpop.nonce: enabled needs secret_env or secret_file"),
            std::string::npos)
      << error_of("dpop:\n  nonce:\n    enabled: true\n");
  EXPECT_NE(error_of("dpop:\n  nonce: {enabled: true, secret_env: AUTHGATE_TEST_DPOP_NONCE_SHORT}\n")
                .find("dpop.nonce: the nonce secret must be at least 32 bytes"),
            std::string::npos);
  EXPECT_NE(error_of("dpop:\n  nonce: {enabled: true, secret_env: AUTHGATE_TEST_DPOP_NONCE_UNSET_X}\n")
                .find("dpop.nonce.secret_env: environment variable AUTHGATE_TEST_DPOP_NONCE_UNSET_X is not set"),
            std::string::npos);
  EXPECT_NE(error_of("dpop:\n  nonce:\n    rotate_interval: 1500ms\n").find("t.yaml:3:22: dpop.nonce.rotate_interval"),
            std::string::npos)
      << error_of("dpop:\n  nonce:\n    rotate_interval: 1500ms\n");
  EXPECT_NE(error_of("dpop:\n  nonce:\n    enable: true\n").find("t.yaml:3:5: dpop.nonce.enable: unknown key"),
            std::string::npos);
  // routes[].dpop_nonce: only on DPoP routes; true needs the secret.
  const std::string route_head =
      "upstreams: [{name: app, url: http://127.0.0.1:9}]\n"
      "issuers: [{name: a, issuer: https://a.test, audiences: [x], jwks_file: /dev/null}]\n"
      "routes:\n"
      "  - name: r\n"
      "    upstream: app\n"
      "    auth: bearer\n";
  EXPECT_NE(error_of(route_head + "    dpop: required\n    dpop_nonce: true\n")
                .find("t.yaml:8:17: routes[0].dpop_nonce: needs dpop.nonce.secret_env or secret_file"),
            std::string::npos)
      << error_of(route_head + "    dpop: required\n    dpop_nonce: true\n");
  EXPECT_NE(error_of(route_head + "    dpop_nonce: true\n").find("t.yaml:7:17: routes[0].dpop_nonce: only applies with dpop"),
            std::string::npos)
      << error_of(route_head + "    dpop_nonce: true\n");
  const auto opted_in = config::load_string(
      route_head + "    dpop: allowed\n    dpop_nonce: true\n"
                   "dpop:\n  nonce: {secret_env: AUTHGATE_TEST_DPOP_NONCE}\n",
      "t.yaml");
  EXPECT_FALSE(opted_in.dpop.nonce.enabled);
  EXPECT_EQ(opted_in.routes[0].dpop_nonce, true);
  EXPECT_EQ(opted_in.dpop.nonce.secret, kNonceSecret);
}

// issuers[].dpop: the proof policy follows the verified token's issuer; the other issuer keeps
// the top-level one (algs [ES256, PS256], iat_window 60s).
class DpopPerIssuer : public DpopAccess {
 protected:
  DpopPerIssuer() : DpopAccess("", "    dpop: {algs: [PS256], iat_window: 10s}\n") {}
};

TEST_F(DpopPerIssuer, TheTokensIssuerChoosesTheAlgsAndTheIatWindow) {
  const std::string own = token(true);                      // idp: PS256 only, 10 s
  const std::string other = token(true, ts::p256(), "/two");  // idp2: the top-level settings
  // ES256 proofs: refused with idp's token (and the challenge names idp's algs), fine with idp2's.
  const Decision es = decide("required", "DPoP " + own, {proof(own, "GET", kUrl)});
  EXPECT_EQ(es.ec, auth_errc::dpop_alg_not_allowed);
  EXPECT_NE(es.reply.www_authenticate.find("algs=\"PS256\""), std::string::npos) << es.reply.www_authenticate;
  EXPECT_TRUE(decide("required", "DPoP " + other, {proof(other, "GET", kUrl)}).allowed);
  // A proof 30 s old: outside idp's 10 s window, inside the top-level 60 s.
  EXPECT_EQ(decide("required", "DPoP " + other, {proof(other, "GET", kUrl, {}, ts::p256(), {}, -30)}).allowed, true);
  const std::string rsa_bound = token(true, ts::rsa2048());
  EXPECT_EQ(decide("required", "DPoP " + rsa_bound, {proof(rsa_bound, "GET", kUrl, {}, ts::rsa2048(), {}, -30, "PS256")}).ec,
            auth_errc::dpop_iat_invalid);
  EXPECT_TRUE(decide("required", "DPoP " + rsa_bound, {proof(rsa_bound, "GET", kUrl, {}, ts::rsa2048(), {}, 0, "PS256")}).allowed);
}

// RFC 9728 dpop_signing_alg_values_supported: the algs of the issuers the resource's DPoP routes accept.
TEST(DpopConfig, ResourceMetadataListsTheAlgsOfItsDpopRoutesIssuers) {
  const std::string head =
      "upstreams: [{name: app, url: http://127.0.0.1:9}]\n"
      "dpop: {algs: [ES256, PS256]}\n"
      "issuers:\n"
      "  - {name: a, issuer: https://a.test, audiences: [x], jwks_file: /dev/null, dpop: {algs: [EdDSA, ES256]}}\n"
      "  - {name: b, issuer: https://b.test, audiences: [x], jwks_file: /dev/null}\n"
      "routes:\n"
      "  - {name: only-a, match: {path: {prefix: /a}}, upstream: app, auth: bearer, issuers: [a], dpop: required}\n"
      "  - {name: both, match: {path: {prefix: /b}}, upstream: app, auth: bearer, dpop: allowed}\n"
      "  - {name: plain, match: {path: {prefix: /c}}, upstream: app, auth: bearer}\n";
  const auto cfg = config::load_string(head +
                                           "resources:\n"
                                           "  - {resource: https://api.test/a, routes: [only-a]}\n"
                                           "  - {resource: https://api.test/b, routes: [both]}\n"
                                           "  - {resource: https://api.test/c, routes: [plain]}\n",
                                       "t.yaml");
  ASSERT_EQ(cfg.resources.size(), 3u);
  EXPECT_EQ(cfg.resources[0].dpop_signing_alg_values_supported, (std::vector<std::string>{"EdDSA", "ES256"}));
  EXPECT_EQ(cfg.resources[1].dpop_signing_alg_values_supported,
            (std::vector<std::string>{"EdDSA", "ES256", "PS256"}));
  EXPECT_TRUE(cfg.resources[2].dpop_signing_alg_values_supported.empty());
}

TEST(DpopConfig, IssuerDpopSettingsAndErrors) {
  const auto cfg = config::load_string(
      "upstreams: [{name: app, url: http://127.0.0.1:9}]\n"
      "issuers:\n"
      "  - {name: a, issuer: https://a.test, audiences: [x], jwks_file: /dev/null, dpop: {algs: [EdDSA], iat_window: 15s}}\n"
      "  - {name: b, issuer: https://b.test, audiences: [x], jwks_file: /dev/null}\n",
      "t.yaml");
  ASSERT_TRUE(cfg.issuers[0].dpop.algs);
  EXPECT_EQ(*cfg.issuers[0].dpop.algs, std::vector<std::string>{"EdDSA"});
  EXPECT_EQ(cfg.issuers[0].dpop.iat_window, std::chrono::seconds(15));
  EXPECT_FALSE(cfg.issuers[1].dpop.algs);
  EXPECT_FALSE(cfg.issuers[1].dpop.iat_window);
  auto error_of = [](const std::string& yaml) {
    try {
      config::load_string(yaml, "t.yaml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string head = "issuers:\n  - name: a\n    issuer: https://a.test\n    audiences: [x]\n    jwks_file: /dev/null\n";
  EXPECT_NE(error_of(head + "    dpop:\n      algs: [ES256, HS256]\n").find("t.yaml:7:21: issuers[0].dpop.algs[1]"),
            std::string::npos)
      << error_of(head + "    dpop:\n      algs: [ES256, HS256]\n");
  EXPECT_NE(error_of(head + "    dpop:\n      algs: []\n").find("issuers[0].dpop.algs: must not be empty"),
            std::string::npos);
  EXPECT_NE(error_of(head + "    dpop:\n      iat_window: 500ms\n").find("t.yaml:7:19: issuers[0].dpop.iat_window"),
            std::string::npos)
      << error_of(head + "    dpop:\n      iat_window: 500ms\n");
  EXPECT_NE(error_of(head + "    dpop:\n      nonce: {}\n").find("t.yaml:7:7: issuers[0].dpop.nonce: unknown key"),
            std::string::npos);
}

}  // namespace
}  // namespace authgate::access
