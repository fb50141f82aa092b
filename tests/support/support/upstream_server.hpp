// A scriptable HTTP/1.1 upstream for integration tests: plain POSIX sockets,
// one thread per connection, loopback only. It records every request head it
// receives and how many TCP connections it accepted.
//
// Usage:
//   support::UpstreamServer up(support::handlers::echo());
//   ... route authgate to up.url() ...
//   EXPECT_EQ(up.accepted(), 1);
//   EXPECT_EQ(up.last_request()->target, "/api/x");
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/http.hpp"
#include "support/net.hpp"

namespace support {

class UpstreamServer;

// One accepted connection, handed to the handler for each request on it.
class UpstreamConnection {
 public:
  UpstreamConnection(UpstreamServer& server, Fd fd, int id);

  int id() const { return id_; }
  int fd() const { return fd_.get(); }
  Reader& reader() { return reader_; }

  bool send(std::string_view data, Clock::duration timeout = 30s);
  // A complete response with Content-Length.
  bool respond(int status, std::string_view body, const std::vector<Header>& headers = {},
               std::string_view content_type = "text/plain");
  // Reads the request body (Content-Length or chunked) into `sink`.
  bool read_body(const RequestHead& head, const Sink& sink, Clock::duration timeout = 60s);
  // Reads the body, keeping at most `cap` bytes; total size in *total.
  std::optional<std::string> read_body_string(const RequestHead& head, std::size_t cap = 1 << 20,
                                              std::uint64_t* total = nullptr);
  bool body_read() const { return body_read_; }

  void close();  // FIN without answering
  void reset();  // RST without answering
  bool closed() const { return !fd_.valid(); }
  // Sleeps, waking early when the server stops.
  void sleep(Clock::duration d);
  bool stopping() const;

 private:
  friend class UpstreamServer;
  UpstreamServer& server_;
  Fd fd_;                    // used by the serving thread; closed under fd_mu_
  mutable std::mutex fd_mu_;  // close()/reset() vs UpstreamServer::stop() on another thread
  int id_;
  Reader reader_;
  bool body_read_ = false;
};

using Handler = std::function<void(UpstreamConnection&, const RequestHead&)>;

class UpstreamServer {
 public:
  explicit UpstreamServer(Handler handler);
  ~UpstreamServer();
  UpstreamServer(const UpstreamServer&) = delete;
  UpstreamServer& operator=(const UpstreamServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_handler(Handler h);

  int accepted() const { return accepted_.load(); }
  int request_count() const;
  // Connections that ended because the peer closed (FIN or RST).
  int peer_closes() const { return peer_closes_.load(); }
  std::vector<RequestHead> requests() const;
  std::optional<RequestHead> last_request() const;
  // Waits until at least `n` request heads arrived.
  bool wait_for_requests(int n, Clock::duration timeout) const;
  bool wait_for_peer_closes(int n, Clock::duration timeout) const;
  // True when any recorded request target contains `needle`.
  bool saw_target_containing(std::string_view needle) const;

  void stop();

 private:
  friend class UpstreamConnection;
  void accept_loop();
  void serve(std::shared_ptr<UpstreamConnection> conn);
  Handler handler() const;

  Fd listen_fd_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> peer_closes_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Handler handler_;
  std::vector<RequestHead> requests_;
  std::vector<std::weak_ptr<UpstreamConnection>> live_;
  std::list<std::thread> threads_;
  std::thread acceptor_;
};

namespace handlers {
// 200; body = the raw request head as received, then the request body (first 1 MiB).
// Headers: X-Upstream-Connection (connection id), X-Body-Bytes.
Handler echo();
// Fixed response; the request body is read and discarded first.
Handler fixed(int status, std::string body, std::vector<Header> headers = {});
// 200 with `n` pattern bytes, chunked (in `chunk` sized pieces) or with Content-Length.
Handler stream(std::uint64_t n, bool chunked, std::size_t chunk = 64 * 1024);
// Reads the body checking the pattern; 200 "bytes=N mismatches=M".
Handler consume();
// Sleeps first, then runs `inner`.
Handler delayed(Clock::duration d, Handler inner);
// Reads the head and closes (FIN) / resets (RST) without a byte of response.
Handler close_without_answer();
Handler reset_without_answer();
// 101 Switching Protocols, then echoes raw bytes until the peer closes. With
// close_after_bytes > 0 the upstream closes after echoing that many bytes.
Handler websocket_echo(std::size_t close_after_bytes = 0);
}  // namespace handlers

// A listener whose accept queue is full, so connects to it hang (for connect timeouts).
class BlackholeListener {
 public:
  BlackholeListener();
  std::uint16_t port() const { return port_; }

 private:
  Fd listen_fd_;
  std::uint16_t port_ = 0;
  std::vector<Fd> fillers_;
};

}  // namespace support
