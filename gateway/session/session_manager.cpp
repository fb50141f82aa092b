#include "session/session_manager.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "auth/auth_errc.hpp"
#include "auth/jwt.hpp"
#include "common/ascii.hpp"
#include "common/form.hpp"
#include "common/html.hpp"
#include "common/url.hpp"
#include "idp/http_client.hpp"
#include "idp/remote_issuer.hpp"
#include "revocation/revocation_service.hpp"
#include "session/cookie_codec.hpp"
#include "session/csrf.hpp"
#include "session/memory_session_store.hpp"
#include "session/redis_session_store.hpp"
#include "session/pkce.hpp"
#include "session/redirect.hpp"
#include "session/refresh_policy.hpp"
#include "session/token_response.hpp"

namespace authgate::session {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using auth::auth_errc;

namespace {

// For the keys the loader accepts in whole seconds only (session times are Unix seconds).
std::int64_t seconds(config::Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// The refresh backoff's clock: monotonic, in milliseconds (refresh_retry_interval counts to the ms).
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A refresh that needs no grant (any more): the record as it is now, or why there is none.
RefreshOutcome settled(LoadResult loaded) {
  RefreshOutcome out;
  out.ec = loaded.ec;
  if (!out.ec && !loaded.session) out.ec = auth_errc::session_missing;
  out.session = std::move(loaded.session);
  return out;
}

// An acr_values parameter (OIDC Core §3.1.2.1): space-separated values of printable ASCII, no quotes,
// bounded. Values from the login URL's query reach the IdP only when they are this.
bool is_acr_values(std::string_view v) {
  return !v.empty() && v.size() <= 512 && v.front() != ' ' && v.back() != ' ' &&
         v.find("  ") == std::string_view::npos &&
         std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

std::string claim_string(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

SessionManager::SessionManager(const config::Sessions& cfg, std::shared_ptr<idp::RemoteIssuer> issuer,
                               auth::VerifyPolicy id_token_policy,
                               metrics::Metrics& metrics, asio::any_io_executor control,
                               const SessionManager* previous, std::shared_ptr<redis::RedisClient> redis,
                               std::shared_ptr<revocation::RevocationService> revocations)
    : cfg_(cfg),
      issuer_name_(cfg.client.issuer),
      issuer_(std::move(issuer)),
      id_policy_(std::move(id_token_policy)),
      refresh_shared_(previous ? previous->refresh_shared_ : std::make_shared<RefreshShared>()),
      revocations_(std::move(revocations)),
      refresh_failed_(cfg.max_sessions),
      metrics_(metrics),
      control_(std::move(control)),
      token_endpoint_duration_(&metrics.token_endpoint_duration.Add({}, metrics::Metrics::latency_buckets())),
      login_cookie_name_(cfg.cookie.name + "-login") {
  // An ID token is validated against this client, never as an access token.
  id_policy_.audiences = {cfg.client.client_id};
  id_policy_.reject_id_tokens = false;
  id_policy_.require_at_jwt = false;
  id_policy_.required_claims = {"sub"};
  if (cfg.store == "redis") {
    if (!redis) throw std::runtime_error("sessions.store: redis needs a redis: block");
    store_ = std::make_shared<RedisSessionStore>(std::move(redis), cfg);  // the state is in Redis
  } else if (previous && !previous->store_->shared()) {
    store_ = previous->store_;
  } else {
    store_ = std::make_shared<MemorySessionStore>(cfg.max_sessions, cfg.cookie.idle_timeout,
                                                  cfg.cookie.absolute_timeout, cfg.login_timeout,
                                                  cfg.max_pending_logins);
  }
  const LoginRateLimiter::Options limits{cfg.login_rate_limit.per_minute, cfg.login_rate_limit.burst,
                                         cfg.login_rate_limit.max_clients};
  const auto& prev_limits = previous ? previous->login_limiter_->options() : limits;
  if (previous && prev_limits.per_minute == limits.per_minute && prev_limits.burst == limits.burst &&
      prev_limits.max_clients == limits.max_clients)
    login_limiter_ = previous->login_limiter_;
  else
    login_limiter_ = std::make_shared<LoginRateLimiter>(limits);
  if (previous) {
    pending_logins_ = previous->pending_logins_;
    pending_logins_->configure(cfg.max_pending_logins, cfg.login_timeout.count());
  } else {
    pending_logins_ = std::make_shared<PendingLogins>(cfg.max_pending_logins, cfg.login_timeout.count());
  }
}

SessionManager::~SessionManager() { stop(); }

void SessionManager::start() {
  if (*running_) return;
  *running_ = true;
  asio::co_spawn(control_, sweep_loop(), asio::detached);
}

void SessionManager::stop() { *running_ = false; }

asio::awaitable<void> SessionManager::sweep_loop() {
  auto running = running_;  // outlives this manager's members while the loop winds down
  auto store = store_;
  auto pending = pending_logins_;
  auto* gauge = &metrics_.sessions_active;
  auto* pending_gauge = &metrics_.pending_logins;
  asio::steady_timer timer(control_);
  while (*running) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    if (const auto count = co_await store->sweep(now)) gauge->Set(static_cast<double>(*count));
    pending_gauge->Set(static_cast<double>(pending->pending(steady_ms())));
    timer.expires_after(std::chrono::seconds(5));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
}

bool SessionManager::handles(std::string_view path) const { return path.starts_with(cfg_.prefix); }

std::string SessionManager::redirect_uri() const { return cfg_.public_url + cfg_.prefix + "callback"; }

std::string SessionManager::login_location(std::string_view target, const config::Requirement* step_up) const {
  std::string location = cfg_.prefix + "login?rd=" + common::form_encode(target);
  if (step_up && !step_up->acr.empty()) {
    std::string acr_values;
    for (const auto& a : step_up->acr) acr_values += (acr_values.empty() ? "" : " ") + a;
    location += "&acr_values=" + common::form_encode(acr_values);
  }
  if (step_up && step_up->max_auth_age)
    location += "&max_age=" + std::to_string(seconds(*step_up->max_auth_age));
  return location;
}

void SessionManager::count_login(std::string_view result) {
  metrics_.logins.Add({{"result", std::string(result)}}).Increment();
}
void SessionManager::count_refresh(std::string_view result) {
  metrics_.refresh_grants.Add({{"result", std::string(result)}}).Increment();
}

idp::IdpRequest SessionManager::client_request(std::string form) const {
  idp::IdpRequest req;
  req.post = true;
  req.content_type = "application/x-www-form-urlencoded";
  req.body = std::move(form);
  if (cfg_.client.auth_method == "client_secret_post")
    req.body += "&client_id=" + common::form_encode(cfg_.client.client_id) +
                "&client_secret=" + common::form_encode(cfg_.client.client_secret);
  else
    req.authorization = common::basic_credentials(cfg_.client.client_id, cfg_.client.client_secret);
  return req;
}

LocalReply SessionManager::page(unsigned status, std::string_view title, std::string_view text) const {
  LocalReply r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + common::html_escaped(title) +
           "</title></head><body><h1>" + common::html_escaped(title) + "</h1><p>" + common::html_escaped(text) +
           "</p><p><a href=\"" + common::html_escaped(cfg_.prefix) + "login\">Sign in again</a></p></body></html>\n";
  return r;
}

LocalReply SessionManager::store_unavailable_page() const {
  LocalReply r = page(503, "Sign-in unavailable", "Sessions are unavailable right now. Try again shortly.");
  return r;
}

bool SessionManager::due(const Session& s, std::int64_t now) const {
  return refresh_due(s, seconds(cfg_.refresh_before_expiry), now);
}

void SessionManager::note_lifetime(std::int64_t lifetime) {
  const RefreshMargin m = refresh_margin(seconds(cfg_.refresh_before_expiry), lifetime);
  if (m.clamped && !refresh_shared_->clamp_logged.exchange(true))
    spdlog::warn("sessions: issuer {} gives access tokens of {}s, not more than refresh_before_expiry ({}s) allows: "
                 "they are refreshed {}s before expiry instead (half their lifetime); logged once",
                 issuer_name_, lifetime, seconds(cfg_.refresh_before_expiry), m.seconds);
}

// The same rule as for tokens (revocation/deny_list.hpp): a login at or before
// the subject's cut-off second is revoked. No leeway: the login time is authgate's own clock.
bool SessionManager::revoked(const Session& s, std::int64_t now) const {
  if (!revocations_ || s.sub.empty()) return false;
  const std::optional<std::int64_t> login = s.created_at;
  return revocations_->check({}, s.sub, login, now, 0) == revocation::DenyEntry::Kind::sub;
}

asio::awaitable<void> SessionManager::end_revoked(const Session& s) {
  spdlog::info("session of sub {} ended: the subject was revoked after its login", s.sub);
  const std::string id = s.id;
  if (const std::error_code ec = co_await store_->erase(id))  // still refused at every request while the entry lives
    spdlog::warn("session of sub {}: erasing the revoked session failed ({})", s.sub, ec.message());
  metrics_.sessions_active.Set(static_cast<double>(store_->size()));
}

std::optional<std::string> SessionManager::session_id(const http::Fields& request) const {
  for (auto it = request.find(bhttp::field::cookie); it != request.end() && it->name() == bhttp::field::cookie; ++it)
    for (auto value : cookie_values(it->value(), cfg_.cookie.name))
      if (auto id = verify_session_cookie(value, cfg_.cookie_secret)) return id;
  return std::nullopt;
}

bool SessionManager::same_origin(const http::Fields& request) const {
  return origin_allowed(request[bhttp::field::origin], request[bhttp::field::referer], cfg_.public_url,
                        cfg_.csrf_origins);
}

asio::awaitable<LocalReply> SessionManager::handle(const std::string& path, const std::string& query,
                                                   const http::Fields& request, const std::string& method,
                                                   const std::string& client, std::int64_t now) {
  const std::string_view name = std::string_view(path).substr(cfg_.prefix.size());
  if (name == "login") co_return co_await login(query, client, now);
  if (name == "callback") co_return co_await callback(query, request, now);
  if (name == "logout") co_return co_await logout(request, method, now);
  if (name == "session") co_return co_await session_info(request, now);
  co_return page(404, "Not found", "No such authgate endpoint.");
}

asio::awaitable<LocalReply> SessionManager::login(const std::string& query, const std::string& client,
                                                  std::int64_t now) {
  // Login floods: each login start writes a pending-login record (memory or Redis).
  if (const auto verdict = login_limiter_->take(client, steady_ms()); !verdict.allowed) {
    metrics_.login_rate_limited.Increment();
    spdlog::debug("login: client {} over the login rate limit; 429", client);
    LocalReply r = page(429, "Too many sign-in attempts", "Too many sign-in attempts from your address. Try again shortly.");
    r.headers.emplace_back("Retry-After", std::to_string(verdict.retry_after_s));
    co_return r;
  }
  auto md = issuer_->metadata();
  if (!md || md->authorization_endpoint.empty()) {
    co_await issuer_->refetch();
    md = issuer_->metadata();
  }
  if (!md || md->authorization_endpoint.empty()) {
    count_login("idp_unavailable");
    LocalReply r = page(503, "Sign-in unavailable", "The identity provider cannot be reached. Try again shortly.");
    co_return r;
  }
  const std::string rd = safe_redirect(common::form_value(query, "rd").value_or(""), cfg_.client.default_path);
  LoginState st;
  st.state = random_token(32);
  st.nonce = random_token(32);
  const PkcePair pkce = make_pkce();
  st.verifier = pkce.verifier;
  st.redirect = rd;
  st.created_at = now;
  if (!pending_logins_->admit(st.state, steady_ms())) {
    metrics_.login_pending_full.Increment();
    spdlog::warn("login: {} pending logins (sessions.max_pending_logins) on this instance; refusing login starts",
                 cfg_.max_pending_logins);
    LocalReply r = page(503, "Sign-in unavailable", "Too many sign-ins are in progress. Try again shortly.");
    co_return r;
  }
  if (const std::error_code ec = co_await store_->save_login(st)) {
    pending_logins_->release(st.state);
    count_login("store_unavailable");
    co_return store_unavailable_page();
  }
  metrics_.pending_logins.Set(static_cast<double>(pending_logins_->pending(steady_ms())));

  std::string scope;
  for (const auto& s : cfg_.client.scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string location = md->authorization_endpoint;
  location += location.find('?') == std::string::npos ? '?' : '&';
  location += "response_type=code&client_id=" + common::form_encode(cfg_.client.client_id) +
              "&redirect_uri=" + common::form_encode(redirect_uri()) + "&scope=" + common::form_encode(scope) +
              "&state=" + st.state + "&nonce=" + st.nonce + "&code_challenge=" + pkce.challenge +
              "&code_challenge_method=S256";
  // A step-up login (login_location with a route's require): passed on when well-formed, else dropped.
  if (auto acr = common::form_value(query, "acr_values"); acr && is_acr_values(*acr))
    location += "&acr_values=" + common::form_encode(*acr);
  if (auto age = common::form_value(query, "max_age");
      age && !age->empty() && age->size() <= 9 && std::all_of(age->begin(), age->end(), [](unsigned char c) { return c >= '0' && c <= '9'; }))
    location += "&max_age=" + *age;
  if (!cfg_.client.resource.empty()) location += "&resource=" + common::form_encode(cfg_.client.resource);
  if (!cfg_.client.audience.empty()) location += "&audience=" + common::form_encode(cfg_.client.audience);
  LocalReply r;
  r.status = 302;
  r.headers.emplace_back("Location", location);
  config::SessionCookie login_cookie = cfg_.cookie;
  login_cookie.name = login_cookie_name_;
  r.headers.emplace_back("Set-Cookie", set_cookie_header(login_cookie, sign_login_state(st.state, cfg_.cookie_secret),
                                                         std::chrono::seconds(seconds(cfg_.login_timeout))));
  co_return r;
}

asio::awaitable<LocalReply> SessionManager::callback(const std::string& query, const http::Fields& request,
                                                     std::int64_t now) {
  if (auto error = common::form_value(query, "error")) {
    count_login("idp_error");
    const std::string description = common::form_value(query, "error_description").value_or("");
    spdlog::info("login: the identity provider answered error={} ({})", *error, description);
    co_return page(*error == "access_denied" ? 403 : 400, "Sign-in failed",
                   "The identity provider answered: " + *error + (description.empty() ? "" : " (" + description + ")"));
  }
  const auto state = common::form_value(query, "state");
  const auto code = common::form_value(query, "code");
  // The state must be the one this browser started (login cookie) and known to the store.
  bool bound = false;
  for (auto it = request.find(bhttp::field::cookie); state && it != request.end() && it->name() == bhttp::field::cookie; ++it)
    for (auto value : cookie_values(it->value(), login_cookie_name_))
      if (auto s = verify_login_cookie(value, cfg_.cookie_secret); s && *s == *state) bound = true;
  std::optional<LoginState> login_state;
  if (state && bound) {
    LoginResult taken = co_await store_->take_login(*state, now);
    pending_logins_->release(*state);
    metrics_.pending_logins.Set(static_cast<double>(pending_logins_->pending(steady_ms())));
    if (taken.ec) {
      count_login("store_unavailable");
      co_return store_unavailable_page();
    }
    login_state = std::move(taken.login);
  }
  if (!code || !login_state) {
    count_login("bad_state");
    co_return page(400, "Sign-in expired", "This sign-in link is invalid or has expired.");
  }

  auto md = issuer_->metadata();
  if (!md || md->token_endpoint.empty()) {
    count_login("idp_unavailable");
    co_return page(503, "Sign-in unavailable", "The identity provider cannot be reached. Try again shortly.");
  }
  const auto token_url = common::parse_http_url(md->token_endpoint);
  const idp::IdpRequest req = client_request("grant_type=authorization_code&code=" + common::form_encode(*code) +
                                             "&redirect_uri=" + common::form_encode(redirect_uri()) +
                                             "&code_verifier=" + common::form_encode(login_state->verifier));
  const auto started = std::chrono::steady_clock::now();
  idp::IdpResponse res;
  if (token_url) res = co_await idp::idp_exchange(*token_url, req, issuer_->client_options());
  token_endpoint_duration_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!token_url || (res.ec && res.status == 0)) {
    count_login("idp_unavailable");
    spdlog::warn("login: token endpoint call failed: {}{}", res.ec.message(), idp::describe(res));
    co_return page(503, "Sign-in unavailable", "The identity provider cannot be reached. Try again shortly.");
  }
  if (res.ec) {
    const auto err = parse_token_error(res.body);
    count_login("rejected");
    spdlog::warn("login: code exchange refused: HTTP {} {} {}", res.status, err ? err->error : "",
                 err ? err->description : "");
    co_return page(400, "Sign-in failed", "The identity provider refused the sign-in. Please try again.");
  }
  auto parsed = parse_token_response(res.body, /*id_token_required=*/true);
  if (auto* violation = std::get_if<std::string>(&parsed)) {
    count_login("bad_response");
    spdlog::warn("login: token response rejected: {}", *violation);
    co_return page(502, "Sign-in failed", "The identity provider sent an invalid answer.");
  }
  TokenSet tokens = std::get<TokenSet>(std::move(parsed));

  // The id_token: signature with the issuer's keys, iss, aud = client_id, azp, exp, nonce.
  auth::ParsedJwt id;
  std::error_code ec = auth::parse_jwt(tokens.id_token, auth::kDefaultMaxTokenBytes, id);
  auth::KeySetPtr keys = issuer_->keys();
  if (!ec && !keys) {
    co_await issuer_->refetch();
    keys = issuer_->keys();
  }
  if (!ec) ec = keys ? auth::verify(id, *keys, id_policy_, now) : std::error_code(auth_errc::jwks_unavailable);
  if (ec == auth_errc::kid_unknown) {  // the IdP rotated its keys: one (rate-limited, shared) refetch
    co_await issuer_->refetch();
    keys = issuer_->keys();
    ec = keys ? auth::verify(id, *keys, id_policy_, now) : std::error_code(auth_errc::jwks_unavailable);
  }
  if (!ec && (!id.claims().contains("nonce") || claim_string(id.claims(), "nonce") != login_state->nonce))
    ec = auth_errc::claim_mismatch;
  if (!ec) {
    const auto* azp = id.claims().if_contains("azp");
    if ((azp && !(azp->is_string() && azp->get_string() == cfg_.client.client_id)) ||
        (!azp && id.aud().size() > 1))
      ec = auth_errc::audience_mismatch;
  }
  if (ec) {
    count_login("bad_id_token");
    spdlog::warn("login: id_token rejected: {}", ec.message());
    co_return page(502, "Sign-in failed", "The identity provider sent an invalid identity token.");
  }

  Session s;
  s.id = random_token(32);
  s.sub = id.sub().value_or("");
  s.name = claim_string(id.claims(), "name");
  s.email = claim_string(id.claims(), "email");
  s.access_token = tokens.access_token;
  s.refresh_token = tokens.refresh_token;
  s.id_token = tokens.id_token;
  s.scope = tokens.scope;
  s.access_lifetime = tokens.expires_in.value_or(seconds(cfg_.expires_in_fallback));
  s.access_expires_at = now + s.access_lifetime;
  note_lifetime(s.access_lifetime);
  if (!tokens.expires_in)
    spdlog::info("login: token response without expires_in; assuming {}s", seconds(cfg_.expires_in_fallback));
  s.created_at = now;
  s.last_seen_at = now;
  if (const std::error_code ec = co_await store_->save(s)) {
    count_login("store_unavailable");
    co_return store_unavailable_page();
  }
  count_login("success");
  metrics_.sessions_active.Set(static_cast<double>(store_->size()));

  LocalReply r;
  r.status = 302;
  r.headers.emplace_back("Location", login_state->redirect);
  r.headers.emplace_back("Set-Cookie", set_cookie_header(cfg_.cookie, sign_session_id(s.id, cfg_.cookie_secret),
                                                         std::chrono::seconds(seconds(cfg_.cookie.absolute_timeout))));
  config::SessionCookie login_cookie = cfg_.cookie;
  login_cookie.name = login_cookie_name_;
  r.headers.emplace_back("Set-Cookie", clear_cookie_header(login_cookie));
  co_return r;
}

// Logout CSRF: a cross-site link or form must not end the session (session/csrf.hpp).
LocalReply SessionManager::logout_page() const {
  LocalReply r;
  r.status = 200;
  r.content_type = "text/html; charset=utf-8";
  r.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign out</title></head><body>"
           "<h1>Sign out</h1><form method=\"post\" action=\"" + common::html_escaped(cfg_.prefix) +
           "logout\"><button type=\"submit\">Sign out</button></form></body></html>\n";
  return r;
}

asio::awaitable<LocalReply> SessionManager::logout(const http::Fields& request, const std::string& method,
                                                   std::int64_t now) {
  switch (logout_action(method, request["Sec-Fetch-Site"], same_origin(request))) {
    case LogoutAction::end_session:
      break;
    case LogoutAction::confirm_page:
      co_return logout_page();
    case LogoutAction::reject_cross_site: {
      metrics_.logout_rejected.Increment();
      spdlog::info("logout: POST without a same-origin Origin or Referer refused (403)");
      co_return page(403, "Sign-out refused", "This sign-out request did not come from this site.");
    }
    case LogoutAction::method_not_allowed: {
      LocalReply r = page(405, "Method not allowed", "Sign out with POST.");
      r.headers.emplace_back("Allow", "GET, HEAD, POST");
      co_return r;
    }
  }
  std::optional<Session> s;
  if (auto id = session_id(request)) {
    LoadResult loaded = co_await store_->load(*id, now);
    if (loaded.ec) co_return store_unavailable_page();  // the session could not be ended: try again
    s = std::move(loaded.session);
  }
  auto md = issuer_->metadata();
  if (s && !s->refresh_token.empty() && md && !md->revocation_endpoint.empty()) {
    if (auto url = common::parse_http_url(md->revocation_endpoint)) {
      const idp::IdpRequest req =
          client_request("token=" + common::form_encode(s->refresh_token) + "&token_type_hint=refresh_token");
      const idp::IdpResponse res = co_await idp::idp_exchange(*url, req, issuer_->client_options());
      if (res.ec) spdlog::warn("logout: refresh token revocation failed: {}{}", res.ec.message(), idp::describe(res));
    }
  }
  if (s) {
    if (const std::error_code ec = co_await store_->erase(s->id)) co_return store_unavailable_page();
    metrics_.logouts.Increment();
    metrics_.sessions_active.Set(static_cast<double>(store_->size()));
  }
  LocalReply r;
  r.status = 302;
  std::string location = cfg_.logout_path;
  if (md && !md->end_session_endpoint.empty()) {
    location = md->end_session_endpoint;
    location += location.find('?') == std::string::npos ? '?' : '&';
    location += "client_id=" + common::form_encode(cfg_.client.client_id);
    if (s && !s->id_token.empty()) location += "&id_token_hint=" + common::form_encode(s->id_token);
    if (!cfg_.post_logout_redirect_uri.empty())
      location += "&post_logout_redirect_uri=" + common::form_encode(cfg_.post_logout_redirect_uri);
  }
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Set-Cookie", clear_cookie_header(cfg_.cookie));
  co_return r;
}

asio::awaitable<LocalReply> SessionManager::session_info(const http::Fields& request, std::int64_t now) {
  std::optional<Session> s;
  LocalReply r;
  if (auto id = session_id(request)) {
    LoadResult loaded = co_await store_->load(*id, now);
    if (loaded.ec) {
      r.status = 503;
      r.body = "{\"error\":\"session_store_unavailable\"}\n";
      co_return r;
    }
    s = std::move(loaded.session);
  }
  if (s && revoked(*s, now)) {
    co_await end_revoked(*s);
    s.reset();
  }
  if (!s) {
    r.status = 401;
    r.body = "{\"authenticated\":false}\n";
    co_return r;
  }
  boost::json::object o;
  o["authenticated"] = true;
  o["sub"] = s->sub;
  if (!s->name.empty()) o["name"] = s->name;
  if (!s->email.empty()) o["email"] = s->email;
  o["access_token_expires_at"] = s->access_expires_at;
  o["session_expires_at"] = s->created_at + seconds(cfg_.cookie.absolute_timeout);
  r.body = boost::json::serialize(o) + "\n";
  co_return r;
}

asio::awaitable<SessionAccess> SessionManager::access(const http::Fields& request, const std::string& method,
                                                      std::int64_t now) {
  SessionAccess a;
  const auto id = session_id(request);
  std::optional<Session> s;
  if (id) {
    LoadResult loaded = co_await store_->load(*id, now);
    if (loaded.ec) {
      a.ec = loaded.ec;
      co_return a;
    }
    s = std::move(loaded.session);
  }
  if (!s) {
    a.ec = auth_errc::session_missing;
    co_return a;
  }
  if (revoked(*s, now)) {  // before any refresh: a revoked subject gets no fresh token
    co_await end_revoked(*s);
    a.ec = auth_errc::session_ended;
    co_return a;
  }
  // Unsafe methods and WebSocket handshakes (cross-site WebSocket hijacking).
  if (needs_origin(method, request[bhttp::field::upgrade], request[bhttp::field::connection]) &&
      !same_origin(request)) {
    a.ec = auth_errc::csrf_rejected;
    co_return a;
  }
  const bool refresh_due = due(*s, now);
  if (refresh_due && refresh_failed_.find(*id, steady_ms())) {
    // A refresh failed moments ago (IdP down): do not call again before
    // refresh_retry_interval; use the old token while it is valid.
    if (now >= s->access_expires_at) {
      a.ec = auth_errc::refresh_unavailable;
      co_return a;
    }
  } else if (refresh_due) {
    RefreshOutcome out = co_await refresh(*id, now);
    if (out.ec == auth_errc::session_ended || out.ec == auth_errc::session_missing ||
        (out.ec == auth_errc::session_store_unavailable && now >= s->access_expires_at)) {
      a.ec = out.ec;
      co_return a;
    }
    if (!out.ec && out.session) {
      s = std::move(out.session);
    } else {
      const std::int64_t failed_at = steady_ms();
      refresh_failed_.insert(*id, true, failed_at + cfg_.refresh_retry_interval.count(), failed_at);
      if (now >= s->access_expires_at) {
        a.ec = auth_errc::refresh_unavailable;  // IdP down and the token has expired: keep the session
        co_return a;
      }
    }
  }
  a.access_token = s->access_token;
  a.sub = s->sub;
  a.id = *id;
  co_return a;
}

asio::awaitable<bool> SessionManager::session_alive(const std::string& id, std::int64_t now) {
  LoadResult loaded = co_await store_->load(id, now);
  if (loaded.ec) co_return true;
  if (!loaded.session) co_return false;
  if (revoked(*loaded.session, now)) {  // `authgate revoke sub` ends the subject's tunnels too
    co_await end_revoked(*loaded.session);
    co_return false;
  }
  co_return true;
}

asio::awaitable<RefreshOutcome> SessionManager::refresh(const std::string& id, std::int64_t now) {
  // A named copy: the flight outlives this manager's replacement (reload)
  // while its leader (a request of this manager) runs.
  const std::shared_ptr<RefreshShared> shared = refresh_shared_;
  const auto work = [this, &id, now] { return run_refresh(id, now); };
  co_return co_await shared->flights.run(id, work);
}

asio::awaitable<RefreshOutcome> SessionManager::run_refresh(const std::string& id, std::int64_t now) {
  RefreshOutcome out;
  LoadResult loaded = co_await store_->load(id, now);
  if (loaded.ec || !loaded.session || !due(*loaded.session, now))  // gone, or refreshed meanwhile
    co_return settled(std::move(loaded));
  if (!store_->shared()) co_return co_await grant(*loaded.session, now);

  // The fleet: one grant per session across every instance sharing the store.
  std::string owner = random_token(16);
  const LeaseResult lease = co_await store_->acquire_lease(id, owner, cfg_.refresh_lock_lease);
  if (lease.ec) {
    out.ec = lease.ec;
    co_return out;
  }
  bool acquired = lease.acquired;
  if (!acquired) {
    out = co_await wait_for_holder(id, now, owner, acquired);
    if (!acquired) co_return out;
    out = RefreshOutcome{};
  }
  // Holding the lease: read again, another holder may have stored new tokens
  // just before this one took the lease.
  loaded = co_await store_->load(id, now);
  if (loaded.ec || !loaded.session || !due(*loaded.session, now)) {
    co_await store_->release_lease(id, owner);
    co_return settled(std::move(loaded));
  }
  const auto started = std::chrono::steady_clock::now();
  auto lease_state = std::make_shared<LeaseState>(LeaseState{id, owner, true});
  const auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, renew_lease(lease_state), asio::detached);
  out = co_await grant(*loaded.session, now);
  lease_state->in_flight = false;
  co_await store_->release_lease(id, owner);
  metrics_.refresh_lock_duration.Add({{"phase", "hold"}}, metrics::Metrics::latency_buckets())
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return out;
}

// The lease outlives a slow grant: renewed every third of its length while the
// grant is in flight, so only a dead holder's lease expires. A renewal that
// fails (a Redis timeout) is tried again at the next tick: the lease still has
// two thirds of its length. Renewal stops only when the lease is no longer ours.
asio::awaitable<void> SessionManager::renew_lease(std::shared_ptr<LeaseState> lease) {
  const auto executor = co_await asio::this_coro::executor;  // named: see docs/ARCHITECTURE.md (GCC 12)
  asio::steady_timer timer(executor);
  const auto every = std::max<std::chrono::milliseconds>(cfg_.refresh_lock_lease / 3, std::chrono::milliseconds(10));
  const auto store = store_;  // the manager may be replaced (reload) while this runs
  const auto ttl = cfg_.refresh_lock_lease;
  for (;;) {
    timer.expires_after(every);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!lease->in_flight) co_return;
    const LeaseResult renewed = co_await store->renew_lease(lease->id, lease->owner, ttl);
    if (renewed.ec) {
      spdlog::warn("session refresh: renewing the refresh lease failed ({}); trying again", renewed.ec.message());
    } else if (!renewed.acquired) {
      spdlog::warn("session refresh: the refresh lease expired under a grant in flight; another instance may take over");
      co_return;
    }
  }
}

// Another instance holds the lease: poll the store (backing off from 10 ms to
// 250 ms) until its new tokens appear, the session is gone, or the lease is
// free again (its holder died or gave up), then take it (`acquired`). Bounded
// by refresh_lock_wait.
asio::awaitable<RefreshOutcome> SessionManager::wait_for_holder(const std::string& id, std::int64_t now,
                                                                const std::string& owner, bool& acquired) {
  RefreshOutcome out;
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + cfg_.refresh_lock_wait;
  const auto executor = co_await asio::this_coro::executor;  // named: see docs/ARCHITECTURE.md (GCC 12)
  asio::steady_timer timer(executor);
  auto delay = std::chrono::milliseconds(10);
  for (;;) {
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(delay, deadline - std::chrono::steady_clock::now()));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    delay = std::min(delay * 2, std::chrono::milliseconds(250));
    LoadResult loaded = co_await store_->load(id, now);
    if (loaded.ec || !loaded.session || !due(*loaded.session, now)) {  // the holder's tokens, or gone
      out = settled(std::move(loaded));
      break;
    }
    const LeaseResult lease = co_await store_->acquire_lease(id, owner, cfg_.refresh_lock_lease);
    if (lease.ec) {
      out.ec = lease.ec;
      break;
    }
    if (lease.acquired) {
      acquired = true;
      spdlog::info("session refresh: took over the refresh lease of a session (its holder is gone)");
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn("session refresh: no result from the lease holder within refresh_lock_wait");
      out.ec = auth_errc::refresh_unavailable;
      break;
    }
  }
  metrics_.refresh_lock_duration.Add({{"phase", "wait"}}, metrics::Metrics::latency_buckets())
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return out;
}

// One refresh_token grant for `s` (this instance holds the lease, or the store
// is this process's own), stored before anything else happens.
asio::awaitable<RefreshOutcome> SessionManager::grant(Session& s, std::int64_t now) {
  RefreshOutcome out;
  const std::string& id = s.id;
  if (s.refresh_token.empty()) {
    co_await store_->erase(id);
    count_refresh("no_refresh_token");
    out.ec = auth_errc::session_ended;
    co_return out;
  }
  auto md = issuer_->metadata();
  const auto token_url = md ? common::parse_http_url(md->token_endpoint) : std::nullopt;
  if (!token_url) {
    count_refresh("error");
    out.ec = auth_errc::refresh_unavailable;
    co_return out;
  }
  const idp::IdpRequest req =
      client_request("grant_type=refresh_token&refresh_token=" + common::form_encode(s.refresh_token));
  const auto started = std::chrono::steady_clock::now();
  const idp::IdpResponse res = co_await idp::idp_exchange(*token_url, req, issuer_->client_options());
  token_endpoint_duration_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (res.ec && res.status >= 400 && res.status < 500) {
    const auto err = parse_token_error(res.body);  // RFC 6749 §5.2
    if (err && err->error != "invalid_grant")
      spdlog::warn("session refresh: token endpoint answered HTTP {} error={} ({})", res.status, err->error,
                   err->description);
    if (err && err->error == "invalid_grant") {
      co_await store_->erase(id);
      metrics_.sessions_active.Set(static_cast<double>(store_->size()));
      count_refresh("invalid_grant");
      spdlog::info("session refresh: invalid_grant ({}): the session ends", err->description);
      out.ec = auth_errc::session_ended;
      co_return out;
    }
  }
  if (res.ec) {
    count_refresh(res.ec == idp::idp_errc::timeout ? "timeout" : "error");
    spdlog::warn("session refresh failed: {}{}", res.ec.message(), idp::describe(res));
    out.ec = auth_errc::refresh_unavailable;
    co_return out;
  }
  auto parsed = parse_token_response(res.body, /*id_token_required=*/false);
  if (auto* violation = std::get_if<std::string>(&parsed)) {
    count_refresh("bad_response");
    spdlog::warn("session refresh: token response rejected: {}", *violation);
    out.ec = auth_errc::refresh_unavailable;
    co_return out;
  }
  TokenSet tokens = std::get<TokenSet>(std::move(parsed));
  // The rotated refresh token and the new access token are stored together.
  s.access_token = tokens.access_token;
  if (!tokens.refresh_token.empty()) s.refresh_token = tokens.refresh_token;
  if (!tokens.id_token.empty()) s.id_token = tokens.id_token;
  if (!tokens.scope.empty()) s.scope = tokens.scope;
  s.access_lifetime = tokens.expires_in.value_or(seconds(cfg_.expires_in_fallback));
  s.access_expires_at = now + s.access_lifetime;
  note_lifetime(s.access_lifetime);
  // update(), not save(): a session logged out meanwhile is not brought back.
  if (const std::error_code ec = co_await store_->update(s)) {
    if (ec == auth_errc::session_missing) {
      out.ec = ec;
      co_return out;
    }
    // The IdP has rotated the refresh token and the store lost the new one:
    // this request goes on with the new access token; the session's next
    // refresh will present the old refresh token (README: fleet mode).
    count_refresh("store_failed");
    spdlog::error("session refresh: the new tokens could not be stored ({})", ec.message());
    out.session = std::move(s);
    co_return out;
  }
  count_refresh("success");
  out.session = std::move(s);
  co_return out;
}

}  // namespace authgate::session
