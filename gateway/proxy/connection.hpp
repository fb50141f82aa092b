// One client connection: TLS handshake (when the listener has TLS), then its
// requests, each through the pipeline (proxy/pipeline.hpp), with idle waits
// between them that hold no coroutine and no workspace, and a linger before the
// close when a request body was left unread. Runs entirely on its worker's thread.
//
// Usage (the worker's accept loop, after raising the connection counters):
//   serve_connection(worker, std::move(socket));
//
// The stages of the pipeline take the per-connection state below by reference,
// and write their local replies through reply_error/reply_page/reply_redirect.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/local_reply.hpp"
#include "metrics/metrics.hpp"
#include "net/stream.hpp"
#include "proxy/request_state.hpp"
#include "proxy/request_workspace.hpp"
#include "proxy/worker.hpp"

namespace authgate::proxy {

class Runtime;

// A deadline that cancels the client socket's pending operations without
// closing it (Beast's own expiry closes the socket), so that a 408 can still
// be written after a header or body read times out.
class ReadDeadline {
 public:
  explicit ReadDeadline(net::Stream& s);
  ~ReadDeadline();
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  void arm(config::Duration d);
  void disarm();
  bool fired() const { return state_->fired; }

 private:
  struct State {
    net::Stream* stream;
    std::uint64_t generation = 0;
    bool fired = false;
  };
  boost::asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// Per-connection state, kept across the requests of a keep-alive connection.
struct ClientConnection {
  ClientConnection(Worker& w, boost::asio::ip::tcp::socket socket);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  bool draining() const { return worker.state().draining.load(); }
  void count_timeout(metrics::TimeoutPhase phase) const { worker.state().metrics.timeout(phase).Increment(); }

  Worker& worker;
  net::Stream stream;
  boost::asio::ip::address peer;     // IPv4-mapped IPv6 written as IPv4
  std::string client_ip;
  // TLS with a client certificate: its x5t#S256 thumbprint (RFC 8705), taken once after the
  // handshake; "" otherwise.
  std::string client_certificate;
  ConnectionHandle handle;
  std::list<ConnectionHandle*>::iterator handle_pos;
  ReadDeadline deadline{stream};
  // The request being served: its buffers, parsers and log facts. Held from its
  // first byte until the connection is idle again, null while idle
  // (proxy/request_workspace.hpp).
  std::unique_ptr<RequestWorkspace> ws;
  std::uint64_t requests = 0;
  char first_byte = 0;  // TLS: the byte an idle wait reads
  bool body_unread = false;  // the last request's body was not (fully) read
};

// Serves an accepted connection on the worker's thread until it closes: TLS
// handshake, then its requests (a coroutine while requests come), idle waits
// between them (no coroutine: a pending wait owns the connection). The
// connection counters were raised by the accept loop; ~ClientConnection lowers
// them. I/O errors are values (error_code) handled inside and logged.
void serve_connection(Worker& worker, boost::asio::ip::tcp::socket socket);

// Local replies (built by http/local_reply.hpp), written under timeouts.body_read,
// then the request's metrics and access-log line (finish_request).
boost::asio::awaitable<void> reply_error(ClientConnection& c, Runtime& rt, RequestState& rs, unsigned status,
                                         std::string_view error, bool keep_alive,
                                         std::string_view www_authenticate = {}, std::string_view dpop_nonce = {});
boost::asio::awaitable<void> reply_page(ClientConnection& c, Runtime& rt, RequestState& rs,
                                        const http::LocalReply& reply, bool keep_alive);
boost::asio::awaitable<void> reply_redirect(ClientConnection& c, Runtime& rt, RequestState& rs, unsigned status,
                                            std::string_view location, bool keep_alive);

// finish_request() for this connection's worker and client.
void finish(ClientConnection& c, Runtime& rt, RequestState& rs);

}  // namespace authgate::proxy
