// Header hygiene between client and upstream: hop-by-hop removal, anti-spoofing,
// X-Forwarded-*, X-Request-Id and request-framing checks (no smuggling).
//
// Usage (per request, after the header is parsed and the route is chosen):
//   if (auto why = framing_error(req)) reply 400;
//   ForwardContext fwd{client_ip, peer_trusted, "https", request_id, false, &cfg.identity, &cfg.headers};
//   prepare_upstream_request(req, fwd);   // in place, before it is written upstream
//   prepare_client_response(res, request_id);
#pragma once

#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/fields.hpp"

namespace authgate::http {

struct ForwardContext {
  std::string_view client_ip;   // the TCP peer address
  bool peer_trusted = false;    // the peer is in listen.trusted_proxies
  std::string_view scheme;      // "http" or "https": how the client reached us
  std::string_view request_id;  // final id (kept or generated)
  bool upgrade = false;         // WebSocket upgrade: keep Connection: upgrade + Upgrade
  const config::IdentityConfig* identity = nullptr;  // null: the defaults
  const config::HeadersConfig* headers = nullptr;    // null: the defaults
};

// Why a request's framing is unsafe to forward, or nullptr when it is fine:
// both Content-Length and Transfer-Encoding, differing Content-Length values,
// a Transfer-Encoding whose last coding is not "chunked", several Host headers.
const char* framing_error(const Fields& request_fields);

// Removes Connection and every header it names, Keep-Alive, TE, Trailer,
// Proxy-*, and Upgrade (unless `keep_upgrade`). A Connection header never
// removes Host, the framing headers, Authorization, Cookie, X-Forwarded-*,
// Forwarded, X-Real-IP or X-Request-Id: end-to-end headers authgate reads,
// sets or vouches for (CVE-2022-31813 class).
void remove_hop_by_hop(Fields& fields, bool keep_upgrade);

// Removes client-supplied identity headers: names starting with one of
// `identity.strip_prefixes` (default X-Auth-) or equal to one of
// `identity.strip_headers` (default X-Remote-User, X-Forwarded-User), also when
// spelled with "_" for "-" (any case).
void remove_identity_headers(Fields& fields, const config::IdentityConfig& identity = {});

// True for a name in `headers.strip_rewrite_headers` (any case, "_" for "-"):
// X-Original-URL, X-HTTP-Method-Override, ... by default.
bool is_rewrite_header(std::string_view name, const config::HeadersConfig& headers);

// The whole request-side transform: hop-by-hop, identity headers, target and
// method overrides, X-Forwarded-For/-Proto/-Host (from a trusted proxy: its
// chain plus headers.trusted_forwarded_headers; every other X-Forwarded-* and
// Forwarded go), X-Real-IP (the peer), X-Request-Id.
void prepare_upstream_request(Fields& fields, const ForwardContext& ctx);

// The response-side transform: hop-by-hop (keeps Upgrade on a 101), X-Request-Id, and
// the gateway's fresh DPoP-Nonce when it hands one out (RFC 9449 §8.2; empty: none).
void prepare_client_response(Fields& fields, std::string_view request_id, bool switching_protocols,
                             std::string_view dpop_nonce = {});

// True for 1..128 chars of [A-Za-z0-9._:-]: an incoming X-Request-Id worth keeping.
bool is_well_formed_request_id(std::string_view id);

// 32 lowercase hex characters from a per-thread CSPRNG-seeded generator. The second
// form writes into `out`, reusing its capacity (a connection's per-request state).
std::string generate_request_id();
void generate_request_id(std::string& out);

}  // namespace authgate::http
