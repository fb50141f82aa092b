// How the routing tests print a named vector: `name: "input"`, with control
// and non-ASCII bytes as \xNN, so a failing case reads unambiguously.
#pragma once

#include <ostream>
#include <string_view>

inline std::ostream& print_named_input(std::ostream& os, std::string_view name, std::string_view input) {
  static constexpr char kHex[] = "0123456789abcdef";
  os << name << ": \"";
  for (unsigned char ch : input) {
    if (ch < 0x20 || ch >= 0x7F) os << "\\x" << kHex[ch >> 4] << kHex[ch & 0xF];
    else os << ch;
  }
  return os << "\"";
}
