// libFuzzer target: the strict base64url codec (auth/base64url.hpp).
//
// Invariants (a violation aborts):
//   - decode accepts only [A-Za-z0-9_-] with a length other than 4k+1, and what it
//     accepts is canonical: encode(decode(s)) == s (one encoding per byte string);
//   - decode(encode(b)) == b for any bytes b, and encode never pads.
#include "fuzz_env.hpp"

#include "auth/base64url.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace authgate;

namespace {

bool alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  std::string decoded;
  if (auth::base64url_decode(in, decoded)) {
    FUZZ_CHECK(in.size() % 4 != 1);
    for (char c : in) FUZZ_CHECK(alphabet(c));
    FUZZ_CHECK(decoded.size() == in.size() * 3 / 4);
    FUZZ_CHECK(auth::base64url_encode(decoded) == in);
  }

  const std::string encoded = auth::base64url_encode(in);
  FUZZ_CHECK(encoded.size() == (size * 4 + 2) / 3);
  FUZZ_CHECK(encoded.find('=') == std::string::npos);
  std::string back;
  FUZZ_CHECK(auth::base64url_decode(encoded, back));
  FUZZ_CHECK(back == in);
  return 0;
}

// For the replay driver: seed files named valid-* must decode.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  std::string out;
  return auth::base64url_decode(std::string_view(reinterpret_cast<const char*>(data), size), out);
}
