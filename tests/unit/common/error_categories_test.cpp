// The categories of every module's error enum, built with common/error_category:
// their names and every message, as they were when each was a hand-written class
// (logs, metrics labels and tests print them, so a change here is visible), and
// the message of a value outside the enum.
#include <gtest/gtest.h>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "auth/auth_errc.hpp"
#include "idp/http_client.hpp"
#include "net/upstream_pool.hpp"
#include "redis/redis_errc.hpp"
#include "revocation/revocation_service.hpp"
#include "routing/host.hpp"
#include "routing/path.hpp"

namespace {

using authgate::auth::auth_errc;
using authgate::idp::idp_errc;
using authgate::net::upstream_errc;
using authgate::redis::redis_errc;
using authgate::revocation::revocation_errc;
using authgate::routing::host_errc;
using authgate::routing::path_errc;

// Every enumerator's code: the category's name, its message; then a value past
// the last enumerator: the fallback message.
template <class Enum>
void expect_category(const char* name, const std::vector<std::pair<Enum, const char*>>& messages,
                     const char* fallback) {
  int last = 0;
  for (const auto& [e, message] : messages) {
    const auto ec = make_error_code(e);
    EXPECT_STREQ(ec.category().name(), name) << message;
    EXPECT_EQ(ec.message(), message) << name << " " << static_cast<int>(e);
    last = std::max(last, static_cast<int>(e));
  }
  const auto& category = make_error_code(messages.front().first).category();
  EXPECT_EQ(category.message(last + 1), fallback) << name;
}

TEST(ErrorCategories, AuthErrc) {
  expect_category<auth_errc>("authgate.auth", {
    {auth_errc::token_missing, "no bearer token in the request"},
    {auth_errc::token_malformed, "token is malformed"},
    {auth_errc::alg_not_allowed, "token algorithm is not allowed"},
    {auth_errc::crit_unsupported, "token has critical header parameters"},
    {auth_errc::kid_unknown, "no key matches the token's key id"},
    {auth_errc::key_mismatch, "key cannot verify the token's algorithm"},
    {auth_errc::signature_invalid, "token signature is invalid"},
    {auth_errc::expired, "token has expired"},
    {auth_errc::not_yet_valid, "token is not yet valid"},
    {auth_errc::issued_in_future, "token is issued in the future"},
    {auth_errc::issuer_mismatch, "token issuer is not accepted"},
    {auth_errc::audience_mismatch, "token audience is not accepted"},
    {auth_errc::type_not_allowed, "token type is not accepted"},
    {auth_errc::id_token_rejected, "an ID token is not an access token"},
    {auth_errc::scope_insufficient, "token lacks a required scope"},
    {auth_errc::claim_mismatch, "token claims do not satisfy the policy"},
    {auth_errc::jwks_unavailable, "no signing keys are available for the issuer"},
    {auth_errc::introspection_inactive, "token is not active"},
    {auth_errc::introspection_failed, "token introspection failed"},
    {auth_errc::jwks_malformed, "key set document is malformed"},
    {auth_errc::jwk_unsupported, "key type or algorithm is not supported"},
    {auth_errc::jwk_invalid, "key parameters are invalid"},
    {auth_errc::jwk_too_weak, "key is too small"},
    {auth_errc::jwks_no_usable_keys, "key set has no usable keys"},
    {auth_errc::request_malformed, "malformed Authorization header"},
    {auth_errc::claims_not_allowed, "token claims do not satisfy the route policy"},
    {auth_errc::session_missing, "no valid session"},
    {auth_errc::session_ended, "the session has ended"},
    {auth_errc::csrf_rejected, "cross-site request refused"},
    {auth_errc::refresh_unavailable, "the session's tokens cannot be refreshed now"},
    {auth_errc::session_store_unavailable, "the session store is unavailable"},
    {auth_errc::token_revoked, "the token has been revoked"},
    {auth_errc::introspection_busy, "too many introspection calls in flight"},
    {auth_errc::user_authentication_insufficient, "the authentication is too weak or too old for this route"},
    {auth_errc::certificate_mismatch, "token is bound to a client certificate this request did not present"},
    {auth_errc::dpop_proof_missing, "no DPoP proof with a DPoP token"},
    {auth_errc::dpop_proof_repeated, "more than one DPoP proof"},
    {auth_errc::dpop_proof_malformed, "DPoP proof is malformed"},
    {auth_errc::dpop_type_invalid, "DPoP proof type is not dpop+jwt"},
    {auth_errc::dpop_alg_not_allowed, "DPoP proof algorithm is not allowed"},
    {auth_errc::dpop_jwk_invalid, "DPoP proof key is invalid"},
    {auth_errc::dpop_jwk_private, "DPoP proof key contains private members"},
    {auth_errc::dpop_signature_invalid, "DPoP proof signature is invalid"},
    {auth_errc::dpop_htm_mismatch, "DPoP proof method does not match the request"},
    {auth_errc::dpop_htu_mismatch, "DPoP proof URI does not match the request"},
    {auth_errc::dpop_iat_invalid, "DPoP proof is too old or issued in the future"},
    {auth_errc::dpop_ath_mismatch, "DPoP proof access token hash does not match"},
    {auth_errc::dpop_jkt_mismatch, "DPoP proof key is not the key the token is bound to"},
    {auth_errc::dpop_jti_missing, "DPoP proof has no usable jti"},
    {auth_errc::dpop_replayed, "DPoP proof has been used before"},
    {auth_errc::dpop_token_unbound, "a DPoP-bound token is required"},
    {auth_errc::dpop_bound_token_as_bearer, "a DPoP-bound token needs a DPoP proof"},
    {auth_errc::dpop_replay_unavailable, "the DPoP replay cache is unavailable"},
    {auth_errc::dpop_nonce_missing, "the DPoP proof has no nonce and the resource server requires one"},
    {auth_errc::dpop_nonce_malformed, "the DPoP proof nonce is malformed"},
    {auth_errc::dpop_nonce_stale, "the DPoP proof nonce has expired"},
    {auth_errc::dpop_nonce_invalid, "the DPoP proof nonce was not issued by this resource server"},
  }, "unknown authentication error");
}

TEST(ErrorCategories, IdpErrc) {
  expect_category<idp_errc>("authgate.idp", {
    {idp_errc::resolve_failed, "host name did not resolve"},
    {idp_errc::connect_failed, "connection failed"},
    {idp_errc::tls_failed, "TLS handshake or certificate verification failed"},
    {idp_errc::timeout, "timed out"},
    {idp_errc::io_failed, "connection broke mid-exchange"},
    {idp_errc::too_large, "response body over the size limit"},
    {idp_errc::bad_response, "malformed HTTP response"},
    {idp_errc::http_status, "non-2xx HTTP status"},
    {idp_errc::invalid_document, "invalid response document"},
  }, "unknown idp error");
}

TEST(ErrorCategories, RedisErrc) {
  expect_category<redis_errc>("redis", {
    {redis_errc::unavailable, "redis unavailable"},
    {redis_errc::timeout, "redis command timed out"},
    {redis_errc::connection_lost, "redis connection lost"},
    {redis_errc::protocol, "redis protocol error"},
    {redis_errc::reply_too_large, "redis reply too large"},
    {redis_errc::server_error, "redis error reply"},
    {redis_errc::shutting_down, "redis client shutting down"},
  }, "redis error");
}

TEST(ErrorCategories, PathErrc) {
  expect_category<path_errc>("authgate.path", {
    {path_errc::not_origin_form, "request target is not an absolute path"},
    {path_errc::bad_escape, "malformed percent-escape in path"},
    {path_errc::encoded_separator, "encoded slash or backslash in path"},
    {path_errc::encoded_nul, "encoded NUL in path"},
    {path_errc::backslash, "backslash in path"},
    {path_errc::control_character, "control character in path"},
    {path_errc::fragment, "fragment in request target"},
    {path_errc::above_root, "dot-segments climb above the root"},
    {path_errc::semicolon, "semicolon (path parameter) in path"},
    {path_errc::invalid_utf8, "path is not well-formed UTF-8"},
  }, "unknown path error");
}

TEST(ErrorCategories, HostErrc) {
  expect_category<host_errc>("authgate.host", {
    {host_errc::empty, "empty Host"},
    {host_errc::userinfo, "userinfo (\"@\") in Host"},
    {host_errc::delimiter, "URL delimiter (\"/\", \"?\", \"#\", \"\\\") in Host"},
    {host_errc::percent_encoded, "percent-escape in Host"},
    {host_errc::bad_character, "character outside the host name grammar in Host"},
    {host_errc::bad_port, "Host port is not 1 to 5 digits up to 65535"},
    {host_errc::bad_ip_literal, "Host IP literal is not an IPv6 address"},
    {host_errc::ip_future, "Host IPvFuture literal"},
    {host_errc::too_long, "Host name longer than 255 characters"},
  }, "unknown Host error");
}

TEST(ErrorCategories, RevocationErrc) {
  expect_category<revocation_errc>("revocation", {
    {revocation_errc::list_full, "the deny-list is full (revocation.max_entries)"},
    {revocation_errc::store_unavailable, "the revocation store (Redis) is unavailable"},
  }, "revocation error");
}

TEST(ErrorCategories, UpstreamErrc) {
  expect_category<upstream_errc>("authgate.upstream", {
    {upstream_errc::pool_exhausted, "pool_exhausted"},
    {upstream_errc::resolve_failed, "resolve_failed"},
    {upstream_errc::connect_refused, "connect_refused"},
    {upstream_errc::connect_timeout, "connect_timeout"},
    {upstream_errc::tls_failed, "tls_failed"},
    {upstream_errc::send_failed, "send_failed"},
    {upstream_errc::response_timeout, "response_timeout"},
    {upstream_errc::bad_response, "bad_response"},
  }, "unknown");
}

}  // namespace
