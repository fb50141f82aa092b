#include "support/http_client.hpp"

#include <sys/socket.h>

#include <charconv>

namespace support {

HttpClient::HttpClient(std::uint16_t port, Clock::duration connect_timeout) {
  fd_ = connect_loopback(port, Deadline::in(connect_timeout), &connect_errno_);
  if (fd_.valid()) reader_ = std::make_unique<Reader>(fd_.get());
}

bool HttpClient::send(std::string_view raw, Clock::duration timeout) {
  if (!fd_.valid()) return false;
  return send_all(fd_.get(), raw, Deadline::in(timeout));
}

std::optional<Response> HttpClient::read_response(Clock::duration timeout,
                                                  const ReadOptions& opts) {
  error_.clear();
  if (!fd_.valid()) {
    error_ = "not connected";
    return std::nullopt;
  }
  auto deadline = Deadline::in(timeout);
  auto raw = reader_->read_head(deadline);
  if (!raw) {
    error_ = reader_->error();
    return std::nullopt;
  }
  auto head = parse_response_head(*raw);
  if (!head) {
    error_ = "unparsable response head: " + *raw;
    return std::nullopt;
  }
  Response r;
  r.version = head->version;
  r.status = head->status;
  r.reason = head->reason;
  r.headers = std::move(head->headers);
  r.head_raw = std::move(head->raw);

  Sink store = [&](const char* d, std::size_t n) {
    r.body_bytes += n;
    if (opts.sink) opts.sink(d, n);
    else r.body.append(d, n);
  };
  bool no_body = opts.head_request || (r.status >= 100 && r.status < 200) || r.status == 204 ||
                 r.status == 304;
  if (no_body) return r;
  auto te = r.headers.get("Transfer-Encoding");
  if (te && has_token(*te, "chunked")) {
    r.chunked = true;
    if (!reader_->read_chunked(store, deadline)) {
      error_ = "chunked body: " + reader_->error();
      return std::nullopt;
    }
    return r;
  }
  if (auto cl = r.headers.get("Content-Length")) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc{} || p != cl->data() + cl->size()) {
      error_ = "bad Content-Length \"" + *cl + "\"";
      return std::nullopt;
    }
    if (!reader_->read_exact(n, store, deadline)) {
      error_ = "fixed body: " + reader_->error();
      return std::nullopt;
    }
    return r;
  }
  if (!reader_->read_to_eof(store, deadline)) {
    error_ = "body until EOF: " + reader_->error();
    return std::nullopt;
  }
  return r;
}

std::optional<Response> HttpClient::request(std::string_view raw, Clock::duration timeout,
                                            const ReadOptions& opts) {
  if (!send(raw, timeout)) {
    error_ = "send failed";
    return std::nullopt;
  }
  return read_response(timeout, opts);
}

bool HttpClient::wait_closed(Clock::duration timeout, std::string* received) {
  if (!fd_.valid()) return true;
  auto deadline = Deadline::in(timeout);
  for (;;) {
    std::string got = reader_->read_some(deadline);
    if (!got.empty()) {
      if (received) *received += got;
      continue;
    }
    auto st = reader_->last_status();
    if (st == RecvStatus::eof || st == RecvStatus::error) return true;
    if (deadline.expired()) return false;
  }
}

std::string HttpClient::read_some(Clock::duration timeout) {
  if (!fd_.valid()) return {};
  return reader_->read_some(Deadline::in(timeout));
}

std::string HttpClient::read_n(std::size_t n, Clock::duration timeout) {
  std::string out;
  auto deadline = Deadline::in(timeout);
  while (out.size() < n && fd_.valid()) {
    auto got = reader_->read_some(deadline);
    if (got.empty()) break;
    out += got;
  }
  return out;
}

void HttpClient::shutdown_write() {
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_WR);
}

std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<Header>& headers, std::string_view body,
                         std::string_view host) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  bool has_framing = false;
  for (const auto& h : headers) {
    has_host |= iequals(h.name, "Host");
    has_framing |= iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding");
  }
  if (!has_host) out.append("Host: ").append(host).append("\r\n");
  for (const auto& h : headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!body.empty() && !has_framing)
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

std::optional<Response> http_request(std::uint16_t port, std::string_view raw,
                                     Clock::duration timeout) {
  HttpClient c(port, std::min<Clock::duration>(timeout, 5s));
  if (!c.connected()) return std::nullopt;
  return c.request(raw, timeout);
}

std::optional<Response> http_get(std::uint16_t port, std::string_view target,
                                 const std::vector<Header>& headers, Clock::duration timeout) {
  return http_request(port, make_request("GET", target, headers), timeout);
}

}  // namespace support
