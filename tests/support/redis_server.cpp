#include "support/redis_server.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "support/files.hpp"

namespace support {

namespace {
constexpr const char* kRedisServer = "/usr/bin/redis-server";

// waitpid with a deadline; true when the process has exited.
bool reap(pid_t pid, Clock::duration timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}
}  // namespace

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) { reserve_ports(); }

void RedisServer::reserve_ports() {
  hold_.emplace(PortReservation::Share::reuseaddr);
  port_ = hold_->port();
  if (options_.tls_cert_file.empty()) {
    plain_hold_.reset();
    plain_port_ = port_;
  } else {
    plain_hold_.emplace(PortReservation::Share::reuseaddr);
    plain_port_ = plain_hold_->port();
  }
}

RedisServer::~RedisServer() { kill(); }

std::optional<std::string> RedisServer::skip_reason() {
  if (::access(kRedisServer, X_OK) != 0)
    return std::string(kRedisServer) + " is missing (Debian package redis-server; scripts/install-deps.sh test)";
  return std::nullopt;
}

::testing::AssertionResult RedisServer::start(Clock::duration ready_timeout) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "redis-server already running";
  for (int attempt = 1;; ++attempt) {
    bool bind_failed = false;
    auto r = spawn(ready_timeout, bind_failed);
    if (r) served_ = true;
    if (r || !bind_failed || served_ || attempt == 3) return r;
    std::cerr << "[support] redis-server: port " << port_ << " or " << plain_port_
              << " was taken; retrying on fresh ports\n";
    std::ofstream(dir_.file("redis.log"), std::ios::trunc);  // this attempt's log only
    reserve_ports();
  }
}

::testing::AssertionResult RedisServer::spawn(Clock::duration ready_timeout, bool& bind_failed) {
  std::vector<std::string> argv{kRedisServer, "--bind", "127.0.0.1", "--port", std::to_string(plain_port_),
                                "--dir", dir_.path(), "--dbfilename", "dump.rdb", "--save", "",
                                "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                                "--logfile", dir_.file("redis.log")};
  if (!options_.tls_cert_file.empty())
    argv.insert(argv.end(), {"--tls-port", std::to_string(port_), "--tls-cert-file", options_.tls_cert_file,
                             "--tls-key-file", options_.tls_key_file, "--tls-auth-clients", "no"});
  if (!options_.password.empty()) argv.insert(argv.end(), {"--requirepass", options_.password});
  if (options_.unix_socket) argv.insert(argv.end(), {"--unixsocket", unix_socket_path(), "--unixsocketperm", "700"});
  pid_ = spawn_process(argv, dir_.file("stdout.log"), dir_.file("stderr.log"));
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed";
  const auto end = Clock::now() + ready_timeout;
  while (Clock::now() < end) {
    auto pong = command({"PING"}, 500ms);
    if (pong && pong->type == authgate::redis::RedisValue::Type::status && pong->str == "PONG")
      return ::testing::AssertionSuccess();
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // "Could not create server TCP listening socket 127.0.0.1:N: bind: Address already in use"
      bind_failed = log().find("Address already in use") != std::string::npos;
      return ::testing::AssertionFailure() << "redis-server exited: " << log();
    }
    std::this_thread::sleep_for(20ms);
  }
  kill();
  return ::testing::AssertionFailure() << "redis-server did not answer PING on " << port_ << ": " << log();
}

bool RedisServer::stop(bool save) {
  if (pid_ <= 0) return true;
  command({"SHUTDOWN", save ? "SAVE" : "NOSAVE"}, 5s);  // the connection drops: no reply
  if (reap(pid_, 10s)) {
    pid_ = -1;
    return true;
  }
  kill();
  return false;
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(pid_, 5s);
  pid_ = -1;
}

std::optional<authgate::redis::RedisValue> RedisServer::command(const std::vector<std::string>& args,
                                                                Clock::duration timeout) const {
  const Deadline deadline = Deadline::in(timeout);
  Fd fd = connect_loopback(plain_port_, deadline);
  std::string wire;
  if (!options_.password.empty()) wire = authgate::redis::encode_command({"AUTH", options_.password});
  wire += authgate::redis::encode_command(args);
  if (!fd.valid() || !send_all(fd.get(), wire, deadline)) return std::nullopt;
  authgate::redis::ReplyReader reader;
  authgate::redis::RedisValue v;
  bool authenticated = options_.password.empty();
  char buf[16 * 1024];
  for (;;) {
    const auto st = reader.next(v);
    if (st == authgate::redis::ReplyReader::Status::reply && !authenticated) {
      authenticated = true;  // AUTH's +OK; the next reply is the command's
      continue;
    }
    if (st == authgate::redis::ReplyReader::Status::reply) return v;
    if (st == authgate::redis::ReplyReader::Status::protocol_error) return std::nullopt;
    std::size_t n = 0;
    if (recv_some(fd.get(), buf, sizeof buf, deadline, n) != RecvStatus::data) return std::nullopt;
    reader.feed({buf, n});
  }
}

std::string RedisServer::log() const {
  std::string s = read_text(dir_.file("redis.log"));
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace support
