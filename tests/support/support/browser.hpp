// A headless "browser" for the session (cookie) tests: plain HTTP/1.1 to loopback
// servers (authgate, the OpenID Provider, upstreams; any port on 127.0.0.1), a cookie
// jar per host:port, and redirect following, so a login is "follow the redirects".
// No JavaScript, no TLS. Every request is a fresh connection (Connection: close).
//
// Usage:
//   support::BrowserSession b;
//   auto nav = b.follow_redirects(gw_url + "/oauth2/login?rd=/app");
//   ASSERT_EQ(nav.status(), 200) << nav.describe();   // the upstream's page at /app
//   auto r = b.get(gw_url + "/api/x");                // sends the session cookie
//   // Stop before a URL nobody listens on (a client's redirect_uri in a provider test):
//   auto nav2 = b.follow_redirects(authorize_url, 20, support::stop_at_prefix(redirect_uri));
//   std::string code = support::query_param(nav2.stopped_at, "code").value_or("");
//
// Cookies (RFC 6265 basics): Set-Cookie name=value with Path, Max-Age and Expires
// (Max-Age <= 0 or an Expires in the past deletes); Domain is ignored (cookies belong to
// the host:port that set them, so two servers on 127.0.0.1 do not share cookies);
// Secure and HttpOnly cookies are kept and sent over plain http; SameSite is recorded only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/http.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"

namespace support {

// ---- URLs ----------------------------------------------------------------------------

// An absolute http URL.
struct Url {
  std::string scheme;  // "http" (https is not supported here)
  std::string host;    // as written, e.g. "127.0.0.1"
  std::uint16_t port = 80;
  std::string target = "/";  // path and query, no fragment

  std::string host_port() const { return host + ":" + std::to_string(port); }
  std::string origin() const { return scheme + "://" + host_port(); }
  std::string str() const { return origin() + target; }
  std::string path() const { return target.substr(0, target.find('?')); }
};

// nullopt unless `s` is an absolute http:// URL (the fragment is dropped).
std::optional<Url> parse_url(std::string_view s);
// `ref` (a Location or form action: absolute, "//host/..", "/path", "?q" or "rel") against
// `base`, as an absolute URL string.
std::string resolve_url(const Url& base, std::string_view ref);

// Percent-encoding of a query component (unreserved characters stay; space is %20).
std::string url_encode(std::string_view s);
// application/x-www-form-urlencoded (space is '+').
std::string form_encode(std::string_view s);
// Decodes %XX (and '+' as space when `plus_is_space`).
std::string url_decode(std::string_view s, bool plus_is_space = true);
// "k=v&k2=v2" pairs, decoded. Accepts a whole URL (uses what follows the first '?').
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view url_or_query);
// The first value of `name` in a URL's query.
std::optional<std::string> query_param(std::string_view url_or_query, std::string_view name);
// `base` + ('?' or '&') + the encoded pairs.
std::string with_query(std::string base, const std::vector<std::pair<std::string, std::string>>& params);

// ---- OAuth helpers -------------------------------------------------------------------

std::string base64url_encode(std::string_view bytes);
// `bytes` random bytes (OpenSSL RAND_bytes), base64url: for state, nonce.
std::string random_urlsafe(std::size_t bytes = 16);
// RFC 7636: a 43-character code_verifier and its S256 code_challenge.
std::string pkce_verifier();
std::string pkce_challenge_s256(std::string_view verifier);

// ---- Cookies -------------------------------------------------------------------------

struct Cookie {
  std::string name;
  std::string value;
  std::string path = "/";
  bool secure = false;
  bool http_only = false;
  std::string same_site;  // as sent, "" when absent
  // nullopt: a session cookie (kept until the jar is cleared).
  std::optional<std::chrono::system_clock::time_point> expires;
};

class CookieJar {
 public:
  // Applies one Set-Cookie header value received in a response from `from`.
  void store(const Url& from, std::string_view set_cookie);
  // The Cookie header value for a request to `to` ("" when no cookie applies): longer
  // paths first, expired cookies skipped.
  std::string header_for(const Url& to) const;

  // A live cookie of `host_port` ("127.0.0.1:4100") by name, whatever its path.
  std::optional<Cookie> find(std::string_view host_port, std::string_view name) const;
  std::optional<std::string> value(std::string_view host_port, std::string_view name) const;
  std::vector<Cookie> all(std::string_view host_port) const;
  // Adds or replaces (same name and path) a cookie, e.g. a tampered one.
  void set(std::string_view host_port, Cookie c);
  // Removes every cookie of that name (all paths); false when there was none.
  bool erase(std::string_view host_port, std::string_view name);
  void clear() { jar_.clear(); }

 private:
  std::map<std::string, std::vector<Cookie>, std::less<>> jar_;  // by host:port
};

// ---- Browser -------------------------------------------------------------------------

// Decides whether a redirect target (absolute URL) is NOT fetched: following stops there.
using StopAt = std::function<bool(const std::string& absolute_url)>;
StopAt stop_at_prefix(std::string prefix);

struct Navigation {
  std::optional<Response> response;  // the last response (nullopt: its request failed)
  std::string url;                   // the URL that answered `response` (or failed)
  // Every redirect's Location in order, resolved to absolute URLs (the one stopped at too).
  std::vector<std::string> locations;
  std::string stopped_at;  // a Location not fetched because StopAt matched ("" otherwise)
  std::string error;       // why the chain ended early ("" on success or a stop)

  int status() const { return response ? response->status : -1; }
  // URL, status, locations, error and the start of the last body: for failure messages.
  std::string describe() const;
};

class BrowserSession {
 public:
  explicit BrowserSession(Clock::duration timeout = 10s);

  CookieJar& jar() { return jar_; }
  const CookieJar& jar() const { return jar_; }
  // Sent with every request unless the call names a header of the same name. Default:
  // Accept: text/html,application/xhtml+xml,*/*;q=0.8 (a navigation) and a User-Agent.
  std::vector<Header>& default_headers() { return default_headers_; }

  // One request with the jar's cookies; stores the response's Set-Cookie headers.
  // `url` is absolute http on a loopback host (127.0.0.1 or localhost). nullopt on a
  // connection / parse failure or timeout (see last_error()).
  std::optional<Response> request(std::string_view method, std::string_view url,
                                  const std::vector<Header>& headers = {},
                                  std::string_view body = {});
  std::optional<Response> get(std::string_view url, const std::vector<Header>& headers = {});
  std::optional<Response> post_form(std::string_view url,
                                    const std::vector<std::pair<std::string, std::string>>& form,
                                    const std::vector<Header>& headers = {});

  // GET `url`, then follows 301/302/303/307/308 Locations (303, and 301/302 after a POST,
  // turn into GET; 307/308 repeat method and body) for at most `max_hops` redirects.
  // `headers` go with every request of the chain. Ends at the first non-redirect
  // response, at a Location that `stop` matches (not fetched), or on an error (a failed
  // request, too many hops, a redirect without Location).
  Navigation follow_redirects(std::string_view url, int max_hops = 20, const StopAt& stop = {},
                              const std::vector<Header>& headers = {});
  Navigation navigate(std::string_view method, std::string_view url, std::string_view body,
                      const std::vector<Header>& headers, int max_hops = 20, const StopAt& stop = {});

  // Submits the first <form> of `page`'s body (an HTML page without JavaScript, e.g. an
  // OP's logout confirmation or form_post page): its inputs with a name, overridden or
  // extended by `fields`, to its action (resolved against page.url), by its method (POST
  // unless it says get), then follows redirects. An error Navigation when there is no form.
  Navigation submit_form(const Navigation& page,
                         const std::vector<std::pair<std::string, std::string>>& fields = {},
                         int max_hops = 20, const StopAt& stop = {});

  const std::string& last_error() const { return last_error_; }

 private:
  Clock::duration timeout_;
  CookieJar jar_;
  std::vector<Header> default_headers_;
  std::string last_error_;
};

// The first <form> of an HTML page: method (lowercase, "get" when absent), action (as
// written, entities decoded) and its named <input> values. nullopt when there is none.
struct HtmlForm {
  std::string method;
  std::string action;
  std::vector<std::pair<std::string, std::string>> fields;
};
std::optional<HtmlForm> parse_first_form(std::string_view html);

}  // namespace support
