// libFuzzer target: a request head through the proxy's decision steps, as
// proxy/request_reader.cpp and proxy/pipeline.cpp run them: the byte-level head
// checks and Beast's parser with the limits of a fixed config
// (http/request_head.hpp), the framing checks
// (http/header_hygiene.hpp), Host validation (routing/host.hpp), path
// canonicalisation with its UTF-8 check (routing/path.hpp), the route
// table (routing/route_table.hpp) and the route's policy (policy/policy.hpp) on
// claims taken from the request's X-Fuzz-Scope / X-Fuzz-Verified / X-Fuzz-Groups
// headers (a stand-in for a verified token, which jwt_fuzz covers).
//
// Invariants (a violation aborts):
//   head: scan_request_head() calls a head complete only when its blank line
//   ends within max_header_bytes, too_large only when it cannot, obs_fold
//   exactly when has_obs_fold(); Beast's parser never refuses a complete head
//   for its size (header_limit);
//   canonicalisation (the promises of routing/path.hpp):
//   - the canonical path starts with "/", is no longer than the raw path, has no
//     empty, "." or ".." segment, no raw "\", ";", "#", "?", space, control byte
//     or DEL; every "%" starts an upper-case two-digit escape of a byte that is
//     neither unreserved nor "/", "\", NUL or ";";
//   - the query is the text after the first "?", unchanged;
//   - canonicalising the canonical target again gives the same path and query;
//   - a rejection is a path_errc;
//   - UTF-8 (checked against an independent decoder that computes code points):
//     an accepted path's bytes, escapes decoded, are well-formed UTF-8; an
//     invalid_utf8 rejection is of a path whose bytes are not; a path whose bytes
//     are not is never accepted;
//   host: validate_host() accepts exactly the values an independent check accepts
//   (a name of 1..255 unreserved characters, or "[...]" that inet_pton reads as an
//   IPv6 address, then nothing or ":" and 1..5 digits up to 65535); an accepted
//   value is its host and port parts put back together; a rejection is a host_errc;
//   routing: the matched route's host, method and path conditions hold when
//   checked independently here, and no earlier route's do;
//   access log: append_json_escaped() of the whole input, quoted, is a JSON
//   string that a strict parser (Boost.JSON rejects ill-formed UTF-8) accepts,
//   and its value is the input where the input is well-formed UTF-8;
//   policy: evaluate() agrees with an independent evaluation of scopes_all,
//   scopes_any and the claim rules; scope_insufficient names the missing scopes.
#include "fuzz_env.hpp"

#include "auth/scopes.hpp"
#include "common/log_escape.hpp"
#include "config/loader.hpp"
#include "http/header_hygiene.hpp"
#include "http/request_head.hpp"
#include "policy/policy.hpp"
#include "routing/host.hpp"
#include "routing/path.hpp"
#include "routing/route_table.hpp"

#include <arpa/inet.h>

#include <boost/asio/buffer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

using namespace authgate;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

// Small header limit so the fuzzer reaches it; every match kind, host form and
// requirement kind once.
constexpr std::string_view kConfig = R"(
limits:
  max_header_bytes: 2KiB
  max_body_bytes: 64KiB
upstreams:
  - name: api
    url: http://127.0.0.1:9000
issuers:
  - name: corp
    issuer: https://idp.example.com/
    audiences: [api]
routes:
  - name: admin
    match: {host: admin.example.com, path: {exact: /admin}, methods: [GET, POST]}
    upstream: api
    auth: bearer
    require: {scopes_all: [admin]}
  - name: orders-write
    match: {path: {prefix: /orders/}, methods: [POST, PUT, DELETE]}
    upstream: api
    auth: bearer
    require: {scopes_all: [orders:read, orders:write], claims: {email_verified: true}}
  - name: orders
    match: {path: {prefix: /orders}}
    upstream: api
    auth: bearer
    require: {scopes_any: [orders:read, orders:admin]}
  - name: items
    match: {host: "*.example.com", path: {regex: "/v[0-9]+/items(/[^/]+)?"}}
    upstream: api
    auth: bearer
    require: {scopes_any: [items:read, items:admin], claims: {groups: [staff, ops], email_verified: [true, "yes"]}}
  - name: ipv6
    match: {host: "[::1]", path: {prefix: /v6/}}
    upstream: api
    auth: bearer
  - name: public
    match: {path: {prefix: /public}}
    upstream: api
    auth: none
)";

struct World {
  config::GatewayConfig cfg;
  std::unique_ptr<routing::RouteTable> table;
  std::vector<std::regex> regexes;  // per route; only regex routes use theirs
};

const World& world() {
  static const World w = [] {
    World x;
    try {
      x.cfg = config::load_string(kConfig, "request_fuzz.yaml");
    } catch (const config::ConfigError& e) {
      for (const auto& line : e.errors()) std::fprintf(stderr, "%s\n", line.c_str());
      fuzz::fail("the fixed config loads", __FILE__, __LINE__);
    }
    x.table = std::make_unique<routing::RouteTable>(x.cfg.routes);
    for (const auto& r : x.cfg.routes)
      x.regexes.emplace_back(r.match.path_kind == config::PathMatch::regex ? r.match.path : std::string("x"));
    return x;
  }();
  return w;
}

bool is_hex_upper(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }
int hex(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }
bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void check_canonical(std::string_view raw_target, const routing::CanonicalTarget& c) {
  const std::string_view raw_path = raw_target.substr(0, raw_target.find('?'));
  const std::string_view p = c.path;
  FUZZ_CHECK(!p.empty() && p.front() == '/');
  FUZZ_CHECK(p.size() <= raw_path.size());
  // Segments: none empty (but the one after a trailing "/"), none "." or "..".
  std::size_t start = 1;
  while (start <= p.size()) {
    const std::size_t slash = std::min(p.find('/', start), p.size());
    const std::string_view seg = p.substr(start, slash - start);
    FUZZ_CHECK(!seg.empty() || slash == p.size());
    FUZZ_CHECK(seg != "." && seg != "..");
    start = slash + 1;
  }
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto ch = static_cast<unsigned char>(p[i]);
    FUZZ_CHECK(ch != '\\' && ch != ';' && ch != '#' && ch != '?' && ch > 0x20 && ch != 0x7F);
    if (ch == '%') {
      FUZZ_CHECK(i + 2 < p.size() && is_hex_upper(p[i + 1]) && is_hex_upper(p[i + 2]));
      const auto v = static_cast<unsigned char>(hex(p[i + 1]) * 16 + hex(p[i + 2]));
      FUZZ_CHECK(!unreserved(v) && v != '/' && v != '\\' && v != 0 && v != ';');
      i += 2;
    }
  }
  const auto q = raw_target.find('?');
  FUZZ_CHECK(c.has_query == (q != std::string_view::npos));
  if (c.has_query) FUZZ_CHECK(c.query == raw_target.substr(q + 1));

  routing::CanonicalTarget again;
  std::error_code ec;
  FUZZ_CHECK(routing::canonicalize_target(c.target(), again, ec));
  FUZZ_CHECK(again.path == c.path && again.query == c.query && again.has_query == c.has_query);
}

// The bytes an upstream decoding the path once would see: every "%XX" with two hex
// digits decoded, anything else as it is.
std::string decode_escapes(std::string_view p) {
  auto hexval = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '%' && i + 2 < p.size() && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexval(p[i + 1]) * 16 + hexval(p[i + 2])));
      i += 2;
    } else {
      out.push_back(p[i]);
    }
  }
  return out;
}

// Well-formed UTF-8 by decoding code points: shortest form, no surrogate, at most U+10FFFF.
bool reference_utf8_ok(std::string_view b) {
  std::size_t i = 0;
  while (i < b.size()) {
    const auto c = static_cast<unsigned char>(b[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > b.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(b[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

// The Host grammar of routing/host.hpp, checked another way.
bool reference_host_ok(std::string_view v) {
  std::string_view rest;
  if (v.starts_with('[')) {
    const auto close = v.find(']');
    if (close == std::string_view::npos || close - 1 >= 64) return false;
    char buf[64] = {};
    v.substr(1, close - 1).copy(buf, close - 1);
    if (std::string_view(buf, close - 1).find('\0') != std::string_view::npos) return false;
    unsigned char addr[16];
    if (inet_pton(AF_INET6, buf, addr) != 1) return false;
    rest = v.substr(close + 1);
  } else {
    const auto colon = v.find(':');
    const std::string_view name = v.substr(0, colon);
    if (name.empty() || name.size() > 255) return false;
    for (char c : name)
      if (!unreserved(static_cast<unsigned char>(c))) return false;
    rest = colon == std::string_view::npos ? std::string_view() : v.substr(colon);
  }
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  unsigned port = 0;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  return port <= 65535;
}

void check_host(std::string_view value, bool accepted, const routing::HostParts& parts, const std::error_code& ec) {
  FUZZ_CHECK(accepted == reference_host_ok(value));
  if (accepted) {
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(parts.ip_literal == parts.host.starts_with('['));
    const std::string joined = std::string(parts.host) + (parts.port.empty() ? "" : ":" + std::string(parts.port));
    FUZZ_CHECK(joined == value);
  } else {
    FUZZ_CHECK(ec.category() == routing::host_category());
  }
}

// Independent route conditions (route_table.hpp's documented rules).
bool lower_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto l = [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; };
    if (l(a[i]) != l(b[i])) return false;
  }
  return true;
}

bool route_holds(const World& w, std::size_t i, std::string_view host, std::string_view method,
                 const std::string& path) {
  const config::RouteMatch& m = w.cfg.routes[i].match;
  if (!m.host.empty()) {
    std::string_view h = host;
    if (h.starts_with('[')) {
      h = h.substr(0, std::min(h.size(), h.find(']') == std::string_view::npos ? h.size() : h.find(']') + 1));
    } else if (const auto colon = h.rfind(':'); colon != std::string_view::npos) {
      h = h.substr(0, colon);
    }
    if (h.ends_with('.')) h.remove_suffix(1);
    if (m.host.starts_with("*.")) {
      const std::string_view suffix = std::string_view(m.host).substr(1);
      if (h.size() <= suffix.size() || !lower_equal(h.substr(h.size() - suffix.size()), suffix)) return false;
    } else if (!lower_equal(h, m.host)) {
      return false;
    }
  }
  if (!m.methods.empty() && std::find(m.methods.begin(), m.methods.end(), method) == m.methods.end()) return false;
  switch (m.path_kind) {
    case config::PathMatch::exact: return path == m.path;
    case config::PathMatch::prefix:
      return path.starts_with(m.path) &&
             (m.path.ends_with('/') || path.size() == m.path.size() || path[m.path.size()] == '/');
    case config::PathMatch::regex: return std::regex_match(path, w.regexes[i]);
  }
  return false;
}

std::vector<std::string> split_scopes(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t sp = std::min(s.find(' ', i), s.size());
    if (sp > i) out.emplace_back(s.substr(i, sp - i));
    i = sp + 1;
  }
  return out;
}

// The claims a token would carry: "scope" from X-Fuzz-Scope, "email_verified"
// true/false when X-Fuzz-Verified says so (else its text), "groups" from the
// comma-separated X-Fuzz-Groups.
json::object claims_of(const http::RequestParser::value_type& req) {
  json::object claims;
  if (auto it = req.find("X-Fuzz-Scope"); it != req.end()) claims["scope"] = std::string(it->value());
  if (auto it = req.find("X-Fuzz-Verified"); it != req.end()) {
    if (it->value() == "true") claims["email_verified"] = true;
    else if (it->value() == "false") claims["email_verified"] = false;
    else claims["email_verified"] = std::string(it->value());
  }
  if (auto it = req.find("X-Fuzz-Groups"); it != req.end()) {
    json::array groups;
    std::string_view v = it->value();
    std::size_t i = 0;
    while (i <= v.size()) {
      const std::size_t comma = std::min(v.find(',', i), v.size());
      groups.emplace_back(std::string(v.substr(i, comma - i)));
      i = comma + 1;
    }
    claims["groups"] = std::move(groups);
  }
  return claims;
}

void check_policy(const config::Requirement& req, const json::object& claims) {
  const std::vector<std::string> scopes = auth::extract_scopes(claims, "scope");
  // The reference: "scope" is a string here, so its space-separated tokens.
  std::vector<std::string> expected_scopes;
  if (const auto* s = claims.if_contains("scope"); s && s->is_string()) expected_scopes = split_scopes(s->get_string());
  FUZZ_CHECK(scopes == expected_scopes);

  auto has = [&](const std::string& s) { return std::find(scopes.begin(), scopes.end(), s) != scopes.end(); };
  const bool all_ok = std::all_of(req.scopes_all.begin(), req.scopes_all.end(), has);
  const bool any_ok = req.scopes_any.empty() || std::any_of(req.scopes_any.begin(), req.scopes_any.end(), has);
  bool claims_ok = true;
  for (const config::ClaimRule& rule : req.claims) {
    const json::value* v = claims.if_contains(rule.name);
    auto text_in = [&](const json::value& x) {
      std::string t;
      if (x.is_string()) t = std::string(x.get_string());
      else if (x.is_bool()) t = x.get_bool() ? "true" : "false";
      else return false;
      return std::find(rule.values.begin(), rule.values.end(), t) != rule.values.end();
    };
    bool holds = false;
    if (v && v->is_array()) holds = std::any_of(v->get_array().begin(), v->get_array().end(), text_in);
    else if (v) holds = text_in(*v);
    claims_ok = claims_ok && holds;
  }

  std::string missing;
  const std::error_code ec = policy::evaluate(req, scopes, claims, &missing);
  if (!all_ok || !any_ok) {
    FUZZ_CHECK(ec == auth::auth_errc::scope_insufficient);
    FUZZ_CHECK(!missing.empty());
    for (const std::string& s : split_scopes(missing)) {
      const auto& named = !all_ok ? req.scopes_all : req.scopes_any;
      FUZZ_CHECK(std::find(named.begin(), named.end(), s) != named.end());
    }
  } else if (!claims_ok) {
    FUZZ_CHECK(ec == auth::auth_errc::claims_not_allowed);
  } else {
    FUZZ_CHECK(!ec);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const World& w = world();
  const config::Limits& limits = w.cfg.limits;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Whatever bytes a request carries, its access-log strings are valid JSON.
  {
    std::string quoted = "\"";
    common::append_json_escaped(quoted, bytes);
    quoted += '"';
    boost::system::error_code json_ec;
    const boost::json::value v = boost::json::parse(quoted, json_ec);
    FUZZ_CHECK(!json_ec && v.is_string());
    if (common::check_utf8(bytes) == common::utf8_fault::none) FUZZ_CHECK(v.get_string() == bytes);
  }

  // What read_whole_header() does: buffer up to the blank line, with the whole
  // head within max_header_bytes (431), no obs-fold (400).
  std::size_t scanned = 0;
  const http::HeadScan scan = http::scan_request_head(bytes, limits.max_header_bytes, scanned);
  const auto end = bytes.find("\r\n\r\n");
  if (scan == http::HeadScan::incomplete) {
    FUZZ_CHECK(end == std::string_view::npos && bytes.size() < limits.max_header_bytes);
    return 0;
  }
  if (scan == http::HeadScan::too_large) {
    FUZZ_CHECK(end == std::string_view::npos ? bytes.size() >= limits.max_header_bytes
                                             : end + 4 > limits.max_header_bytes);
    return 0;  // 431
  }
  FUZZ_CHECK(end != std::string_view::npos && end + 4 <= limits.max_header_bytes);
  FUZZ_CHECK((scan == http::HeadScan::obs_fold) == http::has_obs_fold(bytes.substr(0, end + 2)));
  if (scan == http::HeadScan::obs_fold) return 0;  // 400

  http::RequestParser parser;
  http::limit_request_parser(parser, limits);
  boost::beast::error_code ec;
  boost::asio::const_buffer in(bytes.data(), bytes.size());
  while (!parser.is_header_done()) {
    const std::size_t used = parser.put(in, ec);
    if (ec) break;
    in += used;
    if (used == 0) break;
  }
  // A head within the limit never hits Beast's header limit.
  FUZZ_CHECK(ec != bhttp::error::header_limit);
  if (ec || !parser.is_header_done()) return 0;  // 413 (body_limit) or 400
  const auto& req = parser.get();
  if (const auto cl = parser.content_length(); cl) FUZZ_CHECK(*cl <= limits.max_body_bytes);

  if (http::framing_error(req) != nullptr) return 0;  // 400

  // What proxy/pipeline.cpp does next (request_reader.cpp): the Host (when present), then the path.
  if (const auto h = req.find(bhttp::field::host); h != req.end()) {
    routing::HostParts parts;
    std::error_code hec;
    const bool ok = routing::validate_host(h->value(), parts, hec);
    check_host(h->value(), ok, parts, hec);
    if (!ok) return 0;  // 400 bad_host
  }

  const std::string_view target = req.target();
  routing::CanonicalTarget canonical;
  std::error_code pec;
  const bool path_utf8_ok = reference_utf8_ok(decode_escapes(target.substr(0, target.find('?'))));
  if (!routing::canonicalize_target(target, canonical, pec)) {
    FUZZ_CHECK(pec.category() == routing::path_category());
    if (pec == routing::path_errc::invalid_utf8) FUZZ_CHECK(!path_utf8_ok);
    return 0;  // 400 bad_path
  }
  FUZZ_CHECK(path_utf8_ok);
  check_canonical(target, canonical);

  const std::string_view host = req[bhttp::field::host];
  const std::string_view method = req.method_string();
  const int route = w.table->match(host, method, canonical.path);
  for (int i = 0; i < static_cast<int>(w.cfg.routes.size()); ++i) {
    const bool holds = route_holds(w, static_cast<std::size_t>(i), host, method, canonical.path);
    if (i < route || route < 0) FUZZ_CHECK(!holds);
    if (i == route) FUZZ_CHECK(holds);
  }
  if (route < 0) return 0;  // 404

  check_policy(w.cfg.routes[static_cast<std::size_t>(route)].require, claims_of(req));
  return 0;
}

// For the replay driver: seed files named valid-* are heads that reach a route.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  const World& w = world();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  http::RequestParser parser;
  http::limit_request_parser(parser, w.cfg.limits);
  std::size_t scanned = 0;
  if (http::scan_request_head(bytes, w.cfg.limits.max_header_bytes, scanned) != http::HeadScan::complete) return 0;
  boost::beast::error_code ec;
  parser.put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
  if (ec || !parser.is_header_done() || http::framing_error(parser.get())) return 0;
  if (const auto h = parser.get().find(bhttp::field::host); h != parser.get().end()) {
    routing::HostParts parts;
    std::error_code hec;
    if (!routing::validate_host(h->value(), parts, hec)) return 0;
  }
  routing::CanonicalTarget c;
  std::error_code pec;
  if (!routing::canonicalize_target(parser.get().target(), c, pec)) return 0;
  return w.table->match(parser.get()[bhttp::field::host], parser.get().method_string(), c.path) >= 0;
}
