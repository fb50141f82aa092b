#include "session/token_response.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "auth/strict_json.hpp"
#include "common/ascii.hpp"

namespace authgate::session {

namespace {

namespace json = boost::json;

constexpr std::size_t kExcerptBytes = 32;

bool error_char(unsigned char c) {
  return c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

// At most `max` bytes of `s`, each outside the RFC 6749 §5.2 character set as '?'.
std::string sanitise(std::string_view s, std::size_t max) {
  std::string out;
  const std::size_t n = std::min(s.size(), max);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(error_char(c) ? static_cast<char>(c) : '?');
  }
  if (s.size() > max) out += "...";
  return out;
}

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "something else";
}

std::string json_excerpt(const json::value& v) {
  if (v.is_string()) return "\"" + sanitise(v.get_string(), kExcerptBytes) + "\"";
  if (const double* d = v.if_double()) {  // shortest round-trip form: 1.5, -1
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, *d);
    if (r.ec == std::errc{}) return std::string(buf, r.ptr);
  }
  return sanitise(json::serialize(v), kExcerptBytes);
}

// An optional string member: true when absent or a string (copied to out).
bool optional_string(const json::object& obj, std::string_view name, std::string& out, std::string& why) {
  const json::value* v = obj.if_contains(name);
  if (!v) return true;
  if (!v->is_string()) {
    why = std::string(name) + " must be a string, got " + kind_name(*v);
    return false;
  }
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

bool parse_expires_in(const json::value& v, std::optional<std::int64_t>& out, std::string& why) {
  if (const std::int64_t* i = v.if_int64()) {
    if (*i < 0) {
      why = "expires_in must be >= 0, got " + std::to_string(*i);
      return false;
    }
    out = std::min(*i, kMaxExpiresIn);
    return true;
  }
  if (v.is_uint64()) {  // above INT64_MAX
    out = kMaxExpiresIn;
    return true;
  }
  if (const double* d = v.if_double()) {
    if (!std::isfinite(*d) || std::trunc(*d) != *d) {
      why = "expires_in must be an integer, got " + json_excerpt(v);
      return false;
    }
    if (*d < 0) {
      why = "expires_in must be >= 0, got " + json_excerpt(v);
      return false;
    }
    out = *d >= static_cast<double>(kMaxExpiresIn) ? kMaxExpiresIn : static_cast<std::int64_t>(*d);
    return true;
  }
  why = std::string("expires_in must be an integer, got ") + kind_name(v);
  return false;
}

}  // namespace

std::variant<TokenSet, std::string> parse_token_response(std::string_view body, bool id_token_required) {
  json::object obj;
  switch (auth::detail::parse_strict_object(body, obj)) {
    case auth::detail::JsonError::none: break;
    case auth::detail::JsonError::syntax: return std::string("the body is not valid JSON");
    case auth::detail::JsonError::not_object: return std::string("the body is not a JSON object");
    case auth::detail::JsonError::duplicate_member: return std::string("the body names a member twice");
  }

  TokenSet t;
  std::string why;

  const json::value* at = obj.if_contains("access_token");
  if (!at) return std::string("access_token is missing");
  if (!at->is_string()) return std::string("access_token must be a string, got ") + kind_name(*at);
  if (at->get_string().empty()) return std::string("access_token must not be empty");
  t.access_token.assign(at->get_string().data(), at->get_string().size());

  const json::value* tt = obj.if_contains("token_type");
  if (!tt) return std::string("token_type is missing");
  if (!tt->is_string()) return std::string("token_type must be a string, got ") + kind_name(*tt);
  const std::string_view tt_text(tt->get_string().data(), tt->get_string().size());
  if (!common::iequals(tt_text, "Bearer")) return "token_type must be Bearer, got " + json_excerpt(*tt);
  t.token_type = std::string(tt_text);

  if (const json::value* ei = obj.if_contains("expires_in"))
    if (!parse_expires_in(*ei, t.expires_in, why)) return why;

  if (!optional_string(obj, "refresh_token", t.refresh_token, why)) return why;
  if (!optional_string(obj, "scope", t.scope, why)) return why;
  if (!optional_string(obj, "id_token", t.id_token, why)) return why;
  if (id_token_required && t.id_token.empty()) {
    if (obj.contains("id_token")) return std::string("id_token must not be empty");
    return std::string("id_token is missing (openid was requested)");
  }
  return t;
}

std::optional<TokenError> parse_token_error(std::string_view body) {
  json::object obj;
  if (auth::detail::parse_strict_object(body, obj) != auth::detail::JsonError::none) return std::nullopt;
  const json::value* e = obj.if_contains("error");
  if (!e || !e->is_string() || e->get_string().empty()) return std::nullopt;
  TokenError out;
  out.error = sanitise(std::string_view(e->get_string().data(), e->get_string().size()), 128);
  if (const json::value* d = obj.if_contains("error_description"); d && d->is_string())
    out.description = sanitise(std::string_view(d->get_string().data(), d->get_string().size()), 512);
  return out;
}

}  // namespace authgate::session
