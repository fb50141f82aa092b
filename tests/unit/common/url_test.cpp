// Unit tests for common/url: parse_http_url on named vectors (accepted URLs
// with their parts, refused URLs) and HttpUrl::authority() (default ports
// elided, IPv6 literals bracketed).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/url.hpp"

namespace {

using authgate::common::HttpUrl;
using authgate::common::parse_http_url;

struct UrlCase {
  std::string_view name;
  std::string_view input;
  bool ok;
  // Expected parts when ok.
  std::string_view scheme;
  std::string_view host;
  std::uint16_t port;
  std::string_view target;
  std::string_view authority;
};

constexpr UrlCase good(std::string_view name, std::string_view in, std::string_view scheme, std::string_view host,
                       std::uint16_t port, std::string_view target, std::string_view authority) {
  return {name, in, true, scheme, host, port, target, authority};
}
constexpr UrlCase bad(std::string_view name, std::string_view in) { return {name, in, false, "", "", 0, "", ""}; }

// clang-format off
const UrlCase kCases[] = {
    // Default ports, no path.
    good("http_default_port", "http://example.com", "http", "example.com", 80, "/", "example.com"),
    good("https_default_port", "https://example.com", "https", "example.com", 443, "/", "example.com"),
    good("http_root_path", "http://example.com/", "http", "example.com", 80, "/", "example.com"),
    // Explicit ports; the default one is elided from the authority, others kept.
    good("https_explicit_port", "https://idp.example.com:8443/jwks?v=2", "https", "idp.example.com", 8443,
         "/jwks?v=2", "idp.example.com:8443"),
    good("http_explicit_default_port", "http://example.com:80/x", "http", "example.com", 80, "/x", "example.com"),
    good("https_explicit_default_port", "https://example.com:443", "https", "example.com", 443, "/", "example.com"),
    good("http_on_443_keeps_port", "http://example.com:443/", "http", "example.com", 443, "/", "example.com:443"),
    good("https_on_80_keeps_port", "https://example.com:80/", "https", "example.com", 80, "/", "example.com:80"),
    good("port_1", "http://h:1/", "http", "h", 1, "/", "h:1"),
    good("port_65535", "http://h:65535/", "http", "h", 65535, "/", "h:65535"),
    good("ipv4_with_port", "http://127.0.0.1:9000/api", "http", "127.0.0.1", 9000, "/api", "127.0.0.1:9000"),
    // IPv6 literals: host without brackets, authority with them.
    good("ipv6_no_port", "http://[::1]/x", "http", "::1", 80, "/x", "[::1]"),
    good("ipv6_with_port", "https://[2001:db8::1]:8443/jwks", "https", "2001:db8::1", 8443, "/jwks",
         "[2001:db8::1]:8443"),
    good("ipv6_no_path", "https://[::1]", "https", "::1", 443, "/", "[::1]"),
    good("ipv6_query_only", "http://[::1]:8080?a=b", "http", "::1", 8080, "/?a=b", "[::1]:8080"),
    // A query without a path gets the root path.
    good("query_without_path", "https://h?x", "https", "h", 443, "/?x", "h"),
    good("query_without_path_port", "https://h:8443?x=1&y=2", "https", "h", 8443, "/?x=1&y=2", "h:8443"),
    // The query may contain '/', ':' and '@'; the path may contain '@' and ':'.
    good("slash_in_query", "http://h?next=/a/b", "http", "h", 80, "/?next=/a/b", "h"),
    good("at_in_path", "https://h/users/a@b", "https", "h", 443, "/users/a@b", "h"),
    good("at_in_query", "https://h/p?mail=a@b:c", "https", "h", 443, "/p?mail=a@b:c", "h"),
    // The scheme is case-insensitive and comes out in lower case.
    good("scheme_upper", "HTTPS://Example.com/A", "https", "Example.com", 443, "/A", "Example.com"),
    good("scheme_mixed", "hTtP://h:8080", "http", "h", 8080, "/", "h:8080"),
    // Leading zeros are still a port in range.
    good("port_leading_zeros", "http://h:08080/", "http", "h", 8080, "/", "h:8080"),

    // User info (credentials in the URL, or "host@evil" confusion).
    bad("userinfo", "https://user:pass@idp.example.com/"),
    bad("userinfo_no_password", "https://user@idp.example.com"),
    bad("userinfo_empty", "https://@idp.example.com"),
    bad("userinfo_before_query", "https://a@b?x"),
    // Fragments.
    bad("fragment", "https://h/p#frag"),
    bad("fragment_empty", "https://h/#"),
    bad("fragment_after_query", "https://h/?q=1#f"),
    // Empty host.
    bad("empty_host", "https://"),
    bad("empty_host_path", "https:///path"),
    bad("empty_host_port", "http://:8080/"),
    bad("empty_host_query", "http://?x"),
    bad("empty_ipv6_host", "http://[]:80/"),
    // Ports.
    bad("port_0", "http://h:0/"),
    bad("port_65536", "http://h:65536/"),
    bad("port_huge", "http://h:99999999999999999999/"),
    bad("port_non_numeric", "http://h:http/"),
    bad("port_trailing_garbage", "http://h:80x/"),
    bad("port_negative", "http://h:-1/"),
    bad("port_plus", "http://h:+80/"),
    bad("port_empty", "http://h:/"),
    bad("port_empty_no_path", "http://h:"),
    bad("ipv6_port_empty", "http://[::1]:/"),
    bad("ipv6_port_0", "http://[::1]:0"),
    bad("ipv6_port_non_numeric", "http://[::1]:x"),
    bad("unbracketed_ipv6", "http://::1/"),
    bad("two_colons", "http://h:80:81/"),
    // Whitespace and control bytes anywhere.
    bad("space_in_host", "http://ex ample.com/"),
    bad("space_in_path", "http://h/a b"),
    bad("leading_space", " http://h/"),
    bad("trailing_space", "http://h/ "),
    bad("tab", "http://h/\t"),
    bad("newline", "http://h/\nHost: evil"),
    bad("carriage_return", "http://h/\r"),
    bad("nul_byte", std::string_view("http://h/\0x", 11)),
    bad("del_byte", "http://h/\x7f"),
    // Other schemes, or no scheme separator.
    bad("ftp", "ftp://h/"),
    bad("ws", "ws://h/"),
    bad("file", "file:///etc/passwd"),
    bad("httpx", "httpx://h/"),
    bad("empty_scheme", "://h/"),
    bad("scheme_relative", "//h/"),
    bad("no_scheme", "example.com/path"),
    bad("single_slash", "http:/h/"),
    bad("no_slashes", "http:h"),
    bad("empty", ""),
    // Unterminated or malformed IPv6 literal.
    bad("ipv6_unterminated", "http://[::1/"),
    bad("bracketed_name_is_not_an_ip_literal", "http://[evil.com]/"),
    bad("percent_encoded_host", "http://a%2eb/"),
    bad("host_with_non_ascii_byte", "http://h\xc3\xa9.test/"),
    bad("ipv6_unterminated_no_path", "https://[::1"),
    bad("ipv6_unterminated_port", "http://[::1:8080"),
    bad("ipv6_garbage_after_bracket", "http://[::1]x/"),
};
// clang-format on

class ParseHttpUrl : public ::testing::TestWithParam<UrlCase> {};

TEST_P(ParseHttpUrl, Case) {
  const UrlCase& c = GetParam();
  const auto u = parse_http_url(c.input);
  if (!c.ok) {
    EXPECT_FALSE(u.has_value()) << "accepted: scheme=" << u->scheme << " host=" << u->host
                                << " port=" << u->port << " target=" << u->target;
    return;
  }
  ASSERT_TRUE(u.has_value()) << "refused: " << c.input;
  EXPECT_EQ(u->scheme, c.scheme);
  EXPECT_EQ(u->host, c.host);
  EXPECT_EQ(u->port, c.port);
  EXPECT_EQ(u->target, c.target);
  EXPECT_EQ(u->authority(), c.authority);
  EXPECT_EQ(u->is_https(), c.scheme == "https");
}

INSTANTIATE_TEST_SUITE_P(Table, ParseHttpUrl, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<UrlCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(HttpUrlAuthority, BuiltByHand) {
  HttpUrl u;
  u.scheme = "https";
  u.host = "fe80::1";
  u.port = 443;
  EXPECT_EQ(u.authority(), "[fe80::1]");
  u.port = 8443;
  EXPECT_EQ(u.authority(), "[fe80::1]:8443");
  u.scheme = "http";
  u.host = "example.com";
  u.port = 80;
  EXPECT_EQ(u.authority(), "example.com");
  u.port = 443;
  EXPECT_EQ(u.authority(), "example.com:443");
}

TEST(HttpUrlAuthority, RoundTripsThroughTheParser) {
  for (std::string_view in : {"http://h", "https://h:8443/x", "http://[::1]:8080/", "https://[2001:db8::2]/"}) {
    const auto u = parse_http_url(in);
    ASSERT_TRUE(u) << in;
    const auto again = parse_http_url(u->scheme + "://" + u->authority() + u->target);
    ASSERT_TRUE(again) << in;
    EXPECT_EQ(again->host, u->host) << in;
    EXPECT_EQ(again->port, u->port) << in;
    EXPECT_EQ(again->target, u->target) << in;
  }
}

}  // namespace
