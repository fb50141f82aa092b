// libFuzzer target: the strict JSON object parser (auth/strict_json.hpp) that
// reads every JOSE header, claims set and JWKS document.
//
// Invariants (a violation aborts), with boost::json::parse as the reference:
//   - accepted: boost::json::parse accepts the same text and builds an equal
//     object; serializing it and parsing that strictly gives it back (doubles
//     within a few ulps; nothing compared when it holds a non-finite number:
//     Boost.JSON 1.81 reads 1e400 as inf and 0e400 as NaN);
//   - not_object: boost::json::parse accepts it and it is not an object;
//   - syntax while boost::json::parse accepts an object: only for nesting deeper
//     than the strict parser's limit.
// Then the text goes through the two other consumers of strict JSON with
// untrusted input: KeySet::from_jwks_json (both families) -- which must not crash.
#include "fuzz_env.hpp"

#include "auth/key_set.hpp"
#include "auth/strict_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace authgate;
namespace json = boost::json;
using auth::detail::JsonError;

namespace {

// Nesting depth as basic_parser counts it: a scalar is 0, [] and {} are 1.
std::size_t depth(const json::value& v) {
  std::size_t inner = 0;
  if (v.is_array()) {
    for (const json::value& e : v.get_array()) inner = std::max(inner, depth(e));
    return inner + 1;
  }
  if (v.is_object()) {
    for (const auto& m : v.get_object()) inner = std::max(inner, depth(m.value()));
    return inner + 1;
  }
  return 0;
}

// Boost.JSON 1.81 parses 1e400 as an infinite double and 0e400 as NaN; NaN never
// compares equal, and serialize() writes them as "Infinity"/"NaN" (not JSON), so
// such objects are neither compared nor round-tripped.
bool has_nonfinite(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const json::value& e : v.get_array()) {
      if (has_nonfinite(e)) return true;
    }
  }
  if (v.is_object()) {
    for (const auto& m : v.get_object()) {
      if (has_nonfinite(m.value())) return true;
    }
  }
  return false;
}

// Equal, except that doubles may differ in the last bits: Boost.JSON 1.81 does not
// parse every decimal to the nearest double (serialize(parse(x)) can come back
// one ulp off), so a text round trip is only close for doubles.
bool nearly_equal(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double();
    const double y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-14 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.is_array() && b.is_array()) {
    const json::array& x = a.get_array();
    const json::array& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!nearly_equal(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object() && b.is_object()) {
    const json::object& x = a.get_object();
    const json::object& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& m : x) {
      const json::value* other = y.if_contains(m.key());
      if (!other || !nearly_equal(m.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  json::object strict;
  const JsonError err = auth::detail::parse_strict_object(text, strict);

  json::error_code ec;
  json::parse_options opts;  // no comments, no trailing commas, valid UTF-8 only
  opts.max_depth = 64;
  const json::value reference = json::parse(text, ec, {}, opts);

  switch (err) {
    case JsonError::none: {
      FUZZ_CHECK(!ec && reference.is_object());
      FUZZ_CHECK(depth(reference) <= auth::detail::kDefaultMaxJsonDepth);
      if (has_nonfinite(reference)) break;  // NaN != NaN
      FUZZ_CHECK(reference.get_object() == strict);
      const std::string again = json::serialize(strict);
      json::object round;
      FUZZ_CHECK(auth::detail::parse_strict_object(again, round) == JsonError::none);
      FUZZ_CHECK(nearly_equal(json::value(round), json::value(strict)));
      break;
    }
    case JsonError::not_object:
      FUZZ_CHECK(!ec && !reference.is_object());
      break;
    case JsonError::syntax:
      if (!ec && reference.is_object()) FUZZ_CHECK(depth(reference) > auth::detail::kDefaultMaxJsonDepth);
      break;
    case JsonError::duplicate_member:
      // Found before the end of the text, so the rest may not even be JSON.
      break;
  }

  // JWKS loading on the same bytes (asymmetric, then as an HMAC set).
  std::vector<auth::SkippedKey> skipped;
  auto asym = auth::KeySet::from_jwks_json(text, {}, &skipped);
  if (asym) FUZZ_CHECK((*asym)->size() > 0 && !(*asym)->is_hmac());
  fuzz::check_error(asym ? std::error_code{} : asym.error());
  for (const auto& s : skipped) fuzz::check_error(s.error);
  auth::KeySetOptions hmac_options;
  hmac_options.key = auth::KeySet::hmac_options();
  auto hmac = auth::KeySet::from_jwks_json(text, hmac_options);
  if (hmac) FUZZ_CHECK((*hmac)->size() > 0 && (*hmac)->is_hmac());
  return 0;
}

// For the replay driver: seed files named valid-* must parse strictly.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  json::object out;
  return auth::detail::parse_strict_object(std::string_view(reinterpret_cast<const char*>(data), size), out) ==
         JsonError::none;
}
