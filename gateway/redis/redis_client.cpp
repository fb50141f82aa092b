#include "redis/redis_client.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "metrics/metrics.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"

namespace authgate::redis {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Handler = asio::any_completion_handler<void(RedisResult)>;

namespace {

const char* result_label(const std::error_code& ec) {
  if (!ec) return "ok";
  switch (static_cast<redis_errc>(ec.value())) {
    case redis_errc::server_error: return "error_reply";
    case redis_errc::timeout: return "timeout";
    case redis_errc::protocol:
    case redis_errc::reply_too_large: return "protocol";
    default: return "unavailable";
  }
}

}  // namespace

// One command on its way: completed exactly once, on the caller's executor.
struct Request {
  std::string wire;
  asio::any_io_executor executor;
  Handler handler;
  Clock::time_point started;
  Clock::time_point deadline;
  bool done = false;
  bool health_check = false;  // the client's own PING: no caller, not in the command metrics
  bool flagged = false;       // has waited redis.down_after: counted in an unresponsive period
};
using RequestPtr = std::shared_ptr<Request>;

struct RedisClient::Impl {
  struct Connection;

  Impl(const config::RedisConfig& c, metrics::Metrics& m, std::string addr)
      : cfg(c), metrics(m), address(std::move(addr)), work(asio::make_work_guard(io)) {
    if (cfg.tls) {
      config::UpstreamTls t;
      t.ca_file = cfg.tls->ca_file;
      t.server_name = cfg.tls->server_name;
      t.verify = cfg.tls->verify;
      tls_ctx = net::make_client_context(t);  // start-up: may throw
    }
    for (std::size_t i = 0; i < cfg.connections; ++i) connections.push_back(std::make_unique<Connection>(*this, i));
  }

  void complete(const RequestPtr& r, RedisResult result) {
    if (r->done) return;
    r->done = true;
    if (r->health_check) return;
    metrics.redis_commands.Add({{"result", result_label(result.ec)}}).Increment();
    metrics.redis_command_duration.Observe(std::chrono::duration<double>(Clock::now() - r->started).count());
    asio::post(r->executor, [h = std::move(r->handler), res = std::move(result)]() mutable { std::move(h)(std::move(res)); });
  }

  void submit(std::string wire, asio::any_io_executor ex, Handler h) {
    // Under closing_mu: a command posted here is either seen by stop()'s last poll or
    // answered at once, never left in a queue that nothing runs.
    std::lock_guard lock(closing_mu);
    if (closed) {  // stop() has joined the thread: nothing would run a posted dispatch
      asio::post(ex, [h = std::move(h)]() mutable {
        std::move(h)(RedisResult{make_error_code(redis_errc::shutting_down), {}});
      });
      return;
    }
    // Constructed, never assigned: Boost 1.81's any_completion_handler move
    // assignment recurses forever (docs/ARCHITECTURE.md, pitfalls).
    const auto now = Clock::now();
    auto r = std::make_shared<Request>(Request{std::move(wire), std::move(ex), std::move(h), now,
                                               now + cfg.command_timeout, false, false, false});
    asio::post(io, [this, r] { dispatch(r); });
  }

  void dispatch(const RequestPtr& r);
  void set_ready(bool ready);
  void update_gauge() { up_gauge->Set(ready_count.load() > 0 && !unresponsive_flag.load() ? 1 : 0); }

  // A command (or PING) has waited down_after: Redis is reported down, and commands
  // fail at once, until any reply arrives (io thread).
  void mark_unresponsive() {
    if (unresponsive) return;
    unresponsive = true;
    unresponsive_flag.store(true);
    unresponsive_counter->Increment();
    spdlog::warn("redis {}: no reply within {} ms (redis.down_after); reporting Redis down until it answers",
                 address, down_after().count());
    update_gauge();
  }
  // A reply arrived (or a fresh connection answered PING): Redis answers again.
  void mark_answered() {
    if (!unresponsive) return;
    unresponsive = false;
    unresponsive_flag.store(false);
    spdlog::info("redis {}: answering again", address);
    update_gauge();
  }
  std::chrono::milliseconds down_after() const { return std::min(cfg.down_after, cfg.command_timeout); }

  const config::RedisConfig cfg;
  metrics::Metrics& metrics;
  const std::string address;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::shared_ptr<asio::ssl::context> tls_ctx;
  std::vector<std::unique_ptr<Connection>> connections;
  std::size_t next = 0;  // round robin (io thread only)
  std::atomic<int> ready_count{0};
  std::atomic<bool> ever_ready{false};
  prometheus::Gauge* up_gauge = &metrics.redis_up.Add({});
  prometheus::Counter* unresponsive_counter = &metrics.redis_unresponsive.Add({});
  bool unresponsive = false;  // io thread
  std::atomic<bool> unresponsive_flag{false};  // its copy for up() and the gauge
  bool stopping = false;  // io thread only
  std::mutex closing_mu;
  bool closed = false;  // under closing_mu
  std::thread thread;
  std::mt19937 rng{std::random_device{}()};
};

struct RedisClient::Impl::Connection {
  Connection(Impl& o, std::size_t i) : owner(o), index(i), backoff(o.io), watchdog(o.io) {}

  Impl& owner;
  const std::size_t index;
  std::optional<net::Stream> tcp;                           // TCP or TLS
  std::optional<asio::local::stream_protocol::socket> local;  // unix socket
  std::optional<asio::ip::tcp::resolver> resolver;             // while a host name is resolved
  std::unique_ptr<ReplyReader> reader;
  std::deque<RequestPtr> in_flight;  // written (or queued to write), replies come in this order
  std::string out;                   // queued bytes not yet handed to a write
  bool writing = false;
  bool ready = false;
  std::uint64_t generation = 0;
  Clock::time_point last_sent{};  // the last command (or PING) written: idle time for health checks
  asio::steady_timer backoff;
  asio::steady_timer watchdog;

  // ---- byte I/O over whichever socket this connection uses ----
  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(asio::mutable_buffer b) {
    if (local) co_return co_await local->async_read_some(b, asio::as_tuple(asio::use_awaitable));
    co_return co_await tcp->async_read_some(b, asio::as_tuple(asio::use_awaitable));
  }
  asio::awaitable<boost::system::error_code> write_all(const std::string& bytes) {
    if (local) {
      auto [ec, n] = co_await asio::async_write(*local, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(*tcp, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }
  void close_socket() {
    boost::system::error_code ignored;
    // Drops the lookup's completion: the attempt ends at the connect deadline or stop().
    // A getaddrinfo() already running on Asio's resolver thread still runs to its end.
    if (resolver) resolver->cancel();
    if (local) local->close(ignored);
    if (tcp) tcp->tcp().socket().close(ignored);
  }

  // Ends this connection: every command still waiting fails with `why`.
  void fail(redis_errc why) {
    ++generation;
    if (ready) {
      ready = false;
      owner.set_ready(false);
    }
    close_socket();
    watchdog.cancel();
    writing = false;
    out.clear();
    auto pending = std::move(in_flight);
    in_flight.clear();
    for (auto& r : pending) owner.complete(r, RedisResult{make_error_code(why), {}});
  }

  void send(const RequestPtr& r) {
    in_flight.push_back(r);
    last_sent = Clock::now();
    // An idle watchdog sleeps until the next health check: wake it for this command's deadlines.
    if (in_flight.size() == 1) watchdog.cancel();
    out += r->wire;
    if (!writing) {
      writing = true;
      asio::co_spawn(owner.io, write_loop(generation), asio::detached);
    }
  }

  asio::awaitable<void> write_loop(std::uint64_t gen) {
    while (gen == generation && !out.empty()) {
      std::string chunk;  // owned by this loop: a later generation never touches it
      chunk.swap(out);
      auto ec = co_await write_all(chunk);
      if (gen != generation) co_return;
      if (ec) {
        spdlog::warn("redis {}: write failed: {}", owner.address, ec.message());
        fail(redis_errc::connection_lost);
        co_return;
      }
    }
    if (gen == generation) writing = false;
  }

  // Times out the oldest command; commands are answered in order, so the oldest
  // has the earliest deadline. Also the health check: a command waiting down_after
  // reports Redis down, and an idle connection sends PING every health_check_interval.
  asio::awaitable<void> watch(std::uint64_t gen) {
    const auto down_after = owner.down_after();
    while (gen == generation) {
      Clock::time_point wake;
      if (in_flight.empty()) {
        wake = last_sent + owner.cfg.health_check_interval;
      } else {
        const Request& oldest = *in_flight.front();
        wake = oldest.flagged ? oldest.deadline : std::min(oldest.deadline, oldest.started + down_after);
      }
      watchdog.expires_at(wake);
      co_await watchdog.async_wait(asio::as_tuple(asio::use_awaitable));
      if (gen != generation) co_return;
      const auto now = Clock::now();
      if (in_flight.empty()) {
        if (now >= last_sent + owner.cfg.health_check_interval) send_ping();
        continue;
      }
      Request& oldest = *in_flight.front();
      if (!oldest.flagged && now >= oldest.started + down_after) {
        oldest.flagged = true;
        owner.mark_unresponsive();
      }
      if (oldest.deadline <= now) {
        spdlog::warn("redis {}: no reply within {} ms; reconnecting", owner.address,
                     owner.cfg.command_timeout.count());
        fail(redis_errc::timeout);
        co_return;
      }
    }
  }

  void send_ping() {
    static const std::string ping = encode_command({"PING"});
    const auto now = Clock::now();
    send(std::make_shared<Request>(Request{ping, owner.io.get_executor(), Handler{}, now,
                                           now + owner.cfg.command_timeout, false, true, false}));
  }

  // One handshake round trip (AUTH, SELECT, PING) before the connection is ready.
  asio::awaitable<std::error_code> handshake_command(const std::vector<std::string>& args, std::string& why) {
    const std::string wire = encode_command(args);
    if (auto ec = co_await write_all(wire)) {
      why = ec.message();
      co_return redis_errc::connection_lost;
    }
    std::array<char, 4096> buf;
    RedisValue v;
    for (;;) {
      const auto st = reader->next(v);
      if (st == ReplyReader::Status::protocol_error) {
        why = reader->error();
        co_return redis_errc::protocol;
      }
      if (st == ReplyReader::Status::reply) break;
      auto [ec, n] = co_await read_some(asio::buffer(buf));
      if (ec) {
        why = ec.message();
        co_return redis_errc::connection_lost;
      }
      reader->feed({buf.data(), n});
    }
    if (v.is_error()) {
      why = args[0] + ": " + v.str;
      co_return redis_errc::server_error;
    }
    co_return std::error_code{};
  }

  asio::awaitable<std::error_code> connect(std::string& why) {
    const auto& cfg = owner.cfg;
    const std::uint64_t gen = ++generation;
    reader = std::make_unique<ReplyReader>();
    tcp.reset();
    local.reset();
    // connect_timeout bounds resolve + connect + TLS + AUTH + SELECT. The
    // flags are shared: the timer's handler may run after this attempt ended.
    struct Attempt {
      bool active = true;
      bool timed_out = false;
    };
    auto attempt = std::make_shared<Attempt>();
    const bool& timed_out = attempt->timed_out;
    watchdog.expires_after(cfg.connect_timeout);
    watchdog.async_wait([this, gen, attempt](boost::system::error_code ec) {
      if (ec || !attempt->active || gen != generation) return;
      attempt->timed_out = true;
      close_socket();
    });
    boost::system::error_code ec;
    if (!cfg.unix_socket.empty()) {
      local.emplace(owner.io);
      const asio::local::stream_protocol::endpoint endpoint(cfg.unix_socket);
      std::tie(ec) = co_await local->async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
    } else {
      resolver.emplace(owner.io);
      const std::string port = std::to_string(cfg.port);  // named: GCC 12 (docs/ARCHITECTURE.md)
      auto [rec, results] = co_await resolver->async_resolve(cfg.host, port, asio::as_tuple(asio::use_awaitable));
      resolver.reset();
      ec = rec;
      // stop() (fail) cancels the watchdog: without this check the connect would have no deadline.
      if (!ec && owner.stopping) ec = asio::error::operation_aborted;
      if (!ec && !timed_out) {
        if (owner.tls_ctx) tcp.emplace(boost::beast::tcp_stream(owner.io), *owner.tls_ctx);
        else tcp.emplace(boost::beast::tcp_stream(owner.io));
        auto [cec, endpoint] = co_await asio::async_connect(tcp->tcp().socket(), results,
                                                            asio::as_tuple(asio::use_awaitable));
        ec = cec;
      }
      if (!ec && !timed_out && owner.tls_ctx) {
        const std::string name = cfg.tls->server_name.empty() ? cfg.host : cfg.tls->server_name;
        if (!net::configure_client_stream(tcp->tls(), name, cfg.tls->verify)) {
          ec = asio::error::invalid_argument;
        } else {
          std::tie(ec) = co_await tcp->tls().async_handshake(asio::ssl::stream_base::client,
                                                             asio::as_tuple(asio::use_awaitable));
        }
      }
    }
    std::error_code result;
    if (timed_out) {
      why = "connect timed out";
      result = redis_errc::timeout;
    } else if (ec) {
      why = ec.message();
      result = redis_errc::unavailable;
    }
    if (!result && !cfg.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!cfg.username.empty()) auth.push_back(cfg.username);
      auth.push_back(cfg.password);
      result = co_await handshake_command(auth, why);
    }
    if (!result && cfg.db != 0) {
      const std::vector<std::string> select{"SELECT", std::to_string(cfg.db)};
      result = co_await handshake_command(select, why);
    }
    if (!result) {  // health from replies: a frozen server accepts the connect but never answers
      const std::vector<std::string> ping{"PING"};
      result = co_await handshake_command(ping, why);
    }
    if (timed_out && result != redis_errc::timeout) {  // the deadline closed the socket under AUTH/SELECT
      why = result ? "connect timed out (" + why + ")" : "connect timed out";
      result = redis_errc::timeout;
    }
    attempt->active = false;
    watchdog.cancel();
    if (result) close_socket();
    co_return result;
  }

  asio::awaitable<void> read_loop(std::uint64_t gen) {
    std::array<char, 16 * 1024> buf;
    RedisValue v;
    while (gen == generation) {
      auto [ec, n] = co_await read_some(asio::buffer(buf));
      if (gen != generation) co_return;
      if (ec) {
        if (!owner.stopping) spdlog::warn("redis {}: connection lost: {}", owner.address, ec.message());
        fail(redis_errc::connection_lost);
        co_return;
      }
      reader->feed({buf.data(), n});
      for (;;) {
        const auto st = reader->next(v);
        if (st == ReplyReader::Status::need_more) break;
        if (st == ReplyReader::Status::protocol_error || in_flight.empty()) {
          spdlog::error("redis {}: protocol error: {}", owner.address,
                        st == ReplyReader::Status::protocol_error ? reader->error() : "a reply nobody asked for");
          fail(redis_errc::protocol);
          co_return;
        }
        RequestPtr r = std::move(in_flight.front());
        in_flight.pop_front();
        owner.mark_answered();
        if (v.is_error()) owner.complete(r, RedisResult{make_error_code(redis_errc::server_error), std::move(v)});
        else owner.complete(r, RedisResult{{}, std::move(v)});
        v = RedisValue{};
      }
      if (reader->buffered() > owner.cfg.max_reply_bytes) {
        spdlog::error("redis {}: a reply exceeds redis.max_reply_bytes ({})", owner.address, owner.cfg.max_reply_bytes);
        fail(redis_errc::reply_too_large);
        co_return;
      }
    }
  }

  asio::awaitable<void> run() {
    auto delay = owner.cfg.reconnect_min;
    bool was_up = true;  // the first failure is logged
    while (!owner.stopping) {
      std::string why;
      const std::error_code ec = co_await connect(why);
      if (owner.stopping) break;
      if (!ec) {
        delay = owner.cfg.reconnect_min;
        ready = true;
        last_sent = Clock::now();
        owner.set_ready(true);
        owner.mark_answered();  // it answered PING just now
        if (!was_up || index == 0) spdlog::info("redis {}: connection {} ready", owner.address, index);
        was_up = true;
        const std::uint64_t gen = generation;
        asio::co_spawn(owner.io, watch(gen), asio::detached);
        co_await read_loop(gen);
        if (owner.stopping) break;
      } else {
        if (was_up || delay >= owner.cfg.reconnect_max)
          spdlog::warn("redis {}: connection {} failed: {}; retrying with backoff up to {} ms", owner.address, index,
                       why, owner.cfg.reconnect_max.count());
        was_up = false;
      }
      // Jitter: 80%..120% of the delay, so a fleet does not reconnect in step.
      std::uniform_real_distribution<double> jitter(0.8, 1.2);
      backoff.expires_after(std::chrono::duration_cast<Clock::duration>(delay * jitter(owner.rng)));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      delay = std::min(delay * 2, owner.cfg.reconnect_max);
    }
  }
};

void RedisClient::Impl::dispatch(const RequestPtr& r) {
  if (stopping) {
    complete(r, RedisResult{make_error_code(redis_errc::shutting_down), {}});
    return;
  }
  if (unresponsive) {  // queueing behind a server that does not answer would only wait command_timeout
    complete(r, RedisResult{make_error_code(redis_errc::unavailable), {}});
    return;
  }
  const std::size_t n = connections.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto& c = *connections[(next + i) % n];
    if (c.ready) {
      next = (next + i + 1) % n;
      c.send(r);
      return;
    }
  }
  complete(r, RedisResult{make_error_code(redis_errc::unavailable), {}});
}

void RedisClient::Impl::set_ready(bool ready) {
  const int now = ready_count.fetch_add(ready ? 1 : -1) + (ready ? 1 : -1);
  if (now > 0) ever_ready.store(true);
  update_gauge();
}

RedisClient::RedisClient(const config::RedisConfig& cfg, metrics::Metrics& metrics)
    : cfg_(cfg), prefix_(cfg.key_prefix), address_(cfg.address_text()),
      impl_(std::make_unique<Impl>(cfg, metrics, address_)) {}

RedisClient::~RedisClient() { stop(); }

void RedisClient::start() {
  if (impl_->thread.joinable()) return;
  for (auto& c : impl_->connections) asio::co_spawn(impl_->io, c->run(), asio::detached);
  impl_->thread = std::thread([io = &impl_->io] { io->run(); });
}

void RedisClient::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->stopping = true;
    for (auto& c : impl->connections) {
      c->fail(redis_errc::shutting_down);
      c->backoff.cancel();
    }
  });
  impl_->work.reset();
  impl_->thread.join();
  {
    std::lock_guard lock(impl_->closing_mu);
    impl_->closed = true;
  }
  // Commands posted between the last dispatch and the join are answered here.
  impl_->io.restart();
  impl_->io.poll();
}

asio::awaitable<RedisResult> RedisClient::exec(const std::vector<std::string>& args) {
  auto ex = co_await asio::this_coro::executor;
  // The initiation captures raw pointers only (GCC 12, see the header).
  auto* exp = &ex;
  auto* argsp = &args;
  auto* impl = impl_.get();
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(RedisResult)>(
      [impl, exp, argsp](auto handler) { impl->submit(encode_command(*argsp), *exp, Handler(std::move(handler))); },
      asio::use_awaitable);
}

bool RedisClient::up() const { return impl_->ready_count.load() > 0 && !impl_->unresponsive_flag.load(); }
bool RedisClient::was_up() const { return impl_->ever_ready.load(); }

}  // namespace authgate::redis
