// libFuzzer target: Cookie header parsing and the signed cookie codec
// (session/cookie_codec.hpp), with a fixed secret. The input is a Cookie header.
//
// Invariants (a violation aborts):
//   - cookie_values(): every value is a piece of the header without ';' and
//     without surrounding spaces or tabs; strip_cookie() leaves no value of the
//     stripped name and every value of other names as it was;
//   - verify_session_cookie() / verify_login_cookie(), on every cookie value and
//     on the whole input: an answer only for the exact value that
//     sign_session_id() / sign_login_state() makes from that id with that secret
//     (so arbitrary bytes never verify unless they are a correct signature), never
//     both kinds for one value, never anything with another or an empty secret;
//   - round trip: an id made from the input (base64url, 1..256 characters) signed
//     by sign_session_id() verifies to that id, not as a login cookie and not under
//     another secret; the same value with one character changed does not verify.
#include "fuzz_env.hpp"

#include "auth/base64url.hpp"
#include "session/cookie_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace authgate;

namespace {

constexpr std::string_view kSecret = "fuzz-only-cookie-secret-0123456789abcdef";
constexpr std::string_view kOtherSecret = "fuzz-only-other-secret-0123456789abcdef";

bool is_ws(char c) { return c == ' ' || c == '\t'; }

void check_value(std::string_view value) {
  const auto session = session::verify_session_cookie(value, kSecret);
  const auto login = session::verify_login_cookie(value, kSecret);
  if (session) FUZZ_CHECK(session::sign_session_id(*session, kSecret) == value);
  if (login) FUZZ_CHECK(session::sign_login_state(*login, kSecret) == value);
  FUZZ_CHECK(!(session && login));
  FUZZ_CHECK(!session::verify_session_cookie(value, ""));
  FUZZ_CHECK(!session::verify_login_cookie(value, ""));
  if (session || login) {
    FUZZ_CHECK(!session::verify_session_cookie(value, kOtherSecret));
    FUZZ_CHECK(!session::verify_login_cookie(value, kOtherSecret));
  }
}

void check_values(std::string_view header, std::string_view name) {
  const std::vector<std::string_view> values = session::cookie_values(header, name);
  for (std::string_view v : values) {
    // A view into the header (never a copy), so a piece of it.
    FUZZ_CHECK(v.empty() || (v.data() >= header.data() && v.data() + v.size() <= header.data() + header.size()));
    FUZZ_CHECK(v.find(';') == std::string_view::npos);
    FUZZ_CHECK(v.empty() || (!is_ws(v.front()) && !is_ws(v.back())));
    check_value(v);
  }
  const std::string stripped = session::strip_cookie(header, name);
  FUZZ_CHECK(session::cookie_values(stripped, name).empty());
  // The other names keep their values: those of the first pair's name (when it
  // is another name) and of a fixed one.
  std::string_view other = header.substr(0, header.find_first_of("=;"));
  while (!other.empty() && is_ws(other.front())) other.remove_prefix(1);
  while (!other.empty() && is_ws(other.back())) other.remove_suffix(1);
  for (std::string_view o : {other, std::string_view("b")}) {
    if (o == name) continue;
    FUZZ_CHECK(session::cookie_values(stripped, o) == session::cookie_values(header, o));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);

  for (std::string_view name : {"authgate", "__Host-authgate", "authgate_login"}) check_values(header, name);
  check_value(header);

  // Round trip with an id made from the input.
  std::string id = auth::base64url_encode(header.substr(0, 192));  // at most 256 characters
  if (id.empty()) id.push_back('A');
  FUZZ_CHECK(id.size() <= session::kMaxSignedIdLength);
  const std::string signed_value = session::sign_session_id(id, kSecret);
  const auto back = session::verify_session_cookie(signed_value, kSecret);
  FUZZ_CHECK(back && *back == id);
  FUZZ_CHECK(!session::verify_login_cookie(signed_value, kSecret));
  FUZZ_CHECK(!session::verify_session_cookie(signed_value, kOtherSecret));
  const std::string login_value = session::sign_login_state(id, kSecret);
  FUZZ_CHECK(login_value != signed_value);
  const auto login_back = session::verify_login_cookie(login_value, kSecret);
  FUZZ_CHECK(login_back && *login_back == id);
  FUZZ_CHECK(!session::verify_session_cookie(login_value, kSecret));

  // One character changed (position and replacement from the input) never verifies.
  if (size >= 2) {
    std::string tampered = signed_value;
    const std::size_t at = data[0] % tampered.size();
    const char replacement = static_cast<char>(data[1]);
    if (tampered[at] != replacement) {
      tampered[at] = replacement;
      FUZZ_CHECK(!session::verify_session_cookie(tampered, kSecret));
    }
  }
  return 0;
}

// For the replay driver: seed files named valid-* carry a cookie "authgate"
// that verifies as a session under the fixed secret.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  for (std::string_view v : session::cookie_values(header, "authgate"))
    if (session::verify_session_cookie(v, kSecret)) return 1;
  return 0;
}
