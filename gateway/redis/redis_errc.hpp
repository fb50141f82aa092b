// Why a Redis command produced no usable reply. A Redis error reply (-ERR ...)
// is server_error, with the server's text in RedisValue::str.
#pragma once

#include <system_error>

namespace authgate::redis {

enum class redis_errc {
  unavailable = 1,  // no connection is ready (Redis down, still connecting, or backing off)
  timeout,          // no reply within redis.command_timeout; the connection is dropped
  connection_lost,  // the connection broke while the command was in flight
  protocol,         // the server sent something that is not RESP
  reply_too_large,  // a reply over redis.max_reply_bytes; the connection is dropped
  server_error,     // an error reply
  shutting_down,
};

const std::error_category& redis_category();
inline std::error_code make_error_code(redis_errc e) { return {static_cast<int>(e), redis_category()}; }

}  // namespace authgate::redis

template <>
struct std::is_error_code_enum<authgate::redis::redis_errc> : std::true_type {};
