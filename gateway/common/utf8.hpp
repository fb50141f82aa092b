// UTF-8 well-formedness (Unicode 15, table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF, no truncated sequence). Pure, no I/O.
// One check for the whole gateway: the path canonicalisation rejects
// ill-formed paths with it, and the log and JSON escapers (log_escape.hpp)
// find the bytes they must escape with it.
#pragma once

#include <cstddef>
#include <string_view>

namespace authgate::common {

// Why a byte sequence is not well-formed UTF-8 (none: it is).
enum class utf8_fault {
  none = 0,
  unexpected_continuation,  // 0x80..0xBF where a character should start
  overlong,                 // C0, C1; E0 80..9F; F0 80..8F: a shorter form exists ("%C0%AE" is ".")
  surrogate,                // ED A0..BF: U+D800..U+DFFF
  above_max,                // F4 90..BF, F5..F7: above U+10FFFF
  invalid_byte,             // F8..FF: never in UTF-8
  truncated,                // a lead byte not followed by enough continuation bytes
};
const char* utf8_fault_name(utf8_fault f);  // "overlong", ...

// Incremental well-formedness check, one byte at a time, without allocating.
//   Utf8Check u; for (b : bytes) if (auto f = u.feed(b); f != utf8_fault::none) reject;
//   if (auto f = u.finish(); ...) reject;
class Utf8Check {
 public:
  utf8_fault feed(unsigned char b);
  bool complete() const { return need_ == 0; }  // no sequence is open
  utf8_fault finish() const { return need_ ? utf8_fault::truncated : utf8_fault::none; }

 private:
  int need_ = 0;                 // continuation bytes still expected
  unsigned char lo_ = 0x80;      // range of the next continuation byte
  unsigned char hi_ = 0xBF;
  utf8_fault below_ = utf8_fault::none;  // what a byte below lo_ / above hi_ means
  utf8_fault above_ = utf8_fault::none;
};

// The first fault of `bytes` as UTF-8 (utf8_fault::none when well-formed).
utf8_fault check_utf8(std::string_view bytes);

// The length (1-4) of the well-formed UTF-8 sequence that starts at s[i], or
// 0 when s[i] does not start one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

}  // namespace authgate::common
