#include "auth/key_set.hpp"

#include "auth/strict_json.hpp"

#include <boost/json/value.hpp>

namespace authgate::auth {

namespace json = boost::json;

KeySet::Result KeySet::from_jwks_json(std::string_view text, const KeySetOptions& options,
                                      std::vector<SkippedKey>* skipped) {
  json::object doc;
  if (detail::parse_strict_object(text, doc, /*max_depth=*/8) != detail::JsonError::none) {
    return std::error_code(auth_errc::jwks_malformed);
  }
  const json::value* keys = doc.if_contains("keys");
  if (!keys || !keys->is_array()) return std::error_code(auth_errc::jwks_malformed);

  std::vector<Jwk> usable;
  std::size_t index = 0;
  for (const json::value& entry : keys->get_array()) {
    SkippedKey skip;
    skip.index = index++;
    const json::object* obj = entry.if_object();
    if (obj) {
      if (const json::value* kid = obj->if_contains("kid"); kid && kid->is_string()) {
        skip.kid.assign(kid->get_string().data(), kid->get_string().size());
      }
    }
    if (skip.index >= options.max_keys) {
      skip.error = auth_errc::jwks_malformed;
    } else if (!obj) {
      skip.error = auth_errc::jwk_invalid;
    } else {
      Jwk::Result key = Jwk::from_json(*obj, options.key);
      if (key) {
        usable.push_back(std::move(*key));
        continue;
      }
      skip.error = key.error();
    }
    if (skipped) skipped->push_back(std::move(skip));
  }
  if (usable.empty()) return std::error_code(auth_errc::jwks_no_usable_keys);
  return KeySetPtr(new KeySet(options.key.family, std::move(usable)));
}

KeySet::Result KeySet::from_hmac_secret(std::string_view secret, std::optional<std::string> kid,
                                        const KeyOptions& options) {
  Jwk::Result key = Jwk::from_hmac_secret(secret, std::move(kid), options);
  if (!key) return key.error();
  std::vector<Jwk> keys;
  keys.push_back(std::move(*key));
  return from_keys(std::move(keys), KeyFamily::hmac);
}

KeySet::Result KeySet::from_keys(std::vector<Jwk> keys, KeyFamily family) {
  if (keys.empty()) return std::error_code(auth_errc::jwks_no_usable_keys);
  for (const Jwk& k : keys) {
    if ((k.type() == KeyType::oct) != (family == KeyFamily::hmac)) {
      return std::error_code(auth_errc::jwk_unsupported);
    }
  }
  return KeySetPtr(new KeySet(family, std::move(keys)));
}

common::Result<const Jwk*> KeySet::find(const std::optional<std::string>& kid, Alg alg) const {
  bool exact = false;
  if (kid) {
    for (const Jwk& k : keys_) {
      if (k.kid() && *k.kid() == *kid) {
        exact = true;
        break;
      }
    }
  }

  bool any_candidate = false;
  const Jwk* chosen = nullptr;
  std::size_t compatible = 0;
  for (const Jwk& k : keys_) {
    const bool candidate = !kid ? true : exact ? (k.kid() && *k.kid() == *kid) : !k.kid().has_value();
    if (!candidate) continue;
    any_candidate = true;
    if (!k.compatible_with(alg)) continue;
    if (exact) return &k;  // first compatible key with the token's kid
    if (compatible++ == 0) chosen = &k;
  }
  if (!any_candidate) return std::error_code(auth_errc::kid_unknown);
  if (compatible == 0) return std::error_code(auth_errc::key_mismatch);
  if (compatible > 1) return std::error_code(auth_errc::kid_unknown);  // ambiguous without a kid
  return chosen;
}

}  // namespace authgate::auth
