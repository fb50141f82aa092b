#include "proxy/h2_upstream.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

namespace authgate::proxy {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using net::upstream_errc;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kWriteBatch = 64 * 1024;
constexpr config::Duration kWriterNap{3'600'000};

void spawn(const asio::any_io_executor& ex, asio::awaitable<void> a) {
  asio::co_spawn(ex, std::move(a), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("HTTP/2 upstream coroutine ended by exception: {}", ex.what());
    }
  });
}

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

H2UpstreamStream* stream_of(nghttp2_session* session, std::int32_t id) {
  return static_cast<H2UpstreamStream*>(nghttp2_session_get_stream_user_data(session, id));
}

// The data source of every request body: the stream's current piece, then its
// end (with the request trailers, if any).
ssize_t read_request_body(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buf, std::size_t length,
                          std::uint32_t* flags, nghttp2_data_source* source, void*) {
  auto& u = *static_cast<H2UpstreamStream*>(source->ptr);
  if (u.out_taken()) {
    if (!u.out_eof) return NGHTTP2_ERR_DEFERRED;
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!u.out_trailers.empty()) {
      std::vector<nghttp2_nv> nv;
      nv.reserve(u.out_trailers.size());
      for (const auto& [n, v] : u.out_trailers) nv.push_back(make_nv(n, v));
      if (nghttp2_submit_trailer(session, stream_id, nv.data(), nv.size()) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return 0;
  }
  const std::size_t n = std::min(length, u.out.size() - u.out_pos);
  std::memcpy(buf, u.out.data() + u.out_pos, n);
  u.out_pos += n;
  if (u.out_taken()) u.notify();  // the next piece may come
  return static_cast<ssize_t>(n);
}

}  // namespace

// What the sessions of one pool share with it: the pool may go (a reload) while
// they still carry streams.
struct H2PoolState {
  std::vector<std::shared_ptr<H2UpstreamSession>> sessions;
  std::size_t connecting = 0;
  std::vector<Event*> waiters;  // requests waiting for a stream slot
  void wake_all() {
    for (Event* e : waiters) e->notify();
  }
};

struct H2UpstreamCallbacks {
  static H2UpstreamSession& self(void* p) { return *static_cast<H2UpstreamSession*>(p); }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const std::uint8_t* name_p,
                       std::size_t namelen, const std::uint8_t* value_p, std::size_t valuelen, std::uint8_t,
                       void* user) {
    H2UpstreamStream* u = stream_of(session, frame->hd.stream_id);
    if (!u || frame->hd.type != NGHTTP2_HEADERS) return 0;
    // limits.max_response_header_bytes, in RFC 9113 6.5.2 sizes: beyond, the stream is reset.
    u->header_bytes += namelen + valuelen + 32;
    if (u->header_bytes > self(user).limits_.max_header_list) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::string_view name(reinterpret_cast<const char*>(name_p), namelen);
    const std::string_view value(reinterpret_cast<const char*>(value_p), valuelen);
    // nghttp2 has refused malformed responses (RFC 9113 8.1.1, 8.3.2).
    if (!u->head_done) {
      if (name == ":status") std::from_chars(value.data(), value.data() + value.size(), u->status);
      else if (name.front() != ':') u->head.insert(name, value);
    } else if (name.front() != ':') {
      u->trailers.emplace_back(name, value);
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    H2UpstreamSession& s = self(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      s.goaway_ = true;  // no new streams; those above its last stream id close as refused
      if (auto pool = s.pool_.lock()) pool->wake_all();
      return 0;
    }
    H2UpstreamStream* u = stream_of(session, frame->hd.stream_id);
    if (!u) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !u->head_done) {
      if (u->status >= 100 && u->status < 200) {  // interim (1xx): skipped
        u->head.clear();
        u->status = 0;
        u->header_bytes = 0;
      } else {
        u->head_done = true;
      }
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
      u->end_stream = true;
    u->notify();
    return 0;
  }

  static int on_data_chunk_recv(nghttp2_session* session, std::uint8_t, std::int32_t stream_id,
                                const std::uint8_t* data, std::size_t len, void*) {
    H2UpstreamStream* u = stream_of(session, stream_id);
    if (!u) {
      nghttp2_session_consume(session, stream_id, len);
      return 0;
    }
    u->in.append(reinterpret_cast<const char*>(data), len);
    u->notify();
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user) {
    H2UpstreamSession& s = self(user);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end()) return 0;
    H2UpstreamStream& u = *it->second;
    u.closed = true;
    u.error = error_code;
    u.refused = error_code == NGHTTP2_REFUSED_STREAM;
    u.notify();
    s.streams_.erase(it);
    s.stream_closed();
    return 0;
  }
};

H2UpstreamSession::H2UpstreamSession(std::unique_ptr<net::UpstreamConnection> conn, bool tls, const Limits& limits,
                                     std::weak_ptr<H2PoolState> pool)
    : conn_(std::move(conn)),
      tls_(tls),
      limits_(limits),
      pool_(std::move(pool)),
      write_ev_(conn_->stream.get_executor()),
      write_timer_(conn_->stream.get_executor()),
      idle_timer_(conn_->stream.get_executor()) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback(cbs, H2UpstreamCallbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, H2UpstreamCallbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, H2UpstreamCallbacks::on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, H2UpstreamCallbacks::on_stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Windows are given back only once the client took the bytes (consumed()).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_session_client_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(limits_.stream_window)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(std::min<std::uint64_t>(limits_.max_header_list, UINT32_MAX))},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<std::int32_t>(limits_.connection_window));
}

H2UpstreamSession::~H2UpstreamSession() { nghttp2_session_del(session_); }

void H2UpstreamSession::start() {
  auto self = shared_from_this();
  const auto ex = conn_->stream.get_executor();
  spawn(ex, read_loop(self));
  spawn(ex, write_loop(self));
  stream_closed();  // no stream yet: the idle timer runs
}

bool H2UpstreamSession::has_slot() const {
  return !dead_ && !goaway_ &&
         streams_.size() < nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool H2UpstreamSession::submit(const std::shared_ptr<H2UpstreamStream>& u, std::span<const nghttp2_nv> nv,
                               bool has_body) {
  if (!has_slot()) return false;
  nghttp2_data_provider provider{};
  provider.source.ptr = u.get();
  provider.read_callback = read_request_body;
  const std::int32_t id =
      nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), has_body ? &provider : nullptr, u.get());
  if (id < 0) {  // stream ids used up (or out of memory): a new connection takes the next
    goaway_ = true;
    stream_closed();
    return false;
  }
  u->id = id;
  u->session = shared_from_this();
  streams_.emplace(id, u);
  idle_timer_.cancel();
  kick();
  return true;
}

void H2UpstreamSession::resume(H2UpstreamStream& u) {
  if (dead_ || u.closed) return;
  nghttp2_session_resume_data(session_, u.id);
  kick();
}

void H2UpstreamSession::consumed(H2UpstreamStream& u, std::size_t n) {
  if (dead_ || n == 0) return;
  nghttp2_session_consume(session_, u.id, n);  // the connection's window only, once the stream is gone
  kick();
}

void H2UpstreamSession::reset(H2UpstreamStream& u, std::uint32_t error_code) {
  if (dead_ || u.closed) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, u.id, error_code);
  kick();
}

void H2UpstreamSession::retire() {
  goaway_ = true;
  stream_closed();
}

// A stream ended (or none was ever opened): slot waiters try again; an idle
// connection closes after timeouts.upstream_idle, a retired one at once.
void H2UpstreamSession::stream_closed() {
  if (auto pool = pool_.lock()) pool->wake_all();
  if (!streams_.empty() || dead_) return;
  if (goaway_) {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    kick();  // the writer sends GOAWAY, then closes
    return;
  }
  idle_timer_.expires_after(limits_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (!self || ec || !self->streams_.empty()) return;
    self->retire();
  });
}

void H2UpstreamSession::shut() {
  if (dead_) return;
  dead_ = true;
  goaway_ = true;
  error_code ignored;
  conn_->stream.tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  conn_->stream.tcp().close();
  idle_timer_.cancel();
  // The streams still open end here: the connection failed under them.
  for (auto& [id, u] : streams_) {
    u->closed = true;
    if (u->error == 0) u->error = NGHTTP2_INTERNAL_ERROR;
    u->notify();
  }
  streams_.clear();
  if (auto pool = pool_.lock()) {
    std::erase_if(pool->sessions, [this](const auto& s) { return s.get() == this; });
    pool->wake_all();
  }
  write_ev_.notify();
}

asio::awaitable<void> H2UpstreamSession::read_loop(std::shared_ptr<H2UpstreamSession> self) {
  conn_->stream.tcp().expires_never();  // idle: the idle timer; streams: their exchanges' timeouts
  while (!dead_) {
    auto [ec, n] = co_await conn_->stream.async_read_some(asio::buffer(rbuf_), use_tuple);
    if (ec || dead_) break;
    const ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(rbuf_.data()), n);
    if (rv < 0) {
      spdlog::debug("HTTP/2 upstream: {}", nghttp2_strerror(static_cast<int>(rv)));
      break;
    }
    kick();
  }
  shut();
}

asio::awaitable<void> H2UpstreamSession::write_loop(std::shared_ptr<H2UpstreamSession> self) {
  while (!dead_) {
    wbuf_.clear();
    while (wbuf_.size() < kWriteBatch) {
      const std::uint8_t* p = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &p);
      if (n < 0) {
        shut();
        co_return;
      }
      if (n == 0) break;
      wbuf_.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    if (wbuf_.empty()) {
      const bool done = !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
      if (done || (goaway_ && streams_.empty() && !nghttp2_session_want_write(session_))) break;
      const bool woke = co_await write_ev_.wait(kWriterNap);
      (void)woke;
      continue;
    }
    // An upstream that stops reading is cut off after timeouts.upstream_response.
    write_timer_.expires_after(limits_.write_timeout);
    write_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (auto s = weak.lock(); s && !ec) s->shut();
    });
    auto [ec, n] = co_await asio::async_write(conn_->stream, asio::buffer(wbuf_), use_tuple);
    write_timer_.cancel();
    if (ec) break;
  }
  shut();
}

H2UpstreamPool::H2UpstreamPool(asio::any_io_executor ex, const config::Upstream& cfg, const config::Timeouts& timeouts,
                               const config::Http2Config& http2, std::uint64_t max_response_header_bytes,
                               asio::ssl::context* tls)
    : ex_(std::move(ex)),
      cfg_(cfg),
      timeouts_(timeouts),
      tls_(tls),
      server_name_(cfg.tls.server_name.empty() ? cfg.host : cfg.tls.server_name),
      limits_{http2.stream_window_bytes, http2.connection_window_bytes, max_response_header_bytes,
              timeouts.upstream_response, timeouts.upstream_idle},
      state_(std::make_shared<H2PoolState>()) {}

H2UpstreamPool::~H2UpstreamPool() {
  asio::post(ex_, [state = std::move(state_)] {
    auto sessions = state->sessions;  // retire() may shut one, which leaves the list
    for (auto& s : sessions) s->retire();
  });
}

asio::awaitable<error_code> H2UpstreamPool::open(const std::shared_ptr<H2UpstreamStream>& u,
                                                 std::span<const nghttp2_nv> nv, bool has_body) {
  const std::shared_ptr<H2PoolState> state = state_;
  const auto deadline = Clock::now() + timeouts_.upstream_connect;
  std::optional<Event> slot;
  for (;;) {
    std::erase_if(state->sessions, [](const auto& s) { return s->gone(); });
    for (std::size_t i = 0; i < state->sessions.size(); ++i) {
      const auto s = state->sessions[i];
      if (s->has_slot() && s->submit(u, nv, has_body)) co_return error_code{};
    }
    if (state->sessions.size() + state->connecting < cfg_.h2_connections) {
      ++state->connecting;
      const bool alpn_h2 = cfg_.protocol == config::UpstreamProtocol::h2;
      auto [ec, conn] = co_await net::connect_upstream(ex_, cfg_, timeouts_, tls_, server_name_, alpn_h2);
      --state->connecting;
      if (ec) {
        state->wake_all();
        co_return ec;
      }
      const bool tls = conn->stream.is_tls();
      auto session = std::make_shared<H2UpstreamSession>(std::move(conn), tls, limits_, state);
      state->sessions.push_back(session);
      session->start();
      continue;
    }
    // Every connection is at the peer's SETTINGS_MAX_CONCURRENT_STREAMS: wait for a slot.
    const auto now = Clock::now();
    if (now >= deadline) co_return upstream_errc::pool_exhausted;
    if (!slot) slot.emplace(ex_);
    state->waiters.push_back(&*slot);
    const config::Duration left = std::chrono::ceil<config::Duration>(deadline - now);
    const bool woke = co_await slot->wait(left);
    std::erase(state->waiters, &*slot);
    if (!woke) co_return upstream_errc::pool_exhausted;
  }
}

}  // namespace authgate::proxy
