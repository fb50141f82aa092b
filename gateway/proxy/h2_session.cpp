#include "proxy/h2_session.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "common/ascii.hpp"

namespace authgate::proxy {

namespace asio = boost::asio;
using metrics::H2Goaway;

namespace {

// Response fields that HTTP/2 forbids (RFC 9113 8.2.2), left out of HEADERS.
bool connection_specific(std::string_view name) {
  for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
    if (common::iequals(name, n)) return true;
  return false;
}

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// The data source of every response body: the stream's current piece.
ssize_t read_body(nghttp2_session* session, std::int32_t stream_id, std::uint8_t* buf, std::size_t length,
                  std::uint32_t* flags, nghttp2_data_source* source, void*) {
  auto& s = *static_cast<H2Stream*>(source->ptr);
  if (s.out.empty()) {
    if (!s.out_eof) return NGHTTP2_ERR_DEFERRED;
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!s.trailers.empty()) {
      std::vector<nghttp2_nv> nv;
      nv.reserve(s.trailers.size());
      for (const auto& [n, v] : s.trailers) nv.push_back(make_nv(n, v));
      if (nghttp2_submit_trailer(session, stream_id, nv.data(), nv.size()) == 0)
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return 0;
  }
  const std::size_t n = std::min(length, s.out.size());
  std::memcpy(buf, s.out.data(), n);
  s.out = s.out.subspan(n);
  if (s.out.empty()) s.ev.notify();  // the next piece may come
  return static_cast<ssize_t>(n);
}

}  // namespace

Event::Event(const asio::any_io_executor& ex) : timer_(ex) {}

void Event::notify() {
  set_ = true;
  timer_.cancel();
}

// nghttp2's callbacks, each with the H2Session as user data.
struct H2Callbacks {
  static H2Session& conn(void* p) { return *static_cast<H2Session*>(p); }
  static H2Stream* stream(H2Session& h, std::int32_t id) {
    auto it = h.streams_.find(id);
    return it == h.streams_.end() ? nullptr : it->second.get();
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Session& h = conn(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    h.streams_.emplace(frame->hd.stream_id, std::make_shared<H2Stream>(frame->hd.stream_id, h.ex_));
    h.streams_changed();
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name_p, std::size_t namelen,
                       const std::uint8_t* value_p, std::size_t valuelen, std::uint8_t, void* user) {
    H2Session& h = conn(user);
    H2Stream* s = stream(h, frame->hd.stream_id);
    if (!s) return 0;
    // RFC 9113 6.5.2's size: every field of the block counts, trailers too. An
    // HPACK bomb (a few bytes referencing a large table entry again and again)
    // ends here, before it is stored.
    s->header_bytes += namelen + valuelen + 32;
    if (s->header_bytes > h.cfg_.max_header_list_bytes) {
      h.pending_reason_ = H2Goaway::header_list_size;
      h.pending_set_ = true;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    const std::string_view name(reinterpret_cast<const char*>(name_p), namelen);
    const std::string_view value(reinterpret_cast<const char*>(value_p), valuelen);
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {  // trailers (nghttp2 allows no pseudo-header there)
      s->req_trailers.emplace_back(name, value);
      return 0;
    }
    // nghttp2 has already refused malformed fields (RFC 9113 8.1.1, 8.2, 8.3).
    if (name == ":method") s->method = value;
    else if (name == ":scheme") s->scheme = value;
    else if (name == ":authority") s->authority = value, s->has_authority = true;
    else if (name == ":path") s->path = value, s->has_path = true;
    else if (name == "cookie") s->cookie.append(s->cookie.empty() ? "" : "; ").append(value);
    else if (!name.empty() && name.front() != ':') s->fields.insert(name, value);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Session& h = conn(user);
    H2Stream* s = stream(h, frame->hd.stream_id);
    const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (!s) break;
        if (end_stream) s->end_stream = true;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST && !s->head_done) {
          s->head_done = true;
          if (!s->cookie.empty()) s->fields.insert("cookie", s->cookie);
          h.ready_.push_back(h.streams_.find(frame->hd.stream_id)->second);  // there: `s` was found
        }
        s->ev.notify();
        break;
      case NGHTTP2_DATA:
        if (frame->hd.length == 0 && !end_stream && !h.count_control_frame()) return NGHTTP2_ERR_CALLBACK_FAILURE;
        if (s && end_stream) {
          s->end_stream = true;
          s->ev.notify();
        }
        break;
      case NGHTTP2_RST_STREAM:
        // Rapid reset (CVE-2023-44487): nghttp2 1.52.0-1+deb12u1 carries a reset rate
        // limit of its own (burst 1000, 33/s); this bound is ours and per connection.
        if (++h.resets_ > h.cfg_.max_resets_per_connection) {
          h.pending_reason_ = H2Goaway::rapid_reset;
          h.pending_set_ = true;
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        break;
      case NGHTTP2_PING:
      case NGHTTP2_SETTINGS:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) break;
        [[fallthrough]];
      case NGHTTP2_PRIORITY:
      case NGHTTP2_WINDOW_UPDATE:
        if (!h.count_control_frame()) return NGHTTP2_ERR_CALLBACK_FAILURE;
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk_recv(nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
                                std::size_t len, void* user) {
    H2Session& h = conn(user);
    H2Stream* s = stream(h, stream_id);
    if (!s) return 0;
    s->in_total += len;
    if (s->discard) {
      discard(h, *s, len);
    } else if (s->in_total > h.max_body_bytes_) {
      s->too_large = true;  // dropped: its window reopens at once
      nghttp2_session_consume(h.session_, stream_id, len);
    } else {
      s->in.append(reinterpret_cast<const char*>(data), len);
    }
    s->ev.notify();
    return 0;
  }

  // A response sent before its request ended (a 401, a 413): like HTTP/1's linger,
  // the rest of the body is read and dropped, up to limits.max_linger_bytes, so a
  // client still sending gets the reply rather than a reset mid-upload; then the
  // stream is declined (RFC 9113 8.1: RST_STREAM NO_ERROR).
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
    H2Session& h = conn(user);
    H2Stream* s = stream(h, frame->hd.stream_id);
    if (!s || s->end_stream) return 0;
    s->discard = true;
    discard(h, *s, s->in.size());
    s->in.clear();
    return 0;
  }

  static void discard(H2Session& h, H2Stream& s, std::size_t n) {
    nghttp2_session_consume(h.session_, s.id, n);
    s.discarded += n;
    if (s.discarded > h.max_linger_bytes_)
      nghttp2_submit_rst_stream(h.session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_NO_ERROR);
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user) {
    H2Session& h = conn(user);
    auto it = h.streams_.find(stream_id);
    if (it == h.streams_.end()) return 0;
    H2Stream& s = *it->second;
    s.closed = true;
    s.close_error = error_code;
    h.stream_closed(s);
    // Body bytes that will never go upstream give the connection window back.
    if (!s.in.empty()) nghttp2_session_consume_connection(h.session_, s.in.size());
    s.in.clear();
    s.ev.notify();
    h.streams_.erase(it);
    h.streams_changed();
    return 0;
  }
};

std::string_view routing_authority(const H2Stream& s) {
  const auto host = s.fields.find(boost::beast::http::field::host);
  if (host == s.fields.end()) return s.authority;
  if (!s.has_authority) return host->value();
  return host->value() == s.authority ? std::string_view(s.authority) : std::string_view("\x01");
}

H2Session::H2Session(const config::Http2Config& http2, const config::Limits& limits, const asio::any_io_executor& ex)
    : cfg_(http2), max_body_bytes_(limits.max_body_bytes), max_linger_bytes_(limits.max_linger_bytes), ex_(ex) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, H2Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, H2Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, H2Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, H2Callbacks::on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, H2Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, H2Callbacks::on_frame_send);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Windows are given back only once the bytes went upstream (consumed()).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, cfg_.max_continuations);
  nghttp2_option_set_no_closed_streams(opt, 1);
  nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, static_cast<std::uint32_t>(cfg_.max_concurrent_streams)},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(cfg_.stream_window_bytes)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(cfg_.max_header_list_bytes)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<std::int32_t>(cfg_.connection_window_bytes));
}

H2Session::~H2Session() { nghttp2_session_del(session_); }

ssize_t H2Session::receive(const std::uint8_t* data, std::size_t n, Clock::time_point now) {
  now_ = now;
  return nghttp2_session_mem_recv(session_, data, n);
}

H2Goaway H2Session::failure(ssize_t rv) const {
  if (pending_set_) return pending_reason_;
  if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) return H2Goaway::continuation_flood;
  if (rv == NGHTTP2_ERR_FLOODED) return H2Goaway::flooded;
  return H2Goaway::protocol_error;
}

bool H2Session::count_control_frame() {
  if (now_ - control_window_start_ >= std::chrono::seconds(1)) {
    control_window_start_ = now_;
    control_frames_ = 0;
  }
  if (++control_frames_ <= cfg_.max_control_frames_per_second) return true;
  pending_reason_ = H2Goaway::control_flood;
  pending_set_ = true;
  return false;
}

void H2Session::submit_response(H2Stream& s, unsigned status, const http::Fields& fields, bool end_stream) {
  std::vector<nghttp2_nv> nv;
  std::vector<std::string> lower;  // names lowercased (HTTP/2 field names are lowercase)
  lower.reserve(std::distance(fields.begin(), fields.end()));
  const std::string code = std::to_string(status);
  nv.push_back(make_nv(":status", code));
  for (const auto& f : fields) {
    if (connection_specific(f.name_string())) continue;
    std::string& n = lower.emplace_back(f.name_string());
    std::transform(n.begin(), n.end(), n.begin(), [](char ch) { return common::ascii_lower(ch); });
    nv.push_back(make_nv(n, f.value()));
  }
  s.responded = true;
  if (end_stream) {
    nghttp2_submit_response(session_, s.id, nv.data(), nv.size(), nullptr);
  } else {
    nghttp2_data_provider provider{};
    provider.source.ptr = &s;
    provider.read_callback = read_body;
    nghttp2_submit_response(session_, s.id, nv.data(), nv.size(), &provider);
  }
  kick();
}

void H2Session::consumed(H2Stream& s, std::size_t n) {
  if (!s.closed) nghttp2_session_consume(session_, s.id, n);
  else nghttp2_session_consume_connection(session_, n);
  kick();
}

void H2Session::reset_stream(H2Stream& s, std::uint32_t error_code) {
  if (s.closed) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, error_code);
  kick();
}

}  // namespace authgate::proxy
