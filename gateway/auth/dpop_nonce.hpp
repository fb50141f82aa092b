// DPoP server nonces (RFC 9449 §8, §9), stateless across a fleet: a nonce names
// its time slot (floor(now / rotate_interval)) and carries a MAC of that slot
// under a secret the instances share (dpop.nonce.secret_env / secret_file), so
// any instance with the secret mints and checks them with no shared state per
// request. A nonce is accepted in its own slot and in the next one (so one minted
// just before a rotation still works), never later. Pure: the clock is passed in.
//
// Usage:
//   DpopNonces nonces(secret, 300);
//   auto slot = nonces.check(proof.nonce, now);     // proof.nonce: "" when absent
//   if (!slot) deny(slot.error(), nonces.mint(now)); // use_dpop_nonce + DPoP-Nonce
//   else if (*slot == DpopNonces::Slot::previous) send(nonces.mint(now));  // §8.2
//
// Format: base64url(slot as 8 bytes big-endian || the first 16 bytes of
// HMAC-SHA-256(secret, "authgate-dpop-nonce" || slot bytes)): 32 characters, all
// NQCHAR (RFC 9449 §8.1). NOT checked here: whether the route asks for a nonce.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth_errc.hpp"
#include "common/result.hpp"

namespace authgate::auth {

class DpopNonces {
 public:
  enum class Slot { current, previous };

  // `rotate_interval_seconds` >= 1.
  DpopNonces(std::string secret, std::int64_t rotate_interval_seconds);

  // The nonce of now's slot.
  std::string mint(std::int64_t now_unix) const;

  // The slot `nonce` belongs to, or why it is refused:
  //   dpop_nonce_missing    empty (the proof has no nonce claim)
  //   dpop_nonce_malformed  not 32 base64url characters
  //   dpop_nonce_invalid    its MAC does not verify (another secret, or forged)
  //   dpop_nonce_stale      a genuine nonce of a slot before the previous one, or of a future slot
  common::Result<Slot> check(std::string_view nonce, std::int64_t now_unix) const;

  std::int64_t rotate_interval_seconds() const { return interval_; }

 private:
  std::int64_t slot_of(std::int64_t now_unix) const;
  std::string secret_;
  std::int64_t interval_;
};

}  // namespace authgate::auth
