#include "common/url.hpp"

#include <cctype>
#include <charconv>

#include "common/ascii.hpp"

namespace authgate::common {

std::string HttpUrl::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  std::string a = v6 ? "[" + host + "]" : host;
  if (!default_port) a += ":" + std::to_string(port);
  return a;
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7F) return std::nullopt;
  if (url.find('#') != std::string_view::npos) return std::nullopt;
  HttpUrl u;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = url.substr(0, sep);
  if (iequals(scheme, "http")) u.scheme = "http", u.port = 80;
  else if (iequals(scheme, "https")) u.scheme = "https", u.port = 443;
  else return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.target.front() == '?') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (u.host.empty()) return std::nullopt;
  // A registered name (letters, digits, "-", ".", "_", "~") or an IP literal;
  // no percent-encoding, no bytes outside ASCII.
  const bool bracketed = !authority.empty() && authority.front() == '[';
  for (unsigned char c : u.host) {
    const bool ok = bracketed ? (std::isxdigit(c) || c == ':' || c == '.')
                              : (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~');
    if (!ok) return std::nullopt;
  }
  if (!port.empty()) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || end != port.data() + port.size() || v == 0 || v > 65535) return std::nullopt;
    u.port = static_cast<std::uint16_t>(v);
  }
  return u;
}

}  // namespace authgate::common
