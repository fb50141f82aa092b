#include "routing/host.hpp"

#include <cstddef>

#include "common/error_category.hpp"

namespace authgate::routing {

namespace {

const char* host_message(host_errc e) {
  switch (e) {
    case host_errc::empty: return "empty Host";
    case host_errc::userinfo: return "userinfo (\"@\") in Host";
    case host_errc::delimiter: return "URL delimiter (\"/\", \"?\", \"#\", \"\\\") in Host";
    case host_errc::percent_encoded: return "percent-escape in Host";
    case host_errc::bad_character: return "character outside the host name grammar in Host";
    case host_errc::bad_port: return "Host port is not 1 to 5 digits up to 65535";
    case host_errc::bad_ip_literal: return "Host IP literal is not an IPv6 address";
    case host_errc::ip_future: return "Host IPvFuture literal";
    case host_errc::too_long: return "Host name longer than 255 characters";
  }
  return "unknown Host error";
}

constexpr std::size_t kMaxName = 255;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 3986 dec-octet "." dec-octet "." dec-octet "." dec-octet (no leading zeros).
bool is_ipv4_address(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
    const std::size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && s[start] == '0')) return false;
    if (++parts == 4) return i == s.size();
    if (i >= s.size() || s[i] != '.') return false;
    ++i;
  }
}

// Whether `c` ends a reason to reject the whole value whatever else it holds.
host_errc classify(char c) {
  switch (c) {
    case '@': return host_errc::userinfo;
    case '/': case '?': case '#': case '\\': return host_errc::delimiter;
    case '%': return host_errc::percent_encoded;
    default: return host_errc::bad_character;
  }
}

}  // namespace

const std::error_category& host_category() {
  static const common::ErrorCategory<host_errc> category("authgate.host", host_message);
  return category;
}

std::error_code make_error_code(host_errc e) { return {static_cast<int>(e), host_category()}; }

bool is_ipv6_address(std::string_view s) {
  std::size_t i = 0;
  int groups = 0;  // 16-bit pieces written out (an IPv4 tail counts two)
  bool elided = false;
  if (s.starts_with("::")) {
    elided = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s.empty() || s.front() == ':') {
    return false;
  }
  while (true) {
    const std::size_t start = i;
    while (i < s.size() && is_hex(s[i]) && i - start < 5) ++i;
    if (i < s.size() && s[i] == '.') {  // ls32 as an IPv4 address: the last piece
      if (!is_ipv4_address(s.substr(start))) return false;
      groups += 2;
      break;
    }
    const std::size_t len = i - start;
    if (len == 0 || len > 4) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (elided) return false;
      elided = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // a single trailing ":"
    }
    if (groups > 8) return false;
  }
  return elided ? groups <= 7 : groups == 8;
}

bool validate_host(std::string_view value, HostParts& out, std::error_code& ec) {
  auto fail = [&](host_errc e) {
    ec = e;
    return false;
  };
  out = HostParts{};
  if (value.empty()) return fail(host_errc::empty);
  // The attack characters name the rejection wherever they are.
  for (char c : value)
    if (c == '@' || c == '/' || c == '?' || c == '#' || c == '\\' || c == '%') return fail(classify(c));

  std::string_view rest;
  if (value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return fail(host_errc::bad_ip_literal);
    const std::string_view inside = value.substr(1, close - 1);
    if (!inside.empty() && (inside.front() == 'v' || inside.front() == 'V')) return fail(host_errc::ip_future);
    if (!is_ipv6_address(inside)) return fail(host_errc::bad_ip_literal);
    out.host = value.substr(0, close + 1);
    out.ip_literal = true;
    rest = value.substr(close + 1);
  } else {
    const auto colon = value.find(':');
    out.host = value.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : value.substr(colon);
    if (out.host.empty()) return fail(host_errc::empty);
    for (char c : out.host)
      if (!is_name_char(c)) return fail(c == '[' || c == ']' ? host_errc::bad_ip_literal : classify(c));
    if (out.host.size() > kMaxName) return fail(host_errc::too_long);
  }
  if (rest.empty()) {
    ec.clear();
    return true;
  }
  if (rest.front() != ':') return fail(host_errc::bad_character);  // "[::1]x"
  const std::string_view port = rest.substr(1);
  if (port.empty() || port.size() > 5) return fail(host_errc::bad_port);
  unsigned v = 0;
  for (char c : port) {
    if (!is_digit(c)) return fail(host_errc::bad_port);
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 65535) return fail(host_errc::bad_port);
  out.port = port;
  ec.clear();
  return true;
}

}  // namespace authgate::routing
