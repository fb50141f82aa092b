// The one path canonicalisation, used by routing and by forwarding alike, so
// what is authorised is exactly what the upstream is asked for. Pure: no I/O.
//
// Usage:
//   auto c = canonicalize_target("/a/%7Euser//x/../y?q=1");
//   if (!c) reply 400 (c.error() names the reason);
//   c->path == "/a/~user/y"; c->query == "q=1"; c->target() == "/a/~user/y?q=1"
//
// Rules (README "Path canonicalisation" has the table):
//   1. the target must be origin-form ("/..."), without a fragment;
//   2. %XX escapes must be two hex digits; escapes of unreserved characters
//      (A-Z a-z 0-9 - . _ ~) are decoded, other escapes are kept with upper-case hex;
//   3. an escaped "/", "\" or NUL, a raw "\", a ";" (raw or escaped) and raw control
//      bytes are rejected;
//   4. repeated slashes are merged;
//   5. dot-segments are removed (RFC 3986 5.2.4); climbing above the root is rejected;
//   6. the path's bytes, escapes decoded, must be well-formed UTF-8 (Unicode 15, table 3-7):
//      overlong forms (%C0%AE for "."), surrogates (%ED%A0%80), truncated sequences and
//      code points above U+10FFFF are rejected, escaped or raw (lenient decoders turn
//      them into ".", "/" or "\").
// The query is passed through unchanged.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "common/utf8.hpp"

namespace authgate::routing {

using common::utf8_fault;

enum class path_errc {
  not_origin_form = 1,  // does not start with "/" (absolute-form, "*", empty)
  bad_escape,           // "%" not followed by two hex digits
  encoded_separator,    // %2F or %5C
  encoded_nul,          // %00
  backslash,            // raw "\"
  control_character,    // raw byte < 0x20, 0x7F, or a space
  fragment,             // "#" in the request target
  above_root,           // "/.." climbs above "/"
  semicolon,            // ";" path parameters: some servers drop them, so "/admin;x" could be "/admin"
  invalid_utf8,         // decoded bytes are not well-formed UTF-8 (utf8_fault says why)
};

const std::error_category& path_category();
std::error_code make_error_code(path_errc e);

struct CanonicalTarget {
  std::string path;   // canonical, starts with "/"
  std::string query;  // without the "?"; empty when absent
  bool has_query = false;
  std::string target() const { return has_query ? path + "?" + query : path; }
};

// Returns false and sets `ec` on rejection. With `fault`, an invalid_utf8
// rejection also says which UTF-8 rule the path broke.
bool canonicalize_target(std::string_view target, CanonicalTarget& out, std::error_code& ec,
                         utf8_fault* fault = nullptr);

}  // namespace authgate::routing

template <>
struct std::is_error_code_enum<authgate::routing::path_errc> : std::true_type {};
