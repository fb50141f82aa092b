#include "proxy/access_log.hpp"

#include "common/log_escape.hpp"

#include <prometheus/counter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace authgate::proxy {

void append_json_escaped(std::string& out, std::string_view s) { common::append_json_escaped(out, s); }

namespace {

// ISO-8601 UTC with milliseconds; the second part is cached per thread.
void append_time(std::string& out) {
  thread_local std::time_t cached_sec = 0;
  thread_local char cached[32];
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t sec = static_cast<std::time_t>(ms / 1000);
  if (sec != cached_sec) {
    std::tm tm{};
    gmtime_r(&sec, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  out += cached;
  out += frac;
}

void field(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  append_json_escaped(out, value);
  out += '"';
}

// stdio-buffered writes to a FILE (stdout, stderr or an appended file). Failures
// are counted, reported at most once per interval, and swallowed: a full disk
// must not take the gateway down, and the request path must not pay for an
// exception per line. glibc drops the buffered bytes when a write fails, so one
// failure is counted per lost buffer (or per failed flush), not per line.
class CountingFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  CountingFileSink(std::FILE* f, bool owned, std::string name, prometheus::Counter& errors,
                   std::chrono::seconds interval)
      : file_(f), owned_(owned), name_(std::move(name)), errors_(errors), interval_(interval) {}
  ~CountingFileSink() override {
    if (!owned_) return;
    if (std::fclose(file_) != 0) errors_.Increment();
  }
  CountingFileSink(const CountingFileSink&) = delete;
  CountingFileSink& operator=(const CountingFileSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    const std::size_t n = std::fwrite(buf.data(), 1, buf.size(), file_);
    if (n != buf.size() || std::ferror(file_)) failed(errno);
  }
  void flush_() override {
    if (std::fflush(file_) != 0 || std::ferror(file_)) failed(errno);
  }

 private:
  // Called under the sink's mutex.
  void failed(int err) {
    std::clearerr(file_);
    errors_.Increment();
    ++unreported_;
    const auto now = std::chrono::steady_clock::now();
    if (reported_once_ && now - last_report_ < interval_) return;
    spdlog::warn("access log {}: write failed ({}); {} failed write(s) since the last report, lines lost",
                 name_, err ? std::strerror(err) : "stream error", unreported_);
    reported_once_ = true;
    last_report_ = now;
    unreported_ = 0;
  }

  std::FILE* file_;
  const bool owned_;
  const std::string name_;
  prometheus::Counter& errors_;
  const std::chrono::seconds interval_;
  bool reported_once_ = false;
  std::chrono::steady_clock::time_point last_report_{};
  std::uint64_t unreported_ = 0;
};

}  // namespace

std::shared_ptr<spdlog::logger> make_access_logger(const std::string& target,
                                                   prometheus::Counter& write_errors,
                                                   std::chrono::seconds report_interval) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (target == "stdout" || target == "stderr") {
    sink = std::make_shared<CountingFileSink>(target == "stdout" ? stdout : stderr, false, target,
                                              write_errors, report_interval);
  } else {
    std::FILE* f = std::fopen(target.c_str(), "ae");
    if (!f) throw std::runtime_error("log.access: cannot open " + target + ": " + std::strerror(errno));
    std::setvbuf(f, nullptr, _IOFBF, 64 * 1024);
    sink = std::make_shared<CountingFileSink>(f, true, target, write_errors, report_interval);
  }
  auto logger = std::make_shared<spdlog::logger>("access", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::off);  // flushed by the periodic flusher (app)
  return logger;
}

void write_access_log(spdlog::logger& log, const AccessRecord& r) {
  std::string line;
  line.reserve(320);
  line += "{\"time\":\"";
  append_time(line);
  line += '"';
  field(line, "request_id", r.request_id);
  field(line, "client", r.client);
  field(line, "protocol", r.protocol);
  field(line, "method", r.method);
  field(line, "path", r.path);
  field(line, "route", r.route);
  field(line, "upstream", r.upstream);
  line += ",\"status\":" + std::to_string(r.status);
  line += ",\"bytes_in\":" + std::to_string(r.bytes_in);
  line += ",\"bytes_out\":" + std::to_string(r.bytes_out);
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.3f", r.duration_ms);
  line += ",\"duration_ms\":";
  line += dur;
  field(line, "auth", r.auth);
  if (!r.auth_reason.empty()) {
    field(line, "auth_result", r.auth_reason == "ok" ? "allow" : "deny");
    field(line, "auth_reason", r.auth_reason);
    field(line, "issuer", r.issuer);
    field(line, "sub", r.sub);
  }
  line += '}';
  log.info(std::string_view(line));
}

}  // namespace authgate::proxy
