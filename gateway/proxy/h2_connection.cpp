#include "proxy/h2_connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/runtime.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using metrics::H2Goaway;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// The writer gathers this much of the session's output per write.
constexpr std::size_t kWriteBatch = 64 * 1024;
// The reader's buffer while a stream is open.
constexpr std::size_t kReadBytes = 16 * 1024;
// The writer waits for work this long at most before it looks again.
constexpr config::Duration kWriterNap{3'600'000};

}  // namespace

// Event::wait is here, not in h2_session.cpp with the rest of Event, so that the
// session core has no coroutine: clang 14 fails on coroutines compiled with the fuzz
// build's coverage instrumentation ("Cannot represent a difference across sections").
asio::awaitable<bool> Event::wait(config::Duration timeout) {
  if (!set_) {
    timer_.expires_after(timeout);
    co_await timer_.async_wait(use_tuple);
    if (!set_) co_return false;  // the timeout passed
  }
  set_ = false;
  co_return true;
}

namespace {

void spawn(asio::io_context& io, asio::awaitable<void> a) {
  asio::co_spawn(io, std::move(a), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("HTTP/2 coroutine ended by exception: {}", ex.what());
    }
  });
}

}  // namespace

H2Connection::H2Connection(std::unique_ptr<ClientConnection> c)
    : H2Session(c->worker.state().runtime.load()->cfg.http2, c->worker.state().runtime.load()->cfg.limits,
                c->stream.get_executor()),
      c_(std::move(c)),
      write_ev_(c_->stream.get_executor()),
      write_timer_(c_->stream.get_executor()) {}

void H2Connection::start() {
  auto self = shared_from_this();
  spawn(c_->worker.io(), read_loop(self));
  spawn(c_->worker.io(), write_loop(self));
}

void H2Connection::go_away(H2Goaway reason, std::uint32_t error_code) {
  if (goaway_) return;
  goaway_ = true;
  c_->worker.state().metrics.goaway(reason).Increment();
  spdlog::debug("HTTP/2 connection from {}: GOAWAY ({})", c_->client_ip, metrics::kH2GoawayNames[static_cast<int>(reason)]);
  nghttp2_session_terminate_session(session(), error_code);
  kick();
}

// Idle (no stream): the drain may close it, and the idle timeout runs.
void H2Connection::update_idle() {
  if (c_->draining() && !drain_goaway_ && !goaway_ && !dead_) {
    // Drain: no new streams (GOAWAY NO_ERROR with the last stream taken); those in
    // flight finish, then the writer closes the connection.
    drain_goaway_ = true;
    nghttp2_submit_goaway(session(), NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session()),
                          NGHTTP2_NO_ERROR, nullptr, 0);
    kick();
  }
  if (idle() == c_->handle.idle || dead_) return;
  c_->handle.idle = idle();
  if (idle()) c_->deadline.arm(cfg_.idle_timeout);
  else c_->deadline.disarm();
}

void H2Connection::spawn_ready_streams() {
  for (auto& s : take_ready()) spawn(c_->worker.io(), serve_h2_stream(shared_from_this(), std::move(s)));
}

// A reset stream's upstream exchange ends now, not at its timeout.
void H2Connection::stream_closed(H2Stream& s) {
  if (!s.upstream) return;
  error_code ignored;
  s.upstream->tcp().socket().cancel(ignored);
}

void H2Connection::shut() {
  if (dead_) return;
  dead_ = true;
  c_->deadline.disarm();
  c_->handle.idle = false;
  error_code ignored;
  c_->stream.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  c_->stream.tcp().close();
  for (auto& [id, s] : streams_) {
    s->closed = true;
    stream_closed(*s);
    s->ev.notify();
  }
  write_ev_.notify();
}

asio::awaitable<void> H2Connection::read_loop(std::shared_ptr<H2Connection> self) {
  // The bytes read before the preface was recognised (h2c), then the socket.
  std::string first;
  if (c_->ws) {
    auto& b = c_->ws->buffer;
    first.assign(static_cast<const char*>(b.data().data()), b.size());
    b.consume(b.size());
    c_->worker.give_back_workspace(std::move(c_->ws));
  }
  update_idle();
  for (bool have_first = !first.empty(); !dead_ && !goaway_;) {
    std::size_t n = 0;
    const std::uint8_t* data = nullptr;
    if (have_first) {
      have_first = false;
      data = reinterpret_cast<const std::uint8_t*>(first.data());
      n = first.size();
    } else {
      c_->stream.tcp().expires_never();  // bounded by the idle deadline and the streams' own timeouts
      if (idle()) in_.reset();
      else if (!in_) in_ = std::make_unique_for_overwrite<char[]>(kReadBytes);
      const auto buffer = in_ ? asio::buffer(in_.get(), kReadBytes) : asio::buffer(in_idle_);
      auto [ec, got] = co_await c_->stream.async_read_some(buffer, use_tuple);
      if (ec) {
        if (dead_) break;
        if (c_->deadline.fired()) {
          c_->count_timeout(metrics::TimeoutPhase::keepalive_idle);
          go_away(H2Goaway::idle, NGHTTP2_NO_ERROR);
        } else if (c_->draining() && ec == asio::error::operation_aborted) {
          // Drain: no new streams; nothing is in flight (idle), so GOAWAY and close.
          goaway_ = true;
          nghttp2_session_terminate_session(session(), NGHTTP2_NO_ERROR);
          kick();
        } else {
          shut();  // the client closed or reset the connection
        }
        break;
      }
      data = static_cast<const std::uint8_t*>(buffer.data());
      n = got;
    }
    const ssize_t rv = receive(data, n, Clock::now());
    spawn_ready_streams();
    update_idle();
    if (rv < 0) {
      const H2Goaway reason = failure(rv);
      spdlog::debug("HTTP/2 from {}: {}", c_->client_ip, nghttp2_strerror(static_cast<int>(rv)));
      const std::uint32_t code = reason == H2Goaway::protocol_error ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_ENHANCE_YOUR_CALM;
      go_away(reason, code);
      break;
    }
    kick();
  }
  c_->deadline.disarm();
  kick();
}

asio::awaitable<void> H2Connection::write_loop(std::shared_ptr<H2Connection> self) {
  const auto write_timeout = c_->worker.state().runtime.load()->cfg.timeouts.body_read;
  while (!dead_) {
    out_.clear();
    while (out_.size() < kWriteBatch) {
      const std::uint8_t* p = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session(), &p);
      if (n < 0) {
        shut();
        co_return;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    if (out_.empty()) {
      // Nothing more to say: after a GOAWAY (ours or the client's) with no stream
      // left, or when the session wants nothing more, the connection closes.
      const bool done = !nghttp2_session_want_read(session()) && !nghttp2_session_want_write(session());
      if (done || (goaway_ && idle())) break;
      if (idle()) std::string().swap(out_);  // an idle connection keeps no write buffer
      const bool woke = co_await write_ev_.wait(kWriterNap);
      (void)woke;
      continue;
    }
    // A client that stops reading is cut off after timeouts.body_read. Not through the
    // stream's own timeout: that one would also bound the reader's wait for frames.
    write_timer_.expires_after(write_timeout);
    write_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->shut();
    });
    auto [ec, n] = co_await asio::async_write(c_->stream, asio::buffer(out_), use_tuple);
    write_timer_.cancel();
    if (ec) break;
  }
  shut();
}

void serve_h2(std::unique_ptr<ClientConnection> c) {
  auto conn = std::make_shared<H2Connection>(std::move(c));
  conn->start();
}

}  // namespace authgate::proxy
