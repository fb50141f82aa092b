// Unit tests for common/log_escape: the UTF-8 well-formedness check, the
// application log's one-line escaping (log injection) and the access log's
// JSON string escaping (valid UTF-8 whatever the bytes).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "common/log_escape.hpp"

namespace {

using authgate::common::append_json_escaped;
using authgate::common::log_escaped;
using authgate::common::needs_log_escaping;
using authgate::common::utf8_sequence_length;
using namespace std::literals;

TEST(Utf8SequenceLength, WellFormedSequences) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3u);      // €
  EXPECT_EQ(utf8_sequence_length("\xED\x9F\xBF", 0), 3u);      // U+D7FF, last before the surrogates
  EXPECT_EQ(utf8_sequence_length("\xEF\xBF\xBD", 0), 3u);      // U+FFFD
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4u);  // U+1F600
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF
}

TEST(Utf8SequenceLength, IllFormedSequencesAreZero) {
  for (std::string_view bad : {"\x80"sv, "\xBF"sv,              // lone continuation bytes
                               "\xC0\xAE"sv, "\xC1\x81"sv,      // overlong '.' and 'A'
                               "\xE0\x80\xAE"sv, "\xF0\x80\x80\xAE"sv,  // longer overlong forms
                               "\xED\xA0\x80"sv, "\xED\xBF\xBF"sv,      // surrogates
                               "\xF4\x90\x80\x80"sv, "\xF5\x80\x80\x80"sv,  // above U+10FFFF
                               "\xFE"sv, "\xFF"sv,
                               "\xC3"sv, "\xE2\x82"sv, "\xF0\x9F\x98"sv,  // truncated
                               "\xC3\x41"sv}) {                          // bad continuation
    SCOPED_TRACE(::testing::PrintToString(std::string(bad)));
    EXPECT_EQ(utf8_sequence_length(bad, 0), 0u);
  }
}

TEST(LogEscape, PlainTextIsUnchanged) {
  const std::string text = "login: the identity provider answered error=access_denied (Jos\xC3\xA9 \xE2\x82\xAC)";
  EXPECT_FALSE(needs_log_escaping(text));
  EXPECT_EQ(log_escaped(text), text);
}

// A callback's error_description (or a path, a header) that carries CR/LF
// would otherwise write a forged line of its own into the application log.
TEST(LogEscape, CrLfInAClientValueCannotStartANewLogLine) {
  const std::string forged = "x\r\n[2026-12-07 12:00:00.000] [critical] admin token leaked\n";
  EXPECT_TRUE(needs_log_escaping(forged));
  const std::string out = log_escaped(forged);
  EXPECT_EQ(out, "x\\r\\n[2026-12-07 12:00:00.000] [critical] admin token leaked\\n");
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(LogEscape, ControlCharactersAndTerminalSequencesAreEscaped) {
  EXPECT_EQ(log_escaped("a\tb"), "a\\tb");
  EXPECT_EQ(log_escaped("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");  // ANSI colours
  EXPECT_EQ(log_escaped("nul\0x"s), "nul\\x00x");
  EXPECT_EQ(log_escaped("del\x7f"), "del\\x7f");
  EXPECT_EQ(log_escaped("\x08\x0b\x0c"), "\\x08\\x0b\\x0c");
  // C1 controls (NEL is a line break for some readers; CSI a terminal escape), and
  // the Unicode line and paragraph separators.
  EXPECT_EQ(log_escaped("a\xC2\x85" "b"), "a\\u0085b");
  EXPECT_EQ(log_escaped("\xC2\x9B" "31m"), "\\u009b31m");
  EXPECT_EQ(log_escaped("a\xE2\x80\xA8" "b\xE2\x80\xA9"), "a\\u2028b\\u2029");
  EXPECT_EQ(log_escaped("\xC2\xA0"), "\xC2\xA0");  // U+00A0 is not a control: kept
}

// Escaping is lossless: a backslash is escaped too, so "\\n" in the log is
// always the two characters the client sent, never a line break it hid.
TEST(LogEscape, BackslashIsEscapedSoTheOutputIsUnambiguous) {
  EXPECT_EQ(log_escaped("a\\nb"), "a\\\\nb");
  EXPECT_EQ(log_escaped("a\nb"), "a\\nb");
  EXPECT_TRUE(needs_log_escaping("\\"));
}

TEST(LogEscape, InvalidUtf8BytesAreWrittenAsHex) {
  EXPECT_EQ(log_escaped("/%C0%AE=\xC0\xAE"), "/%C0%AE=\\xc0\\xae");
  EXPECT_EQ(log_escaped("\xFF\xFE"), "\\xff\\xfe");
  EXPECT_EQ(log_escaped("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(log_escaped("\xE2\x82"), "\\xe2\\x82");            // truncated at the end
  EXPECT_EQ(log_escaped("\xC3\xA9\xC3"), "\xC3\xA9\\xc3");     // good, then truncated
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  append_json_escaped(out, s);
  out += '"';
  return out;
}

// boost::json::parse rejects invalid UTF-8 and raw control characters: every
// escaped string must parse, whatever the input bytes.
TEST(JsonEscape, EveryByteStringGivesValidUtf8Json) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string_view cases[] = {all,
                                    "\xC0\xAE\xC0\xAF",
                                    "\xED\xA0\x80\xED\xBF\xBF",
                                    "\xF4\x90\x80\x80\xF5\xFF",
                                    "\xE2\x82",
                                    "\"\\\r\n\t\x01\x7f",
                                    "\xC2\x85\xE2\x80\xA8"};
  for (auto c : cases) {
    SCOPED_TRACE(::testing::PrintToString(std::string(c)));
    boost::system::error_code ec;
    const auto v = boost::json::parse(json_string(c), ec);
    ASSERT_FALSE(ec) << ec.message() << ": " << json_string(c);
    ASSERT_TRUE(v.is_string());
  }
}

TEST(JsonEscape, InvalidBytesBecomeReplacementCharactersAndValidTextStays) {
  EXPECT_EQ(json_string("/a\xFF" "b"), "\"/a\\ufffdb\"");
  EXPECT_EQ(json_string("\xC0\xAE"), "\"\\ufffd\\ufffd\"");  // one U+FFFD per byte
  EXPECT_EQ(json_string("/caf\xC3\xA9/\xF0\x9F\x98\x80"), "\"/caf\xC3\xA9/\xF0\x9F\x98\x80\"");
  EXPECT_EQ(json_string("q\"b\\s\n\x01"), "\"q\\\"b\\\\s\\n\\u0001\"");
  EXPECT_EQ(json_string("\x7f\xC2\x85\xE2\x80\xA9"), "\"\\u007f\\u0085\\u2029\"");
  boost::system::error_code ec;
  const auto v = boost::json::parse(json_string("/a\xFF" "b"), ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(v.as_string(), "/a\xEF\xBF\xBD" "b");  // U+FFFD in UTF-8
}

}  // namespace
