#include "access/resource_metadata.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/ascii.hpp"
#include "common/url.hpp"

namespace authgate::access {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = common::ascii_lower(c);
  return out;
}

boost::json::array strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::string ResourceMetadata::document(const config::ProtectedResource& r) {
  boost::json::object doc;
  doc["resource"] = r.resource;
  doc["authorization_servers"] = strings(r.authorization_servers);
  if (!r.scopes_supported.empty()) doc["scopes_supported"] = strings(r.scopes_supported);
  doc["bearer_methods_supported"] = strings(r.bearer_methods_supported);
  if (!r.dpop_signing_alg_values_supported.empty())
    doc["dpop_signing_alg_values_supported"] = strings(r.dpop_signing_alg_values_supported);
  if (r.dpop_bound_access_tokens_required) doc["dpop_bound_access_tokens_required"] = true;
  if (!r.resource_name.empty()) doc["resource_name"] = r.resource_name;
  if (!r.resource_documentation.empty()) doc["resource_documentation"] = r.resource_documentation;
  return boost::json::serialize(doc);
}

ResourceMetadata::ResourceMetadata(const std::vector<config::ProtectedResource>& resources) {
  for (const auto& r : resources) {
    const auto url = common::parse_http_url(r.metadata_url);  // the loader checked the identifier
    if (!url) continue;
    const std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
    entries_.push_back({lower(url->authority()), lower(host + ":" + std::to_string(url->port)), url->target,
                        document(r)});
  }
}

const std::string* ResourceMetadata::find(std::string_view authority, std::string_view path) const {
  for (const auto& e : entries_)
    if (path == e.path && (common::iequals(authority, e.authority) || common::iequals(authority, e.authority_port)))
      return &e.document;
  return nullptr;
}

}  // namespace authgate::access
