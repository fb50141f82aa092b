// TLS contexts built once at start-up or reload (exceptions allowed there).
//
// Usage:
//   auto server = make_server_context(cfg.listen.tls->cert_file, cfg.listen.tls->key_file);
//   auto client = make_client_context(upstream.tls);   // verify_peer + CA bundle
//   configure_client_stream(stream.tls(), "billing.internal", upstream.tls.verify);
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "net/stream.hpp"

namespace authgate::net {

std::shared_ptr<asio::ssl::context> make_server_context(const std::string& cert_file,
                                                         const std::string& key_file);

std::shared_ptr<asio::ssl::context> make_client_context(const config::UpstreamTls& tls);

// SNI (host names only, not IP literals) and hostname verification for one
// outbound TLS stream. Returns false when OpenSSL refuses the name.
bool configure_client_stream(Stream::TlsStream& stream, const std::string& server_name,
                             bool verify);

}  // namespace authgate::net
