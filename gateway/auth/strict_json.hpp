// Strict JSON object parsing for JOSE headers, JWT claims and JWKS documents.
// Internal to the auth module. Pure.
//
// boost::json::parse keeps the last of duplicate member names; RFC 7515 §5.2 and
// RFC 7519 §7.2 require a parser that rejects them (or always takes the last,
// which differs between implementations and enables confusion attacks). This
// parser drives boost::json::basic_parser with its own handler, builds the value
// itself and fails on the first duplicate name, at any depth.
//
// Usage:
//   boost::json::object obj;
//   if (detail::parse_strict_object(text, obj) != detail::JsonError::none) reject;
//
// Also rejected: anything but an object at the top level, comments, trailing
// commas, invalid UTF-8, trailing data, nesting deeper than `max_depth`.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <string_view>

namespace authgate::auth::detail {

enum class JsonError {
  none = 0,
  syntax,            // not JSON (or too deep, invalid UTF-8, trailing data)
  not_object,        // valid JSON, but not an object at the top level
  duplicate_member,  // an object, at any depth, names a member twice
};

inline constexpr std::size_t kDefaultMaxJsonDepth = 16;

JsonError parse_strict_object(std::string_view text, boost::json::object& out,
                              std::size_t max_depth = kDefaultMaxJsonDepth);

}  // namespace authgate::auth::detail
