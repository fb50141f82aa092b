#include "routing/path.hpp"

#include <vector>

#include "common/ascii.hpp"
#include "common/error_category.hpp"
#include "common/hex.hpp"

namespace authgate::routing {

using common::Utf8Check;

namespace {

const char* path_message(path_errc e) {
  switch (e) {
    case path_errc::not_origin_form: return "request target is not an absolute path";
    case path_errc::bad_escape: return "malformed percent-escape in path";
    case path_errc::encoded_separator: return "encoded slash or backslash in path";
    case path_errc::encoded_nul: return "encoded NUL in path";
    case path_errc::backslash: return "backslash in path";
    case path_errc::control_character: return "control character in path";
    case path_errc::fragment: return "fragment in request target";
    case path_errc::above_root: return "dot-segments climb above the root";
    case path_errc::semicolon: return "semicolon (path parameter) in path";
    case path_errc::invalid_utf8: return "path is not well-formed UTF-8";
  }
  return "unknown path error";
}

}  // namespace

const std::error_category& path_category() {
  static const common::ErrorCategory<path_errc> category("authgate.path", path_message);
  return category;
}

std::error_code make_error_code(path_errc e) { return {static_cast<int>(e), path_category()}; }

bool canonicalize_target(std::string_view target, CanonicalTarget& out, std::error_code& ec,
                         utf8_fault* fault) {
  auto fail = [&](path_errc e) {
    ec = e;
    return false;
  };
  // Step 6, on every byte value of the path as an upstream would decode it.
  Utf8Check utf8;
  auto bad_utf8 = [&](utf8_fault f) {
    if (fault) *fault = f;
    return fail(path_errc::invalid_utf8);
  };
  if (target.empty() || target.front() != '/') return fail(path_errc::not_origin_form);
  if (target.find('#') != std::string_view::npos) return fail(path_errc::fragment);

  auto qpos = target.find('?');
  std::string_view raw_path = target.substr(0, qpos);
  out.has_query = qpos != std::string_view::npos;
  out.query = out.has_query ? std::string(target.substr(qpos + 1)) : std::string();

  // Pass 1: escapes and forbidden bytes; result keeps "/" as the only separator.
  std::string decoded;
  decoded.reserve(raw_path.size());
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw_path[i]);
    if (c == '%') {
      if (i + 2 >= raw_path.size()) return fail(path_errc::bad_escape);
      int hi = common::hex_value(raw_path[i + 1]);
      int lo = common::hex_value(raw_path[i + 2]);
      if (hi < 0 || lo < 0) return fail(path_errc::bad_escape);
      const auto v = static_cast<unsigned char>(hi * 16 + lo);
      if (v == '/' || v == '\\') return fail(path_errc::encoded_separator);
      if (v == 0) return fail(path_errc::encoded_nul);
      if (v == ';') return fail(path_errc::semicolon);
      if (const auto f = utf8.feed(v); f != utf8_fault::none) return bad_utf8(f);
      if (common::is_unreserved(v)) {
        decoded.push_back(static_cast<char>(v));
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        decoded.push_back('%');
        decoded.push_back(kHex[v >> 4]);
        decoded.push_back(kHex[v & 0xF]);
      }
      i += 2;
    } else if (c == '\\') {
      return fail(path_errc::backslash);
    } else if (c == ';') {
      return fail(path_errc::semicolon);
    } else if (c <= 0x20 || c == 0x7F) {
      return fail(path_errc::control_character);
    } else {
      if (const auto f = utf8.feed(c); f != utf8_fault::none) return bad_utf8(f);
      decoded.push_back(static_cast<char>(c));
    }
  }
  if (const auto f = utf8.finish(); f != utf8_fault::none) return bad_utf8(f);

  // Pass 2: segments, written straight into out.path (no list of segments to
  // allocate). Empty segments (repeated slashes) are merged, "." dropped, ".."
  // removes the last segment written. A trailing "/", "/." or "/.." leaves the
  // result ending in "/". On a rejection out.path is left partly written.
  std::string_view rest(decoded);
  bool trailing_slash = false;
  rest.remove_prefix(1);  // the leading "/"
  out.path.clear();
  out.path.reserve(decoded.size());
  while (true) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (seg == "..") {
      if (out.path.empty()) return fail(path_errc::above_root);
      out.path.resize(out.path.rfind('/'));
      trailing_slash = last;
    } else if (seg == ".") {
      trailing_slash = last;
    } else if (seg.empty()) {
      trailing_slash = last;
    } else {
      out.path.push_back('/');
      out.path.append(seg);
      trailing_slash = false;
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  if (out.path.empty() || trailing_slash) out.path.push_back('/');
  ec.clear();
  return true;
}

}  // namespace authgate::routing
