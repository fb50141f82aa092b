#include "admin/revocation_api.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>

#include <cctype>
#include <chrono>

#include "revocation/revocation_service.hpp"

namespace authgate::admin {

namespace {

ApiReply error(unsigned status, std::string_view code, std::string_view description) {
  boost::json::object o;
  o["error"] = code;
  o["error_description"] = description;
  ApiReply r;
  r.status = status;
  r.body = boost::json::serialize(o) + "\n";
  return r;
}

bool token_matches(std::string_view authorization, const std::string& expected) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
      return false;
  const std::string_view given = authorization.substr(scheme.size());
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

}  // namespace

boost::asio::awaitable<ApiReply> revocation_api(revocation::RevocationService& service, const std::string& method,
                                                const std::string& authorization, const std::string& body,
                                                std::int64_t now) {
  const auto& cfg = service.config();
  if (cfg.admin_token.empty())
    co_return error(404, "not_found", "the revocation endpoint is off: set revocation.admin_token_env or admin_token_file");
  if (!token_matches(authorization, cfg.admin_token)) {
    ApiReply r = error(401, "unauthorized", "this endpoint needs Authorization: Bearer <revocation admin token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"authgate-admin\"");
    co_return r;
  }
  if (method == "GET" || method == "HEAD") {
    ApiReply r;
    r.body = revocation::entries_json(service.entries()) + "\n";
    co_return r;
  }
  if (method != "POST") {
    ApiReply r = error(405, "method_not_allowed", "use GET or POST");
    r.headers.emplace_back("Allow", "GET, HEAD, POST");
    co_return r;
  }
  const auto sub_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.sub_ttl).count();
  const revocation::ParsedRevocation parsed = revocation::parse_revocation(body, now, sub_ttl);
  if (!parsed.entry) co_return error(400, "invalid_request", parsed.error);
  const revocation::DenyEntry entry = *parsed.entry;
  const std::error_code ec = co_await service.revoke(entry, now);
  if (ec == revocation::revocation_errc::list_full) co_return error(409, "deny_list_full", ec.message());
  if (ec) {
    co_return error(503, "store_unavailable", ec.message());  // the admin server adds Retry-After
  }
  ApiReply r;
  r.status = 201;
  r.body = "{\"revoked\":" + revocation::entry_json(entry) + "}\n";
  co_return r;
}

}  // namespace authgate::admin
