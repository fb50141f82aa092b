// A real redis-server (Debian's redis-server package) on 127.0.0.1 for one
// test: a fresh data directory, a free port, no persistence except what
// stop(/*save=*/true) writes, which the next start() on the same port loads —
// so a test can take Redis away and bring it back with its data.
//
// Ports: redis-server cannot listen on port 0 (--port 0 turns TCP off), so the port is
// reserved at construction (PortReservation, Share::reuseaddr: a bound socket that never
// listens; redis binds with SO_REUSEADDR next to it) and held for this object's lifetime:
// bind(0) and connect() elsewhere never pick it, also while Redis is stopped. Should
// another process bind it anyway (one that picked the number earlier with free_port()),
// the first start() sees redis-server's "Address already in use" and retries on fresh
// ports (at most 3 attempts). Later starts reuse the port: clients know it.
//
// Usage:
//   support::RedisServer redis;
//   ASSERT_TRUE(redis.start());
//   auto v = redis.command({"KEYS", "authgate:*"});   // hiredis's reader (gateway/redis/reply.hpp)
//   redis.stop(/*save=*/true);  ...  ASSERT_TRUE(redis.start());   // same port, same data
//   redis.kill();                                      // SIGKILL, nothing saved
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "redis/reply.hpp"
#include "support/gateway_process.hpp"
#include "support/net.hpp"

namespace support {

struct RedisServerOptions {
  // TLS on port() (with this certificate and key; clients are not asked for one), plus a
  // plain port for command().
  std::string tls_cert_file, tls_key_file;
  bool unix_socket = false;  // also listen on unix_socket_path()
  std::string password;      // --requirepass; command() authenticates with it
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  static std::optional<std::string> skip_reason();  // no redis-server binary

  ::testing::AssertionResult start(Clock::duration ready_timeout = 10s);
  // SHUTDOWN [SAVE|NOSAVE] and wait for the exit.
  bool stop(bool save);
  void kill();
  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string unix_socket_path() const { return dir_.file("redis.sock"); }
  pid_t pid() const { return pid_; }

  // One command on its own connection; nullopt when Redis does not answer.
  std::optional<authgate::redis::RedisValue> command(const std::vector<std::string>& args,
                                                     Clock::duration timeout = 2s) const;
  std::string log() const;

 private:
  // Spawns redis-server and waits for PING; `bind_failed` tells whether it exited because
  // a port was taken.
  ::testing::AssertionResult spawn(Clock::duration ready_timeout, bool& bind_failed);
  void reserve_ports();

  RedisServerOptions options_;
  TempDir dir_;
  std::optional<PortReservation> hold_;        // port_
  std::optional<PortReservation> plain_hold_;  // plain_port_, with TLS only
  std::uint16_t port_ = 0;
  std::uint16_t plain_port_ = 0;  // == port_ without TLS
  pid_t pid_ = -1;
  bool served_ = false;  // a start() succeeded: the port is known to clients, keep it
};

}  // namespace support
