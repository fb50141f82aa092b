// An immutable set of verification keys for one issuer: the usable keys of a
// JWKS document, or one configured HMAC secret (never both). Shared as
// KeySetPtr (shared_ptr<const KeySet>) so a refresher can swap in a new set
// while readers keep the one they loaded. Pure: no I/O.
//
// Usage:
//   std::vector<SkippedKey> skipped;
//   auto keys = KeySet::from_jwks_json(body, KeySetOptions{}, &skipped);
//   for (auto& s : skipped) log("jwk skipped", s.index, s.kid, s.error.message());
//   if (!keys) keep the previous set (keys.error(): jwks_malformed / jwks_no_usable_keys);
//   else cache.store(*keys);
//   ...
//   auto key = keys->find(jwt.kid(), Alg::RS256);   // kid_unknown / key_mismatch / const Jwk*
//
// from_jwks_json (habit 5) skips each key it cannot use (unsupported kty or crv,
// use != "sig", RSA below 2048 bits, an EC point off its curve, an alg outside
// KeyOptions::allowed_algs, ...), records why, and fails only when the document
// is not a JWKS (jwks_malformed) or no usable key remains (jwks_no_usable_keys).
#pragma once

#include "auth/alg.hpp"
#include "auth/auth_errc.hpp"
#include "auth/jwk.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace authgate::auth {

class KeySet;
using KeySetPtr = std::shared_ptr<const KeySet>;

struct KeySetOptions {
  KeyOptions key;              // family, allowed algs, size bounds
  std::size_t max_keys = 100;  // keys after this many entries are skipped (jwks_malformed)
};

// Why one entry of a JWKS was not used.
struct SkippedKey {
  std::size_t index = 0;  // position in "keys"
  std::string kid;        // "" when absent or unreadable
  std::error_code error;  // jwk_unsupported, jwk_invalid, jwk_too_weak, key_mismatch, ...
};

class KeySet {
 public:
  using Result = common::Result<KeySetPtr>;

  // Parses a JWKS document ({"keys":[...]}, strict JSON: duplicate member names
  // refused). `skipped`, when given, receives every skipped entry in order; the
  // first one is the "first error" for logs.
  static Result from_jwks_json(std::string_view json, const KeySetOptions& options = {},
                               std::vector<SkippedKey>* skipped = nullptr);
  // One HMAC secret (raw bytes), for an issuer configured with secret_env/secret_file.
  static Result from_hmac_secret(std::string_view secret, std::optional<std::string> kid = {},
                                 const KeyOptions& options = hmac_options());
  // Already-built keys of one family; jwks_no_usable_keys when empty, jwk_unsupported
  // when a key is of the other family.
  static Result from_keys(std::vector<Jwk> keys, KeyFamily family);

  static KeyOptions hmac_options() {
    KeyOptions o;
    o.family = KeyFamily::hmac;
    return o;
  }

  KeyFamily family() const { return family_; }
  bool is_hmac() const { return family_ == KeyFamily::hmac; }
  std::span<const Jwk> keys() const { return keys_; }
  std::size_t size() const { return keys_.size(); }

  // The key to verify a token signed with `alg` and carrying `kid`:
  //   - kid given: the keys with that kid, or, if none has it, the keys without
  //     any kid (RFC 7517 makes kid optional); none of either -> kid_unknown.
  //   - kid absent: every key is a candidate.
  //   - among candidates, those compatible_with(alg); none -> key_mismatch.
  //   - an exact kid match returns the first compatible key; otherwise exactly one
  //     compatible key must remain, several -> kid_unknown (the token must name one).
  common::Result<const Jwk*> find(const std::optional<std::string>& kid, Alg alg) const;

 private:
  KeySet(KeyFamily family, std::vector<Jwk> keys) : family_(family), keys_(std::move(keys)) {}

  KeyFamily family_;
  std::vector<Jwk> keys_;
};

}  // namespace authgate::auth
