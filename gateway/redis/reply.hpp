// Redis values and the RESP wire format, both done by hiredis (its reply
// reader and its command formatter): authgate writes no RESP by hand. Pure: no
// I/O, so the connection code (redis_client.cpp) and the tests share it.
//
// Usage:
//   std::string wire = encode_command({"SET", key, value, "PX", "5000"});
//   ReplyReader reader;
//   reader.feed(bytes_from_socket);
//   RedisValue v;
//   while (reader.next(v) == ReplyReader::Status::reply) handle(v);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace authgate::redis {

struct RedisValue {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string str;  // string, status and error replies
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }
  bool is_string() const { return type == Type::string; }
  bool is_integer() const { return type == Type::integer; }
  bool is_array() const { return type == Type::array; }
};

// One command in RESP (an array of bulk strings); binary-safe arguments.
std::string encode_command(const std::vector<std::string>& args);

class ReplyReader {
 public:
  enum class Status { reply, need_more, protocol_error };
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  void feed(std::string_view bytes);
  Status next(RedisValue& out);
  std::string error() const;  // after protocol_error
  std::size_t buffered() const;  // bytes fed and not yet consumed by a reply

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authgate::redis
