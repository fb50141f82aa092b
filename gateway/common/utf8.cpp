#include "common/utf8.hpp"

namespace authgate::common {

const char* utf8_fault_name(utf8_fault f) {
  switch (f) {
    case utf8_fault::none: return "none";
    case utf8_fault::unexpected_continuation: return "unexpected_continuation";
    case utf8_fault::overlong: return "overlong";
    case utf8_fault::surrogate: return "surrogate";
    case utf8_fault::above_max: return "above_max";
    case utf8_fault::invalid_byte: return "invalid_byte";
    case utf8_fault::truncated: return "truncated";
  }
  return "unknown";
}

// Unicode table 3-7 (well-formed UTF-8 byte sequences), with the reason each
// ill-formed byte breaks it.
utf8_fault Utf8Check::feed(unsigned char b) {
  if (need_ > 0) {
    if (b < 0x80 || b > 0xBF) return utf8_fault::truncated;  // not a continuation byte
    if (b < lo_) return below_;
    if (b > hi_) return above_;
    --need_;
    lo_ = 0x80;
    hi_ = 0xBF;
    return utf8_fault::none;
  }
  if (b < 0x80) return utf8_fault::none;
  if (b < 0xC0) return utf8_fault::unexpected_continuation;
  if (b < 0xC2) return utf8_fault::overlong;  // C0, C1: two-byte forms of ASCII
  if (b < 0xE0) {
    need_ = 1;
  } else if (b < 0xF0) {
    need_ = 2;
    if (b == 0xE0) lo_ = 0xA0, below_ = utf8_fault::overlong;   // E0 80..9F: below U+0800
    if (b == 0xED) hi_ = 0x9F, above_ = utf8_fault::surrogate;  // ED A0..BF: U+D800..U+DFFF
  } else if (b < 0xF5) {
    need_ = 3;
    if (b == 0xF0) lo_ = 0x90, below_ = utf8_fault::overlong;   // F0 80..8F: below U+10000
    if (b == 0xF4) hi_ = 0x8F, above_ = utf8_fault::above_max;  // F4 90..BF: above U+10FFFF
  } else if (b < 0xF8) {
    return utf8_fault::above_max;  // F5..F7 would start U+140000 and up
  } else {
    return utf8_fault::invalid_byte;
  }
  return utf8_fault::none;
}

utf8_fault check_utf8(std::string_view bytes) {
  Utf8Check u;
  for (char c : bytes)
    if (const auto f = u.feed(static_cast<unsigned char>(c)); f != utf8_fault::none) return f;
  return u.finish();
}

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  Utf8Check u;
  for (std::size_t k = i; k < s.size() && k < i + 4; ++k) {
    if (u.feed(static_cast<unsigned char>(s[k])) != utf8_fault::none) return 0;
    if (u.complete()) return k - i + 1;
  }
  return 0;  // truncated by the end of s
}

}  // namespace authgate::common
