// Lowercase hexadecimal of bytes, two digits a byte, high nibble first: the
// form of digests and random identifiers in logs, keys and the status page; and
// the value of one hex digit, for %XX decoding.
//
//   hex_encode("\x01\xab")                 -> "01ab"
//   hex_encode(std::span(digest, 6))       -> the first 12 digits of a digest
//   hex_value('b') == 11, hex_value('x') == -1
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace authgate::common {

// 0-15 for a hex digit (either case), -1 for anything else.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline std::string hex_encode(std::span<const unsigned char> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '\0');
  std::size_t i = 0;
  for (unsigned char b : bytes) {
    out[i++] = kDigits[b >> 4];
    out[i++] = kDigits[b & 0xF];
  }
  return out;
}

inline std::string hex_encode(std::string_view bytes) {
  return hex_encode(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

}  // namespace authgate::common
