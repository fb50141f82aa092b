#include "support/paths.hpp"

#if !defined(AUTHGATE_SOURCE_DIR) || !defined(AUTHGATE_BINARY)
#error "AUTHGATE_SOURCE_DIR and AUTHGATE_BINARY must be defined (tests/support/CMakeLists.txt)"
#endif

namespace support {

const std::string& source_dir() {
  static const std::string dir = AUTHGATE_SOURCE_DIR;
  return dir;
}

const std::string& authgate_binary() {
  static const std::string path = AUTHGATE_BINARY;
  return path;
}

}  // namespace support
