// Unit tests for routing/host: validate_host on a named table of Host values,
// one test per rejection reason, and the IPv6 literal grammar.
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include "printable.hpp"
#include "routing/host.hpp"
#include "routing/route_table.hpp"

namespace {

using authgate::routing::host_category;
using authgate::routing::host_errc;
using authgate::routing::HostParts;
using authgate::routing::is_ipv6_address;
using authgate::routing::validate_host;

struct HostCase {
  const char* name;  // test name suffix: [A-Za-z0-9_]
  std::string_view input;
  std::string_view host;  // when accepted
  std::string_view port;
  host_errc error{};      // host_errc{} (0) when accepted
};

HostCase ok(const char* name, std::string_view in, std::string_view host, std::string_view port = {}) {
  return {name, in, host, port, host_errc{}};
}
HostCase bad(const char* name, std::string_view in, host_errc e) { return {name, in, {}, {}, e}; }

std::ostream& operator<<(std::ostream& os, const HostCase& c) { return print_named_input(os, c.name, c.input); }

// clang-format off
const HostCase kCases[] = {
    ok("name", "api.example.com", "api.example.com"),
    ok("name_with_port", "api.example.com:8443", "api.example.com", "8443"),
    ok("upper_case_name", "API.Example.COM", "API.Example.COM"),
    ok("fqdn_trailing_dot", "api.example.com.", "api.example.com."),
    ok("single_label", "localhost", "localhost"),
    ok("underscore_and_tilde", "my_svc~1", "my_svc~1"),
    ok("ipv4", "127.0.0.1:8080", "127.0.0.1", "8080"),
    ok("ipv6_loopback", "[::1]", "[::1]"),
    ok("ipv6_with_port", "[::1]:8080", "[::1]", "8080"),
    ok("ipv6_full", "[2001:db8:0:0:0:0:0:1]", "[2001:db8:0:0:0:0:0:1]"),
    ok("ipv6_elided_middle", "[2001:DB8::1]:443", "[2001:DB8::1]", "443"),
    ok("ipv6_elided_end", "[fe80::]", "[fe80::]"),
    ok("ipv6_all_zero", "[::]", "[::]"),
    ok("ipv6_v4_mapped", "[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]"),
    ok("port_max", "h:65535", "h", "65535"),
    ok("port_zero", "h:0", "h", "0"),

    // The two attacks of issue 13.
    bad("userinfo_after_port_colon", "api.example.com:@evil.com", host_errc::userinfo),
    bad("query_before_wildcard_suffix", "evil.com?.example.com", host_errc::delimiter),
    // Userinfo in any position.
    bad("userinfo", "user@api.example.com", host_errc::userinfo),
    bad("userinfo_with_password", "a:b@evil.com", host_errc::userinfo),
    // URL delimiters: a URL built from the Host ends its authority there.
    bad("slash", "evil.com/.example.com", host_errc::delimiter),
    bad("fragment", "evil.com#.example.com", host_errc::delimiter),
    bad("backslash", "evil.com\\.example.com", host_errc::delimiter),
    bad("delimiter_in_port", "api.example.com:80/x", host_errc::delimiter),
    // Escapes.
    bad("percent_encoded_slash", "evil.com%2f.example.com", host_errc::percent_encoded),
    bad("percent_encoded_name", "%61pi.example.com", host_errc::percent_encoded),
    bad("ipv6_zone_id", "[fe80::1%25eth0]", host_errc::percent_encoded),
    // Anything else outside the grammar.
    bad("comma_list", "evil.com,api.example.com", host_errc::bad_character),
    bad("sub_delim_semicolon", "evil.com;.example.com", host_errc::bad_character),
    bad("sub_delim_ampersand", "a&b.example.com", host_errc::bad_character),
    bad("space", "api.example.com evil.com", host_errc::bad_character),
    bad("tab", "api.example.com\tx", host_errc::bad_character),
    bad("control", "api\x01.example.com", host_errc::bad_character),
    bad("non_ascii", "b\xc3\xbc" "cher.example", host_errc::bad_character),
    bad("quote", "\"evil.com\"", host_errc::bad_character),
    bad("text_after_ip_literal", "[::1]x", host_errc::bad_character),
    // Ports.
    bad("empty_port", "api.example.com:", host_errc::bad_port),
    bad("port_not_digits", "api.example.com:http", host_errc::bad_port),
    bad("port_too_large", "api.example.com:65536", host_errc::bad_port),
    bad("port_too_long", "api.example.com:000080", host_errc::bad_port),
    bad("two_ports", "api.example.com:80:81", host_errc::bad_port),
    bad("signed_port", "h:-1", host_errc::bad_port),
    bad("bare_ipv6", "::1", host_errc::empty),
    // IP literals.
    bad("unclosed_bracket", "[::1", host_errc::bad_ip_literal),
    bad("bracket_inside_name", "a[b].example.com", host_errc::bad_ip_literal),
    bad("closing_bracket_only", "a]b", host_errc::bad_ip_literal),
    bad("ipv4_in_brackets", "[127.0.0.1]", host_errc::bad_ip_literal),
    bad("name_in_brackets", "[evil.com]", host_errc::bad_ip_literal),
    bad("empty_brackets", "[]", host_errc::bad_ip_literal),
    bad("ipv6_two_elisions", "[1::2::3]", host_errc::bad_ip_literal),
    bad("ipv6_nine_groups", "[1:2:3:4:5:6:7:8:9]", host_errc::bad_ip_literal),
    bad("ipv6_seven_groups", "[1:2:3:4:5:6:7]", host_errc::bad_ip_literal),
    bad("ipv6_long_group", "[12345::1]", host_errc::bad_ip_literal),
    bad("ipv6_leading_colon", "[:1::2]", host_errc::bad_ip_literal),
    bad("ipv6_trailing_colon", "[1::2:]", host_errc::bad_ip_literal),
    bad("ipv6_bad_v4_tail", "[::ffff:1.2.3.256]", host_errc::bad_ip_literal),
    bad("ipv6_v4_leading_zero", "[::ffff:01.2.3.4]", host_errc::bad_ip_literal),
    bad("ip_future", "[v1.fe80::a+en1]", host_errc::ip_future),
    bad("ip_future_upper", "[V7.x]", host_errc::ip_future),
    // Empty and oversized.
    bad("empty", "", host_errc::empty),
    bad("port_only", ":80", host_errc::empty),
};
// clang-format on

class ValidateHost : public ::testing::TestWithParam<HostCase> {};

TEST_P(ValidateHost, Case) {
  const HostCase& c = GetParam();
  HostParts out;
  std::error_code ec = std::make_error_code(std::errc::io_error);  // must be overwritten
  const bool accepted = validate_host(c.input, out, ec);
  if (c.error == host_errc{}) {
    ASSERT_TRUE(accepted) << ec.message();
    EXPECT_FALSE(ec);
    EXPECT_EQ(out.host, c.host);
    EXPECT_EQ(out.port, c.port);
    EXPECT_EQ(out.ip_literal, c.host.starts_with('['));
  } else {
    EXPECT_FALSE(accepted) << "accepted as host \"" << out.host << "\" port \"" << out.port << "\"";
    EXPECT_EQ(ec, c.error) << ec.message();
    EXPECT_EQ(&ec.category(), &host_category());
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ValidateHost, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<HostCase>& info) { return std::string(info.param.name); });

// One test per reason, named after the attack.
bool rejected_as(std::string_view value, host_errc e) {
  HostParts out;
  std::error_code ec;
  return !validate_host(value, out, ec) && ec == e;
}

TEST(HostHeader, UserinfoInHostDoesNotMatchTheRoutedHost) {
  // Routing used to strip ":@evil.com" as a port and match api.example.com; a URL
  // parser upstream reads user "api.example.com" at host evil.com.
  EXPECT_TRUE(authgate::routing::host_matches("api.example.com", "api.example.com:@evil.com"))
      << "the route table alone is fooled: validation must come first";
  EXPECT_TRUE(rejected_as("api.example.com:@evil.com", host_errc::userinfo));
}

TEST(HostHeader, QueryDelimiterDoesNotMakeAWildcardSubdomain) {
  EXPECT_TRUE(authgate::routing::host_matches("*.example.com", "evil.com?.example.com"))
      << "the route table alone is fooled: validation must come first";
  EXPECT_TRUE(rejected_as("evil.com?.example.com", host_errc::delimiter));
}

TEST(HostHeader, PercentEscapeDoesNotHideAnotherHost) {
  EXPECT_TRUE(rejected_as("evil.com%2F.example.com", host_errc::percent_encoded));
}

TEST(HostHeader, CommaListDoesNotSmuggleASecondHost) {
  EXPECT_TRUE(rejected_as("evil.com,.example.com", host_errc::bad_character));
}

TEST(HostHeader, NonDigitPortIsRefused) { EXPECT_TRUE(rejected_as("api.example.com:evil", host_errc::bad_port)); }

TEST(HostHeader, MalformedIpLiteralIsRefused) { EXPECT_TRUE(rejected_as("[evil.com]:80", host_errc::bad_ip_literal)); }

TEST(HostHeader, IpFutureLiteralIsRefused) { EXPECT_TRUE(rejected_as("[v9.evil]", host_errc::ip_future)); }

TEST(HostHeader, EmptyHostIsRefused) { EXPECT_TRUE(rejected_as("", host_errc::empty)); }

TEST(HostHeader, OverlongNameIsRefused) {
  EXPECT_TRUE(rejected_as(std::string(256, 'a'), host_errc::too_long));
  HostParts out;
  std::error_code ec;
  EXPECT_TRUE(validate_host(std::string(255, 'a') + ":80", out, ec)) << ec.message();
}

TEST(Ipv6Address, Grammar) {
  for (std::string_view s : {"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "1::8", "::2:3:4:5:6:7:8",
                             "1:2:3:4:5:6:1.2.3.4", "::1.2.3.4", "fe80::abcd:EF01", "0:0:0:0:0:0:0:0"})
    EXPECT_TRUE(is_ipv6_address(s)) << s;
  for (std::string_view s : {"", ":", ":::", "1", "1:2", "1:2:3:4:5:6:7:8:9", "1::2::3", "::1:", "g::1", "1:2:3:4:5:6:7:1.2.3.4",
                             "::1.2.3", "::1.2.3.4.5", "::256.1.1.1", "1:2:3:4:5:6:7::8:9", "12345::"})
    EXPECT_FALSE(is_ipv6_address(s)) << s;
}

TEST(HostCategory, EveryCodeHasADistinctMessage) {
  const host_errc all[] = {host_errc::empty,         host_errc::userinfo, host_errc::delimiter,
                           host_errc::percent_encoded, host_errc::bad_character, host_errc::bad_port,
                           host_errc::bad_ip_literal, host_errc::ip_future, host_errc::too_long};
  std::set<std::string> messages;
  for (host_errc e : all) {
    const std::error_code ec = e;
    EXPECT_EQ(&ec.category(), &host_category());
    messages.insert(ec.message());
  }
  EXPECT_EQ(messages.size(), std::size(all));
  EXPECT_STREQ(host_category().name(), "authgate.host");
}

}  // namespace
