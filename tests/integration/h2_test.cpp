// HTTP/2 on the client side, end to end through the real binary: h2c with prior
// knowledge (listen.h2c) and h2 over TLS by ALPN, with real clients (curl,
// nghttp) and raw frames over a loopback socket for what clients never send:
// RFC 9113 8.1.1 malformed requests (each a stream error) and the flood classes
// (each GOAWAY and authgate_h2_goaway_total{reason}). gRPC-native denials on
// both protocols.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "auth/test_signer.hpp"
#include "common.hpp"
#include "support/files.hpp"

namespace it {
namespace {

namespace ts = authgate::auth::test;

// --- a minimal HTTP/2 frame writer and reader (RFC 9113 4.1, RFC 7541) --------

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
enum : std::uint8_t { DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7,
                      WINDOW_UPDATE = 8, CONTINUATION = 9 };
enum : std::uint8_t { END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4 };
constexpr std::uint32_t kProtocolError = 0x1, kCancel = 0x8, kEnhanceYourCalm = 0xb;

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view payload) {
  std::string f;
  const auto n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) f += static_cast<char>((stream >> shift) & 0xff);
  f += payload;
  return f;
}

std::string u32(std::uint32_t v) {
  std::string s;
  for (int shift : {24, 16, 8, 0}) s += static_cast<char>((v >> shift) & 0xff);
  return s;
}

// HPACK integer with a 7-bit prefix (RFC 7541 5.1), no Huffman.
std::string hpack_string(std::string_view s) {
  std::string out;
  std::size_t n = s.size();
  if (n < 127) {
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(127);
    n -= 127;
    while (n >= 128) {
      out += static_cast<char>((n & 0x7f) | 0x80);
      n >>= 7;
    }
    out += static_cast<char>(n);
  }
  return out + std::string(s);
}

// A literal field without indexing, new name (RFC 7541 6.2.2): sent exactly as given.
std::string lit(std::string_view name, std::string_view value) {
  return std::string(1, '\0') + hpack_string(name) + hpack_string(value);
}

std::string request_block(std::string_view method, std::string_view path, std::string extra = {}) {
  return lit(":method", method) + lit(":scheme", "http") + lit(":path", path) + lit(":authority", "127.0.0.1") +
         extra;
}

struct Frame {
  std::uint8_t type = 0, flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
  std::uint32_t code() const {  // RST_STREAM's error code, or GOAWAY's
    const std::size_t at = type == GOAWAY ? 4 : 0;
    if (payload.size() < at + 4) return 0xffffffff;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(payload[at + i]);
    return v;
  }
};

class H2Socket {
 public:
  explicit H2Socket(std::uint16_t port) : fd_(support::connect_loopback(port, support::Deadline::in(2s))) {}
  bool ok() const { return fd_.valid(); }
  bool send(std::string_view bytes) { return support::send_all(fd_.get(), bytes, support::Deadline::in(5s)); }
  bool start() { return send(std::string(kPreface) + frame(SETTINGS, 0, 0, "")); }
  // Frames until `until` returns true for one (returned), or EOF/timeout (nullopt).
  template <class Pred>
  std::optional<Frame> read_until(Pred until, Clock::duration timeout = 5s) {
    const auto deadline = support::Deadline::in(timeout);
    for (;;) {
      while (buf_.size() >= 9) {
        const std::size_t len = (static_cast<unsigned char>(buf_[0]) << 16) |
                                (static_cast<unsigned char>(buf_[1]) << 8) | static_cast<unsigned char>(buf_[2]);
        if (buf_.size() < 9 + len) break;
        Frame f;
        f.type = static_cast<std::uint8_t>(buf_[3]);
        f.flags = static_cast<std::uint8_t>(buf_[4]);
        for (int i = 5; i < 9; ++i) f.stream = (f.stream << 8) | static_cast<unsigned char>(buf_[i]);
        f.stream &= 0x7fffffff;
        f.payload = buf_.substr(9, len);
        buf_.erase(0, 9 + len);
        frames_.push_back(f);
        if (until(f)) return f;
      }
      char tmp[16384];
      std::size_t n = 0;
      if (support::recv_some(fd_.get(), tmp, sizeof tmp, deadline, n) != support::RecvStatus::data) return std::nullopt;
      buf_.append(tmp, n);
    }
  }
  // The same, counting the frames already read.
  template <class Pred>
  std::optional<Frame> seen_or_read(Pred until, Clock::duration timeout = 5s) {
    for (const auto& f : frames_)
      if (until(f)) return f;
    return read_until(until, timeout);
  }
  std::optional<Frame> goaway(Clock::duration timeout = 5s) {
    return read_until([](const Frame& f) { return f.type == GOAWAY; }, timeout);
  }
  const std::vector<Frame>& frames() const { return frames_; }

 private:
  support::Fd fd_;
  std::string buf_;
  std::vector<Frame> frames_;
};

// --- running the real clients --------------------------------------------------

struct Command {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

Command run(const std::string& cmd) {
  Command c;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return c;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) c.out.append(buf, n);
  const int status = ::pclose(p);
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return c;
}

std::string url(std::uint16_t port, std::string_view path, std::string_view scheme = "http") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + std::string(path);
}

std::string claims(std::string extra = {}) {
  return R"({"iss":"https://idp.test","sub":"alice","aud":"orders-api","exp":)" + std::to_string(now_s() + 300) +
         R"(,"iat":)" + std::to_string(now_s() - 5) + (extra.empty() ? "" : "," + extra) + "}";
}

std::string rs256(const std::string& payload) {
  return ts::mint(ts::rsa2048(), "RS256", R"({"alg":"RS256","typ":"at+jwt","kid":"rsa-1"})", payload);
}

// An upstream answering chunked with a trailer, as a gRPC-over-HTTP/1 bridge would.
support::Handler chunked_with_trailer() {
  return [](support::UpstreamConnection& c, const support::RequestHead& head) {
    c.read_body_string(head);
    c.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n"
           "5\r\nhello\r\n0\r\nx-checksum: abc123\r\n\r\n");
  };
}

class H2 : public ::testing::Test {
 protected:
  void SetUp() override {
    up_ = std::make_unique<UpstreamServer>(support::handlers::echo());
    jwks_path_ = "/tmp/authgate-h2-jwks-" + std::to_string(::getpid()) + ".json";
    std::ofstream(jwks_path_) << ts::jwks_of({ts::rsa2048().public_jwk()});
  }
  void TearDown() override { std::remove(jwks_path_.c_str()); }

  GatewayConfig config(std::string http2_yaml = {}) {
    GatewayConfig cfg;
    cfg.listen_yaml = "  h2c: true\n";
    cfg.upstreams.push_back({"app", up_->url()});
    cfg.upstreams.push_back({"gone", "http://127.0.0.1:" + std::to_string(nobody_.port())});
    cfg.routes.push_back(RouteSpec{"api", "app", "/api"}
                             .with("auth", "bearer")
                             .with("require", "{scopes_any: [orders:read]}")
                             .with("forward", "{headers: {X-User-Id: sub}}"));
    cfg.routes.push_back(RouteSpec{"gone", "gone", "/gone"});
    cfg.routes.push_back(RouteSpec{"public", "app", "/public"});
    cfg.limits.push_back({"max_body_bytes", "1MiB"});
    cfg.issuers_yaml = "issuers:\n  - name: main\n    issuer: https://idp.test\n    audiences: [orders-api]\n"
                       "    jwks_file: " + jwks_path_ + "\n";
    if (!http2_yaml.empty()) cfg.extra_yaml = "http2:\n" + http2_yaml;
    return cfg;
  }
  void start(GatewayConfig cfg) {
    gw_ = std::make_unique<GatewayProcess>(std::move(cfg));
    ASSERT_TRUE(gw_->start());
  }
  Command curl(const std::string& args) {
    return run("curl -sS --max-time 10 --http2-prior-knowledge -D - " + args);
  }
  double goaways(const std::string& reason) {
    return metric_or_zero(*gw_, "authgate_h2_goaway_total", {{"reason", reason}});
  }
  // A raw connection after the preface, our SETTINGS sent.
  std::unique_ptr<H2Socket> raw() {
    auto s = std::make_unique<H2Socket>(gw_->port());
    EXPECT_TRUE(s->ok() && s->start());
    return s;
  }
  // Sends one request's frames and expects RST_STREAM PROTOCOL_ERROR on stream 1
  // (RFC 9113 8.1.1: a malformed request is a stream error), the connection alive.
  void expect_stream_error(const std::string& frames) {
    auto s = raw();
    ASSERT_TRUE(s->send(frames));
    auto rst = s->read_until([](const Frame& f) { return f.type == RST_STREAM || f.type == GOAWAY; });
    ASSERT_TRUE(rst) << "no RST_STREAM";
    EXPECT_EQ(rst->type, RST_STREAM);
    EXPECT_EQ(rst->stream, 1u);
    EXPECT_EQ(rst->code(), kProtocolError);
    // The connection still serves the next stream.
    ASSERT_TRUE(s->send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request_block("GET", "/public/after"))));
    auto next = s->read_until([](const Frame& f) { return f.type == HEADERS && f.stream == 3; });
    EXPECT_TRUE(next) << "the connection did not survive the stream error";
  }

  std::unique_ptr<UpstreamServer> up_;
  std::unique_ptr<GatewayProcess> gw_;
  std::string jwks_path_;
  const support::PortReservation nobody_;  // bound, never listening: connections are refused
};

TEST_F(H2, CurlPriorKnowledgeIsProxiedToTheHttp1UpstreamAndLoggedAsH2) {
  start(config());
  const Command c = curl(url(gw_->port(), "/public/hello?x=1"));
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("HTTP/2 200"), std::string::npos) << c.out;
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->version, "HTTP/1.1");
  EXPECT_EQ(seen->target, "/public/hello?x=1");
  EXPECT_EQ(seen->headers.get("Host"), "127.0.0.1:" + std::to_string(gw_->port()));
  EXPECT_EQ(seen->headers.get("X-Forwarded-Proto"), "http");
  EXPECT_FALSE(seen->headers.get("te"));
  std::string log;
  for (int i = 0; i < 50 && log.find("\"protocol\":\"h2\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    log = support::read_text(gw_->access_log_path());
  }
  EXPECT_NE(log.find("\"protocol\":\"h2\",\"method\":\"GET\",\"path\":\"/public/hello\""), std::string::npos) << log;
  EXPECT_EQ(gw_->wait_for_metric("authgate_http_requests_total",
                                 {{"route", "public"}, {"method", "GET"}, {"code", "200"}, {"protocol", "h2"}}, 1),
            1);
}

TEST_F(H2, Http1KeepsWorkingOnTheH2cListener) {
  start(config());
  auto r = support::http_request(gw_->port(), support::make_request("GET", "/public/one"));
  ASSERT_EQ(status_of(r), 200) << describe(r);
  EXPECT_EQ(gw_->wait_for_metric("authgate_http_requests_total",
                                 {{"route", "public"}, {"method", "GET"}, {"code", "200"}, {"protocol", "http/1.1"}}, 1),
            1);
}

TEST_F(H2, PriorKnowledgeIsNotSpokenWithoutListenH2c) {
  GatewayConfig cfg = config();
  cfg.listen_yaml.clear();
  start(cfg);
  const Command c = curl(url(gw_->port(), "/public/x"));
  EXPECT_NE(c.exit_code, 0) << c.out;
  EXPECT_EQ(up_->request_count(), 0);
}

TEST_F(H2, NghttpGetsTheResponse) {
  start(config());
  const Command c = run("nghttp -v -t 10 " + url(gw_->port(), "/public/nghttp"));
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find(":status: 200"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("GET /public/nghttp HTTP/1.1"), std::string::npos) << c.out;  // the echoed upstream request
}

TEST_F(H2, BearerMissingTokenIs401AndAValidTokenIsForwardedWithoutSpoofedIdentity) {
  start(config());
  Command c = curl(url(gw_->port(), "/api/orders"));
  EXPECT_NE(c.out.find("HTTP/2 401"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("www-authenticate: Bearer"), std::string::npos) << c.out;
  EXPECT_EQ(up_->request_count(), 0);

  const std::string token = rs256(claims(R"("scope":"orders:read")"));
  c = curl("-H 'Authorization: Bearer " + token + "' -H 'X-User-Id: mallory' -H 'X-Auth-Subject: mallory' " +
           url(gw_->port(), "/api/orders"));
  EXPECT_NE(c.out.find("HTTP/2 200"), std::string::npos) << c.out;
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->headers.get("X-User-Id"), "alice");
  EXPECT_FALSE(seen->headers.get("X-Auth-Subject"));
  EXPECT_FALSE(seen->headers.get("Authorization"));
}

TEST_F(H2, RequestBodiesStreamUpstreamAndOverTheLimitAre413) {
  GatewayConfig cfg = config();
  cfg.limits.push_back({"max_linger_bytes", "16MiB"});  // the refused upload is read to its end, so curl sees the 413
  start(cfg);
  const std::string file = gw_->dir().file("body.bin");
  std::ofstream(file) << std::string(600 * 1024, 'b');
  // Length known (Content-Length) and unknown (chunked upstream).
  Command c = curl("--data-binary @" + file + " " + url(gw_->port(), "/public/upload"));
  EXPECT_NE(c.out.find("HTTP/2 200"), std::string::npos) << c.out.substr(0, 400);
  EXPECT_NE(c.out.find("x-body-bytes: 614400"), std::string::npos) << c.out.substr(0, 400);
  c = curl("-T " + file + " -X POST " + url(gw_->port(), "/public/upload"));
  EXPECT_NE(c.out.find("x-body-bytes: 614400"), std::string::npos) << c.out.substr(0, 400);
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);

  std::ofstream(file) << std::string(2 * 1024 * 1024, 'b');
  c = curl("--data-binary @" + file + " " + url(gw_->port(), "/public/upload"));
  EXPECT_NE(c.out.find("HTTP/2 413"), std::string::npos) << c.out.substr(0, 400);
  // Without a Content-Length the limit applies to the DATA frames as they come.
  c = curl("-T " + file + " -X POST " + url(gw_->port(), "/public/upload"));
  EXPECT_EQ(c.out.find("HTTP/2 200"), std::string::npos) << c.out.substr(0, 400);
}

TEST_F(H2, LargeResponsesStreamUnderTheClientsFlowControlWindow) {
  up_->set_handler(support::handlers::stream(5 * 1024 * 1024, /*chunked=*/true));
  start(config());
  // 16 KiB windows (2^14 - 1): the response goes out as the client reopens them.
  Command c = run("nghttp -w 14 -W 14 -t 20 " + url(gw_->port(), "/public/big") + " | wc -c");
  EXPECT_EQ(c.out, "5242880\n");
  up_->set_handler(support::handlers::stream(3 * 1024 * 1024, /*chunked=*/false));
  c = run("curl -sS --max-time 20 --http2-prior-knowledge " + url(gw_->port(), "/public/big") + " | wc -c");
  EXPECT_EQ(c.out, "3145728\n");
}

TEST_F(H2, ChunkedUpstreamTrailersBecomeHttp2Trailers) {
  up_->set_handler(chunked_with_trailer());
  start(config());
  const Command c = run("nghttp -v -t 10 " + url(gw_->port(), "/public/trailers"));
  ASSERT_EQ(c.exit_code, 0) << c.out;
  const auto data = c.out.find("recv DATA frame");
  const auto trailer = c.out.find("x-checksum: abc123");
  ASSERT_NE(data, std::string::npos) << c.out;
  ASSERT_NE(trailer, std::string::npos) << c.out;
  EXPECT_GT(trailer, data) << "the trailer must come after the body";
  EXPECT_EQ(c.out.find("transfer-encoding"), std::string::npos) << c.out;
}

// --- RFC 9113 8.1.1: malformed requests are stream errors ---------------------

TEST_F(H2, ConnectionSpecificHeaderIsAStreamError) {
  start(config());
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/x", lit("connection", "close"))));
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/x", lit("transfer-encoding", "chunked"))));
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/x", lit("upgrade", "h2c"))));
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/x", lit("keep-alive", "1"))));
  EXPECT_FALSE(up_->saw_target_containing("/public/x"));
}

TEST_F(H2, UppercaseHeaderNameIsAStreamError) {
  start(config());
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/x", lit("X-Upper", "1"))));
  EXPECT_FALSE(up_->saw_target_containing("/public/x"));
}

TEST_F(H2, ContentLengthDisagreeingWithDataIsAStreamError) {
  start(config());
  expect_stream_error(frame(HEADERS, END_HEADERS, 1, request_block("POST", "/public/cl", lit("content-length", "10"))) +
                      frame(DATA, END_STREAM, 1, "abc"));
}

TEST_F(H2, PseudoHeaderAfterARegularOneIsAStreamError) {
  start(config());
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1,
                            lit(":method", "GET") + lit(":scheme", "http") + lit("x-a", "1") +
                                lit(":path", "/public/x") + lit(":authority", "127.0.0.1")));
  EXPECT_FALSE(up_->saw_target_containing("/public/x"));
}

TEST_F(H2, DuplicatedPseudoHeaderIsAStreamError) {
  start(config());
  expect_stream_error(frame(HEADERS, END_HEADERS | END_STREAM, 1,
                            request_block("GET", "/public/x") + lit(":path", "/public/y")));
  EXPECT_FALSE(up_->saw_target_containing("/public/x"));
  EXPECT_FALSE(up_->saw_target_containing("/public/y"));
}

TEST_F(H2, PathIsCanonicalisedAndABadAuthorityIs400) {
  start(config());
  auto s = raw();
  ASSERT_TRUE(s->send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/x/../public/%61b"))));
  ASSERT_TRUE(s->read_until([](const Frame& f) { return f.type == DATA && (f.flags & END_STREAM); }));
  auto seen = up_->last_request();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/public/ab");

  // Userinfo in the authority (RFC 9113 8.3.1 forbids it; routing/host.hpp refuses it), and an
  // :authority that disagrees with host: both 400 bad_host, like HTTP/1's Host check.
  ASSERT_TRUE(s->send(frame(HEADERS, END_HEADERS | END_STREAM, 3,
                            lit(":method", "GET") + lit(":scheme", "http") + lit(":path", "/public/x") +
                                lit(":authority", "user@127.0.0.1"))));
  ASSERT_TRUE(s->send(frame(HEADERS, END_HEADERS | END_STREAM, 5,
                            request_block("GET", "/public/x", lit("host", "other.example")))));
  for (std::uint32_t id : {3u, 5u}) {
    auto h = s->read_until([id](const Frame& f) { return f.type == HEADERS && f.stream == id; });
    ASSERT_TRUE(h) << id;
    EXPECT_EQ(h->payload.substr(0, 1), "\x8c") << id;  // ":status: 400", HPACK static table index 12
  }
  EXPECT_EQ(metric_or_zero(*gw_, "authgate_requests_rejected_total", {{"reason", "bad_host"}}), 2);
  EXPECT_FALSE(up_->saw_target_containing("/public/x"));
}

// --- floods: each ends in GOAWAY and a metric ----------------------------------

TEST_F(H2, RapidResetEndsInGoawayEnhanceYourCalm) {
  start(config("  max_resets_per_connection: 50\n"));
  auto s = raw();
  std::string burst;
  for (std::uint32_t id = 1; id <= 2 * 60; id += 2)
    burst += frame(HEADERS, END_HEADERS | END_STREAM, id, request_block("GET", "/public/r")) +
             frame(RST_STREAM, 0, id, u32(kCancel));
  s->send(burst);
  auto g = s->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), kEnhanceYourCalm);
  EXPECT_EQ(goaways("rapid_reset"), 1);
}

TEST_F(H2, AResetStreamCancelsItsUpstreamExchangeAtOnce) {
  up_->set_handler(support::handlers::delayed(5s, support::handlers::echo()));
  start(config());
  auto s = raw();
  ASSERT_TRUE(s->send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/slow"))));
  ASSERT_TRUE(up_->wait_for_requests(1, 5s));
  const auto t0 = Clock::now();
  ASSERT_TRUE(s->send(frame(RST_STREAM, 0, 1, u32(kCancel))));
  // The exchange ends at once (logged as 499), not when the upstream answers 5 s later.
  std::string log;
  while (seconds_since(t0) < 3.0 && log.find("\"status\":499") == std::string::npos) {
    std::this_thread::sleep_for(50ms);
    log = support::read_text(gw_->access_log_path());
  }
  EXPECT_NE(log.find("\"path\":\"/public/slow\",\"route\":\"public\",\"upstream\":\"app\",\"status\":499"),
            std::string::npos) << log;
  EXPECT_LT(seconds_since(t0), 2.0);
  // The connection itself lives on.
  ASSERT_TRUE(s->send(frame(PING, 0, 0, std::string(8, 'x'))));
  EXPECT_TRUE(s->read_until([](const Frame& f) { return f.type == PING && (f.flags & ACK); }));
}

TEST_F(H2, ContinuationFloodEndsInGoaway) {
  start(config());
  auto s = raw();
  std::string burst = frame(HEADERS, 0, 1, request_block("GET", "/public/c"));
  for (int i = 0; i < 50; ++i) burst += frame(CONTINUATION, 0, 1, lit("x-c", "1"));
  s->send(burst);
  auto g = s->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), kEnhanceYourCalm);
  EXPECT_EQ(goaways("continuation_flood"), 1);
  EXPECT_FALSE(up_->saw_target_containing("/public/c"));
}

TEST_F(H2, HpackBombOverTheHeaderListSizeEndsInGoaway) {
  start(config());
  auto s = raw();
  // One 4,000-byte field entered into the dynamic table (literal with incremental
  // indexing, 6.2.1), then referenced 30 times by one byte each (index 62, 6.1):
  // 150 bytes on the wire that decode to 120 KiB.
  std::string block = request_block("GET", "/public/bomb") + std::string(1, '\x40') + hpack_string("x-bomb") +
                      hpack_string(std::string(4000, 'a'));
  for (int i = 0; i < 30; ++i) block += '\xbe';
  s->send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block));
  auto g = s->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), kEnhanceYourCalm);
  EXPECT_EQ(goaways("header_list_size"), 1);
  EXPECT_FALSE(up_->saw_target_containing("/public/bomb"));
}

TEST_F(H2, PingFloodEndsInGoaway) {
  start(config("  max_control_frames_per_second: 100\n"));
  auto s = raw();
  std::string burst;
  for (int i = 0; i < 500; ++i) burst += frame(PING, 0, 0, std::string(8, 'p'));
  s->send(burst);
  auto g = s->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), kEnhanceYourCalm);
  EXPECT_EQ(goaways("control_flood"), 1);
}

TEST_F(H2, SettingsFloodEndsInGoaway) {
  start(config("  max_control_frames_per_second: 100\n"));
  auto s = raw();
  std::string burst;
  for (int i = 0; i < 500; ++i) burst += frame(SETTINGS, 0, 0, "");
  s->send(burst);
  auto g = s->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), kEnhanceYourCalm);
  EXPECT_EQ(goaways("control_flood"), 1);
}

TEST_F(H2, EmptyDataFloodEndsInGoaway) {
  up_->set_handler(support::handlers::consume());
  start(config("  max_control_frames_per_second: 100\n"));
  auto s = raw();
  std::string burst = frame(HEADERS, END_HEADERS, 1, request_block("POST", "/public/empty"));
  for (int i = 0; i < 500; ++i) burst += frame(DATA, 0, 1, "");
  s->send(burst);
  auto g = s->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), kEnhanceYourCalm);
  EXPECT_EQ(goaways("control_flood"), 1);
}

TEST_F(H2, IdleConnectionGetsGoawayAfterTheIdleTimeout) {
  start(config("  idle_timeout: 500ms\n"));
  auto s = raw();
  const auto t0 = Clock::now();
  auto g = s->goaway(5s);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), 0u);  // NO_ERROR
  EXPECT_GE(seconds_since(t0), 0.4);
  EXPECT_EQ(goaways("idle"), 1);
}

TEST_F(H2, DrainSendsGoawayNoErrorAndTheStreamInFlightCompletes) {
  up_->set_handler(support::handlers::delayed(700ms, support::handlers::echo()));
  start(config());
  auto idle = raw();
  auto busy = raw();
  ASSERT_TRUE(busy->send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block("GET", "/public/slow"))));
  ASSERT_TRUE(up_->wait_for_requests(1, 5s));
  ASSERT_TRUE(gw_->signal(SIGTERM));
  auto g = idle->goaway();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code(), 0u);
  auto end = busy->read_until([](const Frame& f) { return f.type == DATA && f.stream == 1 && (f.flags & END_STREAM); });
  EXPECT_TRUE(end) << "the stream in flight must complete during the drain";
  EXPECT_TRUE(busy->seen_or_read([](const Frame& f) { return f.type == GOAWAY && f.code() == 0; }, 3s));
}

TEST_F(H2, StreamsOverMaxConcurrentStreamsAreRefused) {
  up_->set_handler(support::handlers::delayed(1s, support::handlers::echo()));
  start(config("  max_concurrent_streams: 2\n"));
  auto s = raw();
  std::string burst;
  for (std::uint32_t id : {1u, 3u, 5u}) burst += frame(HEADERS, END_HEADERS | END_STREAM, id, request_block("GET", "/public/c"));
  ASSERT_TRUE(s->send(burst));
  auto rst = s->read_until([](const Frame& f) { return f.type == RST_STREAM; });
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->stream, 5u);
  EXPECT_TRUE(rst->code() == 0x7 || rst->code() == kProtocolError) << rst->code();  // REFUSED_STREAM before our SETTINGS is acknowledged
  for (std::uint32_t id : {1u, 3u})
    EXPECT_TRUE(s->seen_or_read([id](const Frame& f) { return f.type == DATA && f.stream == id && (f.flags & END_STREAM); }))
        << id;
  EXPECT_EQ(up_->request_count(), 2);
}

TEST_F(H2, SettingsAdvertiseTheConfiguredLimits) {
  start(config("  max_concurrent_streams: 7\n  stream_window_bytes: 32KiB\n"));
  auto s = raw();
  auto settings = s->read_until([](const Frame& f) { return f.type == SETTINGS && !(f.flags & ACK); });
  ASSERT_TRUE(settings);
  std::map<int, std::uint32_t> values;
  for (std::size_t i = 0; i + 6 <= settings->payload.size(); i += 6) {
    const auto& p = settings->payload;
    const int id = (static_cast<unsigned char>(p[i]) << 8) | static_cast<unsigned char>(p[i + 1]);
    Frame v;
    v.payload = p.substr(i + 2, 4);
    values[id] = v.code();
  }
  EXPECT_EQ(values[0x3], 7u);          // MAX_CONCURRENT_STREAMS
  EXPECT_EQ(values[0x4], 32u * 1024);  // INITIAL_WINDOW_SIZE
  EXPECT_EQ(values[0x6], 16u * 1024);  // MAX_HEADER_LIST_SIZE (the default)
}

// --- gRPC-native denials ------------------------------------------------------

TEST_F(H2, GrpcWithoutTokenGetsTrailersOnlyUnauthenticated) {
  start(config());
  const Command c = curl("-H 'content-type: application/grpc' -H 'te: trailers' --data-binary '' " +
                         url(gw_->port(), "/api/orders.Orders/Get"));
  EXPECT_NE(c.out.find("HTTP/2 200"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("grpc-status: 16"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("grpc-message: unauthorized"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("content-type: application/grpc"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("request_id\""), std::string::npos) << "no JSON body on a gRPC reply: " << c.out;
}

TEST_F(H2, GrpcMissingScopeIsPermissionDeniedAndUnreachableUpstreamIsUnavailable) {
  start(config());
  Command c = curl("-H 'content-type: application/grpc+proto' -H 'Authorization: Bearer " + rs256(claims()) +
                   "' --data-binary '' " + url(gw_->port(), "/api/orders.Orders/Get"));
  EXPECT_NE(c.out.find("grpc-status: 7"), std::string::npos) << c.out;
  c = curl("-H 'content-type: application/grpc' --data-binary '' " + url(gw_->port(), "/gone/svc.S/M"));
  EXPECT_NE(c.out.find("HTTP/2 200"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("grpc-status: 14"), std::string::npos) << c.out;
}

TEST_F(H2, GrpcDenialIsGrpcNativeOverHttp1Too) {
  start(config());
  auto r = support::http_request(gw_->port(), support::make_request("POST", "/api/orders.Orders/Get",
                                                                    {{"Content-Type", "application/grpc"}}));
  ASSERT_EQ(status_of(r), 200) << describe(r);
  EXPECT_EQ(r->headers.get("grpc-status"), "16");
  EXPECT_EQ(r->headers.get("Content-Type"), "application/grpc");
  EXPECT_TRUE(r->body.empty());
}

// A real gRPC client (Debian python3-grpcio, a generic unary call with raw bytes):
// the status it reports is what an application sees.
Command grpc_call(std::uint16_t port, const std::string& method, const std::string& token = {}) {
  const std::string metadata = token.empty() ? "None" : "[('authorization', 'Bearer " + token + "')]";
  const std::string script =
      "import grpc\n"
      "ch = grpc.insecure_channel('127.0.0.1:" + std::to_string(port) + "')\n"
      "call = ch.unary_unary('" + method + "', request_serializer=lambda b: b, response_deserializer=lambda b: b)\n"
      "try:\n"
      "    call(b'', timeout=10, metadata=" + metadata + ")\n"
      "    print('status OK')\n"
      "except grpc.RpcError as e:\n"
      "    print('status', e.code().name, e.details())\n";
  return run("/usr/bin/python3 -c \"" + script + "\"");
}

TEST_F(H2, RealGrpcClientSeesUnauthenticatedAndPermissionDenied) {
  start(config());
  Command c = grpc_call(gw_->port(), "/api/orders.Orders/Get");
  EXPECT_NE(c.out.find("status UNAUTHENTICATED unauthorized"), std::string::npos) << c.out;
  c = grpc_call(gw_->port(), "/api/orders.Orders/Get", rs256(claims()));
  EXPECT_NE(c.out.find("status PERMISSION_DENIED insufficient_scope"), std::string::npos) << c.out;
  c = grpc_call(gw_->port(), "/gone/orders.Orders/Get");
  EXPECT_NE(c.out.find("status UNAVAILABLE connect_refused"), std::string::npos) << c.out;
  EXPECT_EQ(up_->request_count(), 0);
}

// --- h2 over TLS (ALPN) --------------------------------------------------------

class H2Tls : public H2 {
 protected:
  void start_tls(bool alpn_h2) {
    GatewayConfig cfg = config();
    gw_ = std::make_unique<GatewayProcess>(cfg);
    const std::string cert = gw_->dir().file("cert.pem"), key = gw_->dir().file("key.pem");
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                            "-addext subjectAltName=DNS:localhost -keyout " + key + " -out " + cert +
                            " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    cfg.listen_yaml = "  tls: {cert_file: " + cert + ", key_file: " + key +
                      (alpn_h2 ? "" : ", alpn_h2: false") + "}\n";
    gw_->write_config(cfg);
    ASSERT_TRUE(gw_->start());
  }
};

TEST_F(H2Tls, CurlHttp2OverTlsNegotiatesH2ByAlpn) {
  start_tls(true);
  const Command c = run("curl -sS -k --max-time 10 --http2 -D - " + url(gw_->port(), "/public/tls", "https"));
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("HTTP/2 200"), std::string::npos) << c.out;
  EXPECT_EQ(up_->last_request()->headers.get("X-Forwarded-Proto"), "https");
  const Command h1 = run("curl -sS -k --max-time 10 --http1.1 -D - " + url(gw_->port(), "/public/tls1", "https"));
  EXPECT_NE(h1.out.find("HTTP/1.1 200"), std::string::npos) << h1.out;
}

TEST_F(H2Tls, AlpnH2OffKeepsTlsClientsOnHttp11) {
  start_tls(false);
  const Command c = run("curl -sS -k --max-time 10 --http2 -D - " + url(gw_->port(), "/public/tls", "https"));
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("HTTP/1.1 200"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace it
