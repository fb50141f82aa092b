#include "access/bearer.hpp"

#include <algorithm>
#include <iterator>

#include "auth/auth_errc.hpp"
#include "common/ascii.hpp"

namespace authgate::access {

namespace bhttp = boost::beast::http;
using auth::auth_errc;

namespace {

bool is_token68_char(unsigned char c) {
  // ASCII ranges, not std::isalnum: no locale lookup through the PLT for every byte of a token.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}

}  // namespace

std::error_code extract_bearer(const http::Fields& request, std::string_view& token) {
  bool dpop = false;
  return extract_token(request, false, token, dpop);
}

std::error_code extract_token(const http::Fields& request, bool accept_dpop, std::string_view& token, bool& dpop) {
  auto range = request.equal_range(bhttp::field::authorization);
  if (range.first == range.second) return auth_errc::token_missing;
  if (std::next(range.first) != range.second) return auth_errc::request_malformed;
  std::string_view v = range.first->value();
  const auto space = v.find(' ');
  std::string_view scheme = v.substr(0, space);
  dpop = accept_dpop && common::iequals(scheme, "dpop");  // RFC 9449 §7.1
  if (!dpop && !common::iequals(scheme, "bearer")) return auth_errc::token_missing;  // another scheme
  if (space == std::string_view::npos) return auth_errc::request_malformed;
  v.remove_prefix(space);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return auth_errc::request_malformed;
  std::size_t i = 0;
  while (i < v.size() && is_token68_char(static_cast<unsigned char>(v[i]))) ++i;
  if (i != v.size()) return auth_errc::request_malformed;  // spaces or other bytes inside
  token = v;
  return {};
}

bool is_compact_jws(std::string_view token) { return std::count(token.begin(), token.end(), '.') == 2; }

}  // namespace authgate::access
