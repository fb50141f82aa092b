#include "idp/discovery.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>

#include "common/ascii.hpp"
#include "common/url.hpp"
#include "idp/http_client.hpp"

namespace authgate::idp {

std::error_code parse_provider_metadata(std::string_view json, std::string_view expected_issuer,
                                        ProviderMetadata& out) {
  boost::system::error_code jec;
  const boost::json::value doc = boost::json::parse(json, jec);
  if (jec || !doc.is_object()) return idp_errc::invalid_document;
  const auto& obj = doc.get_object();
  const auto* iss = obj.if_contains("issuer");
  if (!iss || !iss->is_string() || iss->get_string() != expected_issuer) return idp_errc::invalid_document;
  const auto issuer_url = common::parse_http_url(expected_issuer);
  const bool https_only = !issuer_url || issuer_url->is_https();
  ProviderMetadata md;
  md.issuer = std::string(expected_issuer);
  const std::pair<const char*, std::string*> endpoints[] = {
      {"jwks_uri", &md.jwks_uri},
      {"introspection_endpoint", &md.introspection_endpoint},
      {"token_endpoint", &md.token_endpoint},
      {"authorization_endpoint", &md.authorization_endpoint},
      {"revocation_endpoint", &md.revocation_endpoint},
      {"end_session_endpoint", &md.end_session_endpoint},
  };
  for (const auto& [name, field] : endpoints) {
    const auto* v = obj.if_contains(name);
    if (!v) continue;
    if (!v->is_string()) return idp_errc::invalid_document;
    const auto url = common::parse_http_url(v->get_string());
    if (!url || (https_only && !url->is_https())) return idp_errc::invalid_document;
    *field = std::string(v->get_string());
  }
  out = std::move(md);
  return {};
}

std::optional<std::chrono::seconds> cache_max_age(std::string_view cache_control) {
  std::optional<std::chrono::seconds> result;
  common::for_each_list_item(cache_control, [&](std::string_view item) {
    if (common::iequals(item, "no-cache") || common::iequals(item, "no-store")) {
      result = std::chrono::seconds(0);
      return;
    }
    constexpr std::string_view key = "max-age=";
    if (item.size() <= key.size() || !common::iequals(item.substr(0, key.size()), key)) return;
    std::string_view v = item.substr(key.size());
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (end != v.data() + v.size() || v.empty() || result) return;
    // RFC 9111 §1.2.2: a delta-seconds too large to represent means 2^31.
    if (ec == std::errc::result_out_of_range) n = 1ull << 31;
    else if (ec != std::errc{}) return;
    result = std::chrono::seconds(std::min<std::uint64_t>(n, 1ull << 31));
  });
  return result;
}

std::chrono::milliseconds jwks_refresh_delay(std::optional<std::chrono::seconds> max_age,
                                             std::chrono::milliseconds min,
                                             std::chrono::milliseconds max) {
  if (!max_age) return min;
  return std::clamp<std::chrono::milliseconds>(*max_age, min, max);
}

std::chrono::milliseconds jwks_retry_delay(unsigned failures, std::chrono::milliseconds base,
                                           std::chrono::milliseconds cap, double random_unit) {
  std::chrono::milliseconds d = base;
  for (unsigned i = 1; i < failures && d < cap; ++i) d *= 2;
  d = std::min(d, std::max(cap, base));
  const double jitter = 0.8 + 0.4 * std::clamp(random_unit, 0.0, 0.999999);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(d.count()) * jitter));
}

}  // namespace authgate::idp
