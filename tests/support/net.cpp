#include "support/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace support {

int Deadline::poll_ms() const {
  auto left = std::chrono::duration_cast<Millis>(at_ - Clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count() + 1, INT_MAX / 2));
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {
sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}
}  // namespace

std::uint16_t free_port() {
  std::uint16_t port = 0;
  Fd fd = listen_loopback(0, 1, &port);
  return port;
}

PortReservation::PortReservation(Share share, std::uint16_t port) {
  fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) throw std::runtime_error("socket() failed");
  int one = 1;
  // Only the one option asked for: with SO_REUSEADDR set, any process could bind the port
  // while nothing listens; with SO_REUSEPORT, any process of this user that sets it too.
  if (share == Share::reuseport) ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (share == Share::reuseaddr) ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(port);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("bind(127.0.0.1:" + std::to_string(port) + ") failed: " + std::strerror(errno));
  socklen_t len = sizeof a;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

Fd listen_loopback(std::uint16_t port, int backlog, std::uint16_t* bound) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw std::runtime_error("socket() failed");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("bind(127.0.0.1:" + std::to_string(port) + ") failed");
  if (::listen(fd.get(), backlog) != 0) throw std::runtime_error("listen() failed");
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  if (bound) *bound = ntohs(a.sin_port);
  return fd;
}

Fd connect_loopback(std::uint16_t port, Deadline deadline, int* errno_out) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    if (errno_out) *errno_out = errno;
    return {};
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto a = loopback(port);
  int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (rc != 0 && errno != EINPROGRESS) {
    if (errno_out) *errno_out = errno;
    return {};
  }
  if (rc != 0) {
    pollfd p{fd.get(), POLLOUT, 0};
    int n = ::poll(&p, 1, deadline.poll_ms());
    if (n <= 0) {
      if (errno_out) *errno_out = ETIMEDOUT;
      return {};
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      if (errno_out) *errno_out = err;
      return {};
    }
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  if (errno_out) *errno_out = 0;
  return fd;
}

bool send_all(int fd, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, deadline.poll_ms());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

RecvStatus recv_some(int fd, char* buf, std::size_t cap, Deadline deadline, std::size_t& n) {
  n = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, deadline.poll_ms());
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return RecvStatus::error;
    if (rc == 0) return RecvStatus::timeout;
    ssize_t r = ::recv(fd, buf, cap, MSG_DONTWAIT);
    if (r > 0) {
      n = static_cast<std::size_t>(r);
      return RecvStatus::data;
    }
    if (r == 0) return RecvStatus::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (deadline.expired()) return RecvStatus::timeout;
      continue;
    }
    return RecvStatus::error;
  }
}

void close_with_reset(Fd& fd) {
  if (!fd.valid()) return;
  linger l{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

void sleep_for(Clock::duration d) { std::this_thread::sleep_for(d); }

}  // namespace support
