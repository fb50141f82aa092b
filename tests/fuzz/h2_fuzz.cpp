// libFuzzer target: bytes from an HTTP/2 client -> the server session of
// proxy/h2_session.hpp (nghttp2 with authgate's SETTINGS, options and callbacks:
// RFC 9113 8.1.1/8.2/8.3 field and pseudo-header validation, content-length
// against DATA, the header-list, CONTINUATION, reset and control-frame bounds,
// the per-stream body limit and linger), fed the way proxy/h2_connection.cpp
// feeds it (in reads of at most 1 KiB here), with a fixed clock that moves 100 ms
// per read. The input gets the client connection preface put in front unless it
// starts with it.
//
// After each read, every complete request head is decided the way
// proxy/h2_stream.cpp's check_head() and admit() decide it, with the pure
// functions they call and a fixed config: the routing host (routing_authority():
// :authority, else host; both and different: 400) through validate_host(), :path through
// canonicalize_target(), content-length over limits.max_body_bytes (413), the
// route table (404), then auth none (200) or a bearer token verified against
// the fixed fuzz keys and clock (401 unless it verifies). Each answer goes out
// through the session's submit_response() (local-reply fields, a body, and on
// proxied answers a trailer), request bodies are consumed as an upstream would
// take them, and the frames the session writes are collected.
//
// Invariants (a violation aborts):
//   - a complete head has :method, and :scheme and a non-empty :path unless
//     the method is CONNECT; no field name with an upper-case letter or a
//     connection-specific name (RFC 9113 8.2.2); "te" only "trailers" (in any case:
//     transfer codings are case-insensitive, RFC 9110 10.1.4);
//   - a head's RFC 9113 size is within http2.max_header_list_bytes;
//   - open streams never exceed http2.max_concurrent_streams once the client
//     acknowledged the SETTINGS;
//   - buffered request body: at most stream_window_bytes per stream and
//     connection_window_bytes in all; a stream over max_body_bytes is too_large;
//   - the session's output is a sequence of whole frames (9-byte header plus
//     its length), starting with the server's SETTINGS; when a read failed, it
//     ends (after nghttp2_session_terminate_session, as the connection does)
//     with a GOAWAY;
//   - each read's output is finite (the send loop ends).
#include "fuzz_env.hpp"

#include "common/ascii.hpp"
#include "config/loader.hpp"
#include "http/fields.hpp"
#include "proxy/h2_session.hpp"
#include "routing/host.hpp"
#include "routing/path.hpp"
#include "routing/route_table.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace authgate;

namespace {

// Small bounds so that the fuzzer reaches each of them.
constexpr std::string_view kConfig = R"(
limits:
  max_body_bytes: 2KiB
  max_linger_bytes: 4KiB
http2:
  max_concurrent_streams: 4
  max_header_list_bytes: 1KiB
  connection_window_bytes: 65535
  stream_window_bytes: 16KiB
  max_resets_per_connection: 8
  max_control_frames_per_second: 32
  max_continuations: 3
upstreams:
  - name: api
    url: http://127.0.0.1:9000
issuers:
  - name: corp
    issuer: https://idp.example.com/
    audiences: [api]
routes:
  - name: orders
    match: {host: api.example.com, path: {prefix: /orders}, methods: [GET, POST]}
    upstream: api
    auth: bearer
  - name: public
    match: {path: {prefix: /}}
    upstream: api
    auth: none
)";

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kReadBytes = 1024;
// Streams answered 200 in the last input (for AuthgateFuzzExpectValid).
int g_ok = 0;

struct World {
  config::GatewayConfig cfg;
  std::unique_ptr<routing::RouteTable> table;
};

const World& world() {
  static const World w = [] {
    World x;
    try {
      x.cfg = config::load_string(kConfig, "h2_fuzz.yaml");
    } catch (const config::ConfigError& e) {
      for (const auto& line : e.errors()) std::fprintf(stderr, "%s\n", line.c_str());
      fuzz::fail("the fixed config loads", __FILE__, __LINE__);
    }
    x.table = std::make_unique<routing::RouteTable>(x.cfg.routes);
    return x;
  }();
  return w;
}

bool connection_specific(std::string_view name) {
  for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
    if (name == n) return true;
  return false;
}

// The product's session, with the stream table in reach of the checks.
class Session : public proxy::H2Session {
 public:
  using H2Session::H2Session;
  const auto& streams() const { return streams_; }
};

// What check_head() and admit() answer for a complete head (see the file comment).
unsigned decide(const World& w, const proxy::H2Stream& s, bool& proxied) {
  proxied = false;
  const std::string_view authority = proxy::routing_authority(s);
  routing::HostParts parts;
  std::error_code ec;
  if (!authority.empty() && !routing::validate_host(authority, parts, ec)) return 400;
  routing::CanonicalTarget target;
  if (!routing::canonicalize_target(s.has_path ? std::string_view(s.path) : std::string_view("*"), target, ec))
    return 400;
  if (const auto cl = s.fields.find(boost::beast::http::field::content_length); cl != s.fields.end()) {
    std::uint64_t n = 0;
    const auto v = cl->value();
    auto [end, cec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (cec == std::errc{} && n > w.cfg.limits.max_body_bytes) return 413;
  }
  const int route = w.table->match(authority, s.method, target.path);
  if (route < 0) return 404;
  if (w.cfg.routes[static_cast<std::size_t>(route)].auth == config::AuthMode::bearer) {
    const auto a = s.fields.find(boost::beast::http::field::authorization);
    if (a == s.fields.end() || !a->value().starts_with("Bearer ")) return 401;
    auth::ParsedJwt jwt;
    if (auth::parse_jwt(a->value().substr(7), auth::kDefaultMaxTokenBytes, jwt)) return 401;
    const auto& env = fuzz::env();
    if (auth::verify(jwt, *env.asym, env.asym_policy, fuzz::kNow)) return 401;
  }
  proxied = true;
  return 200;
}

void check_head(const World& w, const proxy::H2Stream& s) {
  FUZZ_CHECK(s.head_done);
  FUZZ_CHECK(!s.method.empty());
  if (s.method != "CONNECT") FUZZ_CHECK(!s.scheme.empty() && s.has_path && !s.path.empty());
  FUZZ_CHECK(s.header_bytes <= w.cfg.http2.max_header_list_bytes);
  for (const auto& f : s.fields) {
    const std::string_view name = f.name_string();
    FUZZ_CHECK(!name.empty() && name.front() != ':');
    FUZZ_CHECK(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
    FUZZ_CHECK(!connection_specific(name));
    if (name == "te") FUZZ_CHECK(common::iequals(f.value(), "trailers"));  // a case-insensitive token
  }
}

// Whole frames from `from` on; returns whether a GOAWAY was among them.
bool check_frames(std::string_view out, std::size_t from, bool first) {
  bool goaway = false;
  std::size_t i = from;
  while (i < out.size()) {
    FUZZ_CHECK(out.size() - i >= 9);
    const auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(out[i + k]); };
    const std::size_t len = (std::size_t{b(0)} << 16) | (std::size_t{b(1)} << 8) | b(2);
    if (first) FUZZ_CHECK(b(3) == NGHTTP2_SETTINGS && (b(4) & NGHTTP2_FLAG_ACK) == 0);
    first = false;
    goaway = goaway || b(3) == NGHTTP2_GOAWAY;
    FUZZ_CHECK(out.size() - i - 9 >= len);
    i += 9 + len;
  }
  return goaway;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const World& w = world();
  const auto& h2 = w.cfg.http2;
  std::string input(reinterpret_cast<const char*>(data), size);
  if (!input.starts_with(kPreface)) input.insert(0, kPreface);

  boost::asio::io_context io;
  Session session(h2, w.cfg.limits, io.get_executor());
  std::vector<std::shared_ptr<proxy::H2Stream>> live;  // answered or waiting, as the stream coroutines hold them
  std::string out;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  bool failed = false;
  g_ok = 0;

  for (std::size_t at = 0, read = 0; at < input.size() && !failed; at += kReadBytes, ++read) {
    const std::string_view piece = std::string_view(input).substr(at, kReadBytes);
    const ssize_t rv = session.receive(reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size(),
                                       t0 + read * std::chrono::milliseconds(100));
    if (rv < 0) {
      nghttp2_session_terminate_session(session.session(), NGHTTP2_PROTOCOL_ERROR);
      failed = true;
    } else {
      FUZZ_CHECK(static_cast<std::size_t>(rv) == piece.size());  // a server session takes every byte
    }

    for (auto& s : session.take_ready()) {
      check_head(w, *s);
      bool proxied = false;
      const unsigned status = decide(w, *s, proxied);
      g_ok += status == 200;
      if (s->closed) continue;
      http::Fields fields;
      fields.set(boost::beast::http::field::content_type, "text/plain");
      fields.set(boost::beast::http::field::connection, "close");  // left out of HEADERS
      s->local_body = proxied ? std::string(s->path) : std::to_string(status);
      fields.set(boost::beast::http::field::content_length, std::to_string(s->local_body.size()));
      s->out = s->local_body;
      s->out_eof = true;
      if (proxied) s->trailers.emplace_back("grpc-status", "0");
      session.submit_response(*s, status, fields, false);
      live.push_back(std::move(s));
    }

    // Request bodies: an upstream takes what came; the windows reopen.
    std::uint64_t buffered = 0;
    for (const auto& [id, s] : session.streams()) {
      FUZZ_CHECK(s->in.size() <= h2.stream_window_bytes);
      if (s->in_total > w.cfg.limits.max_body_bytes && !s->discard) FUZZ_CHECK(s->too_large);
      buffered += s->in.size();
    }
    FUZZ_CHECK(buffered <= h2.connection_window_bytes);
    if (nghttp2_session_get_local_settings(session.session(), NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) ==
        h2.max_concurrent_streams)
      FUZZ_CHECK(session.streams().size() <= h2.max_concurrent_streams);
    for (const auto& [id, s] : session.streams()) {
      if (s->in.empty()) continue;
      const std::size_t n = s->in.size();
      s->in.clear();
      session.consumed(*s, n);
    }
    live.erase(std::remove_if(live.begin(), live.end(), [](const auto& s) { return s->closed; }), live.end());

    // The frames the writer would send now.
    const std::size_t before = out.size();
    for (int i = 0;; ++i) {
      FUZZ_CHECK(i < 100000);
      const std::uint8_t* p = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session.session(), &p);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }
    const bool goaway = check_frames(out, before, before == 0);
    if (failed) FUZZ_CHECK(goaway);
  }
  return 0;
}

// For the replay driver: seed files named valid-* get at least one 200.
extern "C" int AuthgateFuzzExpectValid(const std::uint8_t* data, std::size_t size) {
  LLVMFuzzerTestOneInput(data, size);
  return g_ok > 0;
}
