#include "http/header_hygiene.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace authgate::http {

namespace bhttp = boost::beast::http;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// Lower-case with "_" folded to "-", so X_Auth_User and x-auth-user compare equal.
std::string fold_name(std::string_view name) {
  std::string out(name);
  for (auto& c : out) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class F>
void for_each_list_item(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

void erase_if_name(Fields& fields, auto&& pred) {
  for (auto it = fields.begin(); it != fields.end();) {
    if (pred(std::string_view(it->name_string()))) it = fields.erase(it);
    else ++it;
  }
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
      for_each_list_item(value, [&](std::string_view v) {
        if (first.empty()) first = v;
        else if (v != first) differs = true;
      });
      if (differs) return "differing Content-Length values";
    }
  }
  if (has_te) {
    std::string_view last;
    for (auto it = f.find(bhttp::field::transfer_encoding); it != f.end() && it->name() == bhttp::field::transfer_encoding; ++it)
      for_each_list_item(std::string_view(it->value()), [&](std::string_view v) { last = v; });
    if (!iequals(last, "chunked")) return "Transfer-Encoding does not end in chunked";
  }
  if (f.count(bhttp::field::host) > 1) return "several Host headers";
  return nullptr;
}

void remove_hop_by_hop(Fields& fields, bool keep_upgrade) {
  std::vector<std::string> listed;
  for (auto it = fields.find(bhttp::field::connection);
       it != fields.end() && it->name() == bhttp::field::connection; ++it)
    for_each_list_item(std::string_view(it->value()),
                       [&](std::string_view v) { listed.push_back(fold_name(v)); });
  erase_if_name(fields, [&](std::string_view name) {
    const auto n = fold_name(name);
    if (n == "upgrade") return !keep_upgrade;
    if (n == "connection" || n == "keep-alive" || n == "te" || n == "trailer" ||
        n.starts_with("proxy-"))
      return true;
    // A Connection-listed name must not remove framing or the upgrade we keep.
    if (n == "content-length" || n == "transfer-encoding" || n == "host") return false;
    return std::find(listed.begin(), listed.end(), n) != listed.end();
  });
}

void remove_identity_headers(Fields& fields) {
  erase_if_name(fields, [](std::string_view name) {
    const auto n = fold_name(name);
    return n.starts_with("x-auth-") || n == "x-remote-user" || n == "x-forwarded-user";
  });
}

void prepare_upstream_request(Fields& fields, const ForwardContext& ctx) {
  remove_hop_by_hop(fields, ctx.upgrade);
  remove_identity_headers(fields);
  // X-Forwarded-*: underscore spellings are dropped whatever the trust, so a
  // backend that folds "_" into "-" cannot be fed a forged chain.
  erase_if_name(fields, [](std::string_view name) {
    return name.find('_') != std::string_view::npos && fold_name(name).starts_with("x-forwarded-");
  });

  std::string xff;
  if (ctx.peer_trusted) {
    for (auto it = fields.find("X-Forwarded-For"); it != fields.end() && iequals(it->name_string(), "X-Forwarded-For"); ++it) {
      if (!xff.empty()) xff += ", ";
      xff += std::string_view(it->value());
    }
  }
  if (!xff.empty()) xff += ", ";
  xff += ctx.client_ip;
  fields.set("X-Forwarded-For", xff);

  if (!ctx.peer_trusted || fields.count("X-Forwarded-Proto") == 0)
    fields.set("X-Forwarded-Proto", ctx.scheme);
  if (!ctx.peer_trusted || fields.count("X-Forwarded-Host") == 0) {
    auto host = fields.find(bhttp::field::host);
    if (host != fields.end()) fields.set("X-Forwarded-Host", host->value());
    else fields.erase("X-Forwarded-Host");
  }
  fields.set("X-Request-Id", ctx.request_id);
  if (ctx.upgrade) fields.set(bhttp::field::connection, "upgrade");
}

void prepare_client_response(Fields& fields, std::string_view request_id, bool switching_protocols) {
  remove_hop_by_hop(fields, switching_protocols);
  if (switching_protocols) fields.set(bhttp::field::connection, "upgrade");
  fields.set("X-Request-Id", request_id);
}

bool is_well_formed_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

std::string generate_request_id() {
  // Ids need to be unique, not secret: a per-thread 64-bit generator seeded
  // once from the CSPRNG keeps this off the syscall path.
  thread_local std::mt19937_64 gen = [] {
    std::array<std::uint64_t, 4> seed{};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), sizeof(seed)) != 1)
      seed[0] = std::random_device{}();
    std::seed_seq seq(reinterpret_cast<std::uint32_t*>(seed.data()),
                      reinterpret_cast<std::uint32_t*>(seed.data()) + 8);
    return std::mt19937_64(seq);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = gen();
    for (int i = 0; i < 16; ++i) out[half * 16 + i] = kHex[(v >> (i * 4)) & 0xF];
  }
  return out;
}

}  // namespace authgate::http
