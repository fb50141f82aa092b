// Unit tests for session/redirect: a named-vector table of accepted same-origin
// paths and refused open redirects (protocol-relative, backslash, schemes,
// control bytes, percent-encoded and double-encoded spellings), and the
// fallback.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "session/redirect.hpp"

namespace {

using authgate::session::is_safe_redirect;
using authgate::session::kMaxRedirectLength;
using authgate::session::safe_redirect;

struct RedirectCase {
  std::string_view name;
  std::string_view rd;
  bool ok;
};

constexpr RedirectCase ok(std::string_view name, std::string_view rd) { return {name, rd, true}; }
constexpr RedirectCase bad(std::string_view name, std::string_view rd) { return {name, rd, false}; }

using namespace std::string_view_literals;

// clang-format off
constexpr RedirectCase kCases[] = {
    ok("root", "/"),
    ok("path_query_fragment", "/a/b?x=1#f"),
    ok("deep_path", "/app/dashboard/settings"),
    ok("query_with_url", "/cb?next=https://evil.com"),          // a query value is not the origin
    ok("query_with_slashes", "/a?x=//evil.com"),
    ok("encoded_slash_later", "/a%2Fb"),                        // "/a/b" after decoding
    ok("encoded_space", "/a%20b"),
    ok("utf8_encoded", "/caf%C3%A9"),
    ok("literal_percent", "/100%"),                             // not an escape: stays literal
    ok("bad_escape", "/a%zzb"),
    ok("dot_segments", "/a/../b"),
    ok("colon_in_path", "/a:b"),
    ok("at_sign", "/@evil.com"),                                // a path, same origin
    ok("scheme_text_in_path", "/https://evil.com"),             // a path, same origin
    ok("double_encoded_harmless", "/a%2520b"),                  // "/a%20b" -> "/a b"

    bad("empty", ""),
    bad("no_leading_slash", "evil.com"),
    bad("relative", "a/b"),
    bad("protocol_relative", "//evil.com"),
    bad("triple_slash", "///evil.com"),
    bad("slash_backslash", "/\\evil.com"),
    bad("backslashes", "\\\\evil"),
    bad("backslash_later", "/a\\b"),
    bad("encoded_slash_upper", "/%2Fevil.com"),
    bad("encoded_slash_lower", "/%2fevil.com"),
    bad("encoded_both_slashes", "%2F%2Fevil.com"),
    bad("encoded_backslash", "/%5Cevil.com"),
    bad("encoded_backslash_lower", "/%5cevil.com"),
    bad("encoded_backslash_later", "/a%5Cb"),
    bad("https_scheme", "https://evil.com"),
    bad("http_scheme_upper", "HTTP://evil.com"),
    bad("javascript", "javascript:alert(1)"),
    bad("data", "data:text/html,x"),
    bad("raw_tab", "/\tevil"),
    bad("raw_tab_second", "/\t/evil.com"),
    bad("encoded_tab", "/%09/evil.com"),
    bad("raw_newline", "/a\nb"),
    bad("raw_cr", "/a\rb"),
    bad("raw_nul", "/a\0b"sv),
    bad("raw_del", "/a\x7f"),
    bad("raw_space", "/a b"),
    bad("leading_space", " /a"),
    bad("raw_non_ascii", "/caf\xc3\xa9"),
    bad("encoded_crlf", "/%0d%0aSet-Cookie:x"),
    bad("encoded_nul", "/a%00"),
    bad("encoded_del", "/a%7F"),
    bad("double_encoded_slashes", "%252F%252Fevil.com"),
    bad("double_encoded_after_slash", "/%252Fevil.com"),
    bad("double_encoded_backslash", "/%255Cevil.com"),
    bad("double_encoded_tab", "/%2509/evil.com"),
    bad("triple_encoded_slash", "/%25252Fevil.com"),
    bad("quadruple_encoded_slash", "/%2525252Fevil.com"),        // more layers than decoded: refused
    bad("mixed_raw_and_encoded", "/%2F/evil.com"),
    bad("mixed_slash_backslash", "/%2F%5Cevil.com"),
};
// clang-format on

class SafeRedirect : public ::testing::TestWithParam<RedirectCase> {};

TEST_P(SafeRedirect, Table) {
  const RedirectCase& c = GetParam();
  EXPECT_EQ(is_safe_redirect(c.rd), c.ok);
  EXPECT_EQ(safe_redirect(c.rd, "/home"), c.ok ? std::string(c.rd) : std::string("/home"));
}

INSTANTIATE_TEST_SUITE_P(Vectors, SafeRedirect, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RedirectCase>& i) { return std::string(i.param.name); });

TEST(SafeRedirectLength, Limit) {
  std::string at_limit = "/" + std::string(kMaxRedirectLength - 1, 'a');
  EXPECT_EQ(safe_redirect(at_limit, "/"), at_limit);
  std::string over = at_limit + "a";
  EXPECT_EQ(safe_redirect(over, "/"), "/");
}

TEST(SafeRedirectFallback, ReturnedVerbatim) {
  EXPECT_EQ(safe_redirect("//evil.com", "/app/"), "/app/");
  EXPECT_EQ(safe_redirect("", ""), "");
}

}  // namespace
