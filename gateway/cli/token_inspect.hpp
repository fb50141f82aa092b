// `authgate token inspect <JWT>`: decodes a token's header and payload WITHOUT
// trusting them (as jwt.io does), and, given a config and a route, says whether
// authgate would accept the token there and which check fails if not.
//
// Usage:
//   std::vector<std::string> args{"eyJ...", "--config", "gw.yaml", "--route", "api"};
//   int rc = cli::token_inspect(args, std::cout, std::cerr);           // wall clock
//   int rc = cli::token_inspect(args, out, err, /*now_unix=*/1'700'000'000);  // tests
//
// Arguments (after "token inspect"):
//   <JWT>                       the compact token (a leading "Bearer " is ignored)
//   --config FILE               the gateway config; needs one of:
//     --route NAME              the route by name, or
//     --method M --path P [--host H]   the route the real RouteTable picks (canonical path)
//   --jwks FILE                 when the decision needs the network (remote keys,
//                               introspection, session): verify against this JWKS instead
// Exit codes: 0 decoded / accepted, 1 malformed / rejected / undecided (needs the
// network, no --jwks) / config errors, 2 usage.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace authgate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;

int token_inspect(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                  std::int64_t now_unix);
int token_inspect(std::span<const std::string> args, std::ostream& out, std::ostream& err);

void token_inspect_usage(std::ostream& os);

// ---- exposed for tests ----

// The untrusted decoding of a compact JWS.
struct DecodedToken {
  std::string header_json;   // pretty-printed
  std::string payload_json;  // pretty-printed
  std::size_t signature_bytes = 0;
};
// Empty on success; otherwise what is wrong ("header: not valid base64url", ...).
std::string decode_token(std::string_view token, DecodedToken& out);

// "2026-11-22 03:56:59 UTC".
std::string format_utc(std::int64_t unix_seconds);
// The span between `t` and `now` in at most two units: "4m 12s", "2h", "3d 1h", "0s".
std::string format_duration(std::int64_t seconds);
// "in 4m 12s" / "4m 12s ago" / "now".
std::string format_relative(std::int64_t t, std::int64_t now);
// One time-claim line: "exp: 1700000252 (2023-11-14 22:17:32 UTC, in 4m 12s)"; for exp in the
// past "expired 2h ago", for nbf in the future "not valid until in ...".
std::string format_time_claim(std::string_view name, std::int64_t t, std::int64_t now);

}  // namespace authgate::cli
