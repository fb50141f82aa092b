// What the access module answers for one request: a Decision (allow or deny),
// or a pending one when only the network can answer. See access_control.hpp.
//
// Usage:
//   Verdict v = access.check(route, Request{fields, method, path, query}, now);
//   if (v.pending()) co_await v.resolve();
//   const Decision& d = v.decision();
//   if (!d.allowed) reply(d.reply); else access.forward_identity(upstream, route, d);
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include "access/auth_reply.hpp"
#include "http/header_hygiene.hpp"

namespace authgate::access {

// A request as the access decision needs it: its header, before any body byte.
struct Request {
  const http::Fields& fields;
  std::string_view method;
  std::string_view path;   // canonical
  std::string_view query;  // with the path: the login redirect's rd
  std::string_view scheme = "http";  // how the client reached us (DPoP htu)
  bool peer_trusted = false;         // the peer is in listen.trusted_proxies (its X-Forwarded-Proto/Host count)
  // The x5t#S256 thumbprint of the client's certificate (the TLS connection's, or from a trusted
  // proxy's client_cert_header), "" when none: what a certificate-bound token is checked against.
  std::string_view client_certificate = {};
};

struct Decision {
  bool allowed = true;
  std::error_code ec;                    // why not (auth_errc), empty when allowed
  AuthReply reply;                       // when denied
  std::string_view auth_label = "none";  // access log "auth": none | bearer | session
  std::string issuer;                    // the issuer's config name when a token was checked
  std::string sub;                       // the token's subject, when allowed
  std::shared_ptr<const boost::json::object> claims;  // the token's claims, when allowed
  std::string upstream_authorization;    // session routes: "Bearer <the session's access token>"
  std::string session_id;                // session routes, when allowed: a WebSocket tunnel watches it
  // A fresh DPoP-Nonce (RFC 9449 §8) for the reply, allowed or denied; "" for none: on a
  // use_dpop_nonce denial, and on an allowed request whose nonce is of the previous slot.
  std::string dpop_nonce;
};

// Allow or deny at once, or pending: an awaitable that yields the Decision.
// Only the pending case holds a coroutine frame; the others cost none.
class Verdict {
 public:
  Verdict(Decision d) : v_(std::move(d)) {}  // NOLINT: a Decision is a ready Verdict
  explicit Verdict(boost::asio::awaitable<Decision> pending) : v_(std::move(pending)) {}

  bool pending() const { return v_.index() == 1; }
  // Pending only: runs the slow path (one JWKS refetch, one introspection, the
  // session store) on the caller's executor; the Verdict then holds its Decision.
  // The Decision is written in place, not returned: a caller's coroutine frame
  // then holds one Decision (this Verdict), not a second one for the result.
  boost::asio::awaitable<void> resolve();
  // Ready (or resolved) only: the decision.
  const Decision& decision() const { return std::get<0>(v_); }
  Decision take() { return std::move(std::get<0>(v_)); }

 private:
  std::variant<Decision, boost::asio::awaitable<Decision>> v_;
};

}  // namespace authgate::access
