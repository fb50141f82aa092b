#include "proxy/request_reader.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/utf8.hpp"
#include "http/header_hygiene.hpp"
#include "proxy/connection.hpp"
#include "proxy/request_state.hpp"
#include "proxy/runtime.hpp"
#include "routing/host.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// First read of a new request: enough for typical headers in one syscall.
constexpr std::size_t kFirstRead = 8 * 1024;

// Benign ends of a client connection: the peer closed between requests, or
// we cancelled/closed it during drain. None of them is worth a log line.
bool is_benign_close(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::bad_descriptor;
}

// Never log the query: it may carry secrets.
std::string raw_path(const bhttp::request_header<http::Fields>& req) {
  return std::string(req.target().substr(0, req.target().find('?')));
}

// The whole head is buffered (scan_request_head found its end), so Beast's parser
// takes it in place: an asynchronous read_header would do no I/O here, only run its
// composed operation (1,800 instructions per request, load-tests/RESULTS.md).
error_code parse_head(beast::flat_buffer& buffer, http::RequestParser& parser) {
  error_code ec;
  const std::size_t used = parser.put(buffer.data(), ec);
  buffer.consume(used);
  if (!ec && !parser.is_header_done()) ec = bhttp::error::partial_message;  // not after a complete scan
  return ec;
}

}  // namespace

NextRequest next_request(ClientConnection& c) {
  if (c.ws && c.ws->buffer.size()) return NextRequest::ready;  // pipelined: the next head is here already
  if (c.draining()) return NextRequest::closed;
  // TLS cannot be asked without a wait: the connection goes idle, and its wait
  // reads the first byte (a record may be decrypted already).
  if (c.stream.is_tls()) return NextRequest::idle;
  // Plain TCP: a non-blocking read takes what is there, the same one syscall an
  // asynchronous read would try first.
  if (!c.ws) c.ws = c.worker.take_workspace();
  error_code ec;
  const std::size_t n = c.stream.tcp().socket().read_some(c.ws->buffer.prepare(kFirstRead), ec);
  if (!ec) {
    c.ws->buffer.commit(n);
    return NextRequest::ready;
  }
  return ec == asio::error::would_block ? NextRequest::idle : NextRequest::closed;
}

asio::awaitable<HeadRead> read_request_head(ClientConnection& c, const Runtime& rt, http::RequestParser& parser) {
  const auto& limits = rt.cfg.limits;
  const auto& timeouts = rt.cfg.timeouts;
  auto& buffer = c.ws->buffer;
  HeadRead result;
  result.started = std::chrono::steady_clock::now();
  c.body_unread = false;

  // Reads until the whole head is buffered, so it can be checked as bytes
  // before Beast parses it (http/request_head.hpp): its size against
  // max_header_bytes as a whole (431), and obs-fold (a header line continued on
  // the next line), rejected outright (RFC 9112 5.2 allows rejecting it with 400)
  // rather than unfolded, so no two parsers on the path can disagree about it.
  c.deadline.arm(timeouts.header_read);
  error_code ec;
  for (std::size_t scanned = 0;;) {  // `scanned`: bytes already searched for the terminator
    const std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    const http::HeadScan scan = http::scan_request_head(data, limits.max_header_bytes, scanned);
    if (scan == http::HeadScan::complete) break;
    if (scan == http::HeadScan::obs_fold) {
      ec = bhttp::error::bad_value;
      break;
    }
    if (scan == http::HeadScan::too_large) {
      ec = bhttp::error::header_limit;
      break;
    }
    auto [rec, n] = co_await c.stream.async_read_some(buffer.prepare(kFirstRead), use_tuple);
    if (rec) {
      ec = rec;
      break;
    }
    buffer.commit(n);
  }
  c.deadline.disarm();
  if (!ec) ec = parse_head(buffer, parser);
  if (!ec) co_return result;

  if (c.deadline.fired()) {
    c.count_timeout(metrics::TimeoutPhase::header_read);
    result.status = 408;
    result.error = "request_timeout";
  } else if (ec == bhttp::error::header_limit) {
    c.body_unread = true;  // the client may still be sending
    result.status = 431;
    result.error = "request_header_fields_too_large";
  } else if (ec == bhttp::error::body_limit) {
    c.body_unread = true;
    result.status = 413;
    result.error = "payload_too_large";
  } else if (is_benign_close(ec)) {
    result.closed = true;
  } else {
    spdlog::debug("bad request from {}: {}", c.client_ip, ec.message());
    result.status = 400;
    result.error = "bad_request";
  }
  co_return result;
}

void take_request_id(const http::Fields& req, std::string& id) {
  if (auto it = req.find("X-Request-Id"); it != req.end() && http::is_well_formed_request_id(it->value()))
    id.assign(it->value().data(), it->value().size());
  else
    http::generate_request_id(id);
}

bool framing_ok(const ClientConnection& c, const bhttp::request_header<http::Fields>& req, RequestState& rs) {
  const char* why = http::framing_error(req);
  if (!why) return true;
  rs.path = raw_path(req);
  spdlog::debug("rejecting request {} from {}: {}", rs.request_id, c.client_ip, why);
  return false;
}

bool host_ok(const ClientConnection& c, const bhttp::request_header<http::Fields>& req, RequestState& rs) {
  auto host = req.find(bhttp::field::host);
  return host == req.end() || host_ok(c, host->value(), req.target(), rs);
}

bool host_ok(const ClientConnection& c, std::string_view host, std::string_view raw_target, RequestState& rs) {
  routing::HostParts parts;
  std::error_code ec;
  if (routing::validate_host(host, parts, ec)) return true;
  rs.path = raw_target.substr(0, raw_target.find('?'));
  spdlog::debug("rejecting Host of {} from {}: {}", rs.request_id, c.client_ip, ec.message());
  c.worker.state().metrics.rejected(metrics::RejectReason::bad_host).Increment();
  return false;
}

bool canonicalize(const ClientConnection& c, const bhttp::request_header<http::Fields>& req, RequestState& rs,
                  routing::CanonicalTarget& target) {
  return canonicalize(c, req.target(), rs, target);
}

bool canonicalize(const ClientConnection& c, std::string_view raw_target, RequestState& rs,
                  routing::CanonicalTarget& target) {
  std::error_code ec;
  routing::utf8_fault utf8 = routing::utf8_fault::none;
  if (routing::canonicalize_target(raw_target, target, ec, &utf8)) {
    rs.path = target.path;
    return true;
  }
  rs.path = raw_target.substr(0, raw_target.find('?'));
  spdlog::debug("rejecting path of {} from {}: {}{}{}", rs.request_id, c.client_ip, ec.message(),
                utf8 == routing::utf8_fault::none ? "" : ": ",
                utf8 == routing::utf8_fault::none ? "" : common::utf8_fault_name(utf8));
  c.worker.state().metrics.rejected(ec == routing::path_errc::invalid_utf8 ? metrics::RejectReason::invalid_utf8
                                                                            : metrics::RejectReason::bad_path)
      .Increment();
  return false;
}

http::RequestHead http1_request_head(http::RequestParser::value_type& req, const routing::CanonicalTarget& target) {
  http::RequestHead head;
  head.method = req.method();
  head.method_name = req.method_string();
  head.path = target.path;
  head.query = target.query;
  head.has_query = target.has_query;
  head.authority = req[bhttp::field::host];
  head.fields = &req;
  head.version = req.version();
  head.keep_alive = req.keep_alive();
  return head;
}

}  // namespace authgate::proxy
