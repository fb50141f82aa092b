// DPoP proofs (RFC 9449): verifying one proof JWT against the request it came
// with and the access token it accompanies. Pure: no I/O, the clock is passed
// in, and the jti replay check is the caller's (access/dpop_replay.hpp), since
// it needs shared state.
//
// Usage:
//   DpopRequest req{method, expected_htu, access_token, cnf_jkt};
//   auto proof = verify_dpop_proof(dpop_header, req, policy, now_unix);
//   if (!proof) deny(proof.error());            // auth_errc::dpop_*
//   else if (replay_cache.seen(proof->jti, proof->jkt)) deny(dpop_replayed);
//
// verify_dpop_proof checks, in this order (RFC 9449 §4.3), first failure wins:
//   1. a JWS of at most policy.max_proof_bytes, strict JSON, typed claims
//      (parse_jwt); htm, htu (and jti, ath, nonce when present) strings, iat
//      a number                                                  -> dpop_proof_malformed
//   2. typ "dpop+jwt" (or "application/dpop+jwt"), case-insensitive -> dpop_type_invalid
//   3. alg asymmetric and in policy.allowed_algs                  -> dpop_alg_not_allowed
//   4. jwk: an object with no private member (d, p, q, dp, dq, qi, oth, k)
//                                                                  -> dpop_jwk_private
//      a supported public key (Jwk::from_json) that fits alg       -> dpop_jwk_invalid
//   5. the signature verifies with jwk                            -> dpop_signature_invalid
//   6. jti present, 1..max_jti_bytes                              -> dpop_jti_missing
//   7. htm equals the method (case-sensitive, RFC 9110 §9.1)     -> dpop_htm_mismatch
//   8. normalize_htu(htu) equals normalize_htu(request.htu)       -> dpop_htu_mismatch
//   9. |now - iat| <= policy.iat_window_seconds                   -> dpop_iat_invalid
//  10. with an access token: ath == base64url(SHA-256(token))    -> dpop_ath_mismatch
//  11. with an expected jkt: the RFC 7638 thumbprint of jwk equals it
//                                                                  -> dpop_jkt_mismatch
// NOT checked here: jti replay, the server nonce (returned in DpopProof::nonce), whether the route requires DPoP,
// whether the token is bound (cnf.jkt present): see access/access_control.cpp.
//
// A client signs every proof with the same key, so with a DpopKeyCache step 4
// runs once per client: the proof's JOSE header, as sent, maps to the key
// imported from it and its thumbprint. Steps 1-3 depend on the header too and
// run on every proof (they are cheap, and the policy may change on a reload);
// steps 4 and the thumbprint of 11 depend on nothing else, so a hit gives what
// the uncached path computes. Only keys of proofs that passed every check are
// stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "common/expiring_cache.hpp"
#include "common/result.hpp"

namespace authgate::auth {

struct DpopPolicy {
  // Asymmetric only; HS* in the list is never accepted (a proof key is public).
  std::vector<Alg> allowed_algs{Alg::ES256, Alg::ES384, Alg::ES512, Alg::PS256,
                                Alg::PS384, Alg::PS512, Alg::RS256, Alg::EdDSA};
  std::int64_t iat_window_seconds = 60;  // a proof is accepted this long before and after its iat
  std::size_t max_proof_bytes = 8192;    // a proof with an RSA-4096 jwk is about 1.5 KiB
  std::size_t max_jti_bytes = 256;       // replay-cache keys stay small
};

struct DpopRequest {
  std::string_view method;        // as sent ("GET")
  std::string_view htu;           // the URI the client used: scheme://authority/path (any query is ignored)
  std::string_view access_token;  // empty: no ath check (a token request)
  std::string_view expected_jkt;  // the token's cnf.jkt; empty: not compared
};

// What a verified proof yields, for the replay cache and the logs.
struct DpopProof {
  std::string jti;
  std::string jkt;  // RFC 7638 thumbprint of the proof key
  std::int64_t iat = 0;
  bool key_cached = false;  // the key came from the DpopKeyCache (for its hit metric)
  std::string nonce;  // the nonce claim, "" when absent (checked by the caller: auth/dpop_nonce.hpp)
};

struct DpopKey;  // a proof key imported from a jwk, with its thumbprint (dpop.cpp)

// Proof keys by the exact bytes of the proof's JOSE header (compared in full,
// never by hash alone), shared by every worker: common::ExpiringCache, sharded
// locks, the oldest entry dropped when full, entries never expire (a key does
// not go stale). max_entries 0 turns it off.
class DpopKeyCache {
 public:
  explicit DpopKeyCache(std::size_t max_entries) : max_entries_(max_entries), cache_(max_entries) {}
  std::size_t max_entries() const { return max_entries_; }

  std::shared_ptr<const DpopKey> find(std::string_view header);
  void insert(std::string_view header, std::shared_ptr<const DpopKey> key);
  std::size_t size() { return cache_.size(); }

 private:
  std::size_t max_entries_;
  common::ExpiringCache<std::shared_ptr<const DpopKey>> cache_;
};

// `keys`, when given, is looked up and filled (see above); null: every proof's key is imported.
common::Result<DpopProof> verify_dpop_proof(std::string_view proof, const DpopRequest& request,
                                            const DpopPolicy& policy, std::int64_t now_unix,
                                            DpopKeyCache* keys = nullptr);

// The RFC 9449 §4.3 / RFC 3986 §6 form of an http(s) URI, for comparing htu:
// the query and fragment dropped; scheme and host lower case; the default port
// dropped; %XX escapes of unreserved characters decoded and the others in upper
// case; dot-segments removed, and repeated "/" merged (as the gateway's own path
// canonicalisation does, so htu compares with the path that was routed); an
// empty path is "/". nullopt for anything but an absolute http(s) URI.
std::optional<std::string> normalize_htu(std::string_view uri);

// base64url(SHA-256(access_token)): the "ath" claim (RFC 9449 §4.2).
std::string dpop_ath(std::string_view access_token);

}  // namespace authgate::auth
