// Result<T>: a value or the std::error_code that says why there is none, the
// one result shape for code that may fail on the request path (and for the
// helpers that start-up code shares with it). Boost.System's result, so
// nothing is thrown: has_value() / has_error(), *r, r->member, r.error().
//
//   common::Result<std::string> text = common::read_file(path);
//   if (!text) log("cannot read {}: {}", path, text.error().message());
//   else parse(*text);
//
// (std::expected is C++23; g++ 12 in C++20 mode does not have it.)
#pragma once

#include <boost/system/result.hpp>

#include <system_error>

namespace authgate::common {

template <class T>
using Result = boost::system::result<T, std::error_code>;

}  // namespace authgate::common
