// Where the tests find the source tree and the binary under test. Both paths are
// compiled into one translation unit (tests/support/paths.cpp, library
// authgate_test_paths), so that no other test's compile command carries an
// absolute path: a fresh clone in another directory then reuses the compiler
// cache for everything else (cmake/build_speed.cmake).
#pragma once

#include <string>

namespace support {

// The repository root (config/, tests/oidc/, ...), without a trailing slash.
const std::string& source_dir();

// The authgate executable of this build.
const std::string& authgate_binary();

}  // namespace support
