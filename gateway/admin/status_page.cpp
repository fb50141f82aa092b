#include "admin/status_page.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/html.hpp"

namespace authgate::admin {

namespace {

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;background:#f4f6f8}
header{background:#1d2b3a;color:#fff;padding:14px 24px;display:flex;gap:18px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:20px;margin:0}
main{padding:8px 24px 24px}
section{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:16px 0;padding:4px 16px 12px}
h2{font-size:16px;margin:12px 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #eaeef2}
th{font-weight:600;color:#57606a;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
table.kv th{width:14em;text-transform:none;font-size:14px;letter-spacing:0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{white-space:pre-wrap;margin:0}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#dafbe1;color:#116329}.warn{background:#fff8c5;color:#7d4e00}.bad{background:#ffebe9;color:#a40e26}
.muted{color:#6e7781}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px}
.grid>div{border:1px solid #eaeef2;border-radius:6px;padding:8px 12px}
.big{font-size:22px;font-weight:600}
)";

void esc(std::string& out, std::string_view text) { common::append_html_escaped(out, text); }

std::string count_text(double v) {
  if (!std::isfinite(v)) return "?";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string ratio_text(double hits, double misses) {
  const double total = hits + misses;
  if (total <= 0) return "n/a (no lookups yet)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * hits / total);
  return std::string(buf) + " (" + count_text(hits) + " of " + count_text(total) + " lookups)";
}

class Html {
 public:
  Html& raw(std::string_view s) {
    out_ += s;
    return *this;
  }
  Html& text(std::string_view s) {
    esc(out_, s);
    return *this;
  }
  Html& code(std::string_view s) {
    out_ += "<code>";
    esc(out_, s);
    out_ += "</code>";
    return *this;
  }
  Html& badge(std::string_view cls, std::string_view s) {
    out_ += "<span class=\"badge ";
    out_ += cls;
    out_ += "\">";
    esc(out_, s);
    out_ += "</span>";
    return *this;
  }
  Html& list(const std::vector<std::string>& items, std::string_view empty, bool as_code = true) {
    if (items.empty()) {
      out_ += "<span class=\"muted\">";
      esc(out_, empty);
      out_ += "</span>";
      return *this;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += ", ";
      if (as_code) code(items[i]);
      else text(items[i]);
    }
    return *this;
  }
  Html& when(std::int64_t t, std::int64_t now, std::string_view never = "never") {
    if (t == 0) {
      out_ += "<span class=\"muted\">";
      esc(out_, never);
      out_ += "</span>";
      return *this;
    }
    text(format_unix_time(t));
    out_ += " <span class=\"muted\">(";
    text(format_relative(t, now));
    out_ += ")</span>";
    return *this;
  }
  Html& counts(const std::vector<NamedCount>& items, std::string_view empty) {
    if (items.empty()) {
      out_ += "<p class=\"muted\">";
      esc(out_, empty);
      out_ += "</p>";
      return *this;
    }
    out_ += "<table><tbody>";
    for (const auto& [name, value] : items) {
      out_ += "<tr><td>";
      code(name);
      out_ += "</td><td>";
      text(count_text(value));
      out_ += "</td></tr>";
    }
    out_ += "</tbody></table>";
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void render_config(Html& h, const StatusSnapshot& s) {
  h.raw("<section id=\"config\"><h2>Configuration</h2><table class=\"kv\"><tbody>");
  h.raw("<tr><th>file</th><td>").code(s.config.path).raw("</td></tr>");
  h.raw("<tr><th>version</th><td>load #").text(std::to_string(s.config.generation));
  h.raw(" &middot; sha256 ").code(s.config.sha256.empty() ? "unknown" : s.config.sha256).raw("</td></tr>");
  h.raw("<tr><th>loaded</th><td>").when(s.config.loaded_unix, s.now_unix).raw("</td></tr>");
  h.raw("<tr><th>last reload</th><td>");
  if (!s.last_reload.attempted) {
    h.raw("<span class=\"muted\">no reload since start</span>");
  } else {
    if (s.last_reload.ok) h.badge("ok", "ok");
    else h.badge("bad", "failed: previous configuration kept");
    h.raw(" ").when(s.last_reload.at_unix, s.now_unix);
    if (!s.last_reload.ok && !s.last_reload.error.empty())
      h.raw("<pre class=\"reload-error\">").text(s.last_reload.error).raw("</pre>");
  }
  h.raw("</td></tr>");
  h.raw("<tr><th>readiness</th><td>");
  if (s.draining) h.badge("bad", "draining");
  else if (s.ready && s.waiting_for.empty()) h.badge("ok", "ready");
  else h.badge("warn", "starting");
  if (!s.waiting_for.empty()) h.raw(" waiting for ").list(s.waiting_for, "");
  h.raw("</td></tr>");
  h.raw("<tr><th>process started</th><td>").when(s.started_unix, s.now_unix).raw("</td></tr>");
  h.raw("</tbody></table></section>");
}

void render_routes(Html& h, const StatusSnapshot& s) {
  h.raw("<section id=\"routes\"><h2>Routes (").text(std::to_string(s.routes.size()));
  h.raw(")</h2><p class=\"muted\">Tried in order; the first match wins; no match is 404.</p>");
  h.raw("<table><thead><tr><th>#</th><th>route</th><th>host</th><th>path</th><th>methods</th>"
        "<th>auth</th><th>policy</th><th>sender constraints</th><th>upstream</th></tr></thead><tbody>");
  for (std::size_t i = 0; i < s.routes.size(); ++i) {
    const auto& r = s.routes[i];
    h.raw("<tr class=\"route\"><td>").text(std::to_string(i + 1)).raw("</td><td><strong>");
    h.text(r.name).raw("</strong></td><td>");
    if (r.host.empty()) h.raw("<span class=\"muted\">any</span>");
    else h.code(r.host);
    h.raw("</td><td>").text(r.path_kind).raw(" ").code(r.path).raw("</td><td>");
    h.list(r.methods, "any");
    h.raw("</td><td>");
    h.badge(r.auth == "none" ? "warn" : "ok", r.auth);
    h.raw("</td><td>");
    if (r.auth == "none") {
      h.raw("<span class=\"muted\">public</span>");
    } else {
      h.raw("issuers: ").list(r.issuers, "all");
      if (!r.scopes_all.empty()) h.raw("<br>scopes, all of: ").list(r.scopes_all, "");
      if (!r.scopes_any.empty()) h.raw("<br>scopes, one of: ").list(r.scopes_any, "");
      for (const auto& [claim, values] : r.claims) {
        h.raw("<br>claim ").code(claim).raw(values.size() > 1 ? " one of " : " = ").list(values, "");
      }
      if (!r.step_up_acr.empty()) h.raw("<br>step-up: acr one of ").list(r.step_up_acr, "");
      if (!r.step_up_max_auth_age.empty()) h.raw("<br>step-up: authenticated within ").code(r.step_up_max_auth_age);
      if (!r.resource_metadata.empty()) h.raw("<br>resource metadata: ").code(r.resource_metadata);
    }
    h.raw("</td><td class=\"sender\">");
    if (r.auth == "bearer" || r.auth == "any") {
      h.raw("DPoP: ");
      h.badge(r.dpop == "off" ? "warn" : "ok", r.dpop);
      if (r.dpop != "off") h.raw(r.dpop_nonce ? ", nonce on" : ", nonce off");
      h.raw("<br>mTLS-bound tokens: ");
      if (r.client_certificate.empty()) h.raw("<span class=\"muted\">refused (no client certificate)</span>");
      else h.text(r.client_certificate);
    } else {
      h.raw("<span class=\"muted\">none</span>");
    }
    h.raw("</td><td>").code(r.upstream).raw("</td></tr>");
  }
  h.raw("</tbody></table></section>");
}

void render_issuers(Html& h, const StatusSnapshot& s) {
  h.raw("<section id=\"issuers\"><h2>Issuers (").text(std::to_string(s.issuers.size())).raw(")</h2>");
  if (s.issuers.empty()) {
    h.raw("<p class=\"muted\">No issuers configured.</p></section>");
    return;
  }
  h.raw("<table><thead><tr><th>issuer</th><th>keys from</th><th>kids</th><th>state</th>"
        "<th>last fetch</th><th>next refresh</th><th>fetch errors</th></tr></thead><tbody>");
  for (const auto& i : s.issuers) {
    h.raw("<tr class=\"issuer\"><td><strong>").text(i.name).raw("</strong><br>").code(i.issuer);
    if (i.validation == "introspection") h.raw("<br>every token introspected");
    if (!i.introspection_endpoint.empty()) h.raw("<br>introspection: ").code(i.introspection_endpoint);
    h.raw("</td><td>").text(i.key_source).raw("</td><td>");
    std::vector<std::string> kids;
    for (const auto& k : i.kids) kids.push_back(k.empty() ? "(no kid)" : k);
    h.list(kids, i.usable ? "(none)" : "no keys");
    h.raw("</td><td>");
    if (!i.usable) h.badge("bad", i.remote ? "no usable keys" : "unusable");
    else if (i.consecutive_failures > 0) h.badge("warn", "stale: refresh failing");
    else h.badge("ok", i.remote ? "fresh" : "static");
    h.raw("</td><td>");
    if (i.remote) h.when(i.last_success_unix, s.now_unix);
    else h.raw("<span class=\"muted\">local</span>");
    h.raw("</td><td>");
    if (i.remote) h.when(i.next_refresh_unix, s.now_unix, "not scheduled");
    else h.raw("<span class=\"muted\">-</span>");
    h.raw("</td><td>").text(count_text(i.fetch_errors));
    if (i.consecutive_failures > 0)
      h.raw(" <span class=\"muted\">(").text(std::to_string(i.consecutive_failures)).raw(" in a row)</span>");
    if (!i.last_error.empty()) {
      h.raw("<br>last: ").code(i.last_error);
      if (i.last_error_unix) h.raw(" <span class=\"muted\">").text(format_relative(i.last_error_unix, s.now_unix)).raw("</span>");
    }
    h.raw("</td></tr>");
  }
  h.raw("</tbody></table></section>");
}

void render_upstreams(Html& h, const StatusSnapshot& s) {
  h.raw("<section id=\"upstreams\"><h2>Upstream pools (").text(std::to_string(s.upstreams.size()));
  h.raw(")</h2><table><thead><tr><th>upstream</th><th>address</th><th>idle</th><th>in use</th>"
        "<th>limits per worker</th><th>errors</th></tr></thead><tbody>");
  for (const auto& u : s.upstreams) {
    h.raw("<tr class=\"upstream\"><td><strong>").text(u.name).raw("</strong></td><td>").code(u.url);
    h.raw("</td><td>").text(std::to_string(u.idle)).raw("</td><td>").text(std::to_string(u.busy));
    h.raw("</td><td>").text(std::to_string(u.max_connections)).raw(" connections, ");
    h.text(std::to_string(u.max_idle)).raw(" idle</td><td>");
    if (u.errors.empty()) {
      h.raw("<span class=\"muted\">none</span>");
    } else {
      for (std::size_t e = 0; e < u.errors.size(); ++e) {
        if (e) h.raw(", ");
        h.code(u.errors[e].first).raw(" ").text(count_text(u.errors[e].second));
      }
    }
    h.raw("</td></tr>");
  }
  h.raw("</tbody></table></section>");
}

void render_counters(Html& h, const StatusSnapshot& s) {
  const auto& c = s.counters;
  h.raw("<section id=\"counters\"><h2>Live counters</h2><p class=\"muted\">Since the process started "
        "(the same values as <code>/metrics</code>).</p><div class=\"grid\">");
  h.raw("<div id=\"requests\"><h3>Requests</h3><div class=\"big\">").text(count_text(c.requests));
  h.raw("</div>").counts(c.requests_by_class, "none yet").raw("</div>");
  h.raw("<div id=\"denials\"><h3>Auth decisions</h3><p>allowed: ").text(count_text(c.allowed));
  h.raw("</p><p>denied, by reason:</p>").counts(c.denials, "no denials").raw("</div>");
  h.raw("<div id=\"caches\"><h3>Caches</h3><p>token cache hit ratio:<br><span class=\"big\">");
  h.text(ratio_text(c.token_cache_hits, c.token_cache_misses)).raw("</span></p>");
  h.raw("<p>introspection cache hit ratio: ");
  h.text(ratio_text(c.introspection_cache_hits, c.introspection_cache_misses)).raw("</p></div>");
  h.raw("<div id=\"sessions\"><h3>Sessions</h3><p>active sessions: <span class=\"big\">");
  h.text(count_text(c.sessions_active)).raw("</span></p><p>refresh grants, by result:</p>");
  h.counts(c.refresh_grants, "none yet").raw("<p>logins, by result:</p>").counts(c.logins, "none yet");
  h.raw("</div>");
  const auto& f = s.fleet;
  h.raw("<div id=\"fleet\"><h3>Fleet</h3><p>session store: ").text(f.session_store.empty() ? "none" : f.session_store);
  h.raw("</p><p>redis: ");
  if (f.redis_address.empty()) h.raw("not configured");
  else h.text(f.redis_address).raw(" ").badge(f.redis_up ? "ok" : "bad", f.redis_up ? "up" : "down");
  h.raw("</p>");
  if (!f.redis_address.empty()) h.raw("<p>commands, by result:</p>").counts(f.redis_commands, "none yet");
  h.raw("<p>deny-list: ").text(f.revocation_store.empty() ? "off" : f.revocation_store);
  if (!f.revocation_store.empty()) h.raw(", ").text(count_text(f.revocation_entries)).raw(" entries");
  h.raw("</p>");
  if (!f.revocation_store.empty()) h.raw("<p>refused as revoked:</p>").counts(f.revoked, "none yet");
  h.raw("</div>");
  h.raw("<div id=\"process\"><h3>Process</h3><p>open client connections: ");
  h.text(count_text(c.connections_active)).raw("</p><p>reloads: ").text(count_text(c.reloads_ok));
  h.raw(" ok, ").text(count_text(c.reloads_failed)).raw(" failed</p></div>");
  h.raw("</div></section>");
}

}  // namespace

std::string format_unix_time(std::int64_t t) {
  if (t == 0) return "never";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return std::to_string(t);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string format_relative(std::int64_t t, std::int64_t now) {
  std::int64_t d = t - now;
  if (d == 0) return "now";
  const bool future = d > 0;
  if (d < 0) d = -d;
  std::string span;
  if (d >= 86400) span = std::to_string(d / 86400) + "d " + std::to_string(d % 86400 / 3600) + "h";
  else if (d >= 3600) span = std::to_string(d / 3600) + "h " + std::to_string(d % 3600 / 60) + "m";
  else if (d >= 60) span = std::to_string(d / 60) + "m " + std::to_string(d % 60) + "s";
  else span = std::to_string(d) + "s";
  return future ? "in " + span : span + " ago";
}

std::string render_status_page(const StatusSnapshot& s) {
  Html h;
  h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>authgate status</title><style>");
  h.raw(kStyle);
  h.raw("</style></head><body><header><h1>authgate</h1><span>version ").text(s.version);
  h.raw("</span><span>");
  if (s.draining) h.badge("bad", "draining");
  else if (s.ready && s.waiting_for.empty()) h.badge("ok", "ready");
  else h.badge("warn", "starting");
  h.raw("</span><span>page generated ").text(format_unix_time(s.now_unix)).raw("</span></header><main>");
  render_config(h, s);
  render_routes(h, s);
  render_issuers(h, s);
  render_upstreams(h, s);
  render_counters(h, s);
  h.raw("<p class=\"muted\">Machine-readable: <code>/metrics</code>, <code>/readyz</code>, "
        "<code>/healthz</code>. This page refreshes only when reloaded.</p></main></body></html>\n");
  return h.take();
}

}  // namespace authgate::admin
