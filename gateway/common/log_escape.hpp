// Text from clients and identity providers, made safe for logs. Pure, no I/O.
//
//   log_escaped("a\r\nb")              -> "a\\r\\nb"       (one line, lossless)
//   log_escaped("\xC0\xAE")            -> "\\xc0\\xae"     (not UTF-8: the bytes, escaped)
//   std::string j; append_json_escaped(j, "\"\xFF"); // j == "\\\"\\ufffd"
//
// The application log applies log_escaped() to every message (app/app.cpp,
// install_app_logger), so no value written by a log call, whatever its
// source, can start a new line or carry terminal control sequences. The
// access log's JSON strings go through append_json_escaped().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/utf8.hpp"

namespace authgate::common {

// Application-log escaping, lossless and on one line: "\" -> "\\", CR, LF,
// TAB -> "\r", "\n", "\t"; other C0 controls and DEL -> "\xNN"; C1 controls
// (U+0080..U+009F; U+0085 is a line break for some readers), U+2028 and
// U+2029 -> "\u0085" style; a byte that is not part of well-formed UTF-8 ->
// "\xNN". Everything else (printable ASCII, well-formed UTF-8) is unchanged.
void append_log_escaped(std::string& out, std::string_view s);
std::string log_escaped(std::string_view s);
// False when log_escaped(s) == s (the common case: no copy needed).
bool needs_log_escaping(std::string_view s);

// The body of a JSON string (RFC 8259) that is valid UTF-8 whatever `s` holds:
// '"' and '\' escaped; CR, LF, TAB as "\r", "\n", "\t"; other C0 controls,
// DEL, C1 controls, U+2028 and U+2029 as "\u00XX" / "\u2028"; each byte that
// is not part of well-formed UTF-8 (see utf8_sequence_length) becomes U+FFFD
// (written "\ufffd"). Well-formed UTF-8 is kept as is.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace authgate::common
