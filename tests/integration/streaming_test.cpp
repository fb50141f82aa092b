// Streaming in bounded memory: 1 GiB up and down through authgate (fixed
// length and chunked) while its peak RSS stays small; bodies are generated and
// checked on the fly, never stored.
#include <atomic>
#include <cstdlib>
#include <thread>

#include "common.hpp"

namespace it {
namespace {

using namespace support;

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr long kMaxHwmKiB = 64 * 1024;  // authgate's VmHWM must stay below 64 MiB

// AUTHGATE_IT_STREAM_MIB overrides the big transfer size (default 1 GiB).
std::uint64_t big_size() {
  if (const char* v = std::getenv("AUTHGATE_IT_STREAM_MIB"); v && *v)
    return std::strtoull(v, nullptr, 10) * kMiB;
  return 1024 * kMiB;
}

GatewayConfig streaming_config(const UpstreamServer& up) {
  auto cfg = one_route(up);
  cfg.limits = {{"max_body_bytes", "2GiB"}};
  cfg.timeouts = {{"upstream_response", "120s"}, {"body_read", "30s"}};
  return cfg;
}

// Sends `n` pattern bytes as a fixed-length or chunked body; false if the
// connection failed (the reply may explain why).
bool send_body(HttpClient& c, std::uint64_t n, bool chunked) {
  constexpr std::size_t kPiece = 256 * 1024;
  std::uint64_t off = 0;
  std::string frame;
  while (off < n) {
    auto piece = pattern::slice(off, static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, n - off)));
    bool ok;
    if (chunked) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      frame.assign(size);
      frame.append(piece);
      frame.append("\r\n");
      ok = c.send(frame, 30s);
    } else {
      ok = c.send(piece, 30s);
    }
    if (!ok) return false;
    off += piece.size();
  }
  return !chunked || c.send("0\r\n\r\n", 30s);
}

void upload(std::uint64_t n, bool chunked) {
  UpstreamServer up(handlers::consume());
  GatewayProcess gw(streaming_config(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  ASSERT_TRUE(c.connected());
  auto start = Clock::now();
  std::string head = "POST /api/upload HTTP/1.1\r\nHost: x\r\n";
  head += chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + std::to_string(n) + "\r\n";
  head += "\r\n";
  ASSERT_TRUE(c.send(head));
  bool sent = send_body(c, n, chunked);
  auto r = c.read_response(60s);
  double took = seconds_since(start);
  EXPECT_TRUE(sent) << "upload aborted; reply: " << describe(r, &c);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200) << describe(r);
  EXPECT_EQ(r->body, "bytes=" + std::to_string(n) + " mismatches=0");
  EXPECT_LT(took, 60.0);
  auto hwm = gw.vm_hwm_kib();
  ASSERT_TRUE(hwm);
  EXPECT_LT(*hwm, kMaxHwmKiB) << "authgate peak RSS " << *hwm << " KiB";
  std::cerr << "[stream] upload " << (n / kMiB) << " MiB " << (chunked ? "chunked" : "fixed")
            << " in " << took << " s, authgate VmHWM " << *hwm << " KiB\n";
}

void download(std::uint64_t n, bool chunked) {
  UpstreamServer up(handlers::stream(n, chunked));
  GatewayProcess gw(streaming_config(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  ASSERT_TRUE(c.connected());
  pattern::Checker check;
  ReadOptions opts;
  opts.sink = [&](const char* d, std::size_t len) { check.feed(d, len); };
  auto start = Clock::now();
  auto r = c.request(make_request("GET", "/api/download"), 60s, opts);
  double took = seconds_since(start);
  ASSERT_TRUE(r) << c.error() << " after " << check.bytes() << " bytes";
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(check.bytes(), n);
  EXPECT_EQ(check.mismatches(), 0u);
  EXPECT_LT(took, 60.0);
  auto hwm = gw.vm_hwm_kib();
  ASSERT_TRUE(hwm);
  EXPECT_LT(*hwm, kMaxHwmKiB) << "authgate peak RSS " << *hwm << " KiB";
  std::cerr << "[stream] download " << (n / kMiB) << " MiB " << (chunked ? "chunked" : "fixed")
            << " in " << took << " s, authgate VmHWM " << *hwm << " KiB\n";
}

TEST(Streaming, Upload1GiBFixedLengthInBoundedMemory) { upload(big_size(), false); }
TEST(Streaming, Download1GiBChunkedInBoundedMemory) { download(big_size(), true); }
TEST(Streaming, Upload256MiBChunkedInBoundedMemory) { upload(big_size() / 4, true); }
TEST(Streaming, Download256MiBFixedLengthInBoundedMemory) { download(big_size() / 4, false); }

// The upstream sees body bytes before the client has sent all of them.
TEST(Streaming, UploadIsForwardedBeforeItIsComplete) {
  auto received = std::make_shared<std::atomic<std::uint64_t>>(0);
  UpstreamServer up([received](UpstreamConnection& c, const RequestHead& h) {
    pattern::Checker check;
    bool ok = c.read_body(h, [&](const char* d, std::size_t n) {
      check.feed(d, n);
      *received += n;
    });
    if (!ok) return c.close();
    c.respond(200, "bytes=" + std::to_string(check.bytes()) +
                       " mismatches=" + std::to_string(check.mismatches()));
  });
  GatewayProcess gw(streaming_config(up));
  ASSERT_TRUE(gw.start());
  HttpClient c(gw.port());
  const std::uint64_t total = 4 * kMiB;
  ASSERT_TRUE(c.send("POST /api/u HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(total) + "\r\n\r\n"));
  std::uint64_t off = 0;
  while (off < total / 2) {
    auto piece = pattern::slice(off, 64 * 1024);
    ASSERT_TRUE(c.send(piece));
    off += piece.size();
  }
  EXPECT_TRUE(eventually([&] { return received->load() > 0; }, 5s))
      << "the upstream got nothing while half the body was sent: the body is buffered";
  while (off < total) {
    auto piece = pattern::slice(off, static_cast<std::size_t>(std::min<std::uint64_t>(64 * 1024, total - off)));
    ASSERT_TRUE(c.send(piece));
    off += piece.size();
  }
  auto r = c.read_response(10s);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "bytes=" + std::to_string(total) + " mismatches=0");
}

// The client sees the first part of a response while the upstream still holds the rest.
TEST(Streaming, DownloadIsForwardedBeforeItIsComplete) {
  for (bool chunked : {true, false}) {
    SCOPED_TRACE(chunked ? "chunked" : "fixed length");
    UpstreamServer up([chunked](UpstreamConnection& c, const RequestHead&) {
      std::string first(64 * 1024, 'x');
      if (chunked) {
        c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n" + first + "\r\n");
        c.sleep(3s);
        c.send("10000\r\n" + first + "\r\n0\r\n\r\n");
      } else {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 131072\r\n\r\n" + first);
        c.sleep(3s);
        c.send(first);
      }
    });
    GatewayProcess gw(streaming_config(up));
    ASSERT_TRUE(gw.start());
    HttpClient c(gw.port());
    ASSERT_TRUE(c.send(make_request("GET", "/api/d")));
    auto start = Clock::now();
    // The head plus (almost) all of the first 64 KiB must arrive well before the rest.
    std::string got = c.read_n(64 * 1024, 2s);
    EXPECT_GE(got.size(), 64u * 1024) << "only " << got.size()
                                      << " bytes within 2 s: the response is buffered";
    EXPECT_LT(seconds_since(start), 2.5);
    EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got.substr(0, 200);
  }
}

}  // namespace
}  // namespace it
