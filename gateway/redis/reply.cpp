#include "redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace authgate::redis {

namespace {

RedisValue convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::integer;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::string;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::status;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = RedisValue::Type::error;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::array;
      v.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      break;
  }
  return v;
}

}  // namespace

std::string encode_command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* out = nullptr;
  const int n = redisFormatCommandArgv(&out, static_cast<int>(args.size()), argv.data(), lens.data());
  if (n < 0 || !out) throw std::bad_alloc();
  std::string wire(out, static_cast<std::size_t>(n));
  redisFreeCommand(out);
  return wire;
}

struct ReplyReader::Impl {
  redisReader* reader = redisReaderCreate();
  // Bytes fed since the last complete reply. hiredis's own cursor moves over
  // the parts of a reply it has parsed (an array's first elements), so
  // len - pos would undercount a large reply still arriving.
  std::size_t pending = 0;
  ~Impl() { redisReaderFree(reader); }
};

ReplyReader::ReplyReader() : impl_(std::make_unique<Impl>()) {
  if (!impl_->reader) throw std::bad_alloc();
}
ReplyReader::~ReplyReader() = default;

void ReplyReader::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  redisReaderFeed(impl_->reader, bytes.data(), bytes.size());
  impl_->pending += bytes.size();
}

ReplyReader::Status ReplyReader::next(RedisValue& out) {
  void* reply = nullptr;
  if (redisReaderGetReply(impl_->reader, &reply) != REDIS_OK) return Status::protocol_error;
  if (!reply) return Status::need_more;
  out = convert(static_cast<redisReply*>(reply));
  freeReplyObject(reply);
  const auto* r = impl_->reader;
  impl_->pending = r->buf ? r->len - r->pos : 0;  // what follows this reply is not parsed yet
  return Status::reply;
}

std::string ReplyReader::error() const {
  return impl_->reader->err ? std::string(impl_->reader->errstr) : std::string();
}

std::size_t ReplyReader::buffered() const { return impl_->pending; }

}  // namespace authgate::redis
