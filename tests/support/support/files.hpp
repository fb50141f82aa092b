// Reading files in tests: the whole file through the gateway's own reader
// (gateway/common/file.hpp), or "" when it cannot be read (yet), because tests
// poll logs and outputs that a process may not have written so far.
//
//   EXPECT_TRUE(eventually([&] { return support::read_text(log).find("ready") != std::string::npos; }));
#pragma once

#include <string>

#include "common/file.hpp"

namespace support {

inline std::string read_text(const std::string& path) {
  authgate::common::Result<std::string> text = authgate::common::read_file(path);
  return text ? std::move(*text) : std::string();
}

}  // namespace support
