// Unit tests for common/error_category: a category built from a name and a
// message function behaves like a hand-written one (name, messages, identity,
// comparison), for std::error_category and Boost.System's.
#include <gtest/gtest.h>

#include <boost/system/error_code.hpp>

#include <string>
#include <system_error>

#include "common/error_category.hpp"

namespace {

using authgate::common::ErrorCategory;

enum class demo_errc { first = 1, second };

const char* demo_message(demo_errc e) {
  switch (e) {
    case demo_errc::first: return "the first failure";
    case demo_errc::second: return "the second failure";
  }
  return "unknown demo error";
}

const std::error_category& demo_category() {
  static const ErrorCategory<demo_errc> category("authgate.demo", demo_message);
  return category;
}

const boost::system::error_category& boost_demo_category() {
  static const ErrorCategory<demo_errc, boost::system::error_category> category("authgate.demo.boost",
                                                                                demo_message);
  return category;
}

TEST(ErrorCategory, NameAndMessages) {
  EXPECT_STREQ(demo_category().name(), "authgate.demo");
  EXPECT_EQ(demo_category().message(1), "the first failure");
  EXPECT_EQ(demo_category().message(2), "the second failure");
  EXPECT_EQ(demo_category().message(0), "unknown demo error");
  EXPECT_EQ(demo_category().message(99), "unknown demo error");
}

TEST(ErrorCategory, CodesCompareByCategoryIdentity) {
  const std::error_code a(1, demo_category());
  EXPECT_TRUE(a);
  EXPECT_EQ(&a.category(), &demo_category());
  EXPECT_EQ(a, std::error_code(1, demo_category()));
  EXPECT_NE(a, std::error_code(2, demo_category()));
  // Same value and name elsewhere is another error.
  static const ErrorCategory<demo_errc> other("authgate.demo", demo_message);
  EXPECT_NE(a, std::error_code(1, other));
  EXPECT_EQ(a.message(), "the first failure");
}

TEST(ErrorCategory, BoostSystemBase) {
  const boost::system::error_code ec(2, boost_demo_category());
  EXPECT_STREQ(ec.category().name(), "authgate.demo.boost");
  EXPECT_EQ(ec.message(), "the second failure");
  EXPECT_EQ(boost::system::error_code(7, boost_demo_category()).message(), "unknown demo error");
}

}  // namespace
