// The Redis client of fleet mode: a few pipelined connections to one server,
// driven by Asio on the client's own thread. hiredis does the protocol (its
// reply reader and command formatter, redis/reply.hpp); the I/O is Asio's, so
// TLS, unix sockets, connect and command timeouts are all ours to bound.
// (hiredis 0.14, Debian 12's, has no TLS and no command timeouts in its async
// API; its adapters would hand our file descriptor to hiredis's own read() and
// write(): docs/ARCHITECTURE.md has the reasons.)
//
// Usage:
//   RedisClient redis(*cfg.redis, metrics);
//   redis.start();                                    // connects in the background
//   const std::vector<std::string> cmd{"GET", redis.key("s:abc")};
//   RedisResult r = co_await redis.exec(cmd);          // from any thread's coroutine
//   if (r.ec) ... // redis_errc: unavailable, timeout, connection_lost, server_error ...
//   redis.stop();                                     // fails what is pending, joins
//
// Rules:
// - exec() never waits for a connection: with none ready it answers
//   unavailable at once, so callers can answer 503 quickly while Redis is down.
// - Each command gets its reply within redis.command_timeout or `timeout`;
//   a timeout drops that connection (later replies could no longer be matched).
// - A broken connection fails its in-flight commands (connection_lost) and is
//   re-established with exponential backoff from reconnect_min to reconnect_max
//   (with jitter), AUTH and SELECT included.
// - Health comes from replies: a connection is ready only once it has answered
//   PING (after AUTH/SELECT); an idle one sends PING every health_check_interval;
//   a command or PING unanswered for down_after (at most command_timeout) makes
//   up() false and exec() answer unavailable at once, until any reply arrives.
//   (A frozen Redis still completes TCP connects in the kernel's backlog.)
// - The caller resumes on its own executor. GCC 12: `args` must be a named
//   object that outlives the co_await (see docs/ARCHITECTURE.md).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/config.hpp"
#include "redis/redis_errc.hpp"
#include "redis/reply.hpp"

namespace authgate::metrics {
class Metrics;
}

namespace authgate::redis {

struct RedisResult {
  std::error_code ec;  // empty: `value` is the reply (never an error reply)
  RedisValue value;    // for server_error, the error text is value.str
};

class RedisClient {
 public:
  RedisClient(const config::RedisConfig& cfg, metrics::Metrics& metrics);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  void start();
  void stop();

  boost::asio::awaitable<RedisResult> exec(const std::vector<std::string>& args);

  bool up() const;                 // a connection is ready and no command has waited down_after
  bool was_up() const;             // up() has been true at least once since start
  std::string key(std::string_view suffix) const { return prefix_ + std::string(suffix); }
  const std::string& address() const { return address_; }  // host:port or unix:/path, for logs
  const config::RedisConfig& config() const { return cfg_; }

 private:
  struct Impl;
  const config::RedisConfig cfg_;
  const std::string prefix_;
  const std::string address_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authgate::redis
