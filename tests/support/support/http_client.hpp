// A deliberately dumb HTTP/1.1 client over one TCP connection: it sends the
// bytes it is given (so tests can send malformed requests) and parses what
// comes back. Every call takes a timeout.
//
// Usage:
//   support::HttpClient c(gw.port());
//   auto r = c.request(support::make_request("GET", "/api/x"));
//   ASSERT_TRUE(r); EXPECT_EQ(r->status, 200);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/http.hpp"
#include "support/net.hpp"

namespace support {

struct Response {
  std::string version;
  int status = 0;
  std::string reason;
  Headers headers;
  std::string head_raw;
  std::string body;             // stored body (unless a sink was used)
  std::uint64_t body_bytes = 0;  // bytes of body received (stored or not)
  bool chunked = false;

  std::optional<std::string> header(std::string_view name) const { return headers.get(name); }
};

struct ReadOptions {
  bool head_request = false;  // a response to HEAD has no body
  Sink sink;                  // if set, body bytes go here instead of Response::body
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, Clock::duration connect_timeout = 5s);

  bool connected() const { return fd_.valid(); }
  int connect_errno() const { return connect_errno_; }
  int fd() const { return fd_.get(); }

  bool send(std::string_view raw, Clock::duration timeout = 10s);
  // Reads one response; an interim 1xx (100 Continue, 101) is returned like any other.
  // nullopt when the connection ends or the timeout passes first (see error()).
  std::optional<Response> read_response(Clock::duration timeout = 10s, const ReadOptions& opts = {});
  std::optional<Response> request(std::string_view raw, Clock::duration timeout = 10s,
                                  const ReadOptions& opts = {});

  // True when the peer closes (FIN or RST) within `timeout`. Bytes that arrive
  // first are appended to `*received` (if given).
  bool wait_closed(Clock::duration timeout, std::string* received = nullptr);
  // Up to one read's worth of raw bytes (after a 101); empty on timeout/EOF.
  std::string read_some(Clock::duration timeout);
  // Reads raw bytes until `n` have arrived, the peer closes, or the timeout.
  std::string read_n(std::size_t n, Clock::duration timeout);
  RecvStatus last_status() const { return reader_ ? reader_->last_status() : RecvStatus::error; }
  const std::string& error() const { return error_; }

  void shutdown_write();
  void close() { fd_.reset(); }

 private:
  Fd fd_;
  int connect_errno_ = 0;
  std::unique_ptr<Reader> reader_;
  std::string error_;
};

// "METHOD target HTTP/1.1\r\nHost: host\r\n<headers>[Content-Length]\r\n<body>".
// Content-Length is added when `body` is non-empty and no framing header was given.
std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<Header>& headers = {}, std::string_view body = {},
                         std::string_view host = "test.local");

// New connection, one request, one response.
std::optional<Response> http_request(std::uint16_t port, std::string_view raw,
                                     Clock::duration timeout = 10s);
std::optional<Response> http_get(std::uint16_t port, std::string_view target,
                                 const std::vector<Header>& headers = {},
                                 Clock::duration timeout = 10s);

}  // namespace support
