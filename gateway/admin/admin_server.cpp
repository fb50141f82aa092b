#include "admin/admin_server.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>

#include "admin/revocation_api.hpp"

namespace authgate::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

struct AdminServer::Impl {
  Impl(asio::io_context& io, const Health& h, const metrics::Metrics& m,
       std::function<AdminLimits()> l)
      : io(io), acceptor(io), health(h), metrics(m), limits(std::move(l)) {}

  asio::awaitable<void> accept_loop() {
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  static std::string_view path_of(const bhttp::request<bhttp::string_body>& req) {
    const auto target = std::string_view(req.target());
    return target.substr(0, target.find('?'));
  }

  asio::awaitable<bhttp::response<bhttp::string_body>> answer_revocations(const bhttp::request<bhttp::string_body>& req) {
    const std::string method(req.method_string());
    const std::string authorization(req[bhttp::field::authorization]);
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const ApiReply reply = co_await revocation_api(*revocations, method, authorization, req.body(), now);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), req.version()};
    res.set(bhttp::field::cache_control, "no-store");
    res.set(bhttp::field::content_type, "application/json");
    for (const auto& [name, value] : reply.headers) res.set(name, value);
    if (reply.status == 503) res.set(bhttp::field::retry_after, std::to_string(limits().retry_after.count()));
    res.body() = reply.body;
    co_return res;
  }

  bhttp::response<bhttp::string_body> answer(const bhttp::request<bhttp::string_body>& req) {
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::cache_control, "no-store");
    const auto target = std::string_view(req.target()).substr(0, std::string_view(req.target()).find('?'));
    const bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
    if (!get) {
      res.result(bhttp::status::method_not_allowed);
      res.set(bhttp::field::allow, "GET, HEAD");
    } else if (target == "/healthz") {
      res.set(bhttp::field::content_type, "application/json");
      res.body() = "{\"status\":\"alive\"}\n";
    } else if (target == "/readyz") {
      res.set(bhttp::field::content_type, "application/json");
      const auto waiting = health.waiting_for ? health.waiting_for() : std::vector<std::string>{};
      const auto degraded = health.degraded ? health.degraded() : std::vector<std::string>{};
      if (health.ready() && waiting.empty() && degraded.empty()) {
        res.body() = "{\"status\":\"ready\"}\n";
      } else if (health.ready() && waiting.empty()) {
        boost::json::object body;
        body["status"] = "degraded";
        boost::json::array names;
        for (const auto& d : degraded) names.emplace_back(d);
        body["degraded"] = std::move(names);
        res.body() = boost::json::serialize(body) + "\n";
      } else {
        res.result(bhttp::status::service_unavailable);
        boost::json::object body;
        body["status"] = health.draining ? "draining" : "starting";
        if (!waiting.empty()) {
          boost::json::array names;
          for (const auto& w : waiting) names.emplace_back(w);
          body["waiting_for"] = std::move(names);
        }
        res.body() = boost::json::serialize(body) + "\n";
      }
    } else if (target == "/" && status_page) {
      res.set(bhttp::field::content_type, "text/html; charset=utf-8");
      res.body() = render_status_page(status_page());
    } else if (target == "/metrics") {
      res.set(bhttp::field::content_type, metrics::Metrics::kContentType);
      res.body() = metrics.render();
    } else {
      res.result(bhttp::status::not_found);
      res.set(bhttp::field::content_type, "application/json");
      res.body() = "{\"error\":\"not_found\"}\n";
    }
    return res;
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      const AdminLimits lim = limits();
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(lim.max_header_bytes);
      parser.body_limit(64 * 1024);
      stream.expires_after(lim.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      if (ec) {
        if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
            ec != asio::error::operation_aborted) {
          bhttp::response<bhttp::string_body> bad{bhttp::status::bad_request, 11};
          bad.keep_alive(false);
          bad.prepare_payload();
          co_await bhttp::async_write(stream, bad, use_tuple);
        }
        break;
      }
      const auto& req = parser.get();
      bhttp::response<bhttp::string_body> res;
      if (path_of(req) == "/revocations" && revocations) {
        res = co_await answer_revocations(req);
      } else if (!req.body().empty()) {
        res = bhttp::response<bhttp::string_body>{bhttp::status::bad_request, req.version()};
        res.set(bhttp::field::content_type, "application/json");
        res.body() = "{\"error\":\"a request body is not allowed here\"}\n";
        res.keep_alive(false);
      } else {
        res = answer(req);
      }
      res.keep_alive(res.keep_alive() && req.keep_alive());
      res.prepare_payload();
      if (parser.get().method() == bhttp::verb::head) res.body().clear();
      auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  const Health& health;
  const metrics::Metrics& metrics;
  std::function<AdminLimits()> limits;
  std::function<StatusSnapshot()> status_page;
  std::shared_ptr<revocation::RevocationService> revocations;
};

AdminServer::AdminServer(asio::io_context& io, const Health& health,
                         const metrics::Metrics& metrics, std::function<AdminLimits()> limits)
    : impl_(std::make_unique<Impl>(io, health, metrics, std::move(limits))) {}

AdminServer::~AdminServer() = default;

void AdminServer::listen(const tcp::endpoint& endpoint) {
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
}

void AdminServer::set_status_page(std::function<StatusSnapshot()> snapshot) {
  impl_->status_page = std::move(snapshot);
}

void AdminServer::set_revocations(std::shared_ptr<revocation::RevocationService> service) {
  impl_->revocations = std::move(service);
}

tcp::endpoint AdminServer::local_endpoint() const { return impl_->acceptor.local_endpoint(); }

void AdminServer::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace authgate::admin
