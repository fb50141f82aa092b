// The post-login redirect target (`login?rd=...`): only same-origin relative
// paths pass, everything else becomes the configured fallback. Pure.
//
// Usage:
//   std::string rd = query_param_decoded(target, "rd");   // the caller decodes the query once
//   login.redirect = safe_redirect(rd, cfg.client.default_path);
//   ... later: Location: login.redirect
//
// Rules: `rd` is returned unchanged only when all of these hold, otherwise
// `fallback` is returned (unchecked: it comes from the configuration):
// - 1..2048 bytes;
// - the raw text is printable ASCII (0x21..0x7E: no control bytes, space, DEL
//   or non-ASCII; a request target never has them) and has no backslash;
// - it starts with exactly one "/": the second byte is neither "/" nor "\"
//   (so not "//host", "/\host", a scheme, "host" or "");
// - it still has that shape, no control byte (< 0x20, 0x7F) and no backslash
//   after each of up to 3 rounds of percent-decoding (catching "/%2F%2Fhost",
//   "/%5Chost", "/%09/host", "/%0d%0aSet-Cookie:..." and double-encoded
//   "/%252F%252Fhost"); decoding stops early when a round changes nothing; a
//   text that would still decode after 3 rounds is refused;
// - '%' not followed by two hex digits is a literal '%' (no decoder turns it
//   into anything else).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace authgate::session {

inline constexpr std::size_t kMaxRedirectLength = 2048;
inline constexpr int kRedirectDecodeRounds = 3;

std::string safe_redirect(std::string_view rd, std::string_view fallback);

// The predicate behind safe_redirect(), for tests and for callers that only ask.
bool is_safe_redirect(std::string_view rd);

}  // namespace authgate::session
