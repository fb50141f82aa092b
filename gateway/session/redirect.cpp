#include "session/redirect.hpp"

#include "common/hex.hpp"

namespace authgate::session {

namespace {

// Decodes every valid %XX; any other '%' stays literal. True when something changed.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool changed = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = common::hex_value(in[i + 1]);
      const int lo = common::hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        changed = true;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return changed;
}

// Starts with exactly one '/': the origin cannot change when a browser resolves it.
bool relative_path_shape(std::string_view s) {
  if (s.empty() || s[0] != '/') return false;
  return s.size() == 1 || (s[1] != '/' && s[1] != '\\');
}

// A URI scheme at the start ("https:", "javascript:"). Implied by the shape
// check; kept as a second, independent guard.
bool starts_with_scheme(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return true;
    const bool scheme_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                             c == '+' || c == '-' || c == '.';
    if (!scheme_char) return false;
  }
  return false;
}

// Rules every form (raw and decoded) must satisfy.
bool acceptable_form(std::string_view s) {
  if (!relative_path_shape(s) || starts_with_scheme(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F || c == '\\') return false;
  return true;
}

}  // namespace

bool is_safe_redirect(std::string_view rd) {
  if (rd.empty() || rd.size() > kMaxRedirectLength) return false;
  for (unsigned char c : rd)
    if (c <= 0x20 || c >= 0x7F) return false;
  if (!acceptable_form(rd)) return false;
  std::string cur(rd);
  std::string next;
  for (int round = 0; round < kRedirectDecodeRounds; ++round) {
    if (!percent_decode(cur, next)) return true;  // nothing left to decode
    if (!acceptable_form(next)) return false;
    cur.swap(next);
  }
  // Still encoded after the last round: more layers than anyone legitimate uses.
  return !percent_decode(cur, next);
}

std::string safe_redirect(std::string_view rd, std::string_view fallback) {
  return is_safe_redirect(rd) ? std::string(rd) : std::string(fallback);
}

}  // namespace authgate::session
