// One event-loop thread with its own io_context, its own SO_REUSEPORT
// acceptor and its own upstream pools: workers share nothing on the request
// path except the Runtime snapshot (common::Snapshot, loaded once per request)
// and atomic counters.
//
// Usage (from the app, on the control thread):
//   Worker w(0, state);
//   w.listen(endpoint);            // throws on bind errors (start-up)
//   std::thread t([&]{ w.run(); });
//   w.begin_drain();               // stop accepting, close idle connections
//   w.force_close();               // drain timeout: close everything
//   w.stop(); t.join();
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <list>
#include <vector>
#include <memory>
#include <optional>

#include "common/snapshot.hpp"
#include "metrics/metrics.hpp"
#include "proxy/runtime.hpp"

namespace authgate::net {
class Stream;
}

namespace authgate::proxy {

struct RequestWorkspace;

// What every worker shares. The Runtime snapshot is replaced on SIGHUP.
struct GatewayState {
  explicit GatewayState(metrics::Metrics& m) : metrics(m) {}
  metrics::Metrics& metrics;
  common::Snapshot<Runtime> runtime;
  std::atomic<bool> draining{false};
  std::atomic<std::uint64_t> connections{0};
  std::shared_ptr<boost::asio::ssl::context> server_tls;  // null: plain HTTP listener
};

// A live client connection as the worker sees it, for drain and forced close.
struct ConnectionHandle {
  net::Stream* stream = nullptr;
  bool idle = false;  // suspended waiting for the next request
};

class Worker {
 public:
  Worker(std::size_t index, GatewayState& state);
  ~Worker();

  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void run();  // blocks; call on the worker's own thread
  void stop();

  // Thread-safe: posted to the worker's thread.
  void begin_drain();
  void force_close();

  std::size_t index() const { return index_; }
  boost::asio::io_context& io() { return io_; }
  GatewayState& state() { return state_; }

  // Called by connections on the worker's thread.
  std::list<ConnectionHandle*>::iterator add_connection(ConnectionHandle* h);
  void remove_connection(std::list<ConnectionHandle*>::iterator it);

  // Body relay buffers (all `size` bytes, uninitialised) on the worker's thread. A
  // connection gives its buffer back when it goes idle, so an idle keep-alive
  // connection holds none, and the next body on this worker takes a spare one instead
  // of a malloc/free pair per request (glibc trims and re-faults 64 KiB blocks).
  // At most kSpareRelayBuffers are kept per worker.
  std::unique_ptr<char[]> take_relay_buffer(std::size_t size);
  void give_back_relay_buffer(std::unique_ptr<char[]> buffer);
  static constexpr std::size_t kSpareRelayBuffers = 64;

  // Request workspaces (proxy/request_workspace.hpp) on the worker's thread: taken
  // when a connection's next request arrives, given back when it goes idle, so idle
  // connections hold none. At most kSpareWorkspaces are kept per worker.
  std::unique_ptr<RequestWorkspace> take_workspace();
  void give_back_workspace(std::unique_ptr<RequestWorkspace> ws);
  static constexpr std::size_t kSpareWorkspaces = 64;

 private:
  void start_accepting();
  boost::asio::awaitable<void> accept_loop();

  std::size_t index_;
  GatewayState& state_;
  // Declared before io_: destroying io_ destroys suspended connections, whose
  // destructors unregister from this list.
  std::list<ConnectionHandle*> connections_;
  std::vector<std::unique_ptr<char[]>> spare_relays_;
  std::vector<std::unique_ptr<RequestWorkspace>> spare_workspaces_;
  // One thread runs it, and only that thread touches its sockets and timers: Asio then
  // skips the reactor's per-descriptor locking (posts from other threads stay safe).
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace authgate::proxy
