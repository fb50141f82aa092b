#include "proxy/pipeline.hpp"

#include <chrono>

#include "auth/auth_errc.hpp"
#include "auth/cert_binding.hpp"
#include "http/client_address.hpp"
#include "access/access_control.hpp"
#include "proxy/connection.hpp"
#include "proxy/request_reader.hpp"
#include "proxy/request_state.hpp"
#include "proxy/runtime.hpp"
#include "proxy/upstream_exchange.hpp"
#include "session/session_manager.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// The client certificate a certificate-bound token is checked against (RFC 8705): this TLS
// connection's, or behind a TLS-terminating proxy in listen.trusted_proxies, the one its
// listen.client_cert_header carries (never taken from any other peer).
std::string_view client_certificate(const ClientConnection& c, const Runtime& rt, const http::Fields& fields,
                                    RequestState& rs) {
  if (!c.client_certificate.empty() || rt.cfg.listen.client_cert_header.empty() || !rt.is_trusted_proxy(c.peer))
    return c.client_certificate;
  const auto it = fields.find(rt.cfg.listen.client_cert_header);
  if (it == fields.end()) return {};
  // Per request: one proxy connection carries many clients.
  rs.proxied_client_certificate = auth::thumbprint_of_escaped_pem(it->value()).value_or("");
  return rs.proxied_client_certificate;
}

}  // namespace

asio::awaitable<bool> serve_request(ClientConnection& c) {
  const auto rt = c.worker.state().runtime.load();  // this request's snapshot
  const auto& limits = rt->cfg.limits;
  RequestWorkspace& ws = *c.ws;  // the per-request objects live there, not in this frame
  http::RequestParser& parser = ws.parser.emplace();
  http::limit_request_parser(parser, limits);

  // 1. Read: the whole head (its first bytes are there) under the limits; 408/413/431/400 close the connection.
  const HeadRead read = co_await read_request_head(c, *rt, parser);
  if (read.closed) co_return false;
  RequestState& rs = ws.request;
  rs.reset();
  rs.start = read.started;
  if (read.status) {
    http::generate_request_id(rs.request_id);
    co_await reply_error(c, *rt, rs, read.status, read.error, false);
    co_return false;
  }
  auto& req = parser.get();
  const BodyUnreadGuard unread_guard{c.body_unread, parser};
  rs.method.assign(req.method_string().data(), req.method_string().size());
  take_request_id(req, rs.request_id);
  rs.grpc = http::is_grpc_content_type(req[bhttp::field::content_type]);
  ++c.requests;  // every request counts toward the per-connection limit, local replies too
  // A request whose body we have not read cannot leave the connection reusable.
  auto can_keep = [&] {
    return req.keep_alive() && parser.is_done() && !c.draining() && c.requests < limits.max_requests_per_connection;
  };

  // 2. Framing (request smuggling): 400, and the connection closes.
  if (!framing_ok(c, req, rs)) {
    co_await reply_error(c, *rt, rs, 400, "bad_request", false);
    co_return false;
  }
  // 3. Host, then the canonical target (with its UTF-8 check): 400.
  routing::CanonicalTarget& target = ws.target;
  std::string_view rejected;
  if (!host_ok(c, req, rs)) rejected = "bad_host";
  else if (!canonicalize(c, req, rs, target)) rejected = "bad_path";
  if (!rejected.empty()) {
    co_await reply_error(c, *rt, rs, 400, rejected, can_keep());
    co_return can_keep();
  }
  http::RequestHead head = http1_request_head(req, target);

  // 4-7. Session endpoints, resource metadata, route, access decision (admit); the answer written here.
  Admission& adm = ws.admission;
  co_await admit(*rt, ws, head, c, adm);
  switch (adm.kind) {
    case Admission::Kind::page:
      co_await reply_page(c, *rt, rs, adm.page, can_keep());
      co_return can_keep();
    case Admission::Kind::redirect:
      co_await reply_redirect(c, *rt, rs, adm.status, adm.location, can_keep());
      co_return can_keep();
    case Admission::Kind::error:
      co_await reply_error(c, *rt, rs, adm.status, adm.error, can_keep(), adm.www_authenticate, adm.dpop_nonce);
      co_return can_keep();
    case Admission::Kind::proxy:
      break;
  }
  const access::Decision& decision = ws.verdict->decision();

  // 8. Proxy (the upstream exchange and the body relay), 9. its log line and metrics.
  co_return co_await proxy_request_any(c, *rt, rs, head, parser, *adm.route, *adm.route_cfg, decision);
}

asio::awaitable<void> admit(Runtime& rt, RequestWorkspace& ws, http::RequestHead& head, const ClientConnection& c,
                            Admission& out) {
  RequestState& rs = ws.request;
  const routing::CanonicalTarget& target = ws.target;
  out.reset();
  const auto now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  // 4. Session endpoints (login, callback, logout, session) are answered here.
  if (auto* sessions = rt.sessions.get(); sessions && sessions->handles(target.path)) {
    // The login rate limit's key: the peer, or the trusted X-Forwarded-For client.
    const std::string client = http::client_address(
        c.peer, *head.fields, [&rt](const asio::ip::address& a) { return rt.is_trusted_proxy(a); });
    out.page = co_await sessions->handle(target.path, target.query, *head.fields, rs.method, client, now_unix);
    rs.auth = "session";
    out.kind = Admission::Kind::page;
    co_return;
  }

  // 5. Protected-resource metadata (RFC 9728), public like the discovery documents it points to.
  if (rs.method == "GET")
    if (const std::string* doc = rt.resource_metadata.find(head.authority, target.path)) {
      out.page.status = 200;
      out.page.content_type = "application/json";
      out.page.body = *doc;
      out.page.headers.clear();
      out.kind = Admission::Kind::page;
      co_return;
    }

  // 6. Route on the canonical path: 404.
  const int route_index = rt.table.match(head.authority, head.method_name, head.path);
  if (route_index < 0) {
    out.kind = Admission::Kind::error;
    out.status = 404;
    out.error = "not_found";
    co_return;
  }
  RouteRuntime& route = rt.routes[static_cast<std::size_t>(route_index)];
  const config::Route& route_cfg = rt.cfg.routes[static_cast<std::size_t>(route_index)];
  rs.route = &route;

  // 7. Access decision, on the head alone (no body byte read yet) ---------------
  // One question to the access module; only a pending answer suspends.
  access::Verdict& verdict = ws.verdict.emplace(rt.access.check(
      route_cfg,
      {*head.fields, head.method_name, head.path, head.query, c.stream.is_tls() ? "https" : "http",
       rt.is_trusted_proxy(c.peer), client_certificate(c, rt, *head.fields, rs)},
      now_unix));
  if (verdict.pending()) co_await verdict.resolve();
  const access::Decision& decision = verdict.decision();
  rs.auth = decision.auth_label;
  if (route_cfg.auth != config::AuthMode::none) {
    rt.auth_counter(route, c.worker.index(), decision.ec).Increment();
    rs.auth_reason = auth::reason(decision.ec);
    rs.issuer = decision.issuer;
    rs.sub = decision.sub;
  }
  if (!decision.allowed && !decision.reply.location.empty()) {  // a browser without a session: to the login
    out.kind = Admission::Kind::redirect;
    out.status = decision.reply.status;
    out.location = decision.reply.location;
    co_return;
  }
  if (!decision.allowed) {
    out.kind = Admission::Kind::error;
    out.status = decision.reply.status;
    out.error = decision.reply.error;
    out.www_authenticate = decision.reply.www_authenticate;
    out.dpop_nonce = decision.dpop_nonce;
    co_return;
  }
  // ---------------------------------------------------------------------------
  out.route = &route;
  out.route_cfg = &route_cfg;
}

}  // namespace authgate::proxy
