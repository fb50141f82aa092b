// Unit tests for redis/reply: encode_command's exact RESP bytes (the "Request"
// form of the Redis protocol spec: an array of bulk strings), binary-safe
// arguments; ReplyReader on every reply type, replies split across feeds,
// several replies in one feed, partial input, garbage, and buffered().
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "redis/reply.hpp"

namespace {

using authgate::redis::encode_command;
using authgate::redis::RedisValue;
using authgate::redis::ReplyReader;
using Status = ReplyReader::Status;
using Type = RedisValue::Type;

using namespace std::string_literals;

// Feeds `wire` in one piece and expects exactly one reply, then need_more.
RedisValue read_one(std::string_view wire) {
  ReplyReader r;
  r.feed(wire);
  RedisValue v;
  EXPECT_EQ(r.next(v), Status::reply) << wire;
  RedisValue extra;
  EXPECT_EQ(r.next(extra), Status::need_more) << wire;
  EXPECT_EQ(r.buffered(), 0u) << wire;
  return v;
}

// ---------------------------------------------------------------------------
// encode_command

TEST(EncodeCommand, SetKeyValue) {
  EXPECT_EQ(encode_command({"SET", "k", "v"}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

TEST(EncodeCommand, SetWithExpiryAndLongerArguments) {
  EXPECT_EQ(encode_command({"SET", "authgate:lock:abc", "owner-1", "NX", "PX", "10000"}),
            "*6\r\n$3\r\nSET\r\n$17\r\nauthgate:lock:abc\r\n$7\r\nowner-1\r\n$2\r\nNX\r\n$2\r\nPX\r\n"
            "$5\r\n10000\r\n");
}

TEST(EncodeCommand, SingleArgument) { EXPECT_EQ(encode_command({"PING"}), "*1\r\n$4\r\nPING\r\n"); }

TEST(EncodeCommand, EmptyArgument) {
  EXPECT_EQ(encode_command({"GET", ""}), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST(EncodeCommand, EmbeddedNulIsBinarySafe) {
  const std::string arg = "a\0b"s;
  ASSERT_EQ(arg.size(), 3u);
  EXPECT_EQ(encode_command({"SET", arg, "v"}), "*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$1\r\nv\r\n"s);
}

TEST(EncodeCommand, EmbeddedCrlfIsBinarySafe) {
  EXPECT_EQ(encode_command({"SET", "k", "x\r\ny"}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nx\r\ny\r\n");
}

TEST(EncodeCommand, AllByteValues) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  EXPECT_EQ(encode_command({"SET", "k", all}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$256\r\n" + all + "\r\n");
}

// ---------------------------------------------------------------------------
// ReplyReader: one reply of each type.

TEST(ReplyReader, Status) {
  const RedisValue v = read_one("+OK\r\n");
  EXPECT_EQ(v.type, Type::status);
  EXPECT_EQ(v.str, "OK");
}

TEST(ReplyReader, Error) {
  const RedisValue v = read_one("-ERR x\r\n");
  EXPECT_EQ(v.type, Type::error);
  EXPECT_TRUE(v.is_error());
  EXPECT_EQ(v.str, "ERR x");
}

TEST(ReplyReader, Integer) {
  const RedisValue v = read_one(":42\r\n");
  EXPECT_EQ(v.type, Type::integer);
  EXPECT_TRUE(v.is_integer());
  EXPECT_EQ(v.integer, 42);
}

TEST(ReplyReader, NegativeInteger) {
  const RedisValue v = read_one(":-2\r\n");  // PTTL of a missing key
  EXPECT_EQ(v.type, Type::integer);
  EXPECT_EQ(v.integer, -2);
}

TEST(ReplyReader, BulkString) {
  const RedisValue v = read_one("$5\r\nhello\r\n");
  EXPECT_EQ(v.type, Type::string);
  EXPECT_TRUE(v.is_string());
  EXPECT_EQ(v.str, "hello");
}

TEST(ReplyReader, BulkStringIsBinarySafe) {
  const RedisValue v = read_one("$7\r\na\0b\r\nc\xff\r\n"s);
  EXPECT_EQ(v.type, Type::string);
  EXPECT_EQ(v.str, "a\0b\r\nc\xff"s);
}

TEST(ReplyReader, NilBulkString) {
  const RedisValue v = read_one("$-1\r\n");
  EXPECT_EQ(v.type, Type::nil);
  EXPECT_TRUE(v.is_nil());
}

TEST(ReplyReader, EmptyBulkStringIsNotNil) {
  const RedisValue v = read_one("$0\r\n\r\n");
  EXPECT_EQ(v.type, Type::string);
  EXPECT_EQ(v.str, "");
}

TEST(ReplyReader, Array) {
  const RedisValue v = read_one("*3\r\n$1\r\na\r\n:7\r\n$-1\r\n");
  ASSERT_EQ(v.type, Type::array);
  ASSERT_EQ(v.elements.size(), 3u);
  EXPECT_EQ(v.elements[0].type, Type::string);
  EXPECT_EQ(v.elements[0].str, "a");
  EXPECT_EQ(v.elements[1].type, Type::integer);
  EXPECT_EQ(v.elements[1].integer, 7);
  EXPECT_EQ(v.elements[2].type, Type::nil);
}

TEST(ReplyReader, EmptyArray) {
  const RedisValue v = read_one("*0\r\n");
  EXPECT_EQ(v.type, Type::array);
  EXPECT_TRUE(v.elements.empty());
}

TEST(ReplyReader, NestedArray) {
  // [["message", "ch", "payload"], +OK, -ERR e]
  const RedisValue v =
      read_one("*3\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$7\r\npayload\r\n+OK\r\n-ERR e\r\n");
  ASSERT_EQ(v.type, Type::array);
  ASSERT_EQ(v.elements.size(), 3u);
  const RedisValue& inner = v.elements[0];
  ASSERT_EQ(inner.type, Type::array);
  ASSERT_EQ(inner.elements.size(), 3u);
  EXPECT_EQ(inner.elements[0].str, "message");
  EXPECT_EQ(inner.elements[1].str, "ch");
  EXPECT_EQ(inner.elements[2].str, "payload");
  EXPECT_EQ(v.elements[1].type, Type::status);
  EXPECT_EQ(v.elements[1].str, "OK");
  EXPECT_EQ(v.elements[2].type, Type::error);
  EXPECT_EQ(v.elements[2].str, "ERR e");
}

TEST(ReplyReader, NilArray) {
  const RedisValue v = read_one("*-1\r\n");
  EXPECT_EQ(v.type, Type::nil);
  EXPECT_TRUE(v.elements.empty());
}

// ---------------------------------------------------------------------------
// Framing.

TEST(ReplyReader, ReplySplitByteByByte) {
  const std::string wire = "*2\r\n$5\r\nhello\r\n:42\r\n";
  ReplyReader r;
  RedisValue v;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    r.feed(wire.substr(i, 1));
    ASSERT_EQ(r.next(v), Status::need_more) << "after byte " << i;
  }
  r.feed(wire.substr(wire.size() - 1));
  ASSERT_EQ(r.next(v), Status::reply);
  ASSERT_EQ(v.type, Type::array);
  ASSERT_EQ(v.elements.size(), 2u);
  EXPECT_EQ(v.elements[0].str, "hello");
  EXPECT_EQ(v.elements[1].integer, 42);
  EXPECT_EQ(r.next(v), Status::need_more);
}

TEST(ReplyReader, BulkSplitInsideTheLengthAndThePayload) {
  ReplyReader r;
  RedisValue v;
  r.feed("$1");
  EXPECT_EQ(r.next(v), Status::need_more);
  r.feed("2\r\nhello");
  EXPECT_EQ(r.next(v), Status::need_more);
  r.feed(" world!\r");
  EXPECT_EQ(r.next(v), Status::need_more);
  r.feed("\n");
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(v.type, Type::string);
  EXPECT_EQ(v.str, "hello world!");
}

TEST(ReplyReader, TwoRepliesInOneFeed) {
  ReplyReader r;
  r.feed("+OK\r\n:1\r\n");
  RedisValue v;
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(v.type, Type::status);
  EXPECT_EQ(v.str, "OK");
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(v.type, Type::integer);
  EXPECT_EQ(v.integer, 1);
  EXPECT_EQ(r.next(v), Status::need_more);
}

TEST(ReplyReader, NeedMoreOnPartialInput) {
  for (std::string_view partial : {"", "+OK", "+OK\r", ":4", "$5\r\nhel", "$5\r\nhello", "$5\r\nhello\r",
                                   "*2\r\n", "*2\r\n:1\r\n", "*1\r\n*1\r\n"}) {
    ReplyReader r;
    r.feed(partial);
    RedisValue v;
    EXPECT_EQ(r.next(v), Status::need_more) << "\"" << partial << "\"";
  }
}

TEST(ReplyReader, ProtocolErrorOnGarbage) {
  ReplyReader r;
  EXPECT_EQ(r.error(), "");
  r.feed("?x\r\n");
  RedisValue v;
  EXPECT_EQ(r.next(v), Status::protocol_error);
  EXPECT_NE(r.error(), "");
}

TEST(ReplyReader, ProtocolErrorOnABadLength) {
  ReplyReader r;
  r.feed("$abc\r\nxyz\r\n");
  RedisValue v;
  EXPECT_EQ(r.next(v), Status::protocol_error);
  EXPECT_NE(r.error(), "");
}

TEST(ReplyReader, ProtocolErrorAfterAGoodReply) {
  ReplyReader r;
  r.feed("+OK\r\n?x\r\n");
  RedisValue v;
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(v.str, "OK");
  EXPECT_EQ(r.error(), "");
  EXPECT_EQ(r.next(v), Status::protocol_error);
  EXPECT_NE(r.error(), "");
}

// ---------------------------------------------------------------------------
// buffered(): bytes fed and not yet consumed by a reply.

TEST(ReplyReader, BufferedIsZeroWhenNothingWasFed) {
  ReplyReader r;
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(ReplyReader, BufferedCountsWhatIsLeftAfterEachReply) {
  ReplyReader r;
  r.feed("+OK\r\n:1\r\n$3\r\nab");  // 5 + 4 + 6 bytes
  EXPECT_EQ(r.buffered(), 15u);
  RedisValue v;
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(r.buffered(), 10u);
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(r.buffered(), 6u);
  r.feed("c\r\n");
  EXPECT_EQ(r.buffered(), 9u);
  ASSERT_EQ(r.next(v), Status::reply);
  EXPECT_EQ(v.str, "abc");
  EXPECT_EQ(r.buffered(), 0u);
}

// After next() answered need_more, the bytes of the incomplete reply are
// still "fed and not yet consumed by a reply" (the header's words), all of
// them, type byte included.
TEST(ReplyReader, BufferedCountsAPartialBulkString) {
  ReplyReader r;
  RedisValue v;
  r.feed("$100000\r\n");
  std::size_t fed = 9;
  const std::string chunk(1000, 'x');
  for (int i = 0; i < 50; ++i) {
    r.feed(chunk);
    fed += chunk.size();
    ASSERT_EQ(r.next(v), Status::need_more);
    ASSERT_EQ(r.buffered(), fed) << "after " << fed << " bytes";
  }
}

// The client drops a connection when buffered() exceeds redis.max_reply_bytes
// (redis_client.cpp), so buffered() must also count the elements of an array
// reply that is not complete yet: they are held in memory just the same.
TEST(ReplyReader, BufferedCountsThePartOfAnArrayAlreadyReceived) {
  ReplyReader r;
  RedisValue v;
  const std::string head = "*3\r\n$1\r\na\r\n$1\r\nb\r\n";  // two of three elements
  r.feed(head);
  ASSERT_EQ(r.next(v), Status::need_more);
  EXPECT_EQ(r.buffered(), head.size());
}

}  // namespace
