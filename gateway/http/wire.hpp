// Renders an HTTP/1.1 message header in wire form into one contiguous string,
// so a header and the first body piece go out in a single gathered write.
// Beast's serializer builds the same bytes through a deep buffer-sequence
// adaptor stack; for the common fixed-length and bodiless messages this is
// markedly cheaper per request (see load-tests/RESULTS.md). Chunked messages
// still go through Beast's serializer.
#pragma once

#include <boost/beast/http/message.hpp>
#include <string>

#include "http/fields.hpp"

namespace authgate::http {

// For http::Fields (the request path) and Beast's default fields.
template <class Fields>
void render_header(const boost::beast::http::request_header<Fields>& h, std::string& out);
template <class Fields>
void render_header(const boost::beast::http::response_header<Fields>& h, std::string& out);

}  // namespace authgate::http
