// TLS contexts built once at start-up or reload (exceptions allowed there).
//
// Usage:
//   auto server = make_server_context(*cfg.listen.tls);   // + client certificates when configured
//   auto client = make_client_context(upstream.tls);   // verify_peer + CA bundle
//   configure_client_stream(stream.tls(), "billing.internal", upstream.tls.verify);
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "net/stream.hpp"

namespace authgate::net {

// The listener's context: ALPN selects h2 when tls.alpn_h2 and the client offers it, else
// http/1.1 (a client offering only h2 gets no ALPN answer); with client_ca_file it asks for client
// certificates (verified against those CAs; with client_auth required, a handshake without one fails).
std::shared_ptr<asio::ssl::context> make_server_context(const config::ListenerTls& tls);

// True when the handshake on `stream` selected h2 by ALPN.
bool negotiated_h2(Stream::TlsStream& stream);

std::shared_ptr<asio::ssl::context> make_client_context(const config::UpstreamTls& tls);

// SNI (host names only, not IP literals) and hostname verification for one
// outbound TLS stream. Returns false when OpenSSL refuses the name.
bool configure_client_stream(Stream::TlsStream& stream, const std::string& server_name,
                             bool verify);

}  // namespace authgate::net
