// A request head as the pipeline sees it from routing to forwarding, whatever
// protocol carried it: HTTP/1 fills it from Beast's parsed header
// (proxy/request_reader.hpp) once the head has passed its checks; HTTP/2 will
// fill it from its decoded header block.
//
// Usage:
//   RequestHead head = http1_request_head(parsed_header, canonical_target);
//   table.match(head.authority, head.method_name, head.path);
//   sessions.handle(head.path, ..., *head.fields, ...);
//
// Views only: it borrows the fields and the canonical target, which outlive the
// request. Nothing is copied, so building one costs no allocation.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <string_view>

#include "http/header_hygiene.hpp"

namespace authgate::http {

struct RequestHead {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;  // unknown: an extension method
  std::string_view method_name;  // as sent: "GET", "PURGE", ...
  std::string_view path;         // canonical (routing/path.hpp)
  std::string_view query;        // without the "?"; empty when absent
  bool has_query = false;        // the target had a "?" (perhaps with nothing after it): it goes upstream too
  std::string_view authority;    // the validated Host (routing/host.hpp); empty when absent (HTTP/1.0)
  // The header fields. Routing and the access decision read them; forwarding
  // moves them into the upstream request (so they are not const).
  Fields* fields = nullptr;
  unsigned version = 11;    // 10 or 11: what the reply is framed for
  bool keep_alive = true;   // the client lets the connection carry another request
};

}  // namespace authgate::http
