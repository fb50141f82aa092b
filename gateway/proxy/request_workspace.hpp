// What a request in flight needs beyond its connection: the read buffer, the
// request and response parsers, the canonical target, the access verdict, the
// request's log facts and the rendered header being written.
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
//   worker.give_back_workspace(std::move(c.ws));  // only with an empty buffer
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <optional>
#include <string>

#include "access/decision.hpp"
#include "http/fields.hpp"
#include "http/request_head.hpp"
#include "proxy/request_state.hpp"
#include "routing/path.hpp"

namespace authgate::proxy {

using ResponseParser =
    boost::beast::http::response_parser<boost::beast::http::buffer_body, http::FieldAllocator<char>>;
using UpstreamRequest = boost::beast::http::request<boost::beast::http::buffer_body, http::Fields>;
using ClientResponse = boost::beast::http::response<boost::beast::http::buffer_body, http::Fields>;

struct RequestWorkspace {
  // Drops what belongs to the last request (parsers, verdict) before the workspace
  // goes back to the spares; a buffer grown past kMaxKeptBuffer by a large head is
  // released too.
  void release_request() {
    parser.reset();
    upstream_request.reset();
    response.reset();
    client_response.reset();
    verdict.reset();
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
  RequestState request;  // the log facts of the request being served
  std::string header;    // a rendered header being written
};

}  // namespace authgate::proxy
