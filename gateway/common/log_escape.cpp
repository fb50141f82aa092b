#include "common/log_escape.hpp"

#include <cstdint>

#include "common/utf8.hpp"

namespace authgate::common {

namespace {

constexpr char kHex[] = "0123456789abcdef";

unsigned char byte_at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

// For a well-formed sequence of length `n` at s[i]: is it a C1 control,
// U+2028 or U+2029 (then `cp` is the code point)?
bool is_special_sequence(std::string_view s, std::size_t i, std::size_t n, std::uint32_t& cp) {
  if (n == 2 && byte_at(s, i) == 0xC2 && byte_at(s, i + 1) <= 0x9F) {
    cp = byte_at(s, i + 1);  // U+0080..U+009F
    return true;
  }
  if (n == 3 && byte_at(s, i) == 0xE2 && byte_at(s, i + 1) == 0x80 &&
      (byte_at(s, i + 2) == 0xA8 || byte_at(s, i + 2) == 0xA9)) {
    cp = 0x2000u + (byte_at(s, i + 2) - 0x80u);  // U+2028, U+2029
    return true;
  }
  return false;
}

void append_u_escape(std::string& out, std::uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
}

void append_x_escape(std::string& out, unsigned char c) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

}  // namespace

bool needs_log_escaping(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = byte_at(s, i);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F || c == '\\') return true;
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    std::uint32_t cp = 0;
    if (n == 0 || is_special_sequence(s, i, n, cp)) return true;
    i += n;
  }
  return false;
}

void append_log_escaped(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = byte_at(s, i);
    if (c < 0x80) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\r': out += "\\r"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) append_x_escape(out, c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    std::uint32_t cp = 0;
    if (n == 0) {
      append_x_escape(out, c);
      ++i;
    } else {
      if (is_special_sequence(s, i, n, cp)) append_u_escape(out, cp);
      else out.append(s.substr(i, n));
      i += n;
    }
  }
}

std::string log_escaped(std::string_view s) {
  std::string out;
  append_log_escaped(out, s);
  return out;
}

void append_json_escaped(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = byte_at(s, i);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) append_u_escape(out, c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    std::uint32_t cp = 0;
    if (n == 0) {
      out += "\\ufffd";  // not UTF-8: U+FFFD REPLACEMENT CHARACTER, one per byte
      ++i;
    } else {
      if (is_special_sequence(s, i, n, cp)) append_u_escape(out, cp);
      else out.append(s.substr(i, n));
      i += n;
    }
  }
}

}  // namespace authgate::common
