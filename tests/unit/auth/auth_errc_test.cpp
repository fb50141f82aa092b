// Unit tests for auth/auth_errc: every enumerator has a distinct message and a
// reason (habit 25), and the category plugs into std::error_code.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <system_error>

#include "auth/auth_errc.hpp"

namespace {

using namespace authgate::auth;

TEST(AuthErrc, EveryValueHasAUniqueMessageAndAReason) {
  std::set<std::string> messages;
  int count = 0;
  for (int v = static_cast<int>(kAuthErrcFirst); v <= static_cast<int>(kAuthErrcLast); ++v) {
    const std::error_code ec = static_cast<auth_errc>(v);
    ++count;
    EXPECT_TRUE(ec) << v;
    EXPECT_FALSE(ec.message().empty()) << v;
    EXPECT_NE(ec.message(), "unknown authentication error") << v;
    EXPECT_TRUE(messages.insert(ec.message()).second) << "duplicate message: " << ec.message();
    EXPECT_FALSE(reason(ec).empty()) << v;
    EXPECT_NE(reason(ec), "internal") << v;
    EXPECT_EQ(reason(ec), reason(static_cast<auth_errc>(v)));
  }
  EXPECT_EQ(count, 57);  // update together with the enum
}

TEST(AuthErrc, CategoryAndConversions) {
  const std::error_code ec = auth_errc::kid_unknown;
  EXPECT_STREQ(ec.category().name(), "authgate.auth");
  EXPECT_EQ(&ec.category(), &auth_category());
  EXPECT_EQ(ec, auth_errc::kid_unknown);
  EXPECT_NE(ec, auth_errc::signature_invalid);
  EXPECT_EQ(static_cast<int>(auth_errc::token_missing), 1);
  EXPECT_EQ(make_error_code(auth_errc::expired).value(), static_cast<int>(auth_errc::expired));
  EXPECT_EQ(std::error_code(static_cast<int>(kAuthErrcLast) + 1, auth_category()).message(),
            "unknown authentication error");
}

TEST(AuthErrc, ReasonsForMetrics) {
  EXPECT_EQ(reason(std::error_code{}), "ok");
  EXPECT_EQ(reason(std::make_error_code(std::errc::timed_out)), "internal");
  EXPECT_EQ(reason(auth_errc::token_missing), "missing");
  EXPECT_EQ(reason(auth_errc::token_malformed), "malformed");
  EXPECT_EQ(reason(auth_errc::signature_invalid), "bad_signature");
  EXPECT_EQ(reason(auth_errc::expired), "expired");
  EXPECT_EQ(reason(auth_errc::not_yet_valid), "not_yet_valid");
  EXPECT_EQ(reason(auth_errc::issuer_mismatch), "bad_issuer");
  EXPECT_EQ(reason(auth_errc::audience_mismatch), "bad_audience");
  EXPECT_EQ(reason(auth_errc::kid_unknown), "unknown_kid");
  EXPECT_EQ(reason(auth_errc::alg_not_allowed), "alg_not_allowed");
  EXPECT_EQ(reason(auth_errc::id_token_rejected), "id_token_rejected");
  EXPECT_EQ(reason(auth_errc::scope_insufficient), "insufficient_scope");
  EXPECT_EQ(reason(auth_errc::claim_mismatch), "missing_claim");
  EXPECT_EQ(reason(auth_errc::claims_not_allowed), "claim_mismatch");
  EXPECT_EQ(reason(auth_errc::request_malformed), "malformed_request");
  EXPECT_EQ(reason(auth_errc::introspection_inactive), "introspection_inactive");
  EXPECT_EQ(reason(auth_errc::jwks_unavailable), "jwks_unavailable");
  EXPECT_EQ(reason(auth_errc::session_store_unavailable), "session_store_unavailable");
  EXPECT_EQ(reason(auth_errc::token_revoked), "revoked");
  EXPECT_EQ(reason(auth_errc::dpop_replayed), "dpop_replayed");
  EXPECT_TRUE(is_dpop_proof_error(auth_errc::dpop_replayed));
  EXPECT_FALSE(is_dpop_proof_error(auth_errc::dpop_bound_token_as_bearer));
  EXPECT_FALSE(is_dpop_proof_error(auth_errc::expired));
}

}  // namespace
