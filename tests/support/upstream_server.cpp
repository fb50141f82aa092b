#include "support/upstream_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>

namespace support {

// ---- UpstreamConnection ----------------------------------------------------

UpstreamConnection::UpstreamConnection(UpstreamServer& server, Fd fd, int id)
    : server_(server), fd_(std::move(fd)), id_(id), reader_(fd_.get()) {}

bool UpstreamConnection::send(std::string_view data, Clock::duration timeout) {
  if (!fd_.valid()) return false;
  return send_all(fd_.get(), data, Deadline::in(timeout));
}

bool UpstreamConnection::respond(int status, std::string_view body,
                                 const std::vector<Header>& headers,
                                 std::string_view content_type) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Test\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  out += "\r\n";
  out += body;
  return send(out);
}

bool UpstreamConnection::read_body(const RequestHead& head, const Sink& sink,
                                   Clock::duration timeout) {
  body_read_ = true;
  auto deadline = Deadline::in(timeout);
  auto te = head.headers.get("Transfer-Encoding");
  if (te && has_token(*te, "chunked")) return reader_.read_chunked(sink, deadline);
  if (auto cl = head.headers.get("Content-Length")) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc{}) return false;
    return reader_.read_exact(n, sink, deadline);
  }
  return true;
}

std::optional<std::string> UpstreamConnection::read_body_string(const RequestHead& head,
                                                                std::size_t cap,
                                                                std::uint64_t* total) {
  std::string body;
  std::uint64_t n = 0;
  bool ok = read_body(head, [&](const char* d, std::size_t len) {
    n += len;
    if (body.size() < cap) body.append(d, std::min(len, cap - body.size()));
  });
  if (total) *total = n;
  if (!ok) return std::nullopt;
  return body;
}

void UpstreamConnection::close() {
  std::lock_guard lock(fd_mu_);
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
  fd_.reset();
}

void UpstreamConnection::reset() {
  std::lock_guard lock(fd_mu_);
  close_with_reset(fd_);
}

void UpstreamConnection::sleep(Clock::duration d) { interruptible_sleep(d, server_.stop_); }

bool UpstreamConnection::stopping() const { return server_.stop_.load(); }

// ---- UpstreamServer --------------------------------------------------------

UpstreamServer::UpstreamServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = listen_loopback(0, 128, &port_);
  acceptor_ = std::thread([this] { accept_loop(); });
}

UpstreamServer::~UpstreamServer() { stop(); }

void UpstreamServer::stop() {
  if (stop_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (auto& w : live_)
      if (auto c = w.lock()) {
        std::lock_guard fd_lock(c->fd_mu_);
        if (c->fd_.valid()) ::shutdown(c->fd_.get(), SHUT_RDWR);
      }
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  listen_fd_.reset();
}

void UpstreamServer::set_handler(Handler h) {
  std::lock_guard lock(mu_);
  handler_ = std::move(h);
}

Handler UpstreamServer::handler() const {
  std::lock_guard lock(mu_);
  return handler_;
}

int UpstreamServer::request_count() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(requests_.size());
}

std::vector<RequestHead> UpstreamServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::optional<RequestHead> UpstreamServer::last_request() const {
  std::lock_guard lock(mu_);
  if (requests_.empty()) return std::nullopt;
  return requests_.back();
}

bool UpstreamServer::wait_for_requests(int n, Clock::duration timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return static_cast<int>(requests_.size()) >= n; });
}

bool UpstreamServer::wait_for_peer_closes(int n, Clock::duration timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return peer_closes_.load() >= n; });
}

bool UpstreamServer::saw_target_containing(std::string_view needle) const {
  std::lock_guard lock(mu_);
  for (const auto& r : requests_)
    if (r.target.find(needle) != std::string::npos) return true;
  return false;
}

void UpstreamServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, 50);
    if (n <= 0) continue;
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int id = ++accepted_;
    auto conn = std::make_shared<UpstreamConnection>(*this, Fd(fd), id);
    std::lock_guard lock(mu_);
    live_.push_back(conn);
    threads_.emplace_back([this, conn] { serve(conn); });
  }
}

void UpstreamServer::serve(std::shared_ptr<UpstreamConnection> conn) {
  bool peer_closed = false;
  while (!stop_ && !conn->closed()) {
    // Wait for the next request head in short steps so stop() is noticed.
    std::optional<std::string> raw;
    while (!stop_) {
      raw = conn->reader_.read_head(Deadline::in(100ms));
      if (raw) break;
      auto st = conn->reader_.last_status();
      if (st != RecvStatus::timeout) {
        peer_closed = st == RecvStatus::eof || st == RecvStatus::error;
        break;
      }
    }
    if (!raw) break;
    auto head = parse_request_head(*raw);
    if (!head) {
      conn->close();
      break;
    }
    head->connection = conn->id();
    {
      std::lock_guard lock(mu_);
      requests_.push_back(*head);
    }
    cv_.notify_all();
    conn->body_read_ = false;
    auto h = handler();
    h(*conn, *head);
    if (conn->closed()) break;
    if (!conn->body_read_) conn->read_body(*head, nullptr, 10s);
    auto conn_hdr = head->headers.get("Connection");
    if (conn_hdr && has_token(*conn_hdr, "close")) {
      conn->close();
      break;
    }
  }
  if (peer_closed || (!stop_ && conn->reader_.last_status() == RecvStatus::eof)) {
    {
      std::lock_guard lock(mu_);
      ++peer_closes_;
    }
    cv_.notify_all();
  }
  conn->close();
}

// ---- handlers --------------------------------------------------------------

namespace handlers {

Handler echo() {
  return [](UpstreamConnection& c, const RequestHead& h) {
    std::uint64_t total = 0;
    auto body = c.read_body_string(h, 1 << 20, &total);
    if (!body) {
      c.close();
      return;
    }
    c.respond(200, h.raw + *body,
              {{"X-Upstream-Connection", std::to_string(c.id())},
               {"X-Body-Bytes", std::to_string(total)}});
  };
}

Handler fixed(int status, std::string body, std::vector<Header> headers) {
  return [=](UpstreamConnection& c, const RequestHead& h) {
    if (!c.read_body(h, nullptr)) {
      c.close();
      return;
    }
    c.respond(status, body, headers);
  };
}

Handler stream(std::uint64_t n, bool chunked, std::size_t chunk) {
  return [=](UpstreamConnection& c, const RequestHead& h) {
    if (!c.read_body(h, nullptr)) {
      c.close();
      return;
    }
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n"
                    : "Content-Length: " + std::to_string(n) + "\r\n";
    head += "\r\n";
    if (!c.send(head)) return c.close();
    std::uint64_t off = 0;
    std::string frame;
    while (off < n && !c.stopping()) {
      auto piece = pattern::slice(off, static_cast<std::size_t>(std::min<std::uint64_t>(chunk, n - off)));
      bool ok;
      if (chunked) {
        char size[32];
        auto [p, ec] = std::to_chars(size, size + sizeof size, piece.size(), 16);
        frame.assign(size, p);
        frame += "\r\n";
        frame += piece;
        frame += "\r\n";
        ok = c.send(frame);
      } else {
        ok = c.send(piece);
      }
      if (!ok) return c.close();
      off += piece.size();
    }
    if (chunked && !c.send("0\r\n\r\n")) c.close();
  };
}

Handler consume() {
  return [](UpstreamConnection& c, const RequestHead& h) {
    pattern::Checker check;
    bool ok = c.read_body(h, [&](const char* d, std::size_t n) { check.feed(d, n); }, 120s);
    if (!ok) return c.close();
    c.respond(200, "bytes=" + std::to_string(check.bytes()) +
                       " mismatches=" + std::to_string(check.mismatches()));
  };
}

Handler delayed(Clock::duration d, Handler inner) {
  return [=](UpstreamConnection& c, const RequestHead& h) {
    c.sleep(d);
    if (c.stopping()) return c.close();
    inner(c, h);
  };
}

Handler close_without_answer() {
  return [](UpstreamConnection& c, const RequestHead&) { c.close(); };
}

Handler reset_without_answer() {
  return [](UpstreamConnection& c, const RequestHead&) { c.reset(); };
}

Handler websocket_echo(std::size_t close_after_bytes) {
  return [=](UpstreamConnection& c, const RequestHead& h) {
    std::string head =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    if (!c.send(head)) return c.close();
    std::size_t echoed = 0;
    while (!c.stopping()) {
      std::string got = c.reader().read_some(Deadline::in(100ms));
      if (got.empty()) {
        if (c.reader().last_status() == RecvStatus::timeout) continue;
        break;  // peer closed; serve() counts it
      }
      if (!c.send(got)) break;
      echoed += got.size();
      if (close_after_bytes > 0 && echoed >= close_after_bytes) {
        c.close();
        return;
      }
    }
    if (c.reader().last_status() == RecvStatus::eof) return;  // let serve() see EOF
    c.close();
  };
}

}  // namespace handlers

// ---- BlackholeListener -----------------------------------------------------

BlackholeListener::BlackholeListener() {
  listen_fd_ = listen_loopback(0, 0, &port_);
  // Fill the accept queue; once it is full the kernel drops further SYNs.
  for (int i = 0; i < 8; ++i) {
    int err = 0;
    Fd fd = connect_loopback(port_, Deadline::in(200ms), &err);
    if (!fd.valid()) break;
    fillers_.push_back(std::move(fd));
  }
}

}  // namespace support
