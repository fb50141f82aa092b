// What a request in flight needs beyond its connection: the read buffer, the
// request and response parsers and messages, the canonical target, the access
// verdict, the request's log facts, the rendered header being written and the
// body piece in flight.
//
// A worker keeps spare workspaces (Worker::take_workspace). A connection takes one
// when its next request's first bytes are there (proxy/request_reader.hpp,
// await_request) and gives it back when it goes idle again. So:
// - an idle keep-alive connection holds none of it: no read buffer, no parser,
//   no strings (load-tests/RESULTS.md, "Idle connections");
// - the per-request coroutine frames hold references, not these objects, and stay
//   under Asio's 1,020-byte frame-recycling limit (load-tests/RESULTS.md, "Heap
//   allocations per request");
// - strings and the buffer keep their capacity from request to request.
//
// Usage:
//   c.ws = worker.take_workspace();
//   auto& parser = c.ws->parser.emplace();        // a fresh parser per request
//   ... the request ...
//   std::span<char> piece = c.ws->relay.get(content_length);  // a body's piece
//   worker.give_back_workspace(std::move(c.ws));  // only with an empty buffer
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "access/decision.hpp"
#include "http/fields.hpp"
#include "http/request_head.hpp"
#include "proxy/pipeline.hpp"
#include "proxy/request_state.hpp"
#include "proxy/worker.hpp"
#include "routing/path.hpp"

namespace authgate::proxy {

using ResponseParser =
    boost::beast::http::response_parser<boost::beast::http::buffer_body, http::FieldAllocator<char>>;
using UpstreamRequest = boost::beast::http::request<boost::beast::http::buffer_body, http::Fields>;
using ClientResponse = boost::beast::http::response<boost::beast::http::buffer_body, http::Fields>;

// Size of one body piece relayed at a time, each way. Bounds per-request memory.
inline constexpr std::size_t kRelayChunk = 64 * 1024;
// A body known to be this small is relayed through the workspace's own piece.
inline constexpr std::size_t kSmallRelayChunk = 4 * 1024;

// The request's one body piece in flight. A body whose length is known to fit
// kSmallRelayChunk uses the inline piece; any other takes a kRelayChunk block from
// the worker's spares (given back with the workspace). So 500 concurrent small
// responses hold 2 MiB, not 32 MiB that the heap then keeps (load-tests/RESULTS.md,
// "Idle connections").
class RelayBuffer {
 public:
  static constexpr std::uint64_t kUnknownLength = UINT64_MAX;
  explicit RelayBuffer(Worker& w) : worker_(w) {}
  // `body_length`: the whole body's length when known (Content-Length).
  std::span<char> get(std::uint64_t body_length = kUnknownLength) {
    if (body_length <= small_.size()) return small_;
    if (!large_) large_ = worker_.take_relay_buffer(kRelayChunk);
    return {large_.get(), kRelayChunk};
  }
  void give_back() {
    if (large_) worker_.give_back_relay_buffer(std::move(large_));
  }

 private:
  Worker& worker_;
  std::unique_ptr<char[]> large_;
  std::array<char, kSmallRelayChunk> small_;
};

struct RequestWorkspace {
  explicit RequestWorkspace(Worker& w) : relay(w) {}

  // Drops what belongs to the last request (parsers, verdict) before the workspace
  // goes back to the spares; a buffer grown past kMaxKeptBuffer by a large head is
  // released too.
  void release_request() {
    parser.reset();
    upstream_request.reset();
    response.reset();
    client_response.reset();
    verdict.reset();
    admission.reset();
    relay.give_back();
    if (buffer.capacity() > kMaxKeptBuffer) buffer.shrink_to_fit();  // empty here: frees it
  }
  static constexpr std::size_t kMaxKeptBuffer = 16 * 1024;

  boost::beast::flat_buffer buffer;  // client bytes read ahead: the head, body bytes, a pipelined request
  std::optional<http::RequestParser> parser;
  std::optional<UpstreamRequest> upstream_request;  // the request as it goes upstream
  std::optional<ResponseParser> response;           // the upstream's response
  std::optional<ClientResponse> client_response;    // the response as it goes back to the client
  routing::CanonicalTarget target;
  std::optional<access::Verdict> verdict;
  Admission admission;   // what steps 4-6 decided (proxy/pipeline.hpp)
  RequestState request;  // the log facts of the request being served
  std::string header;    // a rendered header being written
  RelayBuffer relay;     // the body piece in flight
};

}  // namespace authgate::proxy
