// One client connection: TLS handshake (when the listener has TLS), then the
// request loop: read headers -> canonicalise -> route -> decide access ->
// proxy with streamed bodies (or a local reply), under the configured limits
// and timeouts. Runs entirely on its worker's thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace authgate::proxy {

class Worker;

// Completes when the connection is closed. Never throws on I/O errors: they
// are values (error_code) handled inside and logged.
boost::asio::awaitable<void> serve_connection(Worker& worker, boost::asio::ip::tcp::socket socket);

}  // namespace authgate::proxy
