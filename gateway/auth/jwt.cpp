#include "auth/jwt.hpp"

#include "auth/base64url.hpp"
#include "auth/strict_json.hpp"

#include <boost/json/value.hpp>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace authgate::auth {

namespace {

namespace json = boost::json;

std::error_code malformed() { return auth_errc::token_malformed; }

// Reads an optional string member; false when present with another type.
bool optional_string(const json::object& obj, std::string_view name, std::optional<std::string>& out) {
  out.reset();
  const json::value* v = obj.if_contains(name);
  if (!v) return true;
  const json::string* s = v->if_string();
  if (!s) return false;
  out.emplace(s->data(), s->size());
  return true;
}

bool optional_date(const json::object& obj, std::string_view name, std::optional<std::int64_t>& out) {
  out.reset();
  const json::value* v = obj.if_contains(name);
  if (!v) return true;
  std::int64_t t = 0;
  if (!numeric_date(*v, t)) return false;
  out = t;
  return true;
}

}  // namespace

bool numeric_date(const json::value& v, std::int64_t& out) {
  if (const std::int64_t* i = v.if_int64()) {
    out = *i;
    return true;
  }
  if (const std::uint64_t* u = v.if_uint64()) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  if (const double* d = v.if_double()) {
    if (!std::isfinite(*d)) return false;
    const double f = std::floor(*d);
    // [-2^63, 2^63): both bounds are exact doubles.
    if (f < -9223372036854775808.0 || f >= 9223372036854775808.0) return false;
    out = static_cast<std::int64_t>(f);
    return true;
  }
  return false;
}

ParsedJwt::ParsedJwt(const ParsedJwt& other) { *this = other; }

ParsedJwt& ParsedJwt::operator=(const ParsedJwt& other) {
  if (this == &other) return *this;
  clear();
  bytes_ = other.bytes_;
  token_size_ = other.token_size_;
  signing_input_size_ = other.signing_input_size_;
  header_ = other.header_;  // copied into this arena
  claims_ = other.claims_;
  alg_ = other.alg_;
  kid_ = other.kid_;
  typ_ = other.typ_;
  iss_ = other.iss_;
  sub_ = other.sub_;
  aud_ = other.aud_;
  has_aud_ = other.has_aud_;
  exp_ = other.exp_;
  nbf_ = other.nbf_;
  iat_ = other.iat_;
  has_nonce_ = other.has_nonce_;
  arena_.seal();
  return *this;
}

void ParsedJwt::clear() {
  // Assigning empty objects releases the tables (clear() would keep them, in
  // the arena about to be rewound).
  header_ = json::object(header_.storage());
  claims_ = json::object(claims_.storage());
  arena_.reset();
  bytes_.clear();
  token_size_ = 0;
  signing_input_size_ = 0;
  alg_.clear();
  kid_.reset();
  typ_.reset();
  iss_.reset();
  sub_.reset();
  aud_.clear();
  has_aud_ = false;
  exp_.reset();
  nbf_.reset();
  iat_.reset();
  has_nonce_ = false;
}

std::error_code parse_jwt(std::string_view token, std::size_t max_bytes, ParsedJwt& out) {
  out.clear();
  // On every return: from then on the DOM is only read (json_arena.hpp).
  struct Seal {
    detail::JsonArena& arena;
    ~Seal() { arena.seal(); }
  } seal{out.arena_};

  // 1. Size cap, before any decoding.
  if (token.empty() || token.size() > max_bytes) return malformed();

  // 2. Exactly three parts.
  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return malformed();
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return malformed();
  if (token.find('.', dot2 + 1) != std::string_view::npos) return malformed();  // JWE or junk

  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty()) return malformed();

  // 3. Strict base64url for every part. The header and the payload are only
  // parsed, so they are decoded into a scratch buffer (on the stack unless the
  // token is unusually big); the signature is kept after the copy of the token.
  std::array<char, 4096> stack_text;
  std::string heap_text;
  char* text = stack_text.data();
  const std::size_t text_size =
      base64url_decoded_size(header_b64.size()) + base64url_decoded_size(payload_b64.size());
  if (text_size > stack_text.size()) {
    heap_text.resize(text_size);
    text = heap_text.data();
  }
  std::size_t header_size = 0;
  std::size_t payload_size = 0;
  if (!base64url_decode(header_b64, text, header_size)) return malformed();
  if (!base64url_decode(payload_b64, text + header_size, payload_size)) return malformed();
  const std::string_view header_text(text, header_size);
  const std::string_view payload_text(text + header_size, payload_size);

  out.bytes_.resize(token.size() + base64url_decoded_size(signature_b64.size()));
  std::memcpy(out.bytes_.data(), token.data(), token.size());
  std::size_t signature_size = 0;
  if (!base64url_decode(signature_b64, out.bytes_.data() + token.size(), signature_size)) return malformed();
  out.bytes_.resize(token.size() + signature_size);
  out.token_size_ = token.size();

  // 4. Header: a JSON object without duplicate names.
  if (detail::parse_strict_object(header_text, out.header_) != detail::JsonError::none) {
    return malformed();
  }

  // 5. Extensions we do not understand. RFC 7515 §4.1.11 requires rejecting a
  // crit we cannot process; we process none. "b64" (RFC 7797) changes what the
  // signature covers, so it is refused whether or not it is listed in crit.
  if (out.header_.contains("crit") || out.header_.contains("b64")) {
    return auth_errc::crit_unsupported;
  }

  // 6. Header parameter types.
  const json::value* alg = out.header_.if_contains("alg");
  if (!alg || !alg->is_string()) return malformed();
  out.alg_.assign(alg->get_string().data(), alg->get_string().size());
  if (!optional_string(out.header_, "kid", out.kid_)) return malformed();
  if (!optional_string(out.header_, "typ", out.typ_)) return malformed();

  // 7. Payload: a JSON object without duplicate names.
  if (detail::parse_strict_object(payload_text, out.claims_) != detail::JsonError::none) {
    return malformed();
  }

  // 8. Registered claim types.
  const json::object& c = out.claims_;
  if (!optional_string(c, "iss", out.iss_)) return malformed();
  if (!optional_string(c, "sub", out.sub_)) return malformed();
  if (const json::value* aud = c.if_contains("aud")) {
    out.has_aud_ = true;
    if (const json::string* s = aud->if_string()) {
      out.aud_.emplace_back(s->data(), s->size());
    } else if (const json::array* a = aud->if_array()) {
      out.aud_.reserve(a->size());
      for (const json::value& e : *a) {
        const json::string* s2 = e.if_string();
        if (!s2) return malformed();
        out.aud_.emplace_back(s2->data(), s2->size());
      }
    } else {
      return malformed();
    }
  }
  if (!optional_date(c, "exp", out.exp_)) return malformed();
  if (!optional_date(c, "nbf", out.nbf_)) return malformed();
  if (!optional_date(c, "iat", out.iat_)) return malformed();
  out.has_nonce_ = c.contains("nonce");

  out.signing_input_size_ = dot2;
  return {};
}

}  // namespace authgate::auth
