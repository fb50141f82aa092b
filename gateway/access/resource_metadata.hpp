// OAuth 2.0 Protected Resource Metadata (RFC 9728): the JSON document of each configured resource
// (config resources:), and which one a request asks for. Pure: built once per Runtime, no I/O.
//
// Usage:
//   ResourceMetadata metadata(cfg.resources);
//   if (const std::string* doc = metadata.find(request_authority, canonical_path)) reply 200 *doc;
//
// A document is served at its resource's metadata URL (RFC 9728 §3.1): the identifier's origin,
// then /.well-known/oauth-protected-resource, then the identifier's path. A request matches on the
// path and on the Host, compared without case and with or without the scheme's default port.
// The routes of a resource name the URL in their challenges (config::Route::resource_metadata_url,
// access/auth_reply).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace authgate::access {

class ResourceMetadata {
 public:
  explicit ResourceMetadata(const std::vector<config::ProtectedResource>& resources);

  // The document for a GET of `path` with Host `authority`, or nullptr.
  const std::string* find(std::string_view authority, std::string_view path) const;

  // The document of one resource (RFC 9728 §2): resource, authorization_servers,
  // scopes_supported, bearer_methods_supported, and the optional members that are set.
  static std::string document(const config::ProtectedResource& resource);

 private:
  struct Entry {
    std::string authority;       // lower case, without the scheme's default port
    std::string authority_port;  // lower case, with the port
    std::string path;
    std::string document;
  };
  std::vector<Entry> entries_;
};

}  // namespace authgate::access
