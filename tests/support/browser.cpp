#include "support/browser.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace support {

namespace {

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view strip_fragment(std::string_view s) {
  auto hash = s.find('#');
  return hash == std::string_view::npos ? s : s.substr(0, hash);
}

// RFC 3986 5.2.4, for paths that start with '/'.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  bool trailing_slash = false;
  while (i < path.size()) {
    std::size_t j = path.find('/', i + 1);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i + 1, j - i - 1);  // without the leading '/'
    trailing_slash = (j == path.size()) && (seg == "." || seg == "..");
    if (seg == ".") {
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else {
      out.emplace_back(seg);
    }
    i = j;
  }
  std::string result;
  for (const auto& s : out) result += "/" + s;
  if (result.empty() || trailing_slash) result += "/";
  return result;
}

bool has_scheme(std::string_view ref) {
  if (ref.empty() || !std::isalpha(static_cast<unsigned char>(ref[0]))) return false;
  for (char c : ref) {
    if (c == ':') return true;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return false;
  }
  return false;
}

std::string percent_encode(std::string_view s, bool plus_for_space) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ' && plus_for_space) {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "Thu, 01 Jan 1970 00:00:00 GMT" (and the "01-Jan-1970" spelling).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  std::string text(trim(s));
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S", "%a, %d-%b-%Y %H:%M:%S", "%A, %d-%b-%y %H:%M:%S"}) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), fmt, &tm);
    if (!end) continue;
    std::time_t t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1) && tm.tm_year != 69) continue;
    return std::chrono::system_clock::from_time_t(t);
  }
  return std::nullopt;
}

// The default cookie path of a request path (RFC 6265 5.1.4).
std::string default_cookie_path(std::string_view request_path) {
  if (request_path.empty() || request_path[0] != '/') return "/";
  auto last = request_path.rfind('/');
  if (last == 0) return "/";
  return std::string(request_path.substr(0, last));
}

bool path_matches(std::string_view cookie_path, std::string_view request_path) {
  if (request_path == cookie_path) return true;
  if (request_path.substr(0, cookie_path.size()) != cookie_path) return false;
  return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

bool live(const Cookie& c, std::chrono::system_clock::time_point now) {
  return !c.expires || *c.expires > now;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string html_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    std::string rep;
    if (ent == "amp") rep = "&";
    else if (ent == "lt") rep = "<";
    else if (ent == "gt") rep = ">";
    else if (ent == "quot") rep = "\"";
    else if (ent == "apos") rep = "'";
    else if (ent.size() > 1 && ent[0] == '#') {
      unsigned long cp = 0;
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (ec == std::errc{} && p == digits.data() + digits.size() && !digits.empty()) append_utf8(rep, cp);
    }
    if (rep.empty()) {
      out += s[i];
      continue;
    }
    out += rep;
    i = semi;
  }
  return out;
}

// The end ('>') of a tag that starts at `open` ('<'), skipping quoted attribute values.
std::size_t tag_end(std::string_view html, std::size_t open) {
  char quote = 0;
  for (std::size_t i = open; i < html.size(); ++i) {
    char c = html[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

// Attributes of a tag's text (after its name, before '>'): lowercase name -> decoded value.
std::map<std::string, std::string> tag_attributes(std::string_view t) {
  std::map<std::string, std::string> attrs;
  std::size_t i = 0;
  auto space = [&](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '/'; };
  while (i < t.size()) {
    while (i < t.size() && space(t[i])) ++i;
    std::size_t n0 = i;
    while (i < t.size() && !space(t[i]) && t[i] != '=') ++i;
    std::string name = to_lower(t.substr(n0, i - n0));
    while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
    std::string value;
    if (i < t.size() && t[i] == '=') {
      ++i;
      while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
      if (i < t.size() && (t[i] == '"' || t[i] == '\'')) {
        char q = t[i++];
        std::size_t v0 = i;
        while (i < t.size() && t[i] != q) ++i;
        value = html_unescape(t.substr(v0, i - v0));
        if (i < t.size()) ++i;
      } else {
        std::size_t v0 = i;
        while (i < t.size() && !std::isspace(static_cast<unsigned char>(t[i]))) ++i;
        value = html_unescape(t.substr(v0, i - v0));
      }
    }
    if (!name.empty()) attrs.emplace(std::move(name), std::move(value));
  }
  return attrs;
}

bool is_loopback_host(std::string_view host) {
  return host == "127.0.0.1" || iequals(host, "localhost");
}

bool has_header(const std::vector<Header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); });
}

}  // namespace

// ---- URLs ----------------------------------------------------------------------------

std::optional<Url> parse_url(std::string_view s) {
  s = strip_fragment(trim(s));
  if (!starts_with_icase(s, "http://")) return std::nullopt;
  std::string_view rest = s.substr(7);
  std::size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  Url u;
  u.scheme = "http";
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  u.host = std::string(host);
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) return std::nullopt;
    u.port = static_cast<std::uint16_t>(v);
  }
  if (target.empty()) u.target = "/";
  else if (target.front() == '?') u.target = "/" + std::string(target);
  else u.target = std::string(target);
  return u;
}

std::string resolve_url(const Url& base, std::string_view ref) {
  ref = strip_fragment(trim(ref));
  if (has_scheme(ref)) return std::string(ref);
  if (ref.substr(0, 2) == "//") return base.scheme + ":" + std::string(ref);
  if (ref.empty()) return base.str();
  if (ref.front() == '?') return base.origin() + base.path() + std::string(ref);
  std::string_view path_part = ref.substr(0, ref.find('?'));
  std::string_view query_part = ref.substr(path_part.size());
  std::string merged;
  if (ref.front() == '/') {
    merged = std::string(path_part);
  } else {
    std::string dir = base.path();
    dir = dir.substr(0, dir.rfind('/') + 1);
    merged = dir + std::string(path_part);
  }
  return base.origin() + remove_dot_segments(merged) + std::string(query_part);
}

std::string url_encode(std::string_view s) { return percent_encode(s, false); }
std::string form_encode(std::string_view s) { return percent_encode(s, true); }

std::string url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view s) {
  s = strip_fragment(s);
  if (auto q = s.find('?'); q != std::string_view::npos) s = s.substr(q + 1);
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i <= s.size() && !s.empty()) {
    std::size_t amp = s.find('&', i);
    if (amp == std::string_view::npos) amp = s.size();
    std::string_view part = s.substr(i, amp - i);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) out.emplace_back(url_decode(part), "");
      else out.emplace_back(url_decode(part.substr(0, eq)), url_decode(part.substr(eq + 1)));
    }
    i = amp + 1;
  }
  return out;
}

std::optional<std::string> query_param(std::string_view url_or_query, std::string_view name) {
  for (auto& [k, v] : parse_query(url_or_query))
    if (k == name) return v;
  return std::nullopt;
}

std::string with_query(std::string base, const std::vector<std::pair<std::string, std::string>>& params) {
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    base += sep;
    base += url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  return base;
}

// ---- OAuth helpers -------------------------------------------------------------------

std::string base64url_encode(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = byte(i) << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
  }
  return out;
}

std::string random_urlsafe(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return base64url_encode(raw);
}

std::string pkce_verifier() { return random_urlsafe(32); }  // 43 characters

std::string pkce_challenge_s256(std::string_view verifier) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(verifier.data(), verifier.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest(sha256) failed");
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// ---- Cookies -------------------------------------------------------------------------

void CookieJar::store(const Url& from, std::string_view set_cookie) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= set_cookie.size()) {
    std::size_t semi = set_cookie.find(';', i);
    if (semi == std::string_view::npos) semi = set_cookie.size();
    parts.push_back(trim(set_cookie.substr(i, semi - i)));
    i = semi + 1;
  }
  if (parts.empty()) return;
  auto eq = parts[0].find('=');
  if (eq == std::string_view::npos) return;  // no name=value: ignored
  Cookie c;
  c.name = std::string(trim(parts[0].substr(0, eq)));
  c.value = std::string(trim(parts[0].substr(eq + 1)));
  if (c.name.empty()) return;
  c.path = default_cookie_path(from.path());
  std::optional<std::chrono::system_clock::time_point> expires, max_age;
  const auto now = std::chrono::system_clock::now();
  for (std::size_t k = 1; k < parts.size(); ++k) {
    auto a = parts[k];
    auto aeq = a.find('=');
    std::string key = to_lower(trim(a.substr(0, aeq)));
    std::string_view val = aeq == std::string_view::npos ? std::string_view{} : trim(a.substr(aeq + 1));
    if (key == "path") {
      if (!val.empty() && val.front() == '/') c.path = std::string(val);
    } else if (key == "max-age") {
      long long secs = 0;
      auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), secs);
      if (ec == std::errc{} && p == val.data() + val.size()) {
        max_age = secs <= 0 ? std::chrono::system_clock::time_point{} : now + std::chrono::seconds(secs);
      }
    } else if (key == "expires") {
      if (auto t = parse_http_date(val)) expires = *t;
    } else if (key == "secure") {
      c.secure = true;
    } else if (key == "httponly") {
      c.http_only = true;
    } else if (key == "samesite") {
      c.same_site = std::string(val);
    }
    // Domain (and anything else) is ignored.
  }
  c.expires = max_age ? max_age : expires;
  auto& list = jar_[from.host_port()];
  std::erase_if(list, [&](const Cookie& o) { return o.name == c.name && o.path == c.path; });
  if (live(c, now)) list.push_back(std::move(c));
}

std::string CookieJar::header_for(const Url& to) const {
  auto it = jar_.find(to.host_port());
  if (it == jar_.end()) return {};
  const auto now = std::chrono::system_clock::now();
  const std::string path = to.path();
  std::vector<const Cookie*> match;
  for (const auto& c : it->second)
    if (live(c, now) && path_matches(c.path, path)) match.push_back(&c);
  std::stable_sort(match.begin(), match.end(),
                   [](const Cookie* a, const Cookie* b) { return a->path.size() > b->path.size(); });
  std::string out;
  for (const auto* c : match) out += (out.empty() ? "" : "; ") + c->name + "=" + c->value;
  return out;
}

std::optional<Cookie> CookieJar::find(std::string_view host_port, std::string_view name) const {
  auto it = jar_.find(host_port);
  if (it == jar_.end()) return std::nullopt;
  const auto now = std::chrono::system_clock::now();
  for (const auto& c : it->second)
    if (c.name == name && live(c, now)) return c;
  return std::nullopt;
}

std::optional<std::string> CookieJar::value(std::string_view host_port, std::string_view name) const {
  auto c = find(host_port, name);
  return c ? std::optional<std::string>(c->value) : std::nullopt;
}

std::vector<Cookie> CookieJar::all(std::string_view host_port) const {
  std::vector<Cookie> out;
  auto it = jar_.find(host_port);
  if (it == jar_.end()) return out;
  const auto now = std::chrono::system_clock::now();
  for (const auto& c : it->second)
    if (live(c, now)) out.push_back(c);
  return out;
}

void CookieJar::set(std::string_view host_port, Cookie c) {
  auto& list = jar_[std::string(host_port)];
  std::erase_if(list, [&](const Cookie& o) { return o.name == c.name && o.path == c.path; });
  list.push_back(std::move(c));
}

bool CookieJar::erase(std::string_view host_port, std::string_view name) {
  auto it = jar_.find(host_port);
  if (it == jar_.end()) return false;
  return std::erase_if(it->second, [&](const Cookie& o) { return o.name == name; }) > 0;
}

// ---- Browser -------------------------------------------------------------------------

StopAt stop_at_prefix(std::string prefix) {
  return [prefix = std::move(prefix)](const std::string& url) { return url.rfind(prefix, 0) == 0; };
}

std::string Navigation::describe() const {
  std::string out = "navigation ended at " + url + " (status " + std::to_string(status()) + ")";
  if (!stopped_at.empty()) out += ", stopped before " + stopped_at;
  if (!error.empty()) out += ", error: " + error;
  out += "\nlocations:";
  for (const auto& l : locations) out += "\n  " + l;
  if (response) out += "\nlast response:\n" + response->head_raw + response->body.substr(0, 1500);
  return out;
}

BrowserSession::BrowserSession(Clock::duration timeout)
    : timeout_(timeout),
      default_headers_{{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"},
                       {"User-Agent", "authgate-tests-browser/1"}} {}

std::optional<Response> BrowserSession::request(std::string_view method, std::string_view url,
                                                const std::vector<Header>& headers,
                                                std::string_view body) {
  auto u = parse_url(url);
  if (!u) {
    last_error_ = "not an absolute http URL: " + std::string(url);
    return std::nullopt;
  }
  if (!is_loopback_host(u->host)) {
    last_error_ = "only loopback hosts (127.0.0.1, localhost) can be reached: " + std::string(url);
    return std::nullopt;
  }
  std::vector<Header> h = headers;
  for (const auto& d : default_headers_)
    if (!has_header(h, d.name)) h.push_back(d);
  if (!has_header(h, "Cookie")) {
    std::string cookies = jar_.header_for(*u);
    if (!cookies.empty()) h.push_back({"Cookie", cookies});
  }
  if (!has_header(h, "Connection")) h.push_back({"Connection", "close"});
  if (body.empty() && method != "GET" && method != "HEAD" && !has_header(h, "Content-Length") &&
      !has_header(h, "Transfer-Encoding")) {
    h.push_back({"Content-Length", "0"});
  }
  HttpClient c(u->port, std::min<Clock::duration>(timeout_, 5s));
  if (!c.connected()) {
    last_error_ = "connect to " + u->host_port() + " failed: " + std::strerror(c.connect_errno());
    return std::nullopt;
  }
  ReadOptions ro;
  ro.head_request = method == "HEAD";
  auto r = c.request(make_request(method, u->target, h, body, u->host_port()), timeout_, ro);
  if (!r) {
    last_error_ = std::string(method) + " " + u->str() + ": " + c.error();
    return std::nullopt;
  }
  for (const auto& sc : r->headers.all("Set-Cookie")) jar_.store(*u, sc);
  last_error_.clear();
  return r;
}

std::optional<Response> BrowserSession::get(std::string_view url, const std::vector<Header>& headers) {
  return request("GET", url, headers);
}

std::optional<Response> BrowserSession::post_form(
    std::string_view url, const std::vector<std::pair<std::string, std::string>>& form,
    const std::vector<Header>& headers) {
  std::string body;
  for (const auto& [k, v] : form) body += (body.empty() ? "" : "&") + form_encode(k) + "=" + form_encode(v);
  std::vector<Header> h = headers;
  if (!has_header(h, "Content-Type")) h.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  return request("POST", url, h, body);
}

Navigation BrowserSession::navigate(std::string_view method_in, std::string_view url_in,
                                    std::string_view body_in, const std::vector<Header>& headers_in,
                                    int max_hops, const StopAt& stop) {
  Navigation nav;
  std::string method(method_in), url(url_in), body(body_in);
  std::vector<Header> headers = headers_in;
  for (int hop = 0;; ++hop) {
    nav.url = url;
    nav.response = request(method, url, headers, body);
    if (!nav.response) {
      nav.error = last_error_;
      return nav;
    }
    int s = nav.response->status;
    if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308) return nav;
    auto loc = nav.response->header("Location");
    if (!loc || loc->empty()) {
      nav.error = "redirect " + std::to_string(s) + " without a Location";
      return nav;
    }
    std::string next = resolve_url(*parse_url(url), *loc);
    nav.locations.push_back(next);
    if (stop && stop(next)) {
      nav.stopped_at = next;
      return nav;
    }
    if (hop >= max_hops) {
      nav.error = "more than " + std::to_string(max_hops) + " redirects";
      return nav;
    }
    if (s == 303 || ((s == 301 || s == 302) && method != "GET" && method != "HEAD")) {
      if (method != "HEAD") method = "GET";
      body.clear();
      std::erase_if(headers, [](const Header& h) {
        return iequals(h.name, "Content-Type") || iequals(h.name, "Content-Length") ||
               iequals(h.name, "Transfer-Encoding");
      });
    }
    url = next;
  }
}

Navigation BrowserSession::follow_redirects(std::string_view url, int max_hops, const StopAt& stop,
                                            const std::vector<Header>& headers) {
  return navigate("GET", url, {}, headers, max_hops, stop);
}

Navigation BrowserSession::submit_form(const Navigation& page,
                                       const std::vector<std::pair<std::string, std::string>>& fields,
                                       int max_hops, const StopAt& stop) {
  Navigation fail;
  fail.url = page.url;
  auto base = parse_url(page.url);
  auto form = page.response && base ? parse_first_form(page.response->body) : std::nullopt;
  if (!form) {
    fail.error = "no <form> in the page at " + page.url;
    fail.response = page.response;
    return fail;
  }
  auto values = form->fields;
  for (const auto& [k, v] : fields) {
    auto it = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first == k; });
    if (it != values.end()) it->second = v;
    else values.emplace_back(k, v);
  }
  std::string encoded;
  for (const auto& [k, v] : values) encoded += (encoded.empty() ? "" : "&") + form_encode(k) + "=" + form_encode(v);
  std::string action = resolve_url(*base, form->action.empty() ? page.url : form->action);
  if (form->method == "post") {
    std::vector<Header> h{{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", base->origin()}};
    return navigate("POST", action, encoded, h, max_hops, stop);
  }
  auto target = parse_url(action);
  std::string get_url = target ? target->origin() + target->path() + (encoded.empty() ? "" : "?" + encoded) : action;
  return navigate("GET", get_url, {}, {}, max_hops, stop);
}

std::optional<HtmlForm> parse_first_form(std::string_view html) {
  std::string lower = to_lower(html);
  std::size_t open = lower.find("<form");
  while (open != std::string::npos && open + 5 < lower.size() &&
         !(std::isspace(static_cast<unsigned char>(lower[open + 5])) || lower[open + 5] == '>')) {
    open = lower.find("<form", open + 5);
  }
  if (open == std::string::npos) return std::nullopt;
  std::size_t end = tag_end(html, open);
  if (end == std::string_view::npos) return std::nullopt;
  auto attrs = tag_attributes(html.substr(open + 5, end - open - 5));
  HtmlForm form;
  form.method = attrs.count("method") ? to_lower(attrs["method"]) : "get";
  form.action = attrs["action"];
  std::size_t close = lower.find("</form", end);
  if (close == std::string::npos) close = lower.size();
  for (std::size_t i = lower.find("<input", end); i != std::string::npos && i < close;
       i = lower.find("<input", i + 6)) {
    std::size_t e = tag_end(html, i);
    if (e == std::string_view::npos) break;
    auto in = tag_attributes(html.substr(i + 6, e - i - 6));
    std::string type = to_lower(in["type"]);
    if (!in.count("name") || in["name"].empty()) continue;
    if (type == "submit" || type == "button" || type == "image" || type == "reset" || type == "file") continue;
    if ((type == "checkbox" || type == "radio") && !in.count("checked")) continue;
    form.fields.emplace_back(in["name"], in.count("value") ? in["value"] : (type == "checkbox" ? "on" : ""));
  }
  return form;
}

}  // namespace support
