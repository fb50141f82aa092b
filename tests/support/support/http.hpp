// HTTP/1.1 message pieces shared by the raw client and the test upstream:
// a header list, head parsing, and a buffered socket reader that frames
// bodies (Content-Length, chunked, until EOF) into a sink without storing them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/net.hpp"

namespace support {

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
// True when the comma-separated list `value` contains `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token);

struct Header {
  std::string name;
  std::string value;
};

struct Headers {
  std::vector<Header> list;

  // First value of `name` (case-insensitive).
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return count(name) > 0; }
  // True when any header name matches `pred` on its lowercase form.
  bool any_name(const std::function<bool(std::string_view lower_name)>& pred) const;
};

struct RequestHead {
  std::string method;
  std::string target;
  std::string version;
  Headers headers;
  std::string raw;     // exactly as received, including the blank line
  int connection = 0;  // set by UpstreamServer: 1-based id of the TCP connection
};

struct ResponseHead {
  std::string version;
  int status = 0;
  std::string reason;
  Headers headers;
  std::string raw;
};

std::optional<RequestHead> parse_request_head(std::string_view raw);
std::optional<ResponseHead> parse_response_head(std::string_view raw);

using Sink = std::function<void(const char* data, std::size_t n)>;

// Buffered reads from a socket it does not own.
class Reader {
 public:
  explicit Reader(int fd, std::size_t buffer_size = 256 * 1024);

  // Reads through the first CRLFCRLF; returns the head (terminator included).
  // Partial data stays buffered on timeout, so a later call continues.
  std::optional<std::string> read_head(Deadline deadline, std::size_t limit = 1 << 20);
  // Reads one CRLF-terminated line (without CRLF).
  std::optional<std::string> read_line(Deadline deadline, std::size_t limit = 64 * 1024);
  bool read_exact(std::uint64_t n, const Sink& sink, Deadline deadline);
  // Decodes a chunked body; trailer lines go to `trailers` if given.
  bool read_chunked(const Sink& sink, Deadline deadline, std::string* trailers = nullptr);
  // Reads until EOF (true) or error/timeout (false).
  bool read_to_eof(const Sink& sink, Deadline deadline);
  // Whatever is buffered, or up to one recv() of fresh data.
  std::string read_some(Deadline deadline);

  std::size_t buffered() const { return end_ - pos_; }
  RecvStatus last_status() const { return status_; }
  // Why the last framed read failed, for messages.
  const std::string& error() const { return error_; }

 private:
  bool fill(Deadline deadline);

  int fd_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  RecvStatus status_ = RecvStatus::data;
  std::string error_;
};

// Deterministic test payload: byte at offset o is (o % 251). Generated on the
// fly, checked on the fly; a shifted, lost or duplicated byte is detected.
namespace pattern {
// A view of up to `max` pattern bytes that start at stream offset `offset`.
std::string_view slice(std::uint64_t offset, std::size_t max);

class Checker {
 public:
  void feed(const char* data, std::size_t n);
  std::uint64_t bytes() const { return offset_; }
  std::uint64_t mismatches() const { return mismatches_; }
  bool ok(std::uint64_t expected_bytes) const {
    return mismatches_ == 0 && offset_ == expected_bytes;
  }

 private:
  std::uint64_t offset_ = 0;
  std::uint64_t mismatches_ = 0;
};
}  // namespace pattern

}  // namespace support
