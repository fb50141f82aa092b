// How a request head is read: the parser settings and the byte-level check the
// proxy applies before Beast parses (proxy/request_reader.cpp). Shared with the
// request_fuzz target (tests/fuzz), so the fuzzer parses exactly as the proxy does.
//
// Usage:
//   RequestParser parser;
//   limit_request_parser(parser, cfg.limits);
//   std::size_t scanned = 0;
//   for (;;) {                     // after each read
//     HeadScan s = scan_request_head(buffered, cfg.limits.max_header_bytes, scanned);
//     complete: parse the head with Beast; too_large: 431; obs_fold: 400; incomplete: read more
//   }
//
// The head limit is enforced here on the whole head (request line, fields and
// the blank line), not by Beast alone: Beast applies header_limit to the
// request line and to the fields separately, so a head of almost twice the
// limit would pass it.
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.hpp"
#include "http/fields.hpp"

namespace authgate::http {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body, FieldAllocator<char>>;

// limits.max_header_bytes (capped at 2^32-1) as the header limit and
// limits.max_body_bytes as the body limit, on a fresh parser.
void limit_request_parser(RequestParser& parser, const config::Limits& limits);

enum class HeadScan {
  incomplete,  // no blank line yet, and one may still come within the limit: read more
  complete,    // the head ends within the limit and has no obs-fold
  too_large,   // the head (through its blank line) is longer than max_header_bytes: 431
  obs_fold,    // a header line is continued on the next line: 400
};

// Scans the bytes buffered so far (a request head, maybe followed by body bytes
// or further requests). `scanned` (start at 0, keep between calls on a growing
// buffer) remembers how far the blank line was searched for already.
HeadScan scan_request_head(std::string_view buffered, std::uint64_t max_header_bytes, std::size_t& scanned);

// True when a header line is continued on the next line (obs-fold: a line
// starting with a space or a tab). RFC 9112 §5.2 lets a server reject it with
// 400; rejecting it outright means no two parsers on the path can disagree
// about how to unfold it.
bool has_obs_fold(std::string_view head);

}  // namespace authgate::http
