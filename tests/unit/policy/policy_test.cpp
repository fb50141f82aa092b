#include "policy/policy.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "auth/auth_errc.hpp"

namespace {

using authgate::auth::auth_errc;
using authgate::config::ClaimRule;
using authgate::config::Requirement;
using authgate::policy::evaluate;

boost::json::object claims(const char* json) { return boost::json::parse(json).as_object(); }

TEST(Policy, EmptyRequirementAllowsAnyValidToken) {
  EXPECT_FALSE(evaluate({}, {}, claims("{}"), nullptr));
}

TEST(Policy, ScopesAllNeedsEveryScopeAndNamesThemWhenMissing) {
  Requirement r;
  r.scopes_all = {"api.example.com:user.read", "read:users"};
  std::vector<std::string> have{"read:users", "api.example.com:user.read", "x"};
  EXPECT_FALSE(evaluate(r, have, claims("{}"), nullptr));
  std::string missing;
  std::vector<std::string> partial{"read:users"};
  EXPECT_EQ(evaluate(r, partial, claims("{}"), &missing), auth_errc::scope_insufficient);
  EXPECT_EQ(missing, "api.example.com:user.read read:users");
}

TEST(Policy, ScopesAnyNeedsOne) {
  Requirement r;
  r.scopes_any = {"a", "b"};
  std::vector<std::string> b{"b"}, c{"c"};
  EXPECT_FALSE(evaluate(r, b, claims("{}"), nullptr));
  EXPECT_EQ(evaluate(r, c, claims("{}"), nullptr), auth_errc::scope_insufficient);
}

TEST(Policy, ScopesAreOpaqueStringsNotPrefixes) {
  Requirement r;
  r.scopes_all = {"api:write"};
  std::vector<std::string> have{"api:write:extra", "api", "API:WRITE"};
  EXPECT_EQ(evaluate(r, have, claims("{}"), nullptr), auth_errc::scope_insufficient);
}

TEST(Policy, ClaimEqualsOneOfContainsAndBoolean) {
  Requirement r;
  r.claims = {ClaimRule{"region", {"eu", "ch"}}, ClaimRule{"email_verified", {"true"}},
              ClaimRule{"tier", {"3"}}};
  EXPECT_FALSE(evaluate(r, {}, claims(R"({"region":"ch","email_verified":true,"tier":3})"), nullptr));
  EXPECT_FALSE(evaluate(r, {}, claims(R"({"region":["us","eu"],"email_verified":true,"tier":3})"), nullptr));
  EXPECT_EQ(evaluate(r, {}, claims(R"({"region":"us","email_verified":true,"tier":3})"), nullptr),
            auth_errc::claims_not_allowed);
  EXPECT_EQ(evaluate(r, {}, claims(R"({"region":"eu","email_verified":false,"tier":3})"), nullptr),
            auth_errc::claims_not_allowed);
  EXPECT_EQ(evaluate(r, {}, claims(R"({"region":"eu","email_verified":"true","tier":4})"), nullptr),
            auth_errc::claims_not_allowed);
  EXPECT_EQ(evaluate(r, {}, claims(R"({"email_verified":true,"tier":3})"), nullptr),
            auth_errc::claims_not_allowed)
      << "an absent claim never satisfies a rule";
  EXPECT_EQ(evaluate(r, {}, claims(R"({"region":{"name":"eu"},"email_verified":true,"tier":3})"), nullptr),
            auth_errc::claims_not_allowed)
      << "objects never compare equal to text";
}

TEST(Policy, ScopesAreCheckedBeforeClaims) {
  Requirement r;
  r.scopes_all = {"a"};
  r.claims = {ClaimRule{"region", {"eu"}}};
  EXPECT_EQ(evaluate(r, {}, claims(R"({"region":"us"})"), nullptr), auth_errc::scope_insufficient);
}

// --- Step-up (RFC 9470): one test per way a token's authentication falls short -------------------

using authgate::policy::evaluate_authentication;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'700'000'000;

TEST(StepUp, NoAcrOrAgeRequirementAcceptsAnyToken) {
  EXPECT_FALSE(evaluate_authentication({}, claims("{}"), kNow));
}

TEST(StepUp, AnAcrAmongTheRequiredValuesPasses) {
  Requirement r;
  r.acr = {"urn:authgate:mfa", "urn:authgate:hwk"};
  EXPECT_FALSE(evaluate_authentication(r, claims(R"({"acr":"urn:authgate:hwk"})"), kNow));
}

TEST(StepUp, AnotherAcrIsInsufficientUserAuthentication) {
  Requirement r;
  r.acr = {"urn:authgate:mfa"};
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"acr":"urn:authgate:pwd"})"), kNow),
            auth_errc::user_authentication_insufficient);
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"acr":"URN:AUTHGATE:MFA"})"), kNow),
            auth_errc::user_authentication_insufficient)
      << "acr values compare exactly";
}

TEST(StepUp, AMissingAcrIsInsufficientUserAuthentication) {
  Requirement r;
  r.acr = {"urn:authgate:mfa"};
  EXPECT_EQ(evaluate_authentication(r, claims("{}"), kNow), auth_errc::user_authentication_insufficient);
}

TEST(StepUp, AnAcrThatIsNotAStringIsInsufficientUserAuthentication) {
  Requirement r;
  r.acr = {"1"};
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"acr":1})"), kNow), auth_errc::user_authentication_insufficient);
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"acr":["1"]})"), kNow), auth_errc::user_authentication_insufficient);
}

TEST(StepUp, AnAuthTimeWithinMaxAuthAgePassesUpToTheBoundary) {
  Requirement r;
  r.max_auth_age = 300s;
  EXPECT_FALSE(evaluate_authentication(r, claims(R"({"auth_time":1699999700})"), kNow)) << "exactly 300 s ago";
  EXPECT_FALSE(evaluate_authentication(r, claims(R"({"auth_time":1699999999})"), kNow));
}

TEST(StepUp, AnAuthTimeOlderThanMaxAuthAgeIsInsufficientUserAuthentication) {
  Requirement r;
  r.max_auth_age = 300s;
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"auth_time":1699999699})"), kNow),
            auth_errc::user_authentication_insufficient);
}

TEST(StepUp, AMissingAuthTimeIsInsufficientUserAuthenticationWhenAnAgeIsRequired) {
  Requirement r;
  r.max_auth_age = 300s;
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"iat":1700000000})"), kNow),
            auth_errc::user_authentication_insufficient)
      << "iat is when the token was issued, not when the user authenticated";
}

TEST(StepUp, AnAuthTimeThatIsNotAWholeNumberIsInsufficientUserAuthentication) {
  Requirement r;
  r.max_auth_age = 300s;
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"auth_time":"1699999999"})"), kNow),
            auth_errc::user_authentication_insufficient);
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"auth_time":1699999999.5})"), kNow),
            auth_errc::user_authentication_insufficient);
}

TEST(StepUp, AcrAndAgeMustBothHold) {
  Requirement r;
  r.acr = {"urn:authgate:mfa"};
  r.max_auth_age = 60s;
  EXPECT_FALSE(evaluate_authentication(r, claims(R"({"acr":"urn:authgate:mfa","auth_time":1699999990})"), kNow));
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"acr":"urn:authgate:mfa","auth_time":1699990000})"), kNow),
            auth_errc::user_authentication_insufficient);
  EXPECT_EQ(evaluate_authentication(r, claims(R"({"acr":"urn:authgate:pwd","auth_time":1699999990})"), kNow),
            auth_errc::user_authentication_insufficient);
}

}  // namespace
