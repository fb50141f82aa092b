// The only file that includes yaml-cpp. Walks the document once, collecting
// every error with its position and key path, then validates cross-references.
#include "config/loader.hpp"

#include "common/ascii.hpp"
#include "common/file.hpp"
#include "common/url.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace authgate::config {

ConfigError::ConfigError(std::vector<std::string> errors)
    : std::runtime_error(errors.empty() ? std::string("invalid config") : errors.front()),
      errors_(std::move(errors)) {}

bool parse_duration(std::string_view text, Duration& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return false;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::uint64_t ms_per_unit = 0;
  if (unit == "ms") ms_per_unit = 1;
  else if (unit == "s") ms_per_unit = 1000;
  else if (unit == "m") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else if (unit == "d") ms_per_unit = 86'400'000;
  else return false;
  if (value > (std::uint64_t{1} << 40) / ms_per_unit) return false;  // absurdly long
  out = Duration(static_cast<Duration::rep>(value * ms_per_unit));
  return true;
}

bool parse_size(std::string_view text, std::uint64_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return false;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::uint64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  else if (unit == "TiB") mult = 1ull << 40;
  else if (unit == "KB") mult = 1000;
  else if (unit == "MB") mult = 1000'000;
  else if (unit == "GB") mult = 1000'000'000;
  else return false;
  if (value > UINT64_MAX / mult) return false;
  out = value * mult;
  return true;
}

namespace {

// What a duration key can mean: the gateway counts some keys in whole seconds
// (token times, cookie Max-Age, Retry-After, session times), so a value that is
// not a whole number of seconds would be cut silently; others have a floor below
// which the key would quietly do nothing. Both are config errors instead.
struct Resolution {
  Duration unit{1};         // the value must be a multiple of this
  Duration min{1};          // and at least this
  std::string_view why;     // said in the error
};

std::string duration_text(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

std::string unit_name(Duration unit) { return unit.count() == 1000 ? "seconds" : duration_text(unit) + " steps"; }

// Keys counted in whole seconds (at least 1s).
Resolution whole_seconds(std::string_view why) { return Resolution{Duration(1000), Duration(1000), why}; }

bool read_secret_file(const std::string& path, std::string& out) {
  common::Result<std::string> text = common::read_file(path);
  if (!text) return false;
  out = std::move(*text);
  common::strip_line_endings(out);
  return true;
}

bool readable_file(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

// Stands in for a secret that --skip-secrets did not read: long enough for every
// length check (cookie secret, admin token, HS512 key), so the rest is checked as usual.
constexpr std::string_view kSkippedSecret =
    "authgate-check-config-skip-secrets-placeholder-0123456789abcdef";

// Collects "file:line:col: path: message" lines (and, with skip_secrets, notes).
class Reader {
 public:
  explicit Reader(std::string file, bool skip_secrets = false)
      : file_(std::move(file)), skip_secrets_(skip_secrets) {}

  void error(const YAML::Node& at, const std::string& path, const std::string& message) {
    errors_.push_back(located(at, path, message));
  }
  void note(const YAML::Node& at, const std::string& path, const std::string& message) {
    notes_.push_back(located(at, path, "note: " + message));
  }

  std::vector<std::string>& errors() { return errors_; }
  std::vector<std::string>& notes() { return notes_; }

  // A secret that is not there: an error, or with skip_secrets a note, and then
  // the placeholder in `out` (true: go on as if it had been read).
  bool missing_secret(const YAML::Node& at, const std::string& path, const std::string& message,
                      std::string* out) {
    if (!skip_secrets_) {
      error(at, path, message);
      return false;
    }
    note(at, path, message + "; not checked (--skip-secrets)");
    if (out) *out = std::string(kSkippedSecret);
    return true;
  }
  // The value of the environment variable `var` holding a secret.
  bool env_secret(const YAML::Node& at, const std::string& path, const std::string& var, std::string& out) {
    const char* v = std::getenv(var.c_str());
    if (v && *v) {
      out = v;
      return true;
    }
    return missing_secret(at, path, "environment variable " + var + " is not set", &out);
  }
  // The contents of the file `file` holding a secret.
  bool file_secret(const YAML::Node& at, const std::string& path, const std::string& file, std::string& out) {
    if (read_secret_file(file, out)) return true;
    return missing_secret(at, path, "cannot read file \"" + file + "\"", &out);
  }

  // A map whose keys must all be in `allowed`.
  bool expect_map(const YAML::Node& n, const std::string& path,
                  std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
      error(n, path, "must be a mapping");
      return false;
    }
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const auto key = it->first.Scalar();
      if (!seen.insert(key).second) {
        error(it->first, join(path, key), "duplicate key (the first one would silently win)");
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(it->first, join(path, key), "unknown key (expected one of: " + list + ")");
      }
    }
    return true;
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  bool scalar(const YAML::Node& n, const std::string& path, std::string& out) {
    if (!n.IsScalar()) {
      error(n, path, "must be a scalar");
      return false;
    }
    out = n.Scalar();
    return true;
  }

  void string(const YAML::Node& map, std::string_view key, const std::string& path,
              std::string& out) {
    if (auto n = map[std::string(key)]) scalar(n, join(path, key), out);
  }

  void boolean(const YAML::Node& map, std::string_view key, const std::string& path, bool& out) {
    auto n = map[std::string(key)];
    if (!n) return;
    std::string s;
    if (!scalar(n, join(path, key), s)) return;
    if (s == "true") out = true;
    else if (s == "false") out = false;
    else error(n, join(path, key), "must be true or false, not \"" + s + "\"");
  }

  void size(const YAML::Node& map, std::string_view key, const std::string& path,
            std::uint64_t& out, std::uint64_t min = 0) {
    auto n = map[std::string(key)];
    if (!n) return;
    std::string s;
    if (!scalar(n, join(path, key), s)) return;
    std::uint64_t v = 0;
    if (!parse_size(s, v)) {
      error(n, join(path, key), "invalid size \"" + s + "\" (write e.g. 512, 16KiB, 10MiB)");
    } else if (v < min) {
      error(n, join(path, key), "must be at least " + std::to_string(min));
    } else {
      out = v;
    }
  }

  // A list of non-empty strings.
  void string_list(const YAML::Node& map, std::string_view key, const std::string& path,
                   std::vector<std::string>& out) {
    auto n = map[std::string(key)];
    if (!n) return;
    const auto lpath = join(path, key);
    if (!n.IsSequence()) {
      error(n, lpath, "must be a list");
      return;
    }
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string v;
      const auto ipath = lpath + "[" + std::to_string(i) + "]";
      if (!scalar(n[i], ipath, v)) continue;
      if (v.empty()) error(n[i], ipath, "must not be empty");
      else out.push_back(v);
    }
  }

  void duration(const YAML::Node& map, std::string_view key, const std::string& path,
                Duration& out, const Resolution& res = {}) {
    auto n = map[std::string(key)];
    if (!n) return;
    std::string s;
    if (!scalar(n, join(path, key), s)) return;
    Duration d{};
    const std::string why = res.why.empty() ? "" : " (" + std::string(res.why) + ")";
    if (!parse_duration(s, d)) {
      error(n, join(path, key), "invalid duration \"" + s + "\" (write e.g. 250ms, 30s, 5m)");
    } else if (d.count() == 0) {
      error(n, join(path, key), "must be greater than zero");
    } else if (d < res.min) {
      error(n, join(path, key), "\"" + s + "\" is too short: must be at least " + duration_text(res.min) + why);
    } else if (d.count() % res.unit.count() != 0) {
      error(n, join(path, key), "\"" + s + "\" is not a whole number of " + unit_name(res.unit) + why +
                                    "; it would be cut to " + duration_text(d - d % res.unit));
    } else {
      out = d;
    }
  }

  void endpoint(const YAML::Node& map, std::string_view key, const std::string& path,
                Endpoint& out) {
    auto n = map[std::string(key)];
    if (!n) return;
    std::string s;
    if (!scalar(n, join(path, key), s)) return;
    if (!parse_endpoint(s, out)) {
      error(n, join(path, key), "must be host:port, not \"" + s + "\"");
    }
  }

  static bool parse_port(std::string_view s, std::uint16_t& port) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
  }

  static bool parse_endpoint(std::string_view s, Endpoint& out) {
    std::string_view host;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
      auto close = s.find(']');
      if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
        return false;
      host = s.substr(1, close - 1);
      port = s.substr(close + 2);
    } else {
      auto colon = s.rfind(':');
      if (colon == std::string_view::npos) return false;
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
    }
    if (host.empty() || !parse_port(port, out.port)) return false;
    out.host = std::string(host);
    return true;
  }

 private:
  std::string located(const YAML::Node& at, const std::string& path, const std::string& message) const {
    auto mark = at.Mark();
    int line = mark.line >= 0 ? mark.line + 1 : 0;
    int col = mark.column >= 0 ? mark.column + 1 : 0;
    std::ostringstream os;
    os << file_ << ':' << line << ':' << col << ": " << path << ": " << message;
    return os.str();
  }

  std::string file_;
  bool skip_secrets_;
  std::vector<std::string> errors_;
  std::vector<std::string> notes_;
};

bool valid_cidr(const std::string& text) {
  auto slash = text.find('/');
  std::string addr = text.substr(0, slash);
  unsigned char buf[16];
  int max_bits = 0;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) max_bits = 32;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) max_bits = 128;
  else return false;
  if (slash == std::string::npos) return true;
  unsigned bits = 0;
  auto p = text.substr(slash + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
  return ec == std::errc{} && end == p.data() + p.size() && !p.empty() &&
         bits <= static_cast<unsigned>(max_bits);
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void read_listen(Reader& r, const YAML::Node& n, ListenConfig& out) {
  if (!r.expect_map(n, "listen", {"address", "tls", "trusted_proxies", "client_cert_header", "h2c"})) return;
  r.endpoint(n, "address", "listen", out.address);
  r.boolean(n, "h2c", "listen", out.h2c);
  if (auto tls = n["tls"]) {
    if (r.expect_map(tls, "listen.tls", {"cert_file", "key_file", "client_ca_file", "client_auth", "alpn_h2"})) {
      ListenerTls t;
      r.boolean(tls, "alpn_h2", "listen.tls", t.alpn_h2);
      for (auto [key, field] : {std::pair{"cert_file", &t.cert_file}, {"key_file", &t.key_file}}) {
        auto f = tls[key];
        std::string path = std::string("listen.tls.") + key;
        if (!f) r.error(tls, path, "is required");
        else if (r.scalar(f, path, *field) && !readable_file(*field))  // the key is a secret; the pair is deployed together
          r.missing_secret(f, path, "cannot read file \"" + *field + "\"", nullptr);
      }
      if (auto f = tls["client_ca_file"]; f && r.scalar(f, "listen.tls.client_ca_file", t.client_ca_file) &&
                                          !readable_file(t.client_ca_file))
        r.error(f, "listen.tls.client_ca_file", "cannot read file \"" + t.client_ca_file + "\"");
      if (!t.client_ca_file.empty()) t.client_auth = ClientAuth::optional;
      if (auto a = tls["client_auth"]) {
        std::string s;
        if (r.scalar(a, "listen.tls.client_auth", s)) {
          if (s == "none") t.client_auth = ClientAuth::none;
          else if (s == "optional") t.client_auth = ClientAuth::optional;
          else if (s == "required") t.client_auth = ClientAuth::required;
          else r.error(a, "listen.tls.client_auth", "must be none, optional or required, not \"" + s + "\"");
          if (t.client_auth != ClientAuth::none && t.client_ca_file.empty())
            r.error(a, "listen.tls.client_auth", "needs client_ca_file (the CAs client certificates must chain to)");
        }
      }
      out.tls = t;
    }
  }
  r.string(n, "client_cert_header", "listen", out.client_cert_header);
  if (!out.client_cert_header.empty() && !std::all_of(out.client_cert_header.begin(), out.client_cert_header.end(), is_token_char))
    r.error(n["client_cert_header"], "listen.client_cert_header", "must be a header name");
  if (auto tp = n["trusted_proxies"]) {
    if (!tp.IsSequence()) {
      r.error(tp, "listen.trusted_proxies", "must be a list of CIDRs");
    } else {
      for (std::size_t i = 0; i < tp.size(); ++i) {
        std::string path = "listen.trusted_proxies[" + std::to_string(i) + "]";
        std::string s;
        if (!r.scalar(tp[i], path, s)) continue;
        if (!valid_cidr(s)) r.error(tp[i], path, "not an IP network: \"" + s + "\"");
        else out.trusted_proxies.push_back(Cidr{s});
      }
    }
  }
  if (!out.client_cert_header.empty() && !n["trusted_proxies"])
    r.error(n["client_cert_header"], "listen.client_cert_header",
            "needs trusted_proxies (the header is read only from the TLS-terminating proxies listed there)");
}

bool parse_url(const std::string& url, Upstream& u) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  u.scheme = url.substr(0, scheme_end);
  if (u.scheme != "http" && u.scheme != "https") return false;
  std::string rest = url.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/@?# \t") != std::string::npos) return false;
  const std::uint16_t default_port = u.scheme == "https" ? 443 : 80;
  Endpoint ep;
  if (Reader::parse_endpoint(rest, ep)) {
    u.host = ep.host;
    u.port = ep.port;
  } else if (rest.front() == '[' && rest.back() == ']' && rest.size() > 2) {  // [v6] without port
    u.host = rest.substr(1, rest.size() - 2);
    u.port = default_port;
  } else {
    if (rest.find_first_of(":[]") != std::string::npos) return false;
    u.host = rest;
    u.port = default_port;
  }
  return true;
}

void read_upstreams(Reader& r, const YAML::Node& n, std::vector<Upstream>& out) {
  if (!n.IsSequence()) {
    r.error(n, "upstreams", "must be a list");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto& u = n[i];
    std::string path = "upstreams[" + std::to_string(i) + "]";
    if (!r.expect_map(u, path, {"name", "url", "protocol", "host_header", "max_connections", "max_idle",
                                 "h2_connections", "tls"}))
      continue;
    Upstream up;
    if (!u["name"]) r.error(u, path + ".name", "is required");
    r.string(u, "name", path, up.name);
    if (!up.name.empty() && !names.insert(up.name).second)
      r.error(u["name"], path + ".name", "duplicate upstream name \"" + up.name + "\"");
    if (auto url = u["url"]) {
      std::string s;
      if (r.scalar(url, path + ".url", s) && !parse_url(s, up))
        r.error(url, path + ".url",
                "must be http://host[:port] or https://host[:port] without a path, not \"" + s +
                    "\"");
    } else {
      r.error(u, path + ".url", "is required");
    }
    r.string(u, "host_header", path, up.host_header);
    r.size(u, "max_connections", path, up.max_connections, 1);
    r.size(u, "max_idle", path, up.max_idle);
    r.size(u, "h2_connections", path, up.h2_connections, 1);
    if (auto proto = u["protocol"]) {
      std::string p;
      if (r.scalar(proto, path + ".protocol", p)) {
        if (p == "http1") up.protocol = UpstreamProtocol::http1;
        else if (p == "h2") up.protocol = UpstreamProtocol::h2;
        else if (p == "h2c") up.protocol = UpstreamProtocol::h2c;
        else r.error(proto, path + ".protocol", "must be http1, h2 or h2c, not \"" + p + "\"");
        if (p == "h2" && up.scheme != "https")
          r.error(proto, path + ".protocol", "h2 is HTTP/2 over TLS: it needs an https:// url (h2c is cleartext)");
        if (p == "h2c" && up.scheme != "http")
          r.error(proto, path + ".protocol", "h2c is cleartext HTTP/2: it needs an http:// url (h2 is over TLS)");
      }
    }
    if (auto tls = u["tls"]) {
      std::string tpath = path + ".tls";
      if (r.expect_map(tls, tpath, {"ca_file", "server_name", "verify"})) {
        r.string(tls, "ca_file", tpath, up.tls.ca_file);
        r.string(tls, "server_name", tpath, up.tls.server_name);
        r.boolean(tls, "verify", tpath, up.tls.verify);
        if (!up.tls.ca_file.empty() && !readable_file(up.tls.ca_file))
          r.error(tls["ca_file"], tpath + ".ca_file",
                  "cannot read file \"" + up.tls.ca_file + "\"");
        if (up.scheme != "https") r.error(tls, tpath, "only applies to https:// upstreams");
      }
    }
    out.push_back(std::move(up));
  }
}

const char* const kAlgorithms[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
                                   "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"};

void read_introspection(Reader& r, const YAML::Node& n, const std::string& path, Issuer& is) {
  if (!r.expect_map(n, path, {"endpoint", "client_id", "client_secret_env", "client_secret_file",
                              "cache_ttl", "negative_ttl", "negative_cache_entries", "max_concurrent_calls"}))
    return;
  Introspection in;
  r.string(n, "endpoint", path, in.endpoint);
  if (!n["client_id"]) r.error(n, path + ".client_id", "is required");
  r.string(n, "client_id", path, in.client_id);
  std::string env, file;
  r.string(n, "client_secret_env", path, env);
  r.string(n, "client_secret_file", path, file);
  if (env.empty() == file.empty()) {
    r.error(n, path, "needs exactly one of client_secret_env or client_secret_file");
  } else if (!env.empty()) {
    r.env_secret(n["client_secret_env"], path + ".client_secret_env", env, in.client_secret);
  } else {
    r.file_secret(n["client_secret_file"], path + ".client_secret_file", file, in.client_secret);
  }
  r.duration(n, "cache_ttl", path, in.cache_ttl);
  r.duration(n, "negative_ttl", path, in.negative_ttl);
  r.size(n, "negative_cache_entries", path, in.negative_cache_entries);
  r.size(n, "max_concurrent_calls", path, in.max_concurrent_calls, 1);
  is.introspection = std::move(in);
}

// DPoP proof algorithms (dpop.algs, issuers[].dpop.algs): asymmetric JWS algorithms, not empty.
void read_dpop_algs(Reader& r, const YAML::Node& n, const std::string& path, std::vector<std::string>& out) {
  if (!n["algs"]) return;
  out.clear();
  r.string_list(n, "algs", path, out);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto& alg = out[i];
    if (std::find(std::begin(kAlgorithms), std::end(kAlgorithms), alg) == std::end(kAlgorithms) ||
        alg.starts_with("HS"))
      r.error(n["algs"][i], path + ".algs[" + std::to_string(i) + "]",
              "\"" + alg + "\" is not an asymmetric JWS algorithm (RS*, PS*, ES*, EdDSA)");
  }
  if (out.empty()) r.error(n["algs"], path + ".algs", "must not be empty");
}

void read_issuers(Reader& r, const YAML::Node& n, std::vector<Issuer>& out) {
  if (!n.IsSequence()) {
    r.error(n, "issuers", "must be a list");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto& in = n[i];
    const std::string path = "issuers[" + std::to_string(i) + "]";
    if (!r.expect_map(in, path, {"name", "issuer", "audiences", "algorithms", "leeway", "jwks_file",
                                 "jwks", "jwks_uri", "discovery", "secret_env", "secret_file",
                                 "require_at_jwt", "reject_id_tokens", "scope_claim",
                                 "required_claims", "jwks_refresh_min", "jwks_refresh_max",
                                 "jwks_retry_interval", "jwks_refetch_interval", "max_stale", "tls",
                                 "validation", "introspection", "dpop"}))
      continue;
    Issuer is;
    for (auto key : {"name", "issuer"})
      if (!in[key]) r.error(in, path + "." + key, "is required");
    r.string(in, "name", path, is.name);
    if (!is.name.empty() && !names.insert(is.name).second)
      r.error(in["name"], path + ".name", "duplicate issuer name \"" + is.name + "\"");
    r.string(in, "issuer", path, is.issuer);
    r.string_list(in, "audiences", path, is.audiences);
    if (is.audiences.empty())
      r.error(in["audiences"] ? in["audiences"] : in, path + ".audiences",
              "at least one audience is required (a token for another API must not pass)");
    r.string_list(in, "algorithms", path, is.algorithms);
    bool hmac_alg = false;
    bool asym_alg = false;
    for (std::size_t a = 0; a < is.algorithms.size(); ++a) {
      const auto& alg = is.algorithms[a];
      if (std::find(std::begin(kAlgorithms), std::end(kAlgorithms), alg) == std::end(kAlgorithms)) {
        r.error(in["algorithms"][a], path + ".algorithms[" + std::to_string(a) + "]",
                "unknown algorithm \"" + alg + "\" (\"none\" is never accepted)");
      }
      (alg.starts_with("HS") ? hmac_alg : asym_alg) = true;
    }
    r.duration(in, "leeway", path, is.leeway, whole_seconds("token times exp, nbf and iat are whole seconds"));
    r.string(in, "jwks_file", path, is.jwks_file);
    r.string(in, "jwks", path, is.jwks);
    r.string(in, "jwks_uri", path, is.jwks_uri);
    r.boolean(in, "discovery", path, is.discovery);
    std::string secret_env, secret_file;
    r.string(in, "secret_env", path, secret_env);
    r.string(in, "secret_file", path, secret_file);
    const int sources = !is.jwks_file.empty() + !is.jwks.empty() + !is.jwks_uri.empty() +
                        !secret_env.empty() + !secret_file.empty();
    if (sources > 1) {
      r.error(in, path, "has more than one key source: use one of jwks_uri, jwks_file, jwks, secret_env, secret_file (none: discovery)");
    } else if (!is.jwks_file.empty() && !readable_file(is.jwks_file)) {
      r.error(in["jwks_file"], path + ".jwks_file", "cannot read file \"" + is.jwks_file + "\"");
    } else if (!secret_env.empty()) {
      r.env_secret(in["secret_env"], path + ".secret_env", secret_env, is.secret);
      is.secret_source = "env:" + secret_env;
    } else if (!secret_file.empty()) {
      r.file_secret(in["secret_file"], path + ".secret_file", secret_file, is.secret);
      is.secret_source = "file:" + secret_file;
    }
    const bool has_secret = !secret_env.empty() || !secret_file.empty();
    if (has_secret && asym_alg)
      r.error(in["algorithms"] ? in["algorithms"] : in, path + ".algorithms",
              "an HMAC secret only verifies HS256/HS384/HS512");
    if (!has_secret && hmac_alg)
      r.error(in["algorithms"], path + ".algorithms",
              "HS* algorithms need secret_env or secret_file and are never mixed with JWKS keys");
    for (auto [key, field] : {std::pair{"jwks_refresh_min", &is.jwks_refresh_min},
                              std::pair{"jwks_refresh_max", &is.jwks_refresh_max},
                              std::pair{"jwks_retry_interval", &is.jwks_retry_interval},
                              std::pair{"jwks_refetch_interval", &is.jwks_refetch_interval},
                              std::pair{"max_stale", &is.max_stale}})
      r.duration(in, key, path, *field);
    if (is.jwks_refresh_min > is.jwks_refresh_max)
      r.error(in["jwks_refresh_min"] ? in["jwks_refresh_min"] : in, path + ".jwks_refresh_min",
              "must not be greater than jwks_refresh_max");
    if (auto d = in["dpop"]; d && r.expect_map(d, path + ".dpop", {"algs", "iat_window"})) {
      if (d["algs"]) read_dpop_algs(r, d, path + ".dpop", is.dpop.algs.emplace());
      if (d["iat_window"])
        r.duration(d, "iat_window", path + ".dpop", is.dpop.iat_window.emplace(),
                   whole_seconds("iat is in whole seconds"));
    }
    if (auto tls = in["tls"]; tls && r.expect_map(tls, path + ".tls", {"ca_file", "verify"})) {
      r.string(tls, "ca_file", path + ".tls", is.tls.ca_file);
      r.boolean(tls, "verify", path + ".tls", is.tls.verify);
      if (!is.tls.ca_file.empty() && !readable_file(is.tls.ca_file))
        r.error(tls["ca_file"], path + ".tls.ca_file", "cannot read file \"" + is.tls.ca_file + "\"");
    }
    if (auto v = in["validation"]) {
      std::string s;
      if (r.scalar(v, path + ".validation", s)) {
        if (s == "jwt") is.validation = Validation::jwt;
        else if (s == "introspection") is.validation = Validation::introspection;
        else r.error(v, path + ".validation", "must be jwt or introspection, not \"" + s + "\"");
      }
    }
    if (auto n = in["introspection"]) read_introspection(r, n, path + ".introspection", is);
    if (is.validation == Validation::introspection && !is.introspection)
      r.error(in["validation"], path + ".validation", "introspection needs an introspection: block");
    // Remote sources: the issuer URL (discovery) and the endpoints must be
    // http(s) URLs; plain http only when the issuer itself is http (local tests).
    const auto issuer_url = common::parse_http_url(is.issuer);
    auto check_endpoint = [&](const YAML::Node& node, const std::string& key, const std::string& url) {
      const auto u = common::parse_http_url(url);
      if (!u) r.error(node, key, "must be an absolute http(s) URL, not \"" + url + "\"");
      else if (!u->is_https() && !(issuer_url && !issuer_url->is_https()))
        r.error(node, key, "must be https (plain http only when the issuer URL is http)");
    };
    if (!is.jwks_uri.empty()) check_endpoint(in["jwks_uri"], path + ".jwks_uri", is.jwks_uri);
    if (is.introspection && !is.introspection->endpoint.empty())
      check_endpoint(in["introspection"]["endpoint"], path + ".introspection.endpoint", is.introspection->endpoint);
    if (is.needs_discovery() && !is.issuer.empty()) {
      if (!is.discovery)
        r.error(in["discovery"], path + ".discovery",
                "is off, so the issuer needs jwks_uri, jwks_file, jwks or a secret (and introspection.endpoint)");
      else if (!issuer_url)
        r.error(in["issuer"], path + ".issuer",
                "discovery needs an http(s) issuer URL, not \"" + is.issuer + "\" (or configure jwks_uri/jwks_file)");
    }
    r.boolean(in, "require_at_jwt", path, is.require_at_jwt);
    r.boolean(in, "reject_id_tokens", path, is.reject_id_tokens);
    r.string(in, "scope_claim", path, is.scope_claim);
    r.string_list(in, "required_claims", path, is.required_claims);
    out.push_back(std::move(is));
  }
}

bool read_secret(Reader& r, const YAML::Node& n, const std::string& path, const char* env_key,
                 const char* file_key, std::string& out) {
  std::string env, file;
  r.string(n, env_key, path, env);
  r.string(n, file_key, path, file);
  if (env.empty() == file.empty()) {
    r.error(n, path, std::string("needs exactly one of ") + env_key + " or " + file_key);
    return false;
  }
  if (!env.empty()) return r.env_secret(n[env_key], Reader::join(path, env_key), env, out);
  return r.file_secret(n[file_key], Reader::join(path, file_key), file, out);
}

// A same-origin path: "/" then anything but a second "/" or "\" (no //host).
bool is_local_path(const std::string& p) {
  return !p.empty() && p[0] == '/' && (p.size() == 1 || (p[1] != '/' && p[1] != '\\'));
}

void read_sessions(Reader& r, const YAML::Node& n, const std::vector<Issuer>& issuers,
                   std::optional<Sessions>& out) {
  const std::string path = "sessions";
  if (!r.expect_map(n, path, {"client", "public_url", "csrf_origins", "prefix", "cookie",
                              "cookie_secret_env", "cookie_secret_file", "refresh_before_expiry", "refresh_retry_interval",
                              "expires_in_fallback", "login_timeout", "store",
                              "max_sessions", "post_logout_redirect_uri", "logout_path",
                              "refresh_lock_lease", "refresh_lock_wait", "max_pending_logins",
                              "login_rate_limit", "websocket_check_interval"}))
    return;
  Sessions s;
  if (auto c = n["client"]; !c) {
    r.error(n, path + ".client", "is required");
  } else if (r.expect_map(c, path + ".client", {"issuer", "client_id", "client_secret_env",
                                                "client_secret_file", "auth_method", "scopes",
                                                "resource", "audience", "default_path"})) {
    const std::string cp = path + ".client";
    for (auto key : {"issuer", "client_id"})
      if (!c[key]) r.error(c, cp + "." + key, "is required");
    r.string(c, "issuer", cp, s.client.issuer);
    if (!s.client.issuer.empty() &&
        std::none_of(issuers.begin(), issuers.end(), [&](const Issuer& i) { return i.name == s.client.issuer; }))
      r.error(c["issuer"], cp + ".issuer", "unknown issuer \"" + s.client.issuer + "\"");
    r.string(c, "client_id", cp, s.client.client_id);
    read_secret(r, c, cp, "client_secret_env", "client_secret_file", s.client.client_secret);
    r.string(c, "auth_method", cp, s.client.auth_method);
    if (s.client.auth_method != "client_secret_basic" && s.client.auth_method != "client_secret_post")
      r.error(c["auth_method"], cp + ".auth_method",
              "must be client_secret_basic or client_secret_post, not \"" + s.client.auth_method + "\"");
    if (c["scopes"]) s.client.scopes.clear();
    r.string_list(c, "scopes", cp, s.client.scopes);
    r.string(c, "resource", cp, s.client.resource);
    r.string(c, "audience", cp, s.client.audience);
    r.string(c, "default_path", cp, s.client.default_path);
    if (!is_local_path(s.client.default_path))
      r.error(c["default_path"], cp + ".default_path", "must be a path on this origin, starting with one \"/\"");
  }
  if (!n["public_url"]) r.error(n, path + ".public_url", "is required (the origin browsers use, e.g. https://app.example.com)");
  r.string(n, "public_url", path, s.public_url);
  if (!s.public_url.empty()) {
    auto u = common::parse_http_url(s.public_url);
    if (!u || u->target != "/" || s.public_url.back() == '/')
      r.error(n["public_url"], path + ".public_url", "must be an origin: http(s)://host[:port] without a path");
  }
  r.string_list(n, "csrf_origins", path, s.csrf_origins);
  r.string(n, "prefix", path, s.prefix);
  if (!is_local_path(s.prefix) || s.prefix.back() != '/')
    r.error(n["prefix"], path + ".prefix", "must be a path starting and ending with \"/\"");
  if (auto c = n["cookie"]; c && r.expect_map(c, path + ".cookie", {"name", "secure", "same_site",
                                                                       "idle_timeout", "absolute_timeout"})) {
    const std::string cp = path + ".cookie";
    r.string(c, "name", cp, s.cookie.name);
    r.boolean(c, "secure", cp, s.cookie.secure);
    r.string(c, "same_site", cp, s.cookie.same_site);
    if (s.cookie.same_site != "Lax" && s.cookie.same_site != "Strict")
      r.error(c["same_site"], cp + ".same_site", "must be Lax or Strict (None would send the cookie cross-site)");
    const auto session_times = whole_seconds("session times and the cookie's Max-Age are whole seconds");
    r.duration(c, "idle_timeout", cp, s.cookie.idle_timeout, session_times);
    r.duration(c, "absolute_timeout", cp, s.cookie.absolute_timeout, session_times);
  }
  if (s.cookie.name.empty()) s.cookie.name = s.cookie.secure ? "__Host-authgate" : "authgate";
  if (s.cookie.name.starts_with("__Host-") && !s.cookie.secure)
    r.error(n["cookie"] ? n["cookie"] : n, path + ".cookie.name", "a __Host- cookie must be secure");
  if (read_secret(r, n, path, "cookie_secret_env", "cookie_secret_file", s.cookie_secret) &&
      s.cookie_secret.size() < 32)
    r.error(n, path, "the cookie secret must be at least 32 bytes");
  r.duration(n, "refresh_before_expiry", path, s.refresh_before_expiry,
             whole_seconds("access token lifetimes (expires_in, exp) are whole seconds"));
  r.duration(n, "refresh_retry_interval", path, s.refresh_retry_interval);
  r.duration(n, "expires_in_fallback", path, s.expires_in_fallback,
             whole_seconds("it stands in for expires_in, a whole number of seconds"));
  r.duration(n, "login_timeout", path, s.login_timeout,
             whole_seconds("the login cookie's Max-Age and the pending login's times are whole seconds"));
  r.duration(n, "refresh_lock_lease", path, s.refresh_lock_lease,
             Resolution{Duration(1), Duration(30), "the lease is renewed every third of its length, at most every 10ms"});
  r.duration(n, "refresh_lock_wait", path, s.refresh_lock_wait);
  r.string(n, "store", path, s.store);
  if (s.store != "memory" && s.store != "redis")
    r.error(n["store"], path + ".store", "must be memory or redis, not \"" + s.store + "\"");
  // redis store: a waiter must outlast a dead holder's lease, or nobody takes the refresh over.
  if (s.store == "redis" && s.refresh_lock_wait.count() > 0 && s.refresh_lock_wait <= s.refresh_lock_lease)
    r.error(n["refresh_lock_wait"] ? n["refresh_lock_wait"] : n, path + ".refresh_lock_wait",
            "must be longer than refresh_lock_lease, so that waiting instances can take over a dead holder's lease");
  r.size(n, "max_sessions", path, s.max_sessions, 1);
  r.size(n, "max_pending_logins", path, s.max_pending_logins, 1);
  r.duration(n, "websocket_check_interval", path, s.websocket_check_interval);
  if (auto l = n["login_rate_limit"];
      l && r.expect_map(l, path + ".login_rate_limit", {"per_minute", "burst", "max_clients"})) {
    const std::string lp = path + ".login_rate_limit";
    r.size(l, "per_minute", lp, s.login_rate_limit.per_minute);
    r.size(l, "burst", lp, s.login_rate_limit.burst, 1);
    r.size(l, "max_clients", lp, s.login_rate_limit.max_clients, 1);
  }
  r.string(n, "post_logout_redirect_uri", path, s.post_logout_redirect_uri);
  r.string(n, "logout_path", path, s.logout_path);
  if (!is_local_path(s.logout_path))
    r.error(n["logout_path"], path + ".logout_path", "must be a path on this origin, starting with one \"/\"");
  out = std::move(s);
}

void read_redis(Reader& r, const YAML::Node& n, std::optional<RedisConfig>& out) {
  const std::string path = "redis";
  if (!r.expect_map(n, path, {"address", "username", "password_env", "password_file", "db", "key_prefix",
                              "connections", "connect_timeout", "command_timeout", "reconnect_min",
                              "reconnect_max", "health_check_interval", "down_after", "max_reply_bytes",
                              "tls"}))
    return;
  RedisConfig c;
  std::string address;
  r.string(n, "address", path, address);
  if (address.starts_with("unix:")) {
    c.unix_socket = address.substr(5);
    if (c.unix_socket.empty() || c.unix_socket[0] != '/')
      r.error(n["address"], path + ".address", "a unix socket address is unix:/absolute/path");
  } else if (!address.empty()) {
    Endpoint ep;
    if (!Reader::parse_endpoint(address, ep) || ep.port == 0)
      r.error(n["address"], path + ".address", "must be host:port or unix:/path, not \"" + address + "\"");
    c.host = ep.host;
    c.port = ep.port;
  }
  r.string(n, "username", path, c.username);
  if (n["password_env"] || n["password_file"]) read_secret(r, n, path, "password_env", "password_file", c.password);
  if (!c.username.empty() && c.password.empty())
    r.error(n["username"], path + ".username", "needs password_env or password_file");
  r.size(n, "db", path, c.db);
  if (c.db > 15) r.error(n["db"], path + ".db", "must be a database number from 0 to 15");
  r.string(n, "key_prefix", path, c.key_prefix);
  r.size(n, "connections", path, c.connections, 1);
  if (c.connections > 64) r.error(n["connections"], path + ".connections", "must be at most 64");
  for (auto [key, field] : {std::pair{"connect_timeout", &c.connect_timeout},
                            std::pair{"command_timeout", &c.command_timeout},
                            std::pair{"reconnect_min", &c.reconnect_min},
                            std::pair{"reconnect_max", &c.reconnect_max},
                            std::pair{"health_check_interval", &c.health_check_interval},
                            std::pair{"down_after", &c.down_after}})
    r.duration(n, key, path, *field);
  if (c.reconnect_max < c.reconnect_min)
    r.error(n["reconnect_max"] ? n["reconnect_max"] : n, path + ".reconnect_max", "must not be less than reconnect_min");
  r.size(n, "max_reply_bytes", path, c.max_reply_bytes, 1024);
  if (auto tls = n["tls"]; tls && r.expect_map(tls, path + ".tls", {"ca_file", "server_name", "verify"})) {
    RedisTls t;
    r.string(tls, "ca_file", path + ".tls", t.ca_file);
    r.string(tls, "server_name", path + ".tls", t.server_name);
    r.boolean(tls, "verify", path + ".tls", t.verify);
    if (!c.unix_socket.empty()) r.error(tls, path + ".tls", "TLS needs a host:port address, not a unix socket");
    c.tls = t;
  }
  out = std::move(c);
}

void read_revocation(Reader& r, const YAML::Node& n, std::optional<Revocation>& out) {
  const std::string path = "revocation";
  if (!r.expect_map(n, path, {"store", "sync_interval", "sub_ttl", "max_entries", "admin_token_env",
                              "admin_token_file"}))
    return;
  Revocation v;
  r.string(n, "store", path, v.store);
  if (v.store != "memory" && v.store != "redis")
    r.error(n["store"], path + ".store", "must be memory or redis, not \"" + v.store + "\"");
  r.duration(n, "sync_interval", path, v.sync_interval);
  r.duration(n, "sub_ttl", path, v.sub_ttl, whole_seconds("deny-list times and iat are whole seconds"));
  r.size(n, "max_entries", path, v.max_entries, 1);
  if (n["admin_token_env"] || n["admin_token_file"]) {
    if (read_secret(r, n, path, "admin_token_env", "admin_token_file", v.admin_token) && v.admin_token.size() < 16)
      r.error(n, path, "the admin token must be at least 16 bytes");
  }
  out = std::move(v);
}

void read_dpop(Reader& r, const YAML::Node& n, Dpop& out) {
  const std::string path = "dpop";
  if (!r.expect_map(n, path, {"algs", "iat_window", "public_url", "replay_cache_entries", "replay_store",
                              "replay_fail_open", "key_cache_entries", "nonce"}))
    return;
  read_dpop_algs(r, n, path, out.algs);
  r.duration(n, "iat_window", path, out.iat_window, whole_seconds("iat is in whole seconds"));
  r.string(n, "public_url", path, out.public_url);
  if (!out.public_url.empty()) {
    auto u = common::parse_http_url(out.public_url);
    if (!u || u->target != "/" || out.public_url.back() == '/')
      r.error(n["public_url"], path + ".public_url", "must be an origin: http(s)://host[:port] without a path");
  }
  r.size(n, "replay_cache_entries", path, out.replay_cache_entries, 1);
  r.string(n, "replay_store", path, out.replay_store);
  if (out.replay_store != "memory" && out.replay_store != "redis")
    r.error(n["replay_store"], path + ".replay_store", "must be memory or redis, not \"" + out.replay_store + "\"");
  r.boolean(n, "replay_fail_open", path, out.replay_fail_open);
  r.size(n, "key_cache_entries", path, out.key_cache_entries);
  if (auto nn = n["nonce"]; nn && r.expect_map(nn, path + ".nonce", {"enabled", "rotate_interval", "secret_env", "secret_file"})) {
    const std::string np = path + ".nonce";
    r.boolean(nn, "enabled", np, out.nonce.enabled);
    r.duration(nn, "rotate_interval", np, out.nonce.rotate_interval,
               whole_seconds("a nonce names a slot of whole seconds"));
    // Every instance of a fleet must mint the same nonces: the secret is configured, never random.
    if (nn["secret_env"] || nn["secret_file"]) {
      if (read_secret(r, nn, np, "secret_env", "secret_file", out.nonce.secret) && out.nonce.secret.size() < 32)
        r.error(nn, np, "the nonce secret must be at least 32 bytes");
    } else if (out.nonce.enabled) {
      r.error(nn, np, "enabled needs secret_env or secret_file: the key nonces are minted with, the same on "
                      "every instance (at least 32 bytes)");
    }
  }
}

void read_requirement(Reader& r, const YAML::Node& n, const std::string& path, Requirement& out) {
  if (!r.expect_map(n, path, {"scopes_all", "scopes_any", "claims", "acr", "max_auth_age"})) return;
  r.string_list(n, "scopes_all", path, out.scopes_all);
  r.string_list(n, "scopes_any", path, out.scopes_any);
  // acr values go into a space-separated acr_values parameter (RFC 9470 §3): no spaces, no quotes.
  r.string_list(n, "acr", path, out.acr);
  for (std::size_t i = 0; i < out.acr.size(); ++i)
    if (!std::all_of(out.acr[i].begin(), out.acr[i].end(), [](unsigned char ch) { return ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\'; }))
      r.error(n["acr"][i], path + ".acr[" + std::to_string(i) + "]", "must be printable ASCII without spaces or quotes");
  if (n["max_auth_age"]) {
    Duration age{};
    r.duration(n, "max_auth_age", path, age, whole_seconds("auth_time is whole seconds"));
    if (age.count() > 0) out.max_auth_age = age;
  }
  if (auto c = n["claims"]) {
    if (!c.IsMap()) {
      r.error(c, path + ".claims", "must be a mapping of claim name to a value or a list of values");
      return;
    }
    for (auto it = c.begin(); it != c.end(); ++it) {
      ClaimRule rule;
      rule.name = it->first.Scalar();
      const auto cpath = path + ".claims." + rule.name;
      if (it->second.IsScalar()) {
        rule.values.push_back(it->second.Scalar());
      } else if (it->second.IsSequence() && it->second.size() > 0) {
        for (std::size_t i = 0; i < it->second.size(); ++i) {
          std::string v;
          if (r.scalar(it->second[i], cpath + "[" + std::to_string(i) + "]", v)) rule.values.push_back(v);
        }
      } else {
        r.error(it->second, cpath, "must be a value or a non-empty list of values");
        continue;
      }
      out.claims.push_back(std::move(rule));
    }
  }
}

// headers: the rewrite/method-override names stripped on every route, and the
// X-Forwarded-* names a trusted proxy may pass besides the chain.
void read_headers(Reader& r, const YAML::Node& n, HeadersConfig& out) {
  if (!r.expect_map(n, "headers", {"strip_rewrite_headers", "trusted_forwarded_headers"})) return;
  r.string_list(n, "strip_rewrite_headers", "headers", out.strip_rewrite_headers);
  r.string_list(n, "trusted_forwarded_headers", "headers", out.trusted_forwarded_headers);
  // Items are checked by position; string_list skipped the empty ones, which are errors already.
  auto each = [&](const char* key, auto&& check) {
    const auto list = n[key];
    if (!list || !list.IsSequence()) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].IsScalar() || list[i].Scalar().empty()) continue;
      const std::string name = list[i].Scalar();
      const std::string path = std::string("headers.") + key + "[" + std::to_string(i) + "]";
      if (!std::all_of(name.begin(), name.end(), is_token_char)) r.error(list[i], path, "not a header name");
      else if (const char* why = check(name)) r.error(list[i], path, why);
    }
  };
  each("strip_rewrite_headers", [](const std::string& name) -> const char* {
    for (const char* framing : {"Host", "Content-Length", "Transfer-Encoding"})
      if (common::header_name_equals(name, framing))
        return "Host and the framing headers cannot be stripped (the upstream needs them)";
    return nullptr;
  });
  each("trusted_forwarded_headers", [](const std::string& name) -> const char* {
    if (name.find('_') != std::string::npos)
      return "spellings with \"_\" are always removed (write the name with \"-\")";
    if (!common::iequals(name, "Forwarded") && !common::header_name_starts_with(name, "X-Forwarded-"))
      return "must be an X-Forwarded-* name or Forwarded (other headers pass through unchanged)";
    return nullptr;
  });
}

void read_forward(Reader& r, const YAML::Node& n, const std::string& path, Forward& out) {
  if (!r.expect_map(n, path, {"headers", "authorization", "dpop_proof"})) return;
  r.boolean(n, "authorization", path, out.authorization);
  r.boolean(n, "dpop_proof", path, out.dpop_proof);
  if (auto h = n["headers"]) {
    if (!h.IsMap()) {
      r.error(h, path + ".headers", "must be a mapping of header name to claim name");
      return;
    }
    for (auto it = h.begin(); it != h.end(); ++it) {
      const auto name = it->first.Scalar();
      const auto hpath = path + ".headers." + name;
      std::string claim;
      if (!r.scalar(it->second, hpath, claim)) continue;
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
        r.error(it->first, hpath, "not a header name");
      else if (claim.empty())
        r.error(it->second, hpath, "must name a claim");
      else
        out.headers.emplace_back(name, claim);
    }
  }
}

void read_route_match(Reader& r, const YAML::Node& m, const std::string& path, RouteMatch& out) {
  if (!r.expect_map(m, path, {"host", "path", "methods"})) return;
  r.string(m, "host", path, out.host);
  if (!out.host.empty()) {
    std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto star = out.host.find('*');
    if (star != std::string::npos && (star != 0 || out.host.size() < 3 || out.host[1] != '.' ||
                                      out.host.find('*', 1) != std::string::npos))
      r.error(m["host"], path + ".host", "a wildcard must be written \"*.suffix\"");
    else if (out.host.front() != '[' && out.host.find(':') != std::string::npos)
      r.error(m["host"], path + ".host", "must not carry a port (the request's port is ignored)");
  }
  if (auto p = m["path"]) {
    std::string ppath = path + ".path";
    if (r.expect_map(p, ppath, {"exact", "prefix", "regex"})) {
      if (p.size() != 1) {
        r.error(p, ppath, "needs exactly one of exact, prefix or regex");
      } else {
        auto it = p.begin();
        const auto kind = it->first.Scalar();
        if (kind != "exact" && kind != "prefix" && kind != "regex") return;  // reported above
        std::string kpath = ppath + "." + kind;
        out.path_kind = kind == "exact" ? PathMatch::exact
                        : kind == "prefix" ? PathMatch::prefix
                                           : PathMatch::regex;
        if (r.scalar(it->second, kpath, out.path)) {
          if (out.path_kind == PathMatch::regex) {
            try {
              std::regex re(out.path, std::regex::ECMAScript);
            } catch (const std::regex_error& e) {
              r.error(it->second, kpath, std::string("invalid regex: ") + e.what());
            }
          } else if (out.path.empty() || out.path.front() != '/') {
            r.error(it->second, kpath, "must start with \"/\"");
          } else if (out.path.find("//") != std::string::npos ||
                     out.path.find_first_of("%?#\\ ") != std::string::npos ||
                     std::any_of(out.path.begin(), out.path.end(),
                                 [](unsigned char c) { return c < 0x20 || c == 0x7F; }) ||
                     out.path.find("/./") != std::string::npos ||
                     out.path.find("/../") != std::string::npos || out.path.ends_with("/..") ||
                     out.path.ends_with("/.")) {
            r.error(it->second, kpath,
                    "must be written in canonical form (no //, dot-segments, %-escapes, ?, #, \\, spaces "
                    "or control bytes)");
          }
        }
      }
    }
  }
  if (auto ms = m["methods"]) {
    if (!ms.IsSequence()) {
      r.error(ms, path + ".methods", "must be a list");
    } else {
      for (std::size_t i = 0; i < ms.size(); ++i) {
        std::string mpath = path + ".methods[" + std::to_string(i) + "]";
        std::string s;
        if (!r.scalar(ms[i], mpath, s)) continue;
        if (s.empty() || !std::all_of(s.begin(), s.end(), is_token_char))
          r.error(ms[i], mpath, "not an HTTP method: \"" + s + "\"");
        else if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::islower(c); }))
          r.error(ms[i], mpath, "methods are case-sensitive and upper-case: \"" + s + "\" never matches");
        else
          out.methods.push_back(s);
      }
    }
  }
}

void read_routes(Reader& r, const YAML::Node& n, const std::vector<Upstream>& upstreams,
                 const std::vector<Issuer>& issuers, std::vector<Route>& out) {
  if (!n.IsSequence()) {
    r.error(n, "routes", "must be a list");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto& rn = n[i];
    std::string path = "routes[" + std::to_string(i) + "]";
    if (!r.expect_map(rn, path, {"name", "match", "upstream", "auth", "issuers", "require", "forward", "dpop",
                                 "dpop_nonce"}))
      continue;
    Route route;
    if (!rn["name"]) r.error(rn, path + ".name", "is required");
    r.string(rn, "name", path, route.name);
    if (!route.name.empty() && !names.insert(route.name).second)
      r.error(rn["name"], path + ".name", "duplicate route name \"" + route.name + "\"");
    if (auto m = rn["match"]) read_route_match(r, m, path + ".match", route.match);
    if (!rn["upstream"]) {
      r.error(rn, path + ".upstream", "is required");
    } else {
      r.string(rn, "upstream", path, route.upstream);
      bool known = std::any_of(upstreams.begin(), upstreams.end(),
                               [&](const Upstream& u) { return u.name == route.upstream; });
      if (!known) r.error(rn["upstream"], path + ".upstream", "unknown upstream \"" + route.upstream + "\"");
    }
    if (auto a = rn["auth"]) {
      std::string s;
      if (r.scalar(a, path + ".auth", s)) {
        if (s == "none") route.auth = AuthMode::none;
        else if (s == "bearer") route.auth = AuthMode::bearer;
        else if (s == "session") route.auth = AuthMode::session;
        else if (s == "any") route.auth = AuthMode::any;
        else r.error(a, path + ".auth", "unknown auth mode \"" + s + "\" (none, bearer, session, any)");
      }
    }
    r.string_list(rn, "issuers", path, route.issuers);
    for (std::size_t k = 0; k < route.issuers.size(); ++k) {
      const auto& name = route.issuers[k];
      if (std::none_of(issuers.begin(), issuers.end(), [&](const Issuer& i) { return i.name == name; }))
        r.error(rn["issuers"][k], path + ".issuers[" + std::to_string(k) + "]", "unknown issuer \"" + name + "\"");
    }
    // Two issuers entries may share one issuer URL (the same IdP, told apart by
    // audience or policy per route), but a route must not accept both: the token
    // names only the URL, so which entry checks it would depend on list order.
    if (route.auth != AuthMode::none) {
      const bool listed = !route.issuers.empty();
      std::vector<std::pair<const Issuer*, std::size_t>> accepted;  // issuer, index in the route's list
      if (listed) {
        for (std::size_t k = 0; k < route.issuers.size(); ++k)
          for (const auto& is : issuers)
            if (is.name == route.issuers[k]) accepted.emplace_back(&is, k);
      } else {
        for (const auto& is : issuers) accepted.emplace_back(&is, 0);
      }
      for (std::size_t b = 0; b < accepted.size(); ++b) {
        const Issuer& second = *accepted[b].first;
        const auto first = std::find_if(accepted.begin(), accepted.begin() + static_cast<std::ptrdiff_t>(b),
                                        [&](const auto& a) { return a.first->issuer == second.issuer; });
        if (second.issuer.empty() || first == accepted.begin() + static_cast<std::ptrdiff_t>(b)) continue;
        if (first->first == &second) continue;  // the same name listed twice
        const std::string both = "issuers \"" + first->first->name + "\" and \"" + second.name +
                                 "\" have the same issuer URL \"" + second.issuer + "\"";
        if (listed)
          r.error(rn["issuers"][accepted[b].second], path + ".issuers[" + std::to_string(accepted[b].second) + "]",
                  both + ": a route accepts at most one issuers entry per issuer URL (tell audiences apart "
                         "with require.claims, or use one route per entry)");
        else
          r.error(rn["auth"], path + ".auth",
                  "accepts every issuer, and " + both +
                      ": list this route's issuers (at most one entry per issuer URL)");
      }
    }
    if (auto q = rn["require"]) read_requirement(r, q, path + ".require", route.require);
    if (auto f = rn["forward"]) read_forward(r, f, path + ".forward", route.forward);
    if (auto d = rn["dpop"]) {
      std::string s;
      if (r.scalar(d, path + ".dpop", s)) {
        if (s == "off") route.dpop = DpopMode::off;
        else if (s == "allowed") route.dpop = DpopMode::allowed;
        else if (s == "required") route.dpop = DpopMode::required;
        else r.error(d, path + ".dpop", "unknown DPoP mode \"" + s + "\" (off, allowed, required)");
      }
      if (route.dpop != DpopMode::off && route.auth != AuthMode::bearer && route.auth != AuthMode::any)
        r.error(d, path + ".dpop", "only applies to auth: bearer or any");
    }
    if (rn["dpop_nonce"]) {
      r.boolean(rn, "dpop_nonce", path, route.dpop_nonce.emplace());
      if (route.dpop == DpopMode::off)
        r.error(rn["dpop_nonce"], path + ".dpop_nonce", "only applies with dpop: allowed or required");
    }
    if ((route.auth == AuthMode::bearer || route.auth == AuthMode::any) && issuers.empty())
      r.error(rn["auth"], path + ".auth", "auth: bearer needs at least one entry in issuers:");
    if (route.auth == AuthMode::none) {
      for (auto key : {"issuers", "require"})
        if (rn[key]) r.error(rn[key], path + "." + key, "only applies to auth: bearer, session or any");
    }
    out.push_back(std::move(route));
  }
}

// The metadata URL of a resource identifier (RFC 9728 §3.1): the well-known path goes between the
// origin and the identifier's path. "" when the identifier is not an absolute http(s) URL.
std::string metadata_url_of(const std::string& resource) {
  const auto scheme_end = resource.find("://");
  if (scheme_end == std::string::npos) return {};
  const auto path_start = resource.find('/', scheme_end + 3);
  const std::string origin = resource.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "" : resource.substr(path_start);
  return origin + "/.well-known/oauth-protected-resource" + (path == "/" ? "" : path);
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// resources: RFC 9728 protected resources over the routes (after routes: and issuers:).
void read_resources(Reader& r, const YAML::Node& n, const std::vector<Issuer>& issuers,
                    std::vector<Route>& routes, std::vector<ProtectedResource>& out) {
  if (!n.IsSequence()) {
    r.error(n, "resources", "must be a list");
    return;
  }
  std::set<std::string> metadata_urls;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto& rn = n[i];
    const std::string path = "resources[" + std::to_string(i) + "]";
    if (!r.expect_map(rn, path, {"resource", "routes", "authorization_servers", "scopes_supported",
                                 "bearer_methods_supported", "dpop_bound_access_tokens_required",
                                 "resource_name", "resource_documentation"}))
      continue;
    ProtectedResource res;
    if (!rn["resource"]) r.error(rn, path + ".resource", "is required (the resource identifier, an https URL)");
    r.string(rn, "resource", path, res.resource);
    if (rn["resource"] && !res.resource.empty()) {
      const auto url = common::parse_http_url(res.resource);
      if (!url || res.resource.find('?') != std::string::npos)
        r.error(rn["resource"], path + ".resource", "must be an absolute https URL without query or fragment");
      else if (!url->is_https() && !is_loopback_host(url->host))
        r.error(rn["resource"], path + ".resource", "must use https (http only on a loopback host)");
      else if (res.metadata_url = metadata_url_of(res.resource); !metadata_urls.insert(res.metadata_url).second)
        r.error(rn["resource"], path + ".resource", "another resource has the same identifier");
    }
    if (!rn["routes"]) r.error(rn, path + ".routes", "is required (the names of the routes this resource covers)");
    r.string_list(rn, "routes", path, res.routes);
    std::set<std::string> route_issuers, route_scopes;
    for (std::size_t k = 0; k < res.routes.size(); ++k) {
      const auto at = rn["routes"][k];
      const std::string kpath = path + ".routes[" + std::to_string(k) + "]";
      const auto route = std::find_if(routes.begin(), routes.end(), [&](const Route& x) { return x.name == res.routes[k]; });
      if (route == routes.end()) {
        r.error(at, kpath, "unknown route \"" + res.routes[k] + "\"");
        continue;
      }
      if (route->auth == AuthMode::none || route->auth == AuthMode::session) {
        r.error(at, kpath, "route \"" + route->name + "\" takes no access token (auth: bearer or any)");
        continue;
      }
      if (!route->resource_metadata_url.empty()) {
        r.error(at, kpath, "route \"" + route->name + "\" already belongs to another resource");
        continue;
      }
      route->resource_metadata_url = res.metadata_url;
      for (const auto& is : issuers)
        if (route->issuers.empty() || std::find(route->issuers.begin(), route->issuers.end(), is.name) != route->issuers.end())
          route_issuers.insert(is.issuer);
      route_scopes.insert(route->require.scopes_all.begin(), route->require.scopes_all.end());
      route_scopes.insert(route->require.scopes_any.begin(), route->require.scopes_any.end());
    }
    // An empty or omitted list takes what the routes say.
    r.string_list(rn, "authorization_servers", path, res.authorization_servers);
    if (res.authorization_servers.empty()) res.authorization_servers.assign(route_issuers.begin(), route_issuers.end());
    r.string_list(rn, "scopes_supported", path, res.scopes_supported);
    if (res.scopes_supported.empty()) res.scopes_supported.assign(route_scopes.begin(), route_scopes.end());
    r.string_list(rn, "bearer_methods_supported", path, res.bearer_methods_supported);
    for (std::size_t k = 0; k < res.bearer_methods_supported.size(); ++k) {
      const auto& m = res.bearer_methods_supported[k];
      if (m != "header" && m != "body" && m != "query")
        r.error(rn["bearer_methods_supported"][k], path + ".bearer_methods_supported[" + std::to_string(k) + "]",
                "must be header, body or query (RFC 6750 §2)");
    }
    r.boolean(rn, "dpop_bound_access_tokens_required", path, res.dpop_bound_access_tokens_required);
    r.string(rn, "resource_name", path, res.resource_name);
    r.string(rn, "resource_documentation", path, res.resource_documentation);
    if (!res.resource_documentation.empty() && !common::parse_http_url(res.resource_documentation))
      r.error(rn["resource_documentation"], path + ".resource_documentation", "must be an absolute http(s) URL");
    out.push_back(std::move(res));
  }
}

}  // namespace

GatewayConfig load_string(std::string_view yaml, const std::string& source_name) {
  std::vector<std::string> notes;
  return load_string(yaml, source_name, LoadOptions{}, notes);
}

GatewayConfig load_string(std::string_view yaml, const std::string& source_name, const LoadOptions& options,
                          std::vector<std::string>& notes) {
  Reader r(source_name, options.skip_secrets);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    std::ostringstream os;
    os << source_name << ':' << e.mark.line + 1 << ':' << e.mark.column + 1
       << ": (document): YAML syntax error: " << e.msg;
    throw ConfigError({os.str()});
  }
  GatewayConfig cfg;
  cfg.source_file = source_name;
  try {
    if (!root.IsMap()) {
      r.error(root, "(document)", "the top level must be a mapping");
      throw ConfigError(std::move(r.errors()));
    }
    r.expect_map(root, "",
                 {"listen", "admin", "workers", "limits", "timeouts", "http2", "issuers", "upstreams", "routes", "routing",
                  "resources", "identity", "headers", "sessions", "redis", "revocation", "dpop", "log"});
    if (auto n = root["listen"]) read_listen(r, n, cfg.listen);
    if (auto n = root["admin"]; n && r.expect_map(n, "admin", {"address"}))
      r.endpoint(n, "address", "admin", cfg.admin.address);
    if (auto n = root["workers"]) {
      std::uint64_t w = 0;
      std::string s;
      if (r.scalar(n, "workers", s) && (!parse_size(s, w) || s.find_first_not_of("0123456789") != std::string::npos || w > 256))
        r.error(n, "workers", "must be a whole number from 0 (one per core) to 256");
      else
        cfg.workers = static_cast<unsigned>(w);
    }
    if (auto n = root["limits"];
        n && r.expect_map(n, "limits", {"max_header_bytes", "max_body_bytes", "max_connections",
                                        "max_requests_per_connection",
                                        "max_response_header_bytes", "max_token_bytes",
                                        "max_linger_bytes", "min_body_rate", "max_idp_response_bytes",
                                        "token_cache_entries", "introspection_cache_entries"})) {
      r.size(n, "max_header_bytes", "limits", cfg.limits.max_header_bytes, 1024);
      r.size(n, "max_body_bytes", "limits", cfg.limits.max_body_bytes);
      r.size(n, "max_connections", "limits", cfg.limits.max_connections, 1);
      r.size(n, "max_requests_per_connection", "limits", cfg.limits.max_requests_per_connection, 1);
      r.size(n, "max_response_header_bytes", "limits", cfg.limits.max_response_header_bytes, 1024);
      r.size(n, "max_token_bytes", "limits", cfg.limits.max_token_bytes, 256);
      r.size(n, "max_linger_bytes", "limits", cfg.limits.max_linger_bytes);
      r.size(n, "min_body_rate", "limits", cfg.limits.min_body_rate);
      r.size(n, "max_idp_response_bytes", "limits", cfg.limits.max_idp_response_bytes, 1024);
      r.size(n, "token_cache_entries", "limits", cfg.limits.token_cache_entries);
      r.size(n, "introspection_cache_entries", "limits", cfg.limits.introspection_cache_entries);
    }
    if (auto n = root["timeouts"];
        n && r.expect_map(n, "timeouts", {"header_read", "keepalive_idle", "body_read",
                                          "upstream_connect", "upstream_response", "upstream_idle",
                                          "drain", "tls_handshake", "websocket_idle", "websocket_max_lifetime",
                                          "linger", "drain_force_close", "retry_after",
                                          "idp_request"})) {
      auto& t = cfg.timeouts;
      r.duration(n, "header_read", "timeouts", t.header_read);
      r.duration(n, "keepalive_idle", "timeouts", t.keepalive_idle);
      r.duration(n, "body_read", "timeouts", t.body_read);
      r.duration(n, "upstream_connect", "timeouts", t.upstream_connect);
      r.duration(n, "upstream_response", "timeouts", t.upstream_response);
      r.duration(n, "upstream_idle", "timeouts", t.upstream_idle);
      r.duration(n, "drain", "timeouts", t.drain);
      r.duration(n, "tls_handshake", "timeouts", t.tls_handshake);
      r.duration(n, "websocket_idle", "timeouts", t.websocket_idle);
      r.duration(n, "websocket_max_lifetime", "timeouts", t.websocket_max_lifetime);
      r.duration(n, "linger", "timeouts", t.linger);
      r.duration(n, "drain_force_close", "timeouts", t.drain_force_close);
      r.duration(n, "retry_after", "timeouts", t.retry_after, whole_seconds("Retry-After is sent in whole seconds"));
      r.duration(n, "idp_request", "timeouts", t.idp_request);
    }
    if (auto n = root["http2"];
        n && r.expect_map(n, "http2", {"max_concurrent_streams", "max_header_list_bytes", "connection_window_bytes",
                                       "stream_window_bytes", "max_resets_per_connection",
                                       "max_control_frames_per_second", "max_continuations", "idle_timeout"})) {
      auto& h = cfg.http2;
      r.size(n, "max_concurrent_streams", "http2", h.max_concurrent_streams, 1);
      r.size(n, "max_header_list_bytes", "http2", h.max_header_list_bytes, 1024);
      r.size(n, "connection_window_bytes", "http2", h.connection_window_bytes, 65535);
      r.size(n, "stream_window_bytes", "http2", h.stream_window_bytes, 16384);
      r.size(n, "max_resets_per_connection", "http2", h.max_resets_per_connection, 1);
      r.size(n, "max_control_frames_per_second", "http2", h.max_control_frames_per_second, 10);
      r.size(n, "max_continuations", "http2", h.max_continuations, 1);
      r.duration(n, "idle_timeout", "http2", h.idle_timeout);
      constexpr std::uint64_t kMaxWindow = 0x7fffffff;  // RFC 9113 6.9.1
      if (h.connection_window_bytes > kMaxWindow) r.error(n["connection_window_bytes"], "http2.connection_window_bytes", "must be at most 2147483647");
      if (h.stream_window_bytes > kMaxWindow) r.error(n["stream_window_bytes"], "http2.stream_window_bytes", "must be at most 2147483647");
      if (h.max_concurrent_streams > 0xffffffffu) r.error(n["max_concurrent_streams"], "http2.max_concurrent_streams", "must be at most 4294967295");
    }
    if (auto n = root["upstreams"]) read_upstreams(r, n, cfg.upstreams);
    if (auto n = root["issuers"]) read_issuers(r, n, cfg.issuers);
    if (auto n = root["sessions"]) read_sessions(r, n, cfg.issuers, cfg.sessions);
    if (cfg.sessions)
      for (auto& is : cfg.issuers)
        if (is.name == cfg.sessions->client.issuer) {
          is.used_for_login = true;
          if (!is.discovery || !common::parse_http_url(is.issuer))
            r.error(root["sessions"]["client"]["issuer"], "sessions.client.issuer",
                    "the login issuer needs discovery (an http(s) issuer URL and discovery: true)");
        }
    if (auto n = root["redis"]) read_redis(r, n, cfg.redis);
    if (auto n = root["revocation"]) read_revocation(r, n, cfg.revocation);
    if (cfg.sessions && cfg.sessions->store == "redis" && !cfg.redis)
      r.error(root["sessions"]["store"], "sessions.store", "redis needs a top-level redis: block");
    if (cfg.revocation && cfg.revocation->store == "redis" && !cfg.redis)
      r.error(root["revocation"]["store"], "revocation.store", "redis needs a top-level redis: block");
    if (auto n = root["dpop"]) read_dpop(r, n, cfg.dpop);
    if (cfg.dpop.replay_store == "redis" && !cfg.redis)
      r.error(root["dpop"]["replay_store"], "dpop.replay_store", "redis needs a top-level redis: block");
    if (auto n = root["routes"]) {
      read_routes(r, n, cfg.upstreams, cfg.issuers, cfg.routes);
      for (std::size_t i = 0; i < cfg.routes.size() && i < n.size(); ++i) {
        const auto mode = cfg.routes[i].auth;
        if ((mode == AuthMode::session || mode == AuthMode::any) && !cfg.sessions)
          r.error(n[i]["auth"], "routes[" + std::to_string(i) + "].auth",
                  "auth: session and any need a sessions: block");
        const auto dpop = root["dpop"];
        const auto nonce = dpop && dpop.IsMap() ? dpop["nonce"] : YAML::Node();
        if (cfg.routes[i].dpop_nonce.value_or(false) && !cfg.dpop.nonce.enabled &&
            !(nonce && nonce.IsMap() && (nonce["secret_env"] || nonce["secret_file"])))
          r.error(n[i]["dpop_nonce"], "routes[" + std::to_string(i) + "].dpop_nonce",
                  "needs dpop.nonce.secret_env or secret_file (the key nonces are minted with)");
      }
    }
    if (auto n = root["resources"]) read_resources(r, n, cfg.issuers, cfg.routes, cfg.resources);
    // What a resource's routes say about DPoP: the proof algorithms (those of the issuers its DPoP
    // routes accept: issuers[].dpop.algs, else dpop.algs), and (unless set) whether only
    // DPoP-bound tokens are taken.
    for (std::size_t i = 0; i < cfg.resources.size(); ++i) {
      auto& res = cfg.resources[i];
      bool all_required = !res.routes.empty();
      auto& algs = res.dpop_signing_alg_values_supported;
      for (const auto& name : res.routes)
        for (const auto& route : cfg.routes)
          if (route.name == name) {
            all_required = all_required && route.dpop == DpopMode::required;
            if (route.dpop == DpopMode::off) continue;
            for (const auto& is : cfg.issuers)
              if (route.issuers.empty() || std::find(route.issuers.begin(), route.issuers.end(), is.name) != route.issuers.end())
                for (const auto& alg : is.dpop.algs.value_or(cfg.dpop.algs))
                  if (std::find(algs.begin(), algs.end(), alg) == algs.end()) algs.push_back(alg);
          }
      if (!root["resources"][i]["dpop_bound_access_tokens_required"]) res.dpop_bound_access_tokens_required = all_required;
    }
    if (auto n = root["routing"]; n && r.expect_map(n, "routing", {"case_insensitive_paths"}))
      r.boolean(n, "case_insensitive_paths", "routing", cfg.routing.case_insensitive_paths);
    if (auto n = root["identity"]; n && r.expect_map(n, "identity", {"strip_prefixes", "strip_headers"})) {
      if (n["strip_prefixes"]) cfg.identity.strip_prefixes.clear();
      if (n["strip_headers"]) cfg.identity.strip_headers.clear();
      r.string_list(n, "strip_prefixes", "identity", cfg.identity.strip_prefixes);
      r.string_list(n, "strip_headers", "identity", cfg.identity.strip_headers);
    }
    // The client certificate a trusted proxy passes is an identity too: read from trusted proxies
    // only, and never passed on (a client's own copy must not reach an upstream that trusts it).
    if (!cfg.listen.client_cert_header.empty()) cfg.identity.strip_headers.push_back(cfg.listen.client_cert_header);
    if (auto n = root["headers"]) read_headers(r, n, cfg.headers);
    if (auto n = root["log"]; n && r.expect_map(n, "log", {"level", "access"})) {
      r.string(n, "level", "log", cfg.log.level);
      static const std::set<std::string> levels{"trace", "debug",    "info", "warn",
                                                "error", "critical", "off"};
      if (!levels.count(cfg.log.level))
        r.error(n["level"], "log.level", "unknown level \"" + cfg.log.level + "\"");
      r.string(n, "access", "log", cfg.log.access);
      if (cfg.log.access.empty()) r.error(n["access"], "log.access", "must not be empty");
    }
  } catch (const YAML::Exception& e) {
    std::ostringstream os;
    os << source_name << ':' << e.mark.line + 1 << ':' << e.mark.column + 1
       << ": (document): " << e.msg;
    r.errors().push_back(os.str());
  }
  notes = std::move(r.notes());
  if (!r.errors().empty()) throw ConfigError(std::move(r.errors()));
  return cfg;
}

GatewayConfig load_file(const std::string& path) {
  std::vector<std::string> notes;
  return load_file(path, LoadOptions{}, notes);
}

GatewayConfig load_file(const std::string& path, const LoadOptions& options, std::vector<std::string>& notes) {
  const common::Result<std::string> text = common::read_file(path);
  if (!text) throw ConfigError({path + ":0:0: (file): cannot open"});
  return load_string(*text, path, options, notes);
}

}  // namespace authgate::config
