#include "http/header_hygiene.hpp"

#include "common/ascii.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace authgate::http {

namespace bhttp = boost::beast::http;

namespace {

void erase_if_name(Fields& fields, auto&& pred) {
  for (auto it = fields.begin(); it != fields.end();) {
    if (pred(*it)) it = fields.erase(it);
    else ++it;
  }
}

// Hop-by-hop by definition (RFC 9110 7.6.1), plus the Proxy-* family.
bool is_hop_by_hop(const Fields::value_type& f, bool keep_upgrade) {
  switch (f.name()) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
    case bhttp::field::proxy_connection:
      return true;
    case bhttp::field::upgrade:
      return !keep_upgrade;
    case bhttp::field::unknown:
      return common::header_name_starts_with(f.name_string(), "proxy-") ||
             common::header_name_equals(f.name_string(), "keep-alive") ||
             (!keep_upgrade && common::header_name_equals(f.name_string(), "upgrade"));
    default:  // known fields such as Proxy-Authentication-Info
      return common::header_name_starts_with(f.name_string(), "proxy-");
  }
}

// End-to-end headers that authgate reads, sets or vouches for: a Connection
// header naming one of them does not remove it. Otherwise a client could
// drop, by naming it in Connection, the X-Forwarded-* chain of a trusted proxy
// (and have authgate start a new one with the wrong client and scheme), or
// the Authorization header a route forwards (the CVE-2022-31813 class: Apache
// httpd dropped its own X-Forwarded-* that way). The headers authgate sets
// itself (X-Forwarded-*, X-Real-IP, X-Request-Id, identity headers, the
// session's Authorization) are set after every removal, so a Connection token
// cannot touch them either; protecting their names here keeps that true
// whatever the order.
bool connection_cannot_remove(const Fields::value_type& f, bool keep_upgrade) {
  switch (f.name()) {
    case bhttp::field::content_length:
    case bhttp::field::transfer_encoding:
    case bhttp::field::host:
    case bhttp::field::authorization:
    case bhttp::field::cookie:
    case bhttp::field::forwarded:
      return true;
    case bhttp::field::upgrade:
      return keep_upgrade;
    default:
      break;
  }
  const std::string_view name = f.name_string();
  return common::header_name_starts_with(name, "X-Forwarded-") ||
         common::header_name_equals(name, "X-Real-IP") || common::header_name_equals(name, "X-Request-Id");
}

// Names listed in Connection: removed too, except what connection_cannot_remove() protects.
struct ConnectionListed {
  ConnectionListed(const Fields& fields, bool keep_upgrade) : keep_upgrade(keep_upgrade) {
    for (auto it = fields.find(bhttp::field::connection);
         it != fields.end() && it->name() == bhttp::field::connection; ++it)
      common::for_each_list_item(std::string_view(it->value()), [&](std::string_view v) { names.push_back(v); });
  }
  bool contains(const Fields::value_type& f) const {
    if (names.empty() || connection_cannot_remove(f, keep_upgrade)) return false;
    for (auto v : names)
      if (common::header_name_equals(v, f.name_string())) return true;
    return false;
  }
  std::vector<std::string_view> names;
  bool keep_upgrade;
};

bool is_identity_header(std::string_view name, const config::IdentityConfig& identity) {
  for (const auto& p : identity.strip_prefixes)
    if (common::header_name_starts_with(name, p)) return true;
  for (const auto& h : identity.strip_headers)
    if (common::header_name_equals(name, h)) return true;
  return false;
}

const config::IdentityConfig& default_identity() {
  static const config::IdentityConfig d;
  return d;
}

const config::HeadersConfig& default_headers() {
  static const config::HeadersConfig d;
  return d;
}

bool is_listed(std::string_view name, const std::vector<std::string>& list) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& h) { return common::header_name_equals(name, h); });
}

// The forwarding facts authgate keeps from a trusted proxy and appends to.
bool is_forwarding_chain(std::string_view name) {
  return common::iequals(name, "X-Forwarded-For") || common::iequals(name, "X-Forwarded-Proto") ||
         common::iequals(name, "X-Forwarded-Host");
}

}  // namespace

const char* framing_error(const Fields& f) {
  const bool has_te = f.count(bhttp::field::transfer_encoding) > 0;
  const auto cl = f.equal_range(bhttp::field::content_length);
  const bool has_cl = cl.first != cl.second;
  if (has_te && has_cl) return "both Content-Length and Transfer-Encoding";
  if (has_cl) {
    std::string_view first;
    for (auto it = cl.first; it != cl.second; ++it) {
      std::string_view value(it->value());
      bool differs = false;
      common::for_each_list_item(value, [&](std::string_view v) {
        if (first.empty()) first = v;
        else if (v != first) differs = true;
      });
      if (differs) return "differing Content-Length values";
    }
  }
  if (has_te) {
    std::string_view last;
    for (auto it = f.find(bhttp::field::transfer_encoding); it != f.end() && it->name() == bhttp::field::transfer_encoding; ++it)
      common::for_each_list_item(std::string_view(it->value()), [&](std::string_view v) { last = v; });
    if (!common::iequals(last, "chunked")) return "Transfer-Encoding does not end in chunked";
  }
  if (f.count(bhttp::field::host) > 1) return "several Host headers";
  return nullptr;
}

void remove_hop_by_hop(Fields& fields, bool keep_upgrade) {
  // The listed names point into the Connection value: decide first, erase after.
  const ConnectionListed listed(fields, keep_upgrade);
  std::vector<Fields::const_iterator> doomed;
  for (auto it = fields.begin(); it != fields.end(); ++it)
    if (is_hop_by_hop(*it, keep_upgrade) || listed.contains(*it)) doomed.push_back(it);
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) fields.erase(*it);
}

void remove_identity_headers(Fields& fields, const config::IdentityConfig& identity) {
  erase_if_name(fields, [&](const Fields::value_type& f) {
    return f.name() == bhttp::field::unknown && is_identity_header(f.name_string(), identity);
  });
}

bool is_rewrite_header(std::string_view name, const config::HeadersConfig& headers) {
  return is_listed(name, headers.strip_rewrite_headers);
}

void prepare_upstream_request(Fields& fields, const ForwardContext& ctx) {
  // One pass decides every removal: hop-by-hop, Connection-listed, identity
  // headers, target/method overrides, X-Real-IP, and forwarding headers:
  // from an untrusted peer every X-Forwarded-* and Forwarded; from a trusted
  // proxy all but the chain (-For, -Proto, -Host) and the allow-list; "_"
  // spellings whatever the peer's trust (a backend folding "_" into "-" must
  // not be fed a forged chain). Then authgate sets its own headers, after
  // every removal, so no Connection token can remove them.
  const auto& identity = ctx.identity ? *ctx.identity : default_identity();
  const auto& headers = ctx.headers ? *ctx.headers : default_headers();
  std::string xff;
  bool has_proto = false;
  bool has_host = false;
  {
    const ConnectionListed listed(fields, ctx.upgrade);
    std::vector<Fields::const_iterator> doomed;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      const auto name = std::string_view(it->name_string());
      bool drop = is_hop_by_hop(*it, ctx.upgrade) || listed.contains(*it) || is_rewrite_header(name, headers) ||
                  common::header_name_equals(name, "X-Real-IP");
      if (!drop && (it->name() == bhttp::field::unknown || it->name() == bhttp::field::forwarded)) {
        const bool forwarding =
            it->name() == bhttp::field::forwarded || common::header_name_starts_with(name, "x-forwarded-");
        drop = is_identity_header(name, identity) ||
               (forwarding && (!ctx.peer_trusted || name.find('_') != std::string_view::npos ||
                               !(is_forwarding_chain(name) || is_listed(name, headers.trusted_forwarded_headers))));
      }
      if (drop) {
        doomed.push_back(it);
      } else if (ctx.peer_trusted && common::iequals(name, "X-Forwarded-For")) {
        if (!xff.empty()) xff += ", ";
        xff += std::string_view(it->value());
      } else if (common::iequals(name, "X-Forwarded-Proto")) {
        has_proto = true;
      } else if (common::iequals(name, "X-Forwarded-Host")) {
        has_host = true;
      }
    }
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) fields.erase(*it);
  }
  if (!xff.empty()) xff += ", ";
  xff += ctx.client_ip;
  fields.set("X-Forwarded-For", xff);
  fields.set("X-Real-IP", ctx.client_ip);
  if (!ctx.peer_trusted || !has_proto) fields.set("X-Forwarded-Proto", ctx.scheme);
  if (!ctx.peer_trusted || !has_host) {
    auto host = fields.find(bhttp::field::host);
    if (host != fields.end()) fields.set("X-Forwarded-Host", host->value());
    else fields.erase("X-Forwarded-Host");
  }
  fields.set("X-Request-Id", ctx.request_id);
  if (ctx.upgrade) fields.set(bhttp::field::connection, "upgrade");
}

void prepare_client_response(Fields& fields, std::string_view request_id, bool switching_protocols,
                             std::string_view dpop_nonce) {
  remove_hop_by_hop(fields, switching_protocols);
  if (switching_protocols) fields.set(bhttp::field::connection, "upgrade");
  fields.set("X-Request-Id", request_id);
  if (!dpop_nonce.empty()) fields.set("DPoP-Nonce", dpop_nonce);
}

bool is_well_formed_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

void generate_request_id(std::string& out) {
  // Ids need to be unique, not secret: a per-thread 64-bit generator seeded
  // once from the CSPRNG keeps this off the syscall path.
  thread_local std::mt19937_64 gen = [] {
    std::array<std::uint64_t, 4> seed{};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), sizeof(seed)) != 1)
      seed[0] = std::random_device{}();
    std::array<std::uint32_t, 8> words{};
    std::memcpy(words.data(), seed.data(), sizeof words);  // no type-punned reads
    std::seed_seq seq(words.begin(), words.end());
    return std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  out.assign(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = gen();
    for (int i = 0; i < 16; ++i) out[half * 16 + i] = kHex[(v >> (i * 4)) & 0xF];
  }
}

std::string generate_request_id() {
  std::string out;
  generate_request_id(out);
  return out;
}

}  // namespace authgate::http
