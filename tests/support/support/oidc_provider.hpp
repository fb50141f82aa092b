// A real OpenID Provider for end-to-end tests: oidc-provider 9 under node
// (tests/oidc/provider.mjs), plain http on 127.0.0.1, issuer http://127.0.0.1:<port>.
// Signing keys are generated per instance (node's crypto, via `provider.mjs genkey`) into
// a temp dir; restart_with_rotated_key() restarts on the same port with [new, old] keys.
//
// Port: start() runs the provider with --port 0 and reads the port it got from its READY
// line, so port() and issuer() are known once start() succeeded (nothing picks a port
// that another process could take before the provider binds it). A restart must keep the
// port (the issuer names it): stop() in restart_with_rotated_key() takes the port over
// with a bound, non-listening SO_REUSEADDR socket as soon as the old listener is gone, and
// holds it from then on; node binds with SO_REUSEADDR next to it (see PortReservation).
//
// What the provider offers (see tests/oidc/provider.mjs):
//   clients      "authgate" (the gateway: introspects every token; its session client:
//                authorization_code with PKCE S256 required, refresh_token with rotation)
//                and "orders-cli" (an API consumer that tokens are issued to by default),
//                both client_credentials
//   resources    "https://orders.test" and "https://other.test": JWT access tokens with that
//                aud, scopes orders:read orders:write; no resource: an OPAQUE token with
//                aud https://orders.test (introspection only; JWTs cannot be introspected)
//   login        headless: /interaction/<uid> logs in as login_hint (default "alice", see
//                set_login()) and consents to everything, answering 303s only, so a
//                BrowserSession (support/browser.hpp) logs in by following redirects.
//                Accounts: sub = name, name "<Name> Tester", email <name>@example.test.
//   code flow    scope with an orders:* scope (or a resource): JWT access tokens for that
//                resource from the code exchange and each refresh; OIDC scopes only: opaque
//                userinfo access tokens. A refresh token on every code exchange (offline_access
//                or not); each refresh grant rotates it. oidc-provider quirks: presenting a
//                rotated (consumed) refresh token, or an authorization code a second time,
//                revokes the whole grant (every access and refresh token of that login);
//                revoking a refresh token (RFC 7009) revokes the whole grant too.
//   test hooks   stats() (counters kept by the provider), set_token_endpoint_mode() (503 /
//                hang / delay / 500 / garbage / huge), set_login(); see provider.mjs for the JSON.
//
// Usage:
//   if (auto why = support::OidcProvider::skip_reason()) GTEST_SKIP() << *why;
//   support::OidcProvider op;
//   ASSERT_TRUE(op.start());           // op.issuer() from here on
//   std::string jwt = op.client_credentials_token("https://orders.test", "orders:read");
//   ASSERT_FALSE(jwt.empty()) << op.last_error();
//   std::string opaque = op.client_credentials_token("", "orders:read");
//   auto info = op.introspect(opaque);  // {"active":true,...}
//   ASSERT_TRUE(op.restart_with_rotated_key());
//
// Session (code flow) usage, the gateway's callback URL known before start() (a
// GatewayProcess with reserve_port()), the gateway's config written after it (issuer()):
//   support::OidcProvider op;
//   op.options().redirect_uris = {"http://127.0.0.1:" + std::to_string(gw.port()) + "/oauth2/callback"};
//   op.options().access_token_ttl_s = 2;
//   ASSERT_TRUE(op.start());
//   ... support::BrowserSession b; b.follow_redirects(gateway_login_url) ...
//   auto s = op.stats();  ASSERT_TRUE(s) << op.last_error();
//   EXPECT_EQ(s->grant("refresh_token").success, 1);
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/browser.hpp"
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"

namespace support {

struct OidcProviderOptions {
  std::string alg = "RS256";  // JWT access-token signing: RS256, PS256 or ES256 (key type follows)
  int access_token_ttl_s = 600;  // --at-ttl: every access token (JWT and opaque), seconds
  // --redirect-uri: client "authgate"'s redirect_uris, matched exactly (port included);
  // empty: http://127.0.0.1/cb.
  std::vector<std::string> redirect_uris = {};
  // --post-logout-uri: client "authgate"'s post_logout_redirect_uris (RP-initiated logout).
  std::vector<std::string> post_logout_redirect_uris = {};
};

// The provider's counters (GET /__test/stats), since start or reset_stats().
struct OidcStats {
  struct Count {
    int success = 0;
    int error = 0;
    int total() const { return success + error; }
  };
  // Token endpoint requests oidc-provider handled, by grant_type (requests failed on
  // purpose by set_token_endpoint_mode() are not here; see token_endpoint_*).
  std::map<std::string, Count> grants;
  std::map<std::string, int> grant_errors;         // by RFC 6749 error code
  std::map<std::string, int> grant_error_details;  // by oidc-provider's error_detail, e.g.
                                                   // "refresh token already used"
  // Refresh grants that presented a rotated (already used) refresh token. Each one
  // revoked its whole grant: later uses of that family's tokens fail as "refresh token not
  // found" (counted in grant_error_details, not here).
  int refresh_token_reuse = 0;
  int grants_revoked = 0;  // whole grants revoked (reuse, code replay, RFC 7009 revocation)
  std::map<std::string, int> grants_revoked_by_route;  // "token", "revocation", ...
  Count revocations;  // RFC 7009 requests: 200 or not
  int revoked_refresh_tokens = 0;
  int revoked_access_tokens = 0;  // opaque user access tokens
  int revoked_client_credentials = 0;
  int token_endpoint_requests = 0;     // every POST /token that arrived, failed on purpose or not
  int token_endpoint_unavailable = 0;  // answered 503 by mode "503"
  int token_endpoint_hung = 0;         // held by mode "hang"
  std::map<std::string, int> token_endpoint_injected;  // those two, by grant_type
  std::string token_endpoint_mode;                     // "ok", "503" or "hang"
  Count authorizations;  // authorization endpoint outcomes (redirects with code / error)
  int logins = 0;        // login prompts the harness completed
  int consents = 0;      // consent prompts the harness completed
  int denied = 0;        // interactions ended with set_login()'s error
  int end_sessions = 0;  // RP-initiated logouts completed
  int server_errors = 0;
  boost::json::object raw;  // the whole document

  Count grant(std::string_view grant_type) const;  // zeros when absent
};

enum class TokenEndpointMode {
  ok,           // normal (after an optional delay)
  unavailable,  // 503 {"error":"temporarily_unavailable"} with Retry-After: 1
  hang,         // no answer until the client gives up or the mode changes (then the
                // connection is closed without a response)
  server_error,  // 500 {"error":"server_error"}
  garbage,       // 200 with a truncated JSON body
  huge,          // 200 with a 2 MiB (padded, otherwise valid) JSON token response
};

// An authorization request of the code flow (client "authgate" by default).
struct AuthorizeRequest {
  std::string redirect_uri;
  std::string scope = "openid profile email offline_access";
  std::string state;
  std::string nonce;
  std::string code_challenge;  // S256; empty: no PKCE parameters at all
  std::string resource;        // RFC 8707, optional
  std::string login_hint;      // the account the harness logs in as, optional
  std::string prompt;          // optional; note oidc-provider drops offline_access unless
                               // prompt is absent or includes consent
  std::string client_id = "authgate";
};

// The fields of a successful token response ("" / -1 when absent).
struct TokenSet {
  std::string access_token;
  std::string token_type;
  std::string refresh_token;
  std::string id_token;
  std::string scope;
  long long expires_in = -1;
};
// Parses a 200 token response; nullopt for anything else or without an access_token.
std::optional<TokenSet> parse_token_response(const std::optional<Response>& r);
// The "error" member of a JSON error body ("" when there is none).
std::string oauth_error(const std::optional<Response>& r);

// The provider's clients: "orders-cli" (tokens are issued to it by default; it may
// revoke them) and "authgate" (the gateway's client; it may introspect every token).
// cli: "orders-cli"; gateway: "authgate"; mtls: "orders-mtls" (cli's secret), whose tokens are
// bound to the client certificate of the token request (post_form's X-SSL-Client-Cert header).
enum class OidcClient { cli, gateway, mtls };

class OidcProvider {
 public:
  explicit OidcProvider(OidcProviderOptions opts = {});
  ~OidcProvider();
  OidcProvider(const OidcProvider&) = delete;
  OidcProvider& operator=(const OidcProvider&) = delete;

  // Why the provider cannot run here (node not on PATH), for GTEST_SKIP; nullopt when it can.
  static std::optional<std::string> skip_reason();

  // Installs tests/oidc/node_modules with `npm ci` when missing or stale (once, under a
  // file lock, bounded), generates the first key, spawns the provider on port 0 and waits
  // for its "READY <issuer> <host>:<port>" line.
  ::testing::AssertionResult start(Clock::duration ready_timeout = 15s);
  // Stops the provider and starts it again on the same port with a fresh key first and
  // the previous key second: new JWTs carry the new kid, the JWKS still lists the old one.
  ::testing::AssertionResult restart_with_rotated_key(Clock::duration ready_timeout = 15s);
  // SIGTERM, then SIGKILL after 5 s; true when it exited by itself on SIGTERM.
  bool stop();
  bool running();

  // Changes apply at the next start() / restart_with_rotated_key().
  OidcProviderOptions& options() { return opts_; }
  const OidcProviderOptions& options() const { return opts_; }

  // The provider's port and issuer, once start() succeeded (before: the test fails, 0 / "").
  // The same after restart_with_rotated_key().
  std::uint16_t port() const;
  std::string issuer() const;
  std::string client_id(OidcClient c) const;
  std::string client_secret(OidcClient c) const;
  const std::string& current_kid() const { return kids_.front(); }  // signs new JWTs
  // In the JWKS, newest first: the current key and, after a rotation, the previous one.
  const std::vector<std::string>& kids() const { return kids_; }
  const std::string& alg() const { return opts_.alg; }
  const TempDir& dir() const { return dir_; }

  // GET of a path (or a URL under issuer()) on the provider.
  std::optional<Response> get(std::string_view path_or_url, Clock::duration timeout = 5s);
  // The discovery document, or nullopt (see last_error()).
  std::optional<boost::json::object> discovery();
  // The kids the provider publishes at its jwks_uri (empty on failure, see last_error()).
  std::vector<std::string> published_kids();

  // POST of an application/x-www-form-urlencoded body to a path or URL under issuer(),
  // authenticated as `client` with client_secret_basic (or client_secret_post).
  // `extra_headers`: e.g. a DPoP proof (RFC 9449 §5) for a DPoP-bound token.
  std::optional<Response> post_form(std::string_view path_or_url, const EnvVars& form,
                                    OidcClient client, bool secret_post = false,
                                    Clock::duration timeout = 10s, const std::vector<Header>& extra_headers = {});
  // grant_type=client_credentials; `resource` empty: an opaque token, else a JWT for that
  // resource. Returns the access_token, or "" (see last_error()).
  std::string client_credentials_token(const std::string& resource, const std::string& scope,
                                       OidcClient client = OidcClient::cli);
  // RFC 7662 introspection (as "authgate" by default); nullopt on a non-200 reply.
  std::optional<boost::json::object> introspect(const std::string& token,
                                                OidcClient client = OidcClient::gateway);
  // RFC 7009 revocation (by "orders-cli", the client tokens are issued to by default).
  bool revoke(const std::string& token, OidcClient client = OidcClient::cli,
              const std::string& token_type_hint = "access_token");

  // ---- code flow (client "authgate") ----
  // The authorization endpoint URL with the request's parameters (response_type=code).
  std::string authorize_url(const AuthorizeRequest& req);
  // grant_type=authorization_code (client_secret_basic as "authgate").
  std::optional<Response> code_grant(const std::string& code, const std::string& redirect_uri,
                                     const std::string& code_verifier);
  // grant_type=refresh_token (client_secret_basic as "authgate").
  std::optional<Response> refresh_grant(const std::string& refresh_token,
                                        const std::string& scope = "");
  // The end_session_endpoint URL (RP-initiated logout); empty arguments are left out.
  std::string end_session_url(const std::string& id_token_hint,
                              const std::string& post_logout_redirect_uri = "",
                              const std::string& state = "");

  // ---- test hooks (provider.mjs /__test/ endpoints) ----
  std::optional<OidcStats> stats();
  bool reset_stats();
  // How POST /token behaves from now on; `delay_ms` delays normal answers (mode ok).
  bool set_token_endpoint_mode(TokenEndpointMode mode, int delay_ms = 0);
  // The account interactions log in as when the request has no login_hint ("alice"), or
  // an error (e.g. "access_denied") that every interaction ends with instead; reset by
  // set_login().
  bool set_login(const std::string& account = "alice", const std::string& error = "");

  const std::string& last_error() const { return last_error_; }
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  ::testing::AssertionResult ensure_node_modules();
  ::testing::AssertionResult generate_key(std::string* jwk_out);
  ::testing::AssertionResult write_jwks_and_spawn(Clock::duration ready_timeout);
  // SIGTERM (SIGKILL after 5 s); with `hold_port`, binds port_ (PortReservation, Share::
  // reuseaddr) as soon as the provider's listener has closed, polling every millisecond.
  bool stop_provider(bool hold_port);
  std::string endpoint_path(const char* metadata_name, const char* fallback);
  std::optional<Response> post_json(const std::string& path, const std::string& json);
  std::string path_of(std::string_view path_or_url) const;

  OidcProviderOptions opts_;
  TempDir dir_;
  std::string node_;
  std::uint16_t port_ = 0;  // from the READY line; 0 before the first start()
  std::optional<PortReservation> port_hold_;  // from the first restart on
  std::string gateway_secret_;
  std::string cli_secret_;
  std::vector<std::string> jwks_;  // private JWK texts, newest first (at most two)
  std::vector<std::string> kids_;
  int generation_ = 0;  // keys generated so far
  int run_ = 0;         // provider processes started so far (names their log files)
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string last_error_;
};

// The JSON object of a JWT's header (part 0) or payload (part 1); nullopt when `token`
// is not three base64url parts or that part is not a JSON object.
std::optional<boost::json::object> jwt_part(std::string_view token, int part);

// A string member of a JSON object, "" when absent or not a string.
std::string json_string(const boost::json::object& o, std::string_view key);

}  // namespace support
