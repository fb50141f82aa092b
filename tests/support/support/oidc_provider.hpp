// A real OpenID Provider for end-to-end tests: oidc-provider 9 under node
// (tests/oidc/provider.mjs), plain http on 127.0.0.1, issuer http://127.0.0.1:<port>.
// Signing keys are generated per instance (node's crypto, via `provider.mjs genkey`) into
// a temp dir; restart_with_rotated_key() restarts on the same port with [new, old] keys.
//
// What the provider offers (see tests/oidc/provider.mjs):
//   clients      "authgate" (the gateway: introspects every token) and "orders-cli" (an API
//                consumer that tokens are issued to by default), both client_credentials
//   resources    "https://orders.test" and "https://other.test": JWT access tokens with that
//                aud, scopes orders:read orders:write; no resource: an OPAQUE token with
//                aud https://orders.test (introspection only; JWTs cannot be introspected)
//
// Usage:
//   if (auto why = support::OidcProvider::skip_reason()) GTEST_SKIP() << *why;
//   support::OidcProvider op;
//   ASSERT_TRUE(op.start());
//   std::string jwt = op.client_credentials_token("https://orders.test", "orders:read");
//   ASSERT_FALSE(jwt.empty()) << op.last_error();
//   std::string opaque = op.client_credentials_token("", "orders:read");
//   auto info = op.introspect(opaque);  // {"active":true,...}
//   ASSERT_TRUE(op.restart_with_rotated_key());
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"

namespace support {

struct OidcProviderOptions {
  std::string alg = "RS256";  // JWT access-token signing: RS256, PS256 or ES256 (key type follows)
  int access_token_ttl_s = 600;
};

// The provider's clients: "orders-cli" (tokens are issued to it by default; it may
// revoke them) and "authgate" (the gateway's client; it may introspect every token).
enum class OidcClient { cli, gateway };

class OidcProvider {
 public:
  explicit OidcProvider(OidcProviderOptions opts = {});
  ~OidcProvider();
  OidcProvider(const OidcProvider&) = delete;
  OidcProvider& operator=(const OidcProvider&) = delete;

  // Why the provider cannot run here (node not on PATH), for GTEST_SKIP; nullopt when it can.
  static std::optional<std::string> skip_reason();

  // Installs tests/oidc/node_modules with `npm ci` when missing or stale (once, under a
  // file lock, bounded), generates the first key, spawns the provider and waits for
  // its "READY <issuer>" line.
  ::testing::AssertionResult start(Clock::duration ready_timeout = 15s);
  // Stops the provider and starts it again on the same port with a fresh key first and
  // the previous key second: new JWTs carry the new kid, the JWKS still lists the old one.
  ::testing::AssertionResult restart_with_rotated_key(Clock::duration ready_timeout = 15s);
  // SIGTERM, then SIGKILL after 5 s; true when it exited by itself on SIGTERM.
  bool stop();
  bool running();

  std::uint16_t port() const { return port_; }
  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(port_); }
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
  std::optional<Response> post_form(std::string_view path_or_url, const EnvVars& form,
                                    OidcClient client, bool secret_post = false,
                                    Clock::duration timeout = 10s);
  // grant_type=client_credentials; `resource` empty: an opaque token, else a JWT for that
  // resource. Returns the access_token, or "" (see last_error()).
  std::string client_credentials_token(const std::string& resource, const std::string& scope,
                                       OidcClient client = OidcClient::cli);
  // RFC 7662 introspection (as "authgate" by default); nullopt on a non-200 reply.
  std::optional<boost::json::object> introspect(const std::string& token,
                                                OidcClient client = OidcClient::gateway);
  // RFC 7009 revocation (by "orders-cli", the client tokens are issued to by default).
  bool revoke(const std::string& token, OidcClient client = OidcClient::cli);

  const std::string& last_error() const { return last_error_; }
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  ::testing::AssertionResult ensure_node_modules();
  ::testing::AssertionResult generate_key(std::string* jwk_out);
  ::testing::AssertionResult write_jwks_and_spawn(Clock::duration ready_timeout);
  std::string endpoint_path(const char* metadata_name, const char* fallback);
  std::string path_of(std::string_view path_or_url) const;

  OidcProviderOptions opts_;
  TempDir dir_;
  std::string node_;
  std::uint16_t port_ = 0;
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
