// The whole-file reader of start-up and reload code (config, secrets, JWKS
// files, the CLI) and of the tests. The one helper in common/ that does I/O;
// never on the request path. It never throws: each caller says in its own
// words what failed (a ConfigError, a CLI message, an exception at start-up).
//
//   common::Result<std::string> text = common::read_file("/etc/authgate/gateway.yaml");
//   if (!text) throw ConfigError({path + ":0:0: (file): cannot open"});
//
//   strip_line_endings(secret);   // "s3cret\r\n" -> "s3cret": secrets written by editors/echo
#pragma once

#include <string>

#include "common/result.hpp"

namespace authgate::common {

// The file's bytes, or the errno of the open or of a read (a directory: EISDIR).
Result<std::string> read_file(const std::string& path);

// Drops trailing "\n" and "\r" characters.
void strip_line_endings(std::string& text);

}  // namespace authgate::common
