// Loopback socket helpers for the integration harness. Everything here is
// bounded in time: callers pass a Deadline, nothing blocks forever.
//
// Usage:
//   support::PortReservation nobody;   // a port nothing listens on, held until destroyed
//   support::Fd fd = support::connect_loopback(nobody.port(), support::Deadline::in(2s));  // refused
//   support::send_all(fd.get(), "GET / HTTP/1.1\r\n\r\n", support::Deadline::in(2s));
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace support {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// An absolute point in time; remaining() never goes negative.
class Deadline {
 public:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline in(Clock::duration d) { return Deadline(Clock::now() + d); }
  Clock::time_point at() const { return at_; }
  bool expired() const { return Clock::now() >= at_; }
  // Milliseconds left, rounded up, at least 0; capped so poll() takes it.
  int poll_ms() const;

 private:
  Clock::time_point at_;
};

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind :0, read, close). Racy: another
// process may take it before the caller binds it. Prefer port 0 for servers that report
// the port they got, a PortReservation for "nobody listens here" and for servers that can
// share one, and retrying on a fresh port (RedisServer) where neither works.
std::uint16_t free_port();

// A TCP port on 127.0.0.1 held for this object's lifetime by a socket that is bound but
// never listens: connections to it are refused (RST), and bind(0) / connect() elsewhere
// never pick it, so no other test can be handed it. What may share the port:
//   Share::none       nothing (the plain "nobody listens here" address)
//   Share::reuseport  sockets of the same user that set SO_REUSEPORT too (authgate's
//                     proxy workers); a listener among them gets every connection, this
//                     socket none (only listening sockets join the SO_REUSEPORT group)
//   Share::reuseaddr  sockets that set SO_REUSEADDR and bind the port explicitly (node,
//                     redis-server), as long as this socket does not listen (Linux)
class PortReservation {
 public:
  enum class Share { none, reuseport, reuseaddr };
  // Binds 127.0.0.1:`port` (0: a free port); throws std::runtime_error when that fails.
  explicit PortReservation(Share share = Share::none, std::uint16_t port = 0);
  PortReservation(PortReservation&&) = default;
  PortReservation& operator=(PortReservation&&) = default;
  std::uint16_t port() const { return port_; }
  bool held() const { return fd_.valid(); }
  void release() { fd_.reset(); }

 private:
  Fd fd_;
  std::uint16_t port_ = 0;
};

// Listening socket on 127.0.0.1:port (0 = any); returns the bound port via `bound`.
Fd listen_loopback(std::uint16_t port, int backlog, std::uint16_t* bound);

// Non-blocking connect with a deadline; invalid Fd on failure (errno_out gets errno).
// The returned socket is blocking again (all reads/writes here use poll anyway).
Fd connect_loopback(std::uint16_t port, Deadline deadline, int* errno_out = nullptr);

// Writes all of `data`; false on error or deadline.
bool send_all(int fd, std::string_view data, Deadline deadline);

enum class RecvStatus { data, eof, timeout, error };

// Receives up to `cap` bytes: data (n > 0), eof, timeout or error (ECONNRESET counts as error).
RecvStatus recv_some(int fd, char* buf, std::size_t cap, Deadline deadline, std::size_t& n);

// Closes with an RST instead of a FIN (SO_LINGER 0).
void close_with_reset(Fd& fd);

// Sleeps in small steps until `d` passed or `stop` became true.
template <class StopFlag>
void interruptible_sleep(Clock::duration d, const StopFlag& stop);

void sleep_for(Clock::duration d);

}  // namespace support

#include <atomic>
#include <thread>

template <class StopFlag>
void support::interruptible_sleep(Clock::duration d, const StopFlag& stop) {
  auto until = Clock::now() + d;
  while (Clock::now() < until && !stop) {
    auto left = until - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(left, 20ms));
  }
}
