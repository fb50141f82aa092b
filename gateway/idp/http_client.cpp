#include "idp/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "net/stream.hpp"
#include "net/tls.hpp"
#include "version.hpp"

namespace authgate::idp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using error_code = boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Maps a transport error to idp_errc, with `fallback` for anything unexpected.
idp_errc classify(const error_code& ec, idp_errc fallback) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return idp_errc::timeout;
  if (ec == bhttp::error::body_limit) return idp_errc::too_large;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category())
    return idp_errc::bad_response;
  return fallback;
}

}  // namespace

std::string describe(const IdpResponse& r) {
  if (r.status) return " (HTTP " + std::to_string(r.status) + ")";
  if (!r.detail.empty()) return " (" + r.detail + ")";
  return {};
}

asio::awaitable<IdpResponse> idp_exchange(const common::HttpUrl& url, const IdpRequest& req,
                                          const IdpClientOptions& options) {
  using namespace asio::experimental::awaitable_operators;
  IdpResponse out;
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;

  // Name resolution cannot be cancelled, but the wait for it can: race it
  // against the deadline (IP literals resolve at once).
  asio::ip::tcp::resolver resolver(ex);
  asio::steady_timer timer(ex, deadline);
  const std::string port = std::to_string(url.port);  // named: no temporaries inside co_await
  auto raced = co_await (resolver.async_resolve(url.host, port, use_tuple) || timer.async_wait(use_tuple));
  if (raced.index() == 1) {
    out.ec = idp_errc::timeout;
    co_return out;
  }
  auto [rec, results] = std::get<0>(std::move(raced));
  if (rec) {
    out.ec = idp_errc::resolve_failed;
    co_return out;
  }

  beast::tcp_stream tcp(ex);
  tcp.expires_at(deadline);
  auto [cec, ep] = co_await tcp.async_connect(results, use_tuple);
  if (cec) {
    out.ec = classify(cec, idp_errc::connect_failed);
    co_return out;
  }
  std::optional<net::Stream> stream;
  if (url.is_https()) {
    if (!options.tls) {
      out.ec = idp_errc::tls_failed;
      co_return out;
    }
    stream.emplace(std::move(tcp), *options.tls);
    if (!net::configure_client_stream(stream->tls(), url.host, options.verify)) {
      out.ec = idp_errc::tls_failed;
      co_return out;
    }
    stream->tcp().expires_at(deadline);
    auto [hec] = co_await stream->tls().async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec) {
      out.ec = classify(hec, idp_errc::tls_failed);
      out.detail = hec.message();  // OpenSSL's reason: unknown CA, hostname mismatch, ...
      co_return out;
    }
  } else {
    stream.emplace(std::move(tcp));
  }

  bhttp::request<bhttp::string_body> request(req.post ? bhttp::verb::post : bhttp::verb::get,
                                             url.target, 11);
  request.set(bhttp::field::host, url.authority());
  request.set(bhttp::field::user_agent, std::string("authgate/") + kVersion);
  request.set(bhttp::field::accept, "application/json");
  request.set(bhttp::field::connection, "close");
  if (!req.authorization.empty()) request.set(bhttp::field::authorization, req.authorization);
  if (req.post) {
    request.set(bhttp::field::content_type, req.content_type);
    request.body() = req.body;
    request.prepare_payload();
  }
  stream->tcp().expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(*stream, request, use_tuple);
  if (wec) {
    out.ec = classify(wec, idp_errc::io_failed);
    co_return out;
  }

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(options.max_body);
  stream->tcp().expires_at(deadline);
  auto [rec2, rn] = co_await bhttp::async_read(*stream, buffer, parser, use_tuple);
  if (rec2) {
    out.ec = classify(rec2, idp_errc::io_failed);
    co_return out;
  }
  auto& res = parser.get();
  out.status = res.result_int();
  out.body = std::move(res.body());
  if (auto it = res.find(bhttp::field::cache_control); it != res.end()) out.cache_control = it->value();
  if (out.status < 200 || out.status > 299) out.ec = idp_errc::http_status;
  // The response is complete (the parser saw its end): close without waiting
  // for the IdP's close_notify, which some servers and balancers never send.
  co_return out;
}

}  // namespace authgate::idp
