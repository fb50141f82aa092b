#include "redis/redis_errc.hpp"

#include "common/error_category.hpp"

namespace authgate::redis {

namespace {
const char* redis_message(redis_errc e) {
  switch (e) {
    case redis_errc::unavailable: return "redis unavailable";
    case redis_errc::timeout: return "redis command timed out";
    case redis_errc::connection_lost: return "redis connection lost";
    case redis_errc::protocol: return "redis protocol error";
    case redis_errc::reply_too_large: return "redis reply too large";
    case redis_errc::server_error: return "redis error reply";
    case redis_errc::shutting_down: return "redis client shutting down";
  }
  return "redis error";
}
}  // namespace

const std::error_category& redis_category() {
  static const common::ErrorCategory<redis_errc> c("redis", redis_message);
  return c;
}

}  // namespace authgate::redis
