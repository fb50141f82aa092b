// The admin port's deny-list endpoint (served by admin/admin_server.cpp):
//   GET  /revocations   {"entries":[{"kind":"jti","value":..,"until":..}, ...]}
//   POST /revocations   {"jti":"J","exp":E} or {"sub":"S","before":B} -> 201
// Both need `Authorization: Bearer <revocation admin token>`
// (revocation.admin_token_env / admin_token_file); without a configured token
// the endpoint is off (404). Answers: 400 bad body, 401 bad token, 405, 409
// deny-list full, 503 + Retry-After when Redis cannot store the entry.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace authgate::revocation {
class RevocationService;
}

namespace authgate::admin {

struct ApiReply {
  unsigned status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

// GCC 12: every reference argument must be a named object of the caller.
boost::asio::awaitable<ApiReply> revocation_api(revocation::RevocationService& service, const std::string& method,
                                                const std::string& authorization, const std::string& body,
                                                std::int64_t now);

}  // namespace authgate::admin
