// `authgate revoke ...`: puts a token on the deny-list through a running
// authgate's admin port (POST /revocations), so the whole fleet refuses it.
//
//   authgate revoke jti JTI [--exp UNIX]       one token, until its exp (default: now + revocation.sub_ttl)
//   authgate revoke sub SUB [--before UNIX]    every token of SUB issued before UNIX (default: now)
//   authgate revoke list                       the entries
// Options: --admin URL (default http://127.0.0.1:9901), --token-env NAME
// (default AUTHGATE_ADMIN_TOKEN) or --token-file FILE, --timeout SECONDS (5).
// Exit codes: 0 done, 1 refused or unreachable (the reason on stderr), 2 usage.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace authgate::cli {

int revoke(std::span<const std::string> args, std::ostream& out, std::ostream& err);
void revoke_usage(std::ostream& os);

}  // namespace authgate::cli
