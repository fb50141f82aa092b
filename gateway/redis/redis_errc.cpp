#include "redis/redis_errc.hpp"

#include <string>

namespace authgate::redis {

namespace {
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int ev) const override {
    switch (static_cast<redis_errc>(ev)) {
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
};
}  // namespace

const std::error_category& redis_category() {
  static const Category c;
  return c;
}

}  // namespace authgate::redis
