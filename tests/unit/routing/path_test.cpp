// Unit tests for routing/path: canonicalize_target on a named table of tricky
// request targets, plus the error category.
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include "printable.hpp"
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

std::ostream& operator<<(std::ostream& os, const PathCase& c) { return print_named_input(os, c.name, c.input); }

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

    // Well-formed UTF-8, escaped or raw, passes (the edges of each range of Unicode table 3-7).
    ok("utf8_two_byte_escaped", "/caf%C3%A9", "/caf%C3%A9"),
    ok("utf8_smallest_two_byte", "/%C2%80", "/%C2%80"),
    ok("utf8_three_byte_e0_lowest", "/%E0%A0%80", "/%E0%A0%80"),
    ok("utf8_last_before_surrogates", "/%ED%9F%BF", "/%ED%9F%BF"),
    ok("utf8_first_after_surrogates", "/%EE%80%80", "/%EE%80%80"),
    ok("utf8_four_byte_f0_lowest", "/%F0%90%80%80", "/%F0%90%80%80"),
    ok("utf8_max_code_point", "/%F4%8F%BF%BF", "/%F4%8F%BF%BF"),
    ok("utf8_raw_emoji", "/\xF0\x9F\x98\x80", "/\xF0\x9F\x98\x80"),
    ok("utf8_mixed_raw_and_escaped", "/\xC3%A9", "/\xC3%A9"),
    ok("utf8_invalid_bytes_in_query_pass", "/a?x=%C0%AE\xff", "/a?x=%C0%AE\xff"),

    // Not well-formed UTF-8 (the utf8_fault of each is checked in Utf8Path.* below).
    bad("utf8_overlong_dot", "/%C0%AE%C0%AE/admin", path_errc::invalid_utf8),
    bad("utf8_overlong_slash", "/a%C0%AFb", path_errc::invalid_utf8),
    bad("utf8_overlong_backslash", "/a%C1%9Cb", path_errc::invalid_utf8),
    bad("utf8_overlong_three_byte_dot", "/%E0%80%AE", path_errc::invalid_utf8),
    bad("utf8_overlong_four_byte_slash", "/%F0%80%80%AF", path_errc::invalid_utf8),
    bad("utf8_surrogate_high", "/%ED%A0%80", path_errc::invalid_utf8),
    bad("utf8_surrogate_low", "/%ED%BF%BF", path_errc::invalid_utf8),
    bad("utf8_above_max_f4", "/%F4%90%80%80", path_errc::invalid_utf8),
    bad("utf8_above_max_f5", "/%F5%80%80%80", path_errc::invalid_utf8),
    bad("utf8_five_byte_lead", "/%F8%88%80%80%80", path_errc::invalid_utf8),
    bad("utf8_byte_ff", "/%FF", path_errc::invalid_utf8),
    bad("utf8_lone_continuation", "/%80", path_errc::invalid_utf8),
    bad("utf8_truncated_at_end", "/caf%C3", path_errc::invalid_utf8),
    bad("utf8_truncated_before_slash", "/%E2%82/x", path_errc::invalid_utf8),
    bad("utf8_truncated_by_ascii_escape", "/%C3%41", path_errc::invalid_utf8),
    bad("utf8_raw_overlong_dot", "/\xC0\xAE\xC0\xAE/admin", path_errc::invalid_utf8),
    bad("utf8_raw_byte_ff", "/a\xFF" "b", path_errc::invalid_utf8),
    bad("utf8_raw_lead_escaped_overlong_tail", "/\xE0%80%AE", path_errc::invalid_utf8),
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

// One test per UTF-8 rejection reason: the attack, through canonicalize_target (400
// before routing), and the reason it names.
struct Utf8Outcome {
  bool accepted;
  std::error_code ec;
  authgate::routing::utf8_fault fault;
};
Utf8Outcome canonicalize_utf8(std::string_view target) {
  CanonicalTarget out;
  Utf8Outcome r{false, {}, authgate::routing::utf8_fault::none};
  r.accepted = canonicalize_target(target, out, r.ec, &r.fault);
  return r;
}
using authgate::routing::utf8_fault;

TEST(Utf8Path, OverlongDotDotIsRejectedNotDecodedToAParentSegment) {
  // %C0%AE is a two-byte "." that lenient decoders accept: "/%C0%AE%C0%AE/admin" is "/../admin".
  for (std::string_view t : {"/public/%C0%AE%C0%AE/admin", "/%c0%ae", "/%E0%80%AE", "/%F0%80%80%AE", "/\xC0\xAE"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_FALSE(r.accepted) << t;
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::overlong) << t;
  }
}

TEST(Utf8Path, OverlongSlashAndBackslashAreRejected) {
  for (std::string_view t : {"/a%C0%AFb", "/a%C1%9Cb", "/a%E0%80%AFb"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::overlong) << t;
  }
}

TEST(Utf8Path, SurrogateIsRejected) {
  for (std::string_view t : {"/%ED%A0%80", "/%ED%BF%BF", "/%ED%A0%BD%ED%B8%80", "/\xED\xA0\x80"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::surrogate) << t;
  }
}

TEST(Utf8Path, CodePointAboveU10FFFFIsRejected) {
  for (std::string_view t : {"/%F4%90%80%80", "/%F5%80%80%80", "/%F7%BF%BF%BF", "/\xF4\x90\x80\x80"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::above_max) << t;
  }
}

TEST(Utf8Path, TruncatedSequenceIsRejected) {
  // At the end, before "/", before an ASCII byte (escaped or raw), before another lead byte.
  for (std::string_view t : {"/caf%C3", "/%E2%82/x", "/%C3%41", "/%C3a", "/%F0%9F%98", "/%C3%C3%A9", "/\xC3"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::truncated) << t;
  }
}

TEST(Utf8Path, LoneContinuationByteIsRejected) {
  for (std::string_view t : {"/%80", "/a%BFb", "/%C3%A9%A9", "/\x80"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::unexpected_continuation) << t;
  }
}

TEST(Utf8Path, BytesThatNeverOccurInUtf8AreRejected) {
  for (std::string_view t : {"/%F8%88%80%80%80", "/%FC%84%80%80%80%80", "/%FE", "/%FF", "/a\xFF" "b"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_EQ(r.ec, path_errc::invalid_utf8) << t;
    EXPECT_EQ(r.fault, utf8_fault::invalid_byte) << t;
  }
}

TEST(Utf8Path, WellFormedPathsNameNoFault) {
  for (std::string_view t : {"/caf%C3%A9", "/%F4%8F%BF%BF", "/\xE2\x82\xAC", "/plain"}) {
    const auto r = canonicalize_utf8(t);
    EXPECT_TRUE(r.accepted) << t << ": " << r.ec.message();
    EXPECT_EQ(r.fault, utf8_fault::none) << t;
  }
}

TEST(Utf8Check, WholeStringsAgainstTable37) {
  using authgate::common::check_utf8;
  EXPECT_EQ(check_utf8(""), utf8_fault::none);
  EXPECT_EQ(check_utf8("ascii /.."), utf8_fault::none);
  EXPECT_EQ(check_utf8("\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"), utf8_fault::none);
  EXPECT_EQ(check_utf8("\xC0\x80"), utf8_fault::overlong);  // "modified UTF-8" NUL
  EXPECT_EQ(check_utf8("\xE0\x9F\xBF"), utf8_fault::overlong);
  EXPECT_EQ(check_utf8("\xF0\x8F\xBF\xBF"), utf8_fault::overlong);
  EXPECT_EQ(check_utf8("\xED\xA0\x80"), utf8_fault::surrogate);
  EXPECT_EQ(check_utf8("\xF4\x90\x80\x80"), utf8_fault::above_max);
  EXPECT_EQ(check_utf8("\xE2\x82"), utf8_fault::truncated);
  EXPECT_EQ(check_utf8("\x80"), utf8_fault::unexpected_continuation);
  EXPECT_EQ(check_utf8("\xFF"), utf8_fault::invalid_byte);
  EXPECT_STREQ(authgate::common::utf8_fault_name(utf8_fault::surrogate), "surrogate");
}

TEST(PathCategory, Name) { EXPECT_STREQ(path_category().name(), "authgate.path"); }

TEST(PathCategory, EveryCodeHasADistinctMessage) {
  const path_errc all[] = {path_errc::not_origin_form,   path_errc::bad_escape,
                           path_errc::encoded_separator, path_errc::encoded_nul,
                           path_errc::backslash,         path_errc::control_character,
                           path_errc::fragment,          path_errc::above_root,
                           path_errc::semicolon,         path_errc::invalid_utf8};
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
