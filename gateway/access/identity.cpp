#include "access/identity.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "policy/policy.hpp"

namespace authgate::access {

namespace bhttp = boost::beast::http;

std::vector<std::string> identity_header_names(const config::GatewayConfig& cfg) {
  std::vector<std::string> names;
  for (const auto& r : cfg.routes)
    for (const auto& h : r.forward.headers)
      if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return common::header_name_equals(n, h.first); }))
        names.push_back(h.first);
  return names;
}

void apply_identity(http::Fields& upstream, const config::Route& route, const Decision& d,
                    std::span<const std::string> identity_headers) {
  if (!identity_headers.empty()) {
    for (auto it = upstream.begin(); it != upstream.end();) {
      const std::string_view name = it->name_string();
      const bool configured = std::any_of(identity_headers.begin(), identity_headers.end(),
                                          [&](const std::string& h) { return common::header_name_equals(h, name); });
      it = configured ? upstream.erase(it) : std::next(it);
    }
  }
  if (route.auth == config::AuthMode::none) return;
  if (!route.forward.authorization) upstream.erase(bhttp::field::authorization);
  if (!d.claims) return;
  for (const auto& [header, claim] : route.forward.headers) {
    const auto* v = d.claims->if_contains(claim);
    if (!v) continue;
    std::string value;
    if (auto text = policy::claim_text(*v)) {
      value = std::move(*text);
    } else if (v->is_array()) {  // e.g. a scope array: space-joined
      for (const auto& e : v->get_array())
        if (auto t = policy::claim_text(e)) value += (value.empty() ? "" : " ") + *t;
    }
    // A claim is issuer data, but it must never split the upstream header block.
    const bool safe = std::none_of(value.begin(), value.end(), [](unsigned char c) {
      return (c < 0x20 && c != '\t') || c == 0x7F;
    });
    if (safe && !value.empty()) upstream.set(header, value);
  }
}

}  // namespace authgate::access
