#include "support/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace support {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = trim(value.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& h : list)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::vector<std::string> Headers::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : list)
    if (iequals(h.name, name)) out.push_back(h.value);
  return out;
}

std::size_t Headers::count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(
      list.begin(), list.end(), [&](const Header& h) { return iequals(h.name, name); }));
}

bool Headers::any_name(const std::function<bool(std::string_view)>& pred) const {
  for (const auto& h : list)
    if (pred(to_lower(h.name))) return true;
  return false;
}

namespace {

// Splits the head into lines; parses "name: value" lines after the first.
std::optional<std::pair<std::string, Headers>> split_head(std::string_view raw) {
  std::vector<std::string_view> lines;
  while (!raw.empty()) {
    auto eol = raw.find("\r\n");
    if (eol == std::string_view::npos) {
      lines.push_back(raw);
      break;
    }
    lines.push_back(raw.substr(0, eol));
    raw.remove_prefix(eol + 2);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return std::nullopt;
  Headers headers;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto line = lines[i];
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t') && !headers.list.empty()) {
      headers.list.back().value += " " + std::string(trim(line));  // obs-fold
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      headers.list.push_back({std::string(line), ""});
      continue;
    }
    headers.list.push_back({std::string(line.substr(0, colon)),
                            std::string(trim(line.substr(colon + 1)))});
  }
  return std::pair{std::string(lines[0]), std::move(headers)};
}

}  // namespace

std::optional<RequestHead> parse_request_head(std::string_view raw) {
  auto split = split_head(raw);
  if (!split) return std::nullopt;
  RequestHead h;
  std::string_view line = split->first;
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
  h.method = line.substr(0, sp1);
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  h.version = line.substr(sp2 + 1);
  h.headers = std::move(split->second);
  h.raw = raw;
  return h;
}

std::optional<ResponseHead> parse_response_head(std::string_view raw) {
  auto split = split_head(raw);
  if (!split) return std::nullopt;
  ResponseHead h;
  std::string_view line = split->first;
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || line.size() < sp1 + 4) return std::nullopt;
  h.version = line.substr(0, sp1);
  int status = 0;
  auto code = line.substr(sp1 + 1, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
  if (ec != std::errc{} || p != code.data() + 3) return std::nullopt;
  h.status = status;
  if (line.size() > sp1 + 5) h.reason = line.substr(sp1 + 5);
  h.headers = std::move(split->second);
  h.raw = raw;
  return h;
}

Reader::Reader(int fd, std::size_t buffer_size) : fd_(fd), buf_(buffer_size) {}

bool Reader::fill(Deadline deadline) {
  if (pos_ == end_) pos_ = end_ = 0;
  if (end_ == buf_.size()) {
    if (pos_ == 0) {
      buf_.resize(buf_.size() * 2);
    } else {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
  }
  std::size_t n = 0;
  status_ = recv_some(fd_, buf_.data() + end_, buf_.size() - end_, deadline, n);
  if (status_ != RecvStatus::data) return false;
  end_ += n;
  return true;
}

std::optional<std::string> Reader::read_head(Deadline deadline, std::size_t limit) {
  std::size_t scanned = 0;
  for (;;) {
    std::string_view view(buf_.data() + pos_, end_ - pos_);
    auto at = view.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0);
    if (at != std::string_view::npos) {
      std::string head(view.substr(0, at + 4));
      pos_ += at + 4;
      return head;
    }
    scanned = view.size();
    if (view.size() > limit) {
      error_ = "head exceeds limit";
      return std::nullopt;
    }
    if (!fill(deadline)) {
      error_ = "connection ended before the end of the head";
      return std::nullopt;
    }
  }
}

std::optional<std::string> Reader::read_line(Deadline deadline, std::size_t limit) {
  for (;;) {
    std::string_view view(buf_.data() + pos_, end_ - pos_);
    auto at = view.find("\r\n");
    if (at != std::string_view::npos) {
      std::string line(view.substr(0, at));
      pos_ += at + 2;
      return line;
    }
    if (view.size() > limit) {
      error_ = "line exceeds limit";
      return std::nullopt;
    }
    if (!fill(deadline)) {
      error_ = "connection ended inside a line";
      return std::nullopt;
    }
  }
}

bool Reader::read_exact(std::uint64_t n, const Sink& sink, Deadline deadline) {
  while (n > 0) {
    if (pos_ == end_ && !fill(deadline)) {
      error_ = "connection ended with " + std::to_string(n) + " body bytes missing";
      return false;
    }
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - pos_));
    if (sink) sink(buf_.data() + pos_, take);
    pos_ += take;
    n -= take;
  }
  return true;
}

bool Reader::read_chunked(const Sink& sink, Deadline deadline, std::string* trailers) {
  for (;;) {
    auto line = read_line(deadline);
    if (!line) return false;
    std::string_view size_text = *line;
    if (auto semi = size_text.find(';'); semi != std::string_view::npos)
      size_text = size_text.substr(0, semi);
    size_text = trim(size_text);
    std::uint64_t size = 0;
    auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc{} || p != size_text.data() + size_text.size() || size_text.empty()) {
      error_ = "bad chunk size line \"" + *line + "\"";
      return false;
    }
    if (size == 0) {
      for (;;) {
        auto t = read_line(deadline);
        if (!t) return false;
        if (t->empty()) return true;
        if (trailers) *trailers += *t + "\r\n";
      }
    }
    if (!read_exact(size, sink, deadline)) return false;
    auto crlf = read_line(deadline);
    if (!crlf) return false;
    if (!crlf->empty()) {
      error_ = "chunk data not followed by CRLF";
      return false;
    }
  }
}

bool Reader::read_to_eof(const Sink& sink, Deadline deadline) {
  for (;;) {
    if (pos_ < end_) {
      if (sink) sink(buf_.data() + pos_, end_ - pos_);
      pos_ = end_;
    }
    if (!fill(deadline)) {
      if (status_ == RecvStatus::eof) return true;
      error_ = "no EOF before the deadline";
      return false;
    }
  }
}

std::string Reader::read_some(Deadline deadline) {
  if (pos_ == end_ && !fill(deadline)) return {};
  std::string out(buf_.data() + pos_, end_ - pos_);
  pos_ = end_;
  return out;
}

namespace pattern {
namespace {
constexpr std::size_t kPeriod = 251;
constexpr std::size_t kMaxSlice = 256 * 1024;
const std::vector<char>& table() {
  static const std::vector<char> t = [] {
    std::vector<char> v(kMaxSlice + kPeriod);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>(i % kPeriod);
    return v;
  }();
  return t;
}
}  // namespace

std::string_view slice(std::uint64_t offset, std::size_t max) {
  const auto& t = table();
  return {t.data() + offset % kPeriod, std::min(max, kMaxSlice)};
}

void Checker::feed(const char* data, std::size_t n) {
  while (n > 0) {
    auto expect = slice(offset_, n);
    if (std::memcmp(expect.data(), data, expect.size()) != 0) {
      for (std::size_t i = 0; i < expect.size(); ++i) mismatches_ += expect[i] != data[i];
    }
    offset_ += expect.size();
    data += expect.size();
    n -= expect.size();
  }
}
}  // namespace pattern

}  // namespace support
