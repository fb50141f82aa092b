// ASCII helpers for HTTP tokens and header names, shared by routing, http/ and
// proxy/. Header-only, no dependencies beyond the standard library.
//
//   iequals("Bearer", "bearer")                  -> true  (ASCII case-insensitive)
//   header_name_equals("X_User_Id", "x-user-id") -> true  (also "_" == "-")
//   list_has_token("keep-alive, Upgrade", "upgrade") -> true (comma-separated lists)
#pragma once

#include <cstddef>
#include <string_view>

namespace authgate::common {

// RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~" (never percent-encoded).
constexpr bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// Header-name comparison as some backends see names: case-insensitive, and
// "_" equal to "-" (CGI-style frameworks turn both into the same variable).
constexpr char fold_header_char(char c) { return c == '_' ? '-' : ascii_lower(c); }

constexpr bool header_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold_header_char(a[i]) != fold_header_char(b[i])) return false;
  return true;
}

constexpr bool header_name_starts_with(std::string_view name, std::string_view prefix) {
  return name.size() >= prefix.size() && header_name_equals(name.substr(0, prefix.size()), prefix);
}

constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(item) for each non-empty, trimmed item of a comma-separated list.
template <class F>
constexpr void for_each_list_item(std::string_view list, F&& f) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim_ows(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

constexpr bool list_has_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_list_item(list, [&](std::string_view item) { found = found || iequals(item, token); });
  return found;
}

}  // namespace authgate::common
