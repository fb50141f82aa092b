#include "auth/dpop.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <limits>
#include <vector>

#include "auth/jwk.hpp"
#include "auth/jwt.hpp"
#include "auth/jwt_verifier.hpp"
#include "common/ascii.hpp"
#include "common/hex.hpp"
#include "common/url.hpp"

namespace authgate::auth {

namespace {

namespace json = boost::json;

// A string claim: nullptr when absent; `bad` when present with another type.
const json::string* string_claim(const json::object& claims, std::string_view name, bool& bad) {
  const json::value* v = claims.if_contains(name);
  if (!v) return nullptr;
  const json::string* s = v->if_string();
  if (!s) bad = true;
  return s;
}

std::string_view view(const json::string* s) { return s ? std::string_view(s->data(), s->size()) : std::string_view(); }

// RFC 3986 §6.2.2.1-2 on a path: unreserved escapes decoded, others upper case.
bool normalize_escapes(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (in.size() - i < 3) return false;
    const int hi = common::hex_value(in[i + 1]);
    const int lo = common::hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const auto c = static_cast<unsigned char>(hi * 16 + lo);
    if (common::is_unreserved(c)) out += static_cast<char>(c);
    else out.append({'%', kHex[hi], kHex[lo]});
    i += 2;
  }
  return true;
}

// Repeated "/" merged, then dot-segments removed (RFC 3986 §5.2.4); a path
// climbing above the root stays at the root. `path` starts with "/".
std::string clean_path(std::string_view path) {
  std::vector<std::string_view> segments;
  bool directory = false;  // the result ends with "/"
  for (std::size_t i = 1;;) {
    const std::size_t end = std::min(path.find('/', i), path.size());
    const std::string_view seg = path.substr(i, end - i);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      directory = true;
    } else if (seg == "." || seg.empty()) {
      directory = true;
    } else {
      segments.push_back(seg);
      directory = false;
    }
    if (end == path.size()) break;
    i = end + 1;
  }
  std::string out;
  for (std::string_view seg : segments) out.append("/").append(seg);
  if (out.empty() || directory) out += '/';
  return out;
}

}  // namespace

struct DpopKey {
  Jwk key;
  std::string jkt;
};

namespace {

// Step 4 and the thumbprint: the key a proof header's jwk holds, for `alg`.
common::Result<std::shared_ptr<const DpopKey>> import_key(const json::object& header, Alg alg) {
  const json::value* jwk_value = header.if_contains("jwk");
  const json::object* jwk_object = jwk_value ? jwk_value->if_object() : nullptr;
  if (!jwk_object) return auth_errc::dpop_jwk_invalid;
  for (std::string_view member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
    if (jwk_object->contains(member)) return auth_errc::dpop_jwk_private;
  KeyOptions options;
  options.allowed_algs = {alg};
  auto key = Jwk::from_json(*jwk_object, options);
  if (!key || !key->compatible_with(alg)) return auth_errc::dpop_jwk_invalid;
  auto jkt = jwk_thumbprint(*jwk_object);  // cannot fail for a key from_json accepted
  if (!jkt) return auth_errc::dpop_jwk_invalid;
  return std::make_shared<const DpopKey>(DpopKey{std::move(*key), std::move(*jkt)});
}

constexpr std::int64_t kNeverExpires = std::numeric_limits<std::int64_t>::max();

}  // namespace

std::shared_ptr<const DpopKey> DpopKeyCache::find(std::string_view header) {
  auto hit = cache_.find(header, 0);
  return hit ? std::move(*hit) : nullptr;
}

void DpopKeyCache::insert(std::string_view header, std::shared_ptr<const DpopKey> key) {
  cache_.insert(header, std::move(key), kNeverExpires, 0);
}

std::optional<std::string> normalize_htu(std::string_view uri) {
  uri = uri.substr(0, uri.find_first_of("?#"));
  auto url = common::parse_http_url(uri);
  if (!url) return std::nullopt;
  for (char& c : url->host) c = common::ascii_lower(c);
  std::string path;
  if (!normalize_escapes(url->target, path)) return std::nullopt;
  return url->scheme + "://" + url->authority() + clean_path(path);
}

std::string dpop_ath(std::string_view access_token) { return sha256_base64url(access_token); }

common::Result<DpopProof> verify_dpop_proof(std::string_view proof, const DpopRequest& request,
                                            const DpopPolicy& policy, std::int64_t now, DpopKeyCache* keys) {
  // 1. Shape and claim types.
  ParsedJwt jwt;
  if (parse_jwt(proof, policy.max_proof_bytes, jwt)) return auth_errc::dpop_proof_malformed;
  const json::object& c = jwt.claims();
  bool bad = false;
  const json::string* jti = string_claim(c, "jti", bad);
  const json::string* htm = string_claim(c, "htm", bad);
  const json::string* htu = string_claim(c, "htu", bad);
  const json::string* ath = string_claim(c, "ath", bad);
  const json::string* nonce = string_claim(c, "nonce", bad);
  if (bad || !htm || !htu || !jwt.iat()) return auth_errc::dpop_proof_malformed;

  // 2. typ (RFC 7515 §4.1.9: "application/" may be omitted; media types are case-insensitive).
  if (!jwt.typ() || !(common::iequals(*jwt.typ(), "dpop+jwt") || common::iequals(*jwt.typ(), "application/dpop+jwt")))
    return auth_errc::dpop_type_invalid;

  // 3. alg: asymmetric and allowed.
  const auto alg = alg_from_string(jwt.alg());
  if (!alg || is_hmac(*alg) || std::find(policy.allowed_algs.begin(), policy.allowed_algs.end(), *alg) ==
                                   policy.allowed_algs.end())
    return auth_errc::dpop_alg_not_allowed;

  // 4. jwk: public, supported, fit for alg; its thumbprint. The header as sent
  // (base64url) determines both, so it is the cache key.
  const std::string_view header = proof.substr(0, proof.find('.'));
  std::shared_ptr<const DpopKey> key = keys ? keys->find(header) : nullptr;
  const bool cached = key != nullptr;
  if (!key) {
    auto imported = import_key(jwt.header(), *alg);
    if (!imported) return imported.error();
    key = std::move(*imported);
  }

  // 5. The signature.
  if (verify_jws_signature(*alg, key->key, jwt.signing_input(), jwt.signature()))
    return auth_errc::dpop_signature_invalid;

  // 6-9. jti, the request, the time.
  if (!jti || jti->empty() || jti->size() > policy.max_jti_bytes) return auth_errc::dpop_jti_missing;
  if (view(htm) != request.method) return auth_errc::dpop_htm_mismatch;
  const auto claimed = normalize_htu(view(htu));
  const auto expected = normalize_htu(request.htu);
  if (!claimed || !expected || *claimed != *expected) return auth_errc::dpop_htu_mismatch;
  const std::int64_t window = std::max<std::int64_t>(0, policy.iat_window_seconds);
  const std::int64_t iat = *jwt.iat();
  if (iat > now && iat - now > window) return auth_errc::dpop_iat_invalid;
  if (iat <= now && now - iat > window) return auth_errc::dpop_iat_invalid;

  // 10-11. The access token and its binding.
  if (!request.access_token.empty() &&
      (!ath || view(ath) != dpop_ath(request.access_token)))
    return auth_errc::dpop_ath_mismatch;
  if (!request.expected_jkt.empty() && key->jkt != request.expected_jkt)
    return auth_errc::dpop_jkt_mismatch;
  if (keys && !cached) keys->insert(header, key);
  return DpopProof{std::string(view(jti)), key->jkt, iat, cached, nonce ? std::string(view(nonce)) : std::string()};
}

}  // namespace authgate::auth
