// Unit tests for common/file: read_file returns the exact bytes of a file, or
// the errno of what failed (a missing file, a directory) as a value.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "common/file.hpp"

namespace {

using authgate::common::read_file;
using authgate::common::strip_line_endings;

class ReadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/authgate-file-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string dir_;
};

TEST_F(ReadFile, ReturnsTheExactBytes) {
  const std::string bytes = std::string("line 1\r\nline 2\n\0\xff", 17);
  const auto text = read_file(write("a.txt", bytes));
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text, bytes);
}

TEST_F(ReadFile, EmptyFileIsAnEmptyValueNotAnError) {
  const auto text = read_file(write("empty", ""));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "");
}

TEST_F(ReadFile, LargerThanOneReadBuffer) {
  std::string bytes(100'000, 'x');
  for (std::size_t i = 0; i < bytes.size(); i += 7) bytes[i] = static_cast<char>('a' + i % 26);
  const auto text = read_file(write("big", bytes));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, bytes);
}

TEST_F(ReadFile, MissingFileIsENOENT) {
  const auto text = read_file(dir_ + "/does-not-exist.yaml");
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(text.error().message(), std::generic_category().message(ENOENT));
}

TEST_F(ReadFile, DirectoryIsAnError) {
  const auto text = read_file(dir_);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), std::errc::is_a_directory);
}

TEST(StripLineEndings, NamedVectors) {
  struct Case {
    const char* name;
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"none", "token", "token"},
      {"LF (echo)", "token\n", "token"},
      {"CRLF (editor)", "token\r\n", "token"},
      {"several", "token\n\r\n\n", "token"},
      {"inner kept", "a\nb\n", "a\nb"},
      {"trailing space kept", "token \n", "token "},
      {"only newlines", "\r\n", ""},
      {"empty", "", ""},
  };
  for (const Case& c : cases) {
    std::string s = c.in;
    strip_line_endings(s);
    EXPECT_EQ(s, c.out) << c.name;
  }
}

}  // namespace
