#include "cli/token_inspect.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "access/access_control.hpp"
#include "access/auth_reply.hpp"
#include "access/issuers.hpp"
#include "auth/auth_errc.hpp"
#include "auth/base64url.hpp"
#include "auth/jwt.hpp"
#include "auth/jwt_verifier.hpp"
#include "auth/key_set.hpp"
#include "auth/scopes.hpp"
#include "common/file.hpp"
#include "config/loader.hpp"
#include "metrics/metrics.hpp"
#include "policy/policy.hpp"
#include "routing/host.hpp"
#include "routing/path.hpp"
#include "routing/route_table.hpp"
#include "version.hpp"

namespace authgate::cli {
namespace {

void pretty(const boost::json::value& v, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) return void(out += "{}");
    out += "{\n";
    bool first = true;
    for (const auto& kv : o) {
      if (!first) out += ",\n";
      first = false;
      out += inner + boost::json::serialize(boost::json::value(kv.key())) + ": ";
      pretty(kv.value(), out, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) return void(out += "[]");
    out += "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i) out += ",\n";
      out += inner;
      pretty(a[i], out, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += boost::json::serialize(v);
  }
}

// Decodes one base64url JSON-object part; empty on success, else why not.
std::string decode_object(std::string_view part, std::string_view name, boost::json::object& obj) {
  if (part.empty()) return std::string(name) + ": empty";
  std::string bytes;
  if (!auth::base64url_decode(part, bytes)) return std::string(name) + ": not valid base64url";
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(bytes, ec);
  if (ec) return std::string(name) + ": not valid JSON (" + ec.message() + ")";
  if (!v.is_object()) return std::string(name) + ": JSON is not an object";
  obj = std::move(v.get_object());
  return {};
}

std::string_view strip_bearer(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r'))
    t.remove_suffix(1);
  if (t.size() > 7) {
    std::string head(t.substr(0, 7));
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    if (head == "bearer ") {
      t.remove_prefix(7);
      while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    }
  }
  return t;
}

const config::Issuer* find_issuer(const config::GatewayConfig& cfg, const config::Route& route,
                                  std::string_view iss) {
  for (const auto& ic : cfg.issuers) {
    const bool on_route = route.issuers.empty() ||
                          std::find(route.issuers.begin(), route.issuers.end(), ic.name) != route.issuers.end();
    if (on_route && ic.issuer == iss) return &ic;
  }
  return nullptr;
}

int print_rejected(std::ostream& out, std::error_code ec, const access::AuthReply& reply) {
  out << "rejected: " << auth::reason(ec) << " \u2014 " << ec.message() << '\n';
  out << "authgate would answer: HTTP " << reply.status;
  if (!reply.error.empty()) out << " (" << reply.error << ")";
  out << '\n';
  if (!reply.www_authenticate.empty()) out << "WWW-Authenticate: " << reply.www_authenticate << '\n';
  if (!reply.location.empty()) out << "Location: " << reply.location << '\n';
  return kExitRejected;
}
int print_rejected(std::ostream& out, std::error_code ec, const config::Route& route, std::string_view missing_scopes = {}) {
  return print_rejected(out, ec, access::auth_reply(ec, {missing_scopes, &route.require, route.resource_metadata_url}));
}

int print_accepted(std::ostream& out, std::string_view issuer, std::string_view sub) {
  out << "accepted (issuer " << issuer << ", sub " << (sub.empty() ? "-" : sub) << ")\n";
  return kExitOk;
}

// The offline signature check with --jwks, for a decision that needs the network.
int verify_with_jwks(const config::GatewayConfig& cfg, const config::Route& route, std::string_view token,
                     const std::string& jwks_path, std::int64_t now, std::ostream& out, std::ostream& err) {
  const common::Result<std::string> body = common::read_file(jwks_path);
  if (!body) {
    err << "authgate: cannot read --jwks file " << jwks_path << '\n';
    return kExitRejected;
  }
  auto keys = auth::KeySet::from_jwks_json(*body);
  if (!keys) {
    err << "authgate: --jwks " << jwks_path << ": " << keys.error().message() << '\n';
    return kExitRejected;
  }
  out << "verifying offline against --jwks " << jwks_path << '\n';
  auth::ParsedJwt jwt;
  if (auto ec = auth::parse_jwt(token, cfg.limits.max_token_bytes, jwt)) return print_rejected(out, ec, route);
  const config::Issuer* ic = jwt.iss() ? find_issuer(cfg, route, *jwt.iss()) : nullptr;
  if (!ic) {
    out << "no issuer of route " << route.name << " has iss "
        << (jwt.iss() ? "\"" + *jwt.iss() + "\"" : std::string("(absent)")) << '\n';
    return print_rejected(out, auth::auth_errc::issuer_mismatch, route);
  }
  if (ic->validation == config::Validation::introspection)
    out << "note: issuer " << ic->name
        << " validates by introspection; the JWKS check below is what a JWT check would say\n";
  if (auto ec = auth::verify(jwt, **keys, access::verify_policy(cfg, *ic), now)) return print_rejected(out, ec, route);
  const auto scopes = auth::extract_scopes(jwt.claims(), ic->scope_claim);
  std::string missing;
  if (auto ec = policy::evaluate(route.require, scopes, jwt.claims(), &missing))
    return print_rejected(out, ec, route, missing);
  if (auto ec = policy::evaluate_authentication(route.require, jwt.claims(), now)) return print_rejected(out, ec, route);
  return print_accepted(out, ic->name, jwt.sub().value_or(""));
}

}  // namespace

void token_inspect_usage(std::ostream& os) {
  os << "usage: authgate token inspect JWT [--config FILE (--route NAME | --method M --path P [--host H])\n"
        "                                  [--jwks FILE]]\n";
}

std::string format_utc(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return "(out of range)";
  char buf[64];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) return "(out of range)";
  return buf;
}

std::string format_duration(std::int64_t s) {
  if (s < 0) s = s == INT64_MIN ? INT64_MAX : -s;
  struct Unit {
    std::int64_t size;
    const char* name;
  };
  static constexpr Unit units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (std::size_t i = 0; i < 4; ++i) {
    if (s < units[i].size) continue;
    std::string r = std::to_string(s / units[i].size) + units[i].name;
    if (i + 1 < 4) {
      const std::int64_t rest = (s % units[i].size) / units[i + 1].size;
      if (rest) r += " " + std::to_string(rest) + units[i + 1].name;
    }
    return r;
  }
  return "0s";
}

std::string format_relative(std::int64_t t, std::int64_t now) {
  if (t == now) return "now";
  // Avoid overflow on absurd values.
  if (t > now) return "in " + format_duration(static_cast<std::int64_t>(static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(now)));
  return format_duration(static_cast<std::int64_t>(static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(t))) + " ago";
}

std::string format_time_claim(std::string_view name, std::int64_t t, std::int64_t now) {
  std::string rel = format_relative(t, now);
  if (name == "exp" && t <= now) rel = "expired " + rel;
  if (name == "nbf" && t > now) rel = "not valid yet, " + rel;
  return std::string(name) + ": " + std::to_string(t) + " (" + format_utc(t) + ", " + rel + ")";
}

std::string decode_token(std::string_view token, DecodedToken& out) {
  if (token.empty()) return "token: empty";
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() == 5) return "token: 5 parts: an encrypted JWE, not a signed JWT (JWS); cannot be decoded";
  if (parts.size() != 3)
    return "token: " + std::to_string(parts.size()) + " part" + (parts.size() == 1 ? "" : "s") +
           ", expected 3 (header.payload.signature)";
  boost::json::object header, payload;
  if (auto e = decode_object(parts[0], "header", header); !e.empty()) return e;
  if (auto e = decode_object(parts[1], "payload", payload); !e.empty()) return e;
  std::string sig;
  if (!auth::base64url_decode(parts[2], sig)) return "signature: not valid base64url";
  out.header_json.clear();
  out.payload_json.clear();
  pretty(header, out.header_json, 0);
  pretty(payload, out.payload_json, 0);
  out.signature_bytes = sig.size();
  return {};
}

int token_inspect(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return token_inspect(args, out, err, now);
}

int token_inspect(std::span<const std::string> args, std::ostream& out, std::ostream& err,
                  std::int64_t now) {
  std::optional<std::string> token, config_path, route_name, method, path, host, jwks_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::optional<std::string>& slot) {
      if (i + 1 >= args.size() || slot) return false;
      slot = args[++i];
      return true;
    };
    bool ok = true;
    if (a == "--config" || a == "-c") ok = value(config_path);
    else if (a == "--route") ok = value(route_name);
    else if (a == "--method") ok = value(method);
    else if (a == "--path") ok = value(path);
    else if (a == "--host") ok = value(host);
    else if (a == "--jwks") ok = value(jwks_path);
    else if (a == "--help" || a == "-h") return token_inspect_usage(out), kExitOk;
    else if (a.size() > 1 && a[0] == '-' && a[1] == '-') {
      err << "authgate token inspect: unknown option \"" << a << "\"\n";
      ok = false;
    } else if (!token) token = a;
    else {
      err << "authgate token inspect: more than one token given\n";
      ok = false;
    }
    if (!ok) return token_inspect_usage(err), kExitUsage;
  }
  const bool route_by_request = method || path || host;
  auto usage_error = [&](std::string_view why) {
    err << "authgate token inspect: " << why << '\n';
    token_inspect_usage(err);
    return kExitUsage;
  };
  if (!token) return usage_error("missing JWT");
  if (config_path && !route_name && !route_by_request) return usage_error("--config needs --route NAME or --method/--path");
  if (route_name && route_by_request) return usage_error("--route and --method/--path/--host exclude each other");
  if (route_by_request && !(method && path)) return usage_error("--method and --path go together");
  if ((route_name || route_by_request || jwks_path) && !config_path)
    return usage_error("--route, --method/--path and --jwks need --config FILE");

  const std::string_view jwt_text = strip_bearer(*token);
  DecodedToken dec;
  if (auto e = decode_token(jwt_text, dec); !e.empty()) {
    err << "malformed token: " << e << '\n';
    return kExitRejected;
  }
  out << "Header (unverified):\n" << dec.header_json << "\n";
  out << "Payload (unverified):\n" << dec.payload_json << "\n";
  out << "Signature: " << dec.signature_bytes << " bytes (not checked)\n";
  // Times, from the payload as decoded above.
  {
    boost::json::object payload = boost::json::parse(dec.payload_json).as_object();
    bool any = false;
    for (const char* name : {"exp", "nbf", "iat"}) {
      const auto* v = payload.if_contains(name);
      if (!v) continue;
      if (!any) out << "Times (now " << now << ", " << format_utc(now) << "):\n";
      any = true;
      std::int64_t t = 0;
      if (auth::numeric_date(*v, t)) out << "  " << format_time_claim(name, t, now) << '\n';
      else out << "  " << name << ": " << boost::json::serialize(*v) << " (not a NumericDate)\n";
    }
  }
  if (!config_path) return kExitOk;

  config::GatewayConfig cfg;
  try {
    cfg = config::load_file(*config_path);
  } catch (const config::ConfigError& e) {
    for (const auto& line : e.errors()) err << line << '\n';
    return kExitRejected;
  }
  const config::Route* route = nullptr;
  if (route_name) {
    for (const auto& r : cfg.routes)
      if (r.name == *route_name) route = &r;
    if (!route) {
      err << "authgate token inspect: no route named \"" << *route_name << "\" in " << *config_path << '\n';
      return kExitRejected;
    }
  } else {
    routing::CanonicalTarget canon;
    std::error_code pec;
    if (!routing::canonicalize_target(*path, canon, pec)) {
      out << "the path \"" << *path << "\" is refused before routing: " << pec.message() << " (HTTP 400)\n";
      return kExitRejected;
    }
    if (host) {
      routing::HostParts parts;
      std::error_code hec;
      if (!routing::validate_host(*host, parts, hec)) {
        out << "the host \"" << *host << "\" is refused before routing: " << hec.message() << " (HTTP 400)\n";
        return kExitRejected;
      }
    }
    routing::RouteTable table(cfg.routes, cfg.routing.case_insensitive_paths);
    const int idx = table.match(host.value_or(""), *method, canon.path);
    if (idx < 0) {
      out << "no route matches " << *method << " " << canon.path << (host ? " (host " + *host + ")" : "")
          << ": authgate would answer HTTP 404\n";
      return kExitRejected;
    }
    route = &cfg.routes[static_cast<std::size_t>(idx)];
    out << "route: " << route->name << " (" << *method << " " << canon.path << ")\n";
  }
  if (route_name) out << "route: " << route->name << '\n';
  if (route->auth == config::AuthMode::none) {
    out << "route " << route->name << " has auth: none: the token is not checked\n";
    out << "accepted (no authentication required)\n";
    return kExitOk;
  }

  try {
    // The gateway's own issuers and access decision, nothing started: offline.
    // No deny-list (it lives in a running gateway) and no session store.
    metrics::Metrics metrics(kVersion);
    boost::asio::io_context io;
    const access::Issuers issuers(cfg, metrics, io.get_executor());
    const access::AccessControl authn(cfg, issuers, nullptr, nullptr, metrics);
    http::Fields fields;
    fields.set(boost::beast::http::field::authorization, "Bearer " + std::string(jwt_text));
    const std::string target = route_by_request ? *path : route->match.path;
    access::Verdict v = authn.check(*route, {fields, method ? std::string_view(*method) : std::string_view("GET"), target, {}}, now);
    if (v.pending()) {
      out << "the decision needs the network (remote keys, introspection or a session): "
             "authgate fetches keys or asks the IdP at run time\n";
      if (!jwks_path) {
        out << "undecided: pass --jwks FILE to check the signature against a local JWKS\n";
        return kExitRejected;
      }
      return verify_with_jwks(cfg, *route, jwt_text, *jwks_path, now, out, err);
    }
    if (jwks_path) out << "note: --jwks not used, the route's keys are local\n";
    const access::Decision& d = v.decision();
    if (d.allowed) return print_accepted(out, d.issuer, d.sub);
    if (!d.issuer.empty()) out << "issuer: " << d.issuer << '\n';
    return print_rejected(out, d.ec, d.reply);
  } catch (const std::exception& e) {
    err << *config_path << ": " << e.what() << '\n';
    return kExitRejected;
  }
}

}  // namespace authgate::cli
