#include "proxy/worker.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/stream.hpp"
#include "proxy/connection.hpp"
#include "proxy/request_workspace.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Worker::Worker(std::size_t index, GatewayState& state)
    : index_(index), state_(state), work_(asio::make_work_guard(io_)), acceptor_(io_) {}

Worker::~Worker() = default;

void Worker::listen(const tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  int one = 1;  // every worker binds the same port; the kernel spreads connections
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    throw std::system_error(errno, std::generic_category(), "SO_REUSEPORT");
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  start_accepting();
}

tcp::endpoint Worker::local_endpoint() const { return acceptor_.local_endpoint(); }

void Worker::run() { io_.run(); }

void Worker::stop() {
  work_.reset();
  io_.stop();
}

void Worker::start_accepting() { asio::co_spawn(io_, accept_loop(), asio::detached); }

// A member function, not a capturing lambda: the coroutine frame must not
// point into a lambda object that dies when start_accepting() returns.
asio::awaitable<void> Worker::accept_loop() {
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    while (acceptor_.is_open()) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) {
        if (!acceptor_.is_open() || ec == asio::error::operation_aborted) co_return;
        // EMFILE and friends: back off instead of spinning.
        spdlog::warn("accept failed: {} ({}:{})", ec.message(), ec.category().name(), ec.value());
        asio::steady_timer t(io_, std::chrono::milliseconds(50));
        co_await t.async_wait(use_tuple);
        continue;
      }
      auto rt = state_.runtime.load();
      if (state_.connections.fetch_add(1) >= rt->cfg.limits.max_connections) {
        state_.connections.fetch_sub(1);
        state_.metrics.connections_rejected.Increment();
        boost::system::error_code ignored;
        socket.close(ignored);
        continue;
      }
      state_.metrics.connections_active.Increment();
      serve_connection(*this, std::move(socket));
    }
}

void Worker::begin_drain() {
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto* h : connections_)
      if (h->idle) h->stream->tcp().cancel();
  });
}

void Worker::force_close() {
  asio::post(io_, [this] {
    for (auto* h : connections_) h->stream->tcp().close();
  });
}

std::list<ConnectionHandle*>::iterator Worker::add_connection(ConnectionHandle* h) {
  return connections_.insert(connections_.end(), h);
}

void Worker::remove_connection(std::list<ConnectionHandle*>::iterator it) { connections_.erase(it); }

std::unique_ptr<char[]> Worker::take_relay_buffer(std::size_t size) {
  if (spare_relays_.empty()) return std::make_unique_for_overwrite<char[]>(size);
  auto b = std::move(spare_relays_.back());
  spare_relays_.pop_back();
  return b;
}

void Worker::give_back_relay_buffer(std::unique_ptr<char[]> buffer) {
  if (buffer && spare_relays_.size() < kSpareRelayBuffers) spare_relays_.push_back(std::move(buffer));
}

std::unique_ptr<RequestWorkspace> Worker::take_workspace() {
  if (spare_workspaces_.empty()) return std::make_unique<RequestWorkspace>(*this);
  auto ws = std::move(spare_workspaces_.back());
  spare_workspaces_.pop_back();
  return ws;
}

void Worker::give_back_workspace(std::unique_ptr<RequestWorkspace> ws) {
  if (!ws) return;
  ws->release_request();
  if (spare_workspaces_.size() < kSpareWorkspaces) spare_workspaces_.push_back(std::move(ws));
}

}  // namespace authgate::proxy
