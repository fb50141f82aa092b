// Strict parsing of a JWS compact serialization carrying JWT claims (RFC 7515,
// RFC 7519, RFC 8725). Pure: no I/O, no clock, no keys. Parsing checks shape and
// types only; nothing in a ParsedJwt is trusted until auth::verify() says so.
//
// Usage:
//   ParsedJwt jwt;
//   if (auto ec = parse_jwt(bearer, cfg.max_token_bytes, jwt)) return ec;   // 401
//   if (auto ec = verify(jwt, *keys, policy, now_unix)) return ec;
//   use jwt.sub(), jwt.claims(), extract_scopes(jwt.claims());
//
// parse_jwt checks, in this order (first failure wins):
//   1. token.size() <= max_bytes, before any decoding              -> token_malformed
//   2. exactly three '.'-separated parts (a 5-part JWE is refused)  -> token_malformed
//   3. each part is strict base64url (base64url.hpp); header and
//      payload non-empty                                            -> token_malformed
//   4. the header is a JSON object without duplicate member names   -> token_malformed
//   5. header "crit" or "b64" present (we understand no extension)  -> crit_unsupported
//   6. header "alg" present and a string; "kid", "typ" strings if
//      present                                                      -> token_malformed
//   7. the payload is a JSON object without duplicate member names  -> token_malformed
//   8. claim types: "iss", "sub" strings; "aud" a string or an array
//      of strings; "exp", "nbf", "iat" numbers (reals are floored;
//      out of int64 range refused)                                  -> token_malformed
// Not checked here: the alg value (allowlist, "none"), typ values, keys, the
// signature, times, iss/aud values, scopes. Header "jku", "x5u", "jwk", "x5c" are
// never used (no key is ever taken from the token).
#pragma once

#include "auth/auth_errc.hpp"
#include "auth/json_arena.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace authgate::auth {

// Default size cap for a compact token (config may override). Real access tokens
// are 1-4 KiB; the cap bounds the work done on unauthenticated input.
inline constexpr std::size_t kDefaultMaxTokenBytes = 16 * 1024;

class ParsedJwt {
 public:
  ParsedJwt() = default;
  // A copy (or a move: there is no cheaper one) rebuilds the DOM in its own arena.
  ParsedJwt(const ParsedJwt& other);
  ParsedJwt& operator=(const ParsedJwt& other);

  // The whole token as received (owned copy).
  std::string_view token() const { return std::string_view(bytes_).substr(0, token_size_); }
  // The JOSE header and the claims set, exactly as decoded. Their containers and
  // strings live in this ParsedJwt's arena (json_arena.hpp): read them freely,
  // from any thread; a value copied out that must outlive this ParsedJwt needs
  // its own storage: boost::json::value v(claims().at("x"), boost::json::storage_ptr()).
  const boost::json::object& header() const { return header_; }
  const boost::json::object& claims() const { return claims_; }

  // Header parameters.
  std::string_view alg() const { return alg_; }  // as sent; may be "none" or unknown
  const std::optional<std::string>& kid() const { return kid_; }
  const std::optional<std::string>& typ() const { return typ_; }

  // What the signature covers: ASCII(BASE64URL(header) '.' BASE64URL(payload)).
  std::string_view signing_input() const {
    return std::string_view(bytes_).substr(0, signing_input_size_);
  }
  // The decoded signature bytes (may be empty, e.g. for alg "none").
  std::span<const std::uint8_t> signature() const {
    return {reinterpret_cast<const std::uint8_t*>(bytes_.data()) + token_size_, bytes_.size() - token_size_};
  }

  // Registered claims, type-checked by parse_jwt.
  const std::optional<std::string>& iss() const { return iss_; }
  const std::optional<std::string>& sub() const { return sub_; }
  // "aud" as a list: a string becomes one element; absent gives an empty list.
  const std::vector<std::string>& aud() const { return aud_; }
  bool has_aud() const { return has_aud_; }
  std::optional<std::int64_t> exp() const { return exp_; }
  std::optional<std::int64_t> nbf() const { return nbf_; }
  std::optional<std::int64_t> iat() const { return iat_; }
  // "nonce" is an OpenID Connect ID-token claim; access tokens do not carry it.
  bool has_nonce() const { return has_nonce_; }

 private:
  friend std::error_code parse_jwt(std::string_view token, std::size_t max_bytes, ParsedJwt& out);
  void clear();

  // First: header_ and claims_ allocate from it, so it must outlive them.
  detail::JsonArena arena_;
  std::string bytes_;                   // the token, then the decoded signature (one allocation)
  std::size_t token_size_ = 0;
  std::size_t signing_input_size_ = 0;  // offset of the second '.'
  boost::json::object header_{boost::json::storage_ptr(&arena_)};
  boost::json::object claims_{boost::json::storage_ptr(&arena_)};
  std::string alg_;
  std::optional<std::string> kid_;
  std::optional<std::string> typ_;
  std::optional<std::string> iss_;
  std::optional<std::string> sub_;
  std::vector<std::string> aud_;
  bool has_aud_ = false;
  std::optional<std::int64_t> exp_;
  std::optional<std::int64_t> nbf_;
  std::optional<std::int64_t> iat_;
  bool has_nonce_ = false;
};

// Parses `token` into `out` (replaced). Returns {} or token_malformed /
// crit_unsupported (see the order above). On failure `out` is unspecified.
std::error_code parse_jwt(std::string_view token, std::size_t max_bytes, ParsedJwt& out);

// A NumericDate (RFC 7519 §2) as int64: integers as-is, reals floored; false for
// any other JSON type, a non-finite value or one outside int64.
bool numeric_date(const boost::json::value& v, std::int64_t& out);

}  // namespace authgate::auth
