// Unit tests for routing/path: canonicalize_target on a named table of tricky
// request targets, plus the error category.
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include "routing/path.hpp"

namespace {

using authgate::routing::CanonicalTarget;
using authgate::routing::canonicalize_target;
using authgate::routing::path_category;
using authgate::routing::path_errc;

struct PathCase {
  const char* name;       // test name suffix: [A-Za-z0-9_]
  std::string_view input;
  std::string expected;   // canonical target when accepted
  path_errc error{};      // the rejection reason; path_errc{} (0) when accepted
};

PathCase ok(const char* name, std::string_view in, std::string out) {
  return {name, in, std::move(out), path_errc{}};
}
PathCase bad(const char* name, std::string_view in, path_errc e) { return {name, in, "", e}; }

std::ostream& operator<<(std::ostream& os, const PathCase& c) {
  os << c.name << ": \"";
  for (unsigned char ch : c.input) {
    if (ch < 0x20 || ch >= 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      os << "\\x" << kHex[ch >> 4] << kHex[ch & 0xF];
    } else {
      os << ch;
    }
  }
  return os << "\"";
}

// clang-format off
const PathCase kCases[] = {
    // Accepted, unchanged or normalised.
    ok("root", "/", "/"),
    ok("plain", "/orders/7", "/orders/7"),
    ok("trailing_slash_kept", "/orders/", "/orders/"),
    ok("query_kept_verbatim", "/a/./b?x=%2f../%zz&y=a//b&z=%7e", "/a/b?x=%2f../%zz&y=a//b&z=%7e"),
    ok("empty_query_kept", "/a?", "/a?"),
    ok("query_only_on_root", "/?q=1", "/?q=1"),
    ok("leading_double_slash", "//admin", "/admin"),
    ok("repeated_slashes", "/a//b///c", "/a/b/c"),
    ok("trailing_double_slash", "/a/b//", "/a/b/"),
    ok("only_slashes", "///", "/"),
    ok("dot_segment", "/a/./b", "/a/b"),
    ok("dotdot_segment", "/a/../b", "/b"),
    ok("public_dotdot_admin", "/public/../admin", "/admin"),
    ok("dotdot_then_slashes", "/public/..//admin", "/admin"),
    ok("double_slash_then_dotdot", "/a//../b", "/b"),
    ok("encoded_dotdot_inside", "/a/%2e%2e/b", "/b"),
    ok("encoded_dotdot_upper", "/a/%2E%2E/b", "/b"),
    ok("half_encoded_dotdot", "/a/%2E./b", "/b"),
    ok("half_encoded_dotdot_other_half", "/a/.%2e/b", "/b"),
    ok("encoded_single_dot", "/a/%2e/b", "/a/b"),
    ok("encoded_dot_at_root", "/%2e", "/"),
    ok("mixed_case_escapes", "/%7E%7e/%4a%4A", "/~~/JJ"),
    ok("tilde_decoded", "/%7euser", "/~user"),
    ok("letter_decoded", "/%41", "/A"),
    ok("digit_and_marks_decoded", "/%30%2D%5F%2E%61", "/0-_.a"),
    ok("space_kept_encoded", "/a%20b", "/a%20b"),
    ok("lower_hex_normalised", "/a%3fb", "/a%3Fb"),
    ok("non_ascii_escape_upper", "/caf%c3%a9", "/caf%C3%A9"),
    ok("percent_itself_kept", "/100%25", "/100%25"),
    ok("double_encoding_not_decoded", "/%252e%252e/", "/%252e%252e/"),
    ok("double_encoded_slash_kept", "/a%252fb", "/a%252fb"),
    ok("dotdot_to_root", "/a/..", "/"),
    ok("dotdot_keeps_trailing_slash", "/a/b/..", "/a/"),
    ok("dotdot_slash", "/a/b/../", "/a/"),
    ok("trailing_dot", "/a/.", "/a/"),
    ok("trailing_dot_deeper", "/a/b/.", "/a/b/"),
    ok("root_dot", "/.", "/"),
    ok("dots_only", "/./././", "/"),
    ok("dotdot_prefix_is_a_name", "/a/..b/c", "/a/..b/c"),
    ok("dotdot_suffix_is_a_name", "/a/b../c", "/a/b../c"),
    ok("three_dots_is_a_name", "/a/.../b", "/a/.../b"),
    ok("reserved_chars_kept", "/ab=c/@:!$&'()*+,", "/ab=c/@:!$&'()*+,"),  // every sub-delim but ";" (rejected below)
    ok("raw_non_ascii_kept", "/caf\xc3\xa9", "/caf\xc3\xa9"),

    // Not origin-form.
    bad("empty", "", path_errc::not_origin_form),
    bad("asterisk_form", "*", path_errc::not_origin_form),
    bad("absolute_form", "http://x/y", path_errc::not_origin_form),
    bad("authority_form", "example.com:443", path_errc::not_origin_form),
    bad("relative", "a/b", path_errc::not_origin_form),
    bad("bare_fragment", "#frag", path_errc::not_origin_form),
    bad("bare_query", "?x=1", path_errc::not_origin_form),

    // Fragments, also after a query.
    bad("fragment", "/a#frag", path_errc::fragment),
    bad("fragment_after_query", "/a?q=1#frag", path_errc::fragment),
    bad("empty_fragment", "/a#", path_errc::fragment),

    // Escapes.
    bad("lone_percent", "/a%", path_errc::bad_escape),
    bad("one_hex_digit", "/a%4", path_errc::bad_escape),
    bad("non_hex", "/a%zz", path_errc::bad_escape),
    bad("second_digit_non_hex", "/a%4g/b", path_errc::bad_escape),
    bad("percent_percent", "/%%41", path_errc::bad_escape),
    bad("signed_escape", "/%-1", path_errc::bad_escape),
    bad("encoded_slash_lower", "/a%2fb", path_errc::encoded_separator),
    bad("encoded_slash_upper", "/a%2Fb", path_errc::encoded_separator),
    bad("encoded_dotdot_slash", "/public/%2e%2e%2fadmin", path_errc::encoded_separator),
    bad("encoded_backslash_lower", "/a%5cb", path_errc::encoded_separator),
    bad("encoded_backslash_upper", "/a%5Cb", path_errc::encoded_separator),
    bad("encoded_nul", "/a%00b", path_errc::encoded_nul),

    // Forbidden raw bytes.
    bad("raw_backslash", "/a\\b", path_errc::backslash),
    bad("raw_backslash_dotdot", "/public\\..\\admin", path_errc::backslash),
    bad("control_char", "/a\x01" "b", path_errc::control_character),
    bad("raw_nul", std::string_view("/a\0b", 4), path_errc::control_character),
    bad("raw_tab", "/a\tb", path_errc::control_character),
    bad("raw_newline", "/a\nb", path_errc::control_character),
    bad("raw_space", "/a b", path_errc::control_character),
    bad("raw_del", "/a\x7f", path_errc::control_character),

    // Climbing above the root.
    bad("dotdot_at_root", "/..", path_errc::above_root),
    bad("dotdot_slash_at_root", "/../", path_errc::above_root),
    bad("encoded_dotdot_above_root", "/%2e%2e/admin", path_errc::above_root),
    bad("encoded_dotdot_at_root", "/%2e%2e", path_errc::above_root),
    bad("two_up_one_down", "/a/../..", path_errc::above_root),
    bad("deep_climb", "/a/b/../../../c", path_errc::above_root),
    bad("dot_then_dotdot", "/./../etc/passwd", path_errc::above_root),
    bad("slashes_then_dotdot", "//../admin", path_errc::above_root),
    // Path parameters: Tomcat/Jetty/Spring drop ";x", so "/admin;x" would be served as "/admin"
    // while routing saw something else.
    bad("semicolon_param", "/admin;x", path_errc::semicolon),
    bad("semicolon_segment", "/public/..;/admin", path_errc::semicolon),
    bad("encoded_semicolon", "/admin%3bx", path_errc::semicolon),
};
// clang-format on

class CanonicalizeTarget : public ::testing::TestWithParam<PathCase> {};

TEST_P(CanonicalizeTarget, Case) {
  const PathCase& c = GetParam();
  CanonicalTarget out;
  std::error_code ec = std::make_error_code(std::errc::io_error);  // must be overwritten
  const bool accepted = canonicalize_target(c.input, out, ec);
  if (c.error == path_errc{}) {
    ASSERT_TRUE(accepted) << ec.message();
    EXPECT_FALSE(ec) << "ec must be cleared on success";
    EXPECT_EQ(out.target(), c.expected);
    // Canonical form is a fixed point.
    CanonicalTarget again;
    std::error_code ec2;
    ASSERT_TRUE(canonicalize_target(out.target(), again, ec2)) << ec2.message();
    EXPECT_EQ(again.target(), out.target());
  } else {
    EXPECT_FALSE(accepted) << "accepted as " << out.target();
    EXPECT_EQ(ec, c.error) << ec.message();
    EXPECT_EQ(&ec.category(), &path_category());
  }
}

INSTANTIATE_TEST_SUITE_P(Table, CanonicalizeTarget, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<PathCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(CanonicalizeTargetParts, PathAndQueryAreSeparate) {
  CanonicalTarget out;
  std::error_code ec;
  ASSERT_TRUE(canonicalize_target("/a/%7Euser//x/../y?q=1&r=/../", out, ec));
  EXPECT_EQ(out.path, "/a/~user/y");
  EXPECT_TRUE(out.has_query);
  EXPECT_EQ(out.query, "q=1&r=/../");
  EXPECT_EQ(out.target(), "/a/~user/y?q=1&r=/../");
}

TEST(CanonicalizeTargetParts, NoQuery) {
  CanonicalTarget out;
  out.query = "stale";
  out.has_query = true;
  std::error_code ec;
  ASSERT_TRUE(canonicalize_target("/a", out, ec));
  EXPECT_EQ(out.path, "/a");
  EXPECT_FALSE(out.has_query);
  EXPECT_EQ(out.query, "");
  EXPECT_EQ(out.target(), "/a");
}

TEST(CanonicalizeTargetParts, EmptyQueryIsStillAQuery) {
  CanonicalTarget out;
  std::error_code ec;
  ASSERT_TRUE(canonicalize_target("/a?", out, ec));
  EXPECT_EQ(out.path, "/a");
  EXPECT_TRUE(out.has_query);
  EXPECT_EQ(out.query, "");
}

TEST(CanonicalizeTargetParts, EscapesInTheQueryDoNotMakeThePathBad) {
  // Only the path is checked: a "%2f", "%00" or "\" in the query passes through.
  CanonicalTarget out;
  std::error_code ec;
  ASSERT_TRUE(canonicalize_target("/a?p=%2f%00%5c%zz\\", out, ec)) << ec.message();
  EXPECT_EQ(out.path, "/a");
  EXPECT_EQ(out.query, "p=%2f%00%5c%zz\\");
}

TEST(CanonicalizeTargetParts, ReusedOutputIsOverwritten) {
  CanonicalTarget out;
  std::error_code ec;
  ASSERT_TRUE(canonicalize_target("/first/path?x", out, ec));
  ASSERT_TRUE(canonicalize_target("/b", out, ec));
  EXPECT_EQ(out.path, "/b");
  EXPECT_FALSE(out.has_query);
  EXPECT_EQ(out.target(), "/b");
}

TEST(PathCategory, Name) { EXPECT_STREQ(path_category().name(), "authgate.path"); }

TEST(PathCategory, EveryCodeHasADistinctMessage) {
  const path_errc all[] = {path_errc::not_origin_form,   path_errc::bad_escape,
                           path_errc::encoded_separator, path_errc::encoded_nul,
                           path_errc::backslash,         path_errc::control_character,
                           path_errc::fragment,          path_errc::above_root,
                           path_errc::semicolon};
  std::set<std::string> messages;
  for (path_errc e : all) {
    const std::error_code ec = e;  // via is_error_code_enum + make_error_code
    EXPECT_TRUE(ec) << "every code is non-zero";
    EXPECT_EQ(&ec.category(), &path_category());
    EXPECT_EQ(ec, make_error_code(e));
    const std::string m = ec.message();
    EXPECT_FALSE(m.empty());
    EXPECT_NE(m, "unknown path error") << static_cast<int>(e);
    messages.insert(m);
  }
  EXPECT_EQ(messages.size(), std::size(all));
  EXPECT_EQ(path_category().message(0), "unknown path error");
}

TEST(PathCategory, DistinctFromOtherCategories) {
  const std::error_code ours = path_errc::not_origin_form;
  const std::error_code generic = std::make_error_code(std::errc::operation_not_permitted);
  ASSERT_EQ(ours.value(), generic.value());  // both 1
  EXPECT_NE(ours, generic);
}

}  // namespace
