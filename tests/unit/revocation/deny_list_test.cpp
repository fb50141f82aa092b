// Unit tests for revocation/deny_list: check() on jti and sub entries at their
// boundaries (jti: refused while now <= until + the issuer's leeway; sub:
// refused when iat <= before, or without an iat), add() merging, prune(), the Redis hash field form, the
// admin API's JSON (every accepted form and one test per rejection) and the
// JSON the API answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "revocation/deny_list.hpp"

namespace {

using authgate::revocation::DenyEntry;
using authgate::revocation::DenyList;
using authgate::revocation::entries_json;
using authgate::revocation::entry_json;
using authgate::revocation::kind_name;
using authgate::revocation::parse_revocation;
using authgate::revocation::ParsedRevocation;
using Kind = DenyEntry::Kind;

constexpr std::optional<Kind> kNotRevoked = std::nullopt;

bool same(const DenyEntry& a, const DenyEntry& b) {
  return a.kind == b.kind && a.value == b.value && a.before == b.before && a.until == b.until;
}

std::vector<DenyEntry> sorted_entries(const DenyList& l) {
  auto v = l.entries();
  std::sort(v.begin(), v.end(), [](const DenyEntry& a, const DenyEntry& b) {
    return std::tie(a.kind, a.value) < std::tie(b.kind, b.value);
  });
  return v;
}

// ---------------------------------------------------------------------------
// check()

TEST(DenyListCheck, JtiIsRevokedUntilItsUntilInclusive) {
  DenyList l;
  l.add(DenyEntry::jti("j1", 1000));
  EXPECT_EQ(l.check("j1", "alice", 900, 500), Kind::jti);
  EXPECT_EQ(l.check("j1", "alice", 900, 1000), Kind::jti);
  EXPECT_EQ(l.check("j1", "alice", 900, 1001), kNotRevoked);
}

TEST(DenyListCheck, JtiMatchesWithoutSubOrIat) {
  DenyList l;
  l.add(DenyEntry::jti("j1", 1000));
  EXPECT_EQ(l.check("j1", "", std::nullopt, 10), Kind::jti);
}

TEST(DenyListCheck, UnrelatedJtiIsNotRevoked) {
  DenyList l;
  l.add(DenyEntry::jti("j1", 1000));
  EXPECT_EQ(l.check("j2", "alice", 900, 10), kNotRevoked);
  EXPECT_EQ(l.check("", "alice", 900, 10), kNotRevoked);
  EXPECT_EQ(l.check("j1x", "alice", 900, 10), kNotRevoked);
}

TEST(DenyListCheck, SubWithIatBeforeTheCutOffIsRevoked) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "alice", 999, 2000), Kind::sub);
}

// iat has whole seconds: a token issued in the second of the revocation may
// have been issued before it, so it is refused (the rule is iat <= before).
TEST(DenyListCheck, SubTokenIssuedInTheSameSecondAsTheRevocationIsRevoked) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "alice", 1000, 1000), Kind::sub);
  EXPECT_EQ(l.check("j", "alice", 1000, 2000), Kind::sub);
}

TEST(DenyListCheck, SubWithIatAfterTheCutOffIsNotRevoked) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "alice", 1001, 2000), kNotRevoked);
}

TEST(DenyListCheck, SubWithoutIatIsRevoked) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "alice", std::nullopt, 2000), Kind::sub);
}

TEST(DenyListCheck, SubEntryEndsAfterItsUntil) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "alice", 999, 90000), Kind::sub);
  EXPECT_EQ(l.check("j", "alice", 999, 90001), kNotRevoked);
}

// A token verifies until exp + its issuer's leeway: its jti entry (until = exp)
// must refuse it that long too.
TEST(DenyListCheck, RevokedJtiIsStillRefusedDuringTheIssuersLeewayAfterExp) {
  DenyList l;
  l.add(DenyEntry::jti("j1", 1000));
  EXPECT_EQ(l.check("j1", "alice", 900, 1001, 30), Kind::jti);
  EXPECT_EQ(l.check("j1", "alice", 900, 1030, 30), Kind::jti);
  EXPECT_EQ(l.check("j1", "alice", 900, 1031, 30), kNotRevoked);  // the token no longer verifies either
  EXPECT_EQ(l.check("j1", "alice", 900, 1001, 0), kNotRevoked);
  EXPECT_EQ(l.check("j1", "alice", 900, 1001, -5), kNotRevoked);  // a negative leeway is none
}

TEST(DenyListCheck, RevokedSubIsStillRefusedDuringTheIssuersLeewayAfterTheEntrysUntil) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "alice", 999, 90030, 30), Kind::sub);
  EXPECT_EQ(l.check("j", "alice", 999, 90031, 30), kNotRevoked);
}

TEST(DenyListCheck, UnrelatedSubIsNotRevoked) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  EXPECT_EQ(l.check("j", "bob", 999, 2000), kNotRevoked);
  EXPECT_EQ(l.check("j", "bob", std::nullopt, 2000), kNotRevoked);
  EXPECT_EQ(l.check("j", "", std::nullopt, 2000), kNotRevoked);
  EXPECT_EQ(l.check("j", "Alice", 999, 2000), kNotRevoked);  // exact match only
}

TEST(DenyListCheck, EmptyListRevokesNothing) {
  const DenyList l;
  EXPECT_EQ(l.check("j", "alice", std::nullopt, 0), kNotRevoked);
  EXPECT_EQ(l.size(), 0u);
}

TEST(DenyListCheck, AJtiEntryDoesNotRevokeASubOfTheSameValue) {
  DenyList l;
  l.add(DenyEntry::jti("alice", 1000));
  EXPECT_EQ(l.check("other", "alice", std::nullopt, 10), kNotRevoked);
  DenyList m;
  m.add(DenyEntry::sub("j1", 1000, 90000));
  EXPECT_EQ(m.check("j1", "bob", 1, 10), kNotRevoked);
}

// ---------------------------------------------------------------------------
// add()

TEST(DenyListAdd, JtiKeepsTheLaterUntil) {
  DenyList l;
  l.add(DenyEntry::jti("j1", 1000));
  l.add(DenyEntry::jti("j1", 500));  // earlier: ignored
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.entries()[0].until, 1000);
  EXPECT_EQ(l.check("j1", "", std::nullopt, 800), Kind::jti);
  l.add(DenyEntry::jti("j1", 2000));  // later: extends
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.entries()[0].until, 2000);
  EXPECT_EQ(l.check("j1", "", std::nullopt, 1500), Kind::jti);
}

TEST(DenyListAdd, SubKeepsTheLaterBefore) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  l.add(DenyEntry::sub("alice", 500, 80000));  // earlier cut-off: ignored
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.entries()[0].before, 1000);
  EXPECT_EQ(l.entries()[0].until, 90000);
  EXPECT_EQ(l.check("j", "alice", 700, 2000), Kind::sub);
  l.add(DenyEntry::sub("alice", 3000, 95000));  // later cut-off: replaces
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.entries()[0].before, 3000);
  EXPECT_EQ(l.entries()[0].until, 95000);
  EXPECT_EQ(l.check("j", "alice", 2500, 4000), Kind::sub);
  EXPECT_EQ(l.check("j", "alice", 3000, 4000), Kind::sub);  // same second: refused
  EXPECT_EQ(l.check("j", "alice", 3001, 4000), kNotRevoked);
}

TEST(DenyListAdd, SubWithALaterBeforeNeverShortensUntil) {
  DenyList l;
  l.add(DenyEntry::sub("alice", 1000, 90000));
  l.add(DenyEntry::sub("alice", 2000, 50000));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l.entries()[0].before, 2000);
  EXPECT_EQ(l.entries()[0].until, 90000);
}

TEST(DenyListAdd, JtiAndSubOfTheSameValueAreSeparateEntries) {
  DenyList l;
  l.add(DenyEntry::jti("x", 1000));
  l.add(DenyEntry::sub("x", 10, 1000));
  EXPECT_EQ(l.size(), 2u);
}

// ---------------------------------------------------------------------------
// prune() and entries()

TEST(DenyListPrune, DropsOnlyExpiredEntriesAndCountsThem) {
  DenyList l;
  l.add(DenyEntry::jti("a", 100));
  l.add(DenyEntry::jti("b", 200));
  l.add(DenyEntry::sub("s", 10, 150));
  l.add(DenyEntry::sub("t", 10, 300));
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l.prune(100), 0u);  // until == now is still live
  EXPECT_EQ(l.prune(150), 1u);  // a (100)
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.check("a", "", std::nullopt, 0), kNotRevoked);  // gone, whatever the time
  EXPECT_EQ(l.check("b", "", std::nullopt, 150), Kind::jti);
  EXPECT_EQ(l.check("", "s", std::nullopt, 150), Kind::sub);
  EXPECT_EQ(l.prune(201), 2u);  // b (200), s (150)
  const auto left = l.entries();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(same(left[0], DenyEntry::sub("t", 10, 300)));
  EXPECT_EQ(l.prune(201), 0u);
  EXPECT_EQ(l.prune(301), 1u);
  EXPECT_EQ(l.size(), 0u);
}

TEST(DenyListEntries, ListsEveryEntryWithItsFields) {
  DenyList l;
  l.add(DenyEntry::jti("j1", 100));
  l.add(DenyEntry::sub("alice", 10, 200));
  l.add(DenyEntry::jti("j2", 300));
  const auto e = sorted_entries(l);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_TRUE(same(e[0], DenyEntry::jti("j1", 100)));
  EXPECT_TRUE(same(e[1], DenyEntry::jti("j2", 300)));
  EXPECT_TRUE(same(e[2], DenyEntry::sub("alice", 10, 200)));
}

TEST(DenyEntryKind, Names) {
  EXPECT_EQ(kind_name(Kind::jti), "jti");
  EXPECT_EQ(kind_name(Kind::sub), "sub");
}

// ---------------------------------------------------------------------------
// The Redis hash field form.

TEST(DenyEntryField, JtiToField) {
  EXPECT_EQ(DenyEntry::jti("0f3c", 1767225600).to_field(),
            (std::pair<std::string, std::string>{"jti:0f3c", "1767225600"}));
}

TEST(DenyEntryField, SubToField) {
  EXPECT_EQ(DenyEntry::sub("alice", 1767225600, 1767312000).to_field(),
            (std::pair<std::string, std::string>{"sub:alice", "1767225600:1767312000"}));
}

TEST(DenyEntryField, RoundTrips) {
  for (const DenyEntry& e : {DenyEntry::jti("0f3c", 1767225600), DenyEntry::sub("alice", 1767225600, 1767312000),
                             DenyEntry::sub("auth0|user:with:colons", 5, 6), DenyEntry::jti("j:k", 0)}) {
    const auto [field, value] = e.to_field();
    const auto back = DenyEntry::from_field(field, value);
    ASSERT_TRUE(back.has_value()) << field << " = " << value;
    EXPECT_TRUE(same(*back, e)) << field << " = " << value;
  }
}

TEST(DenyEntryField, RefusesAnUnknownPrefix) {
  EXPECT_FALSE(DenyEntry::from_field("iss:x", "1").has_value());
  EXPECT_FALSE(DenyEntry::from_field("JTI:x", "1").has_value());
  EXPECT_FALSE(DenyEntry::from_field("jti", "1").has_value());
  EXPECT_FALSE(DenyEntry::from_field("", "1").has_value());
}

TEST(DenyEntryField, RefusesAnEmptyJtiOrSub) {
  EXPECT_FALSE(DenyEntry::from_field("jti:", "1").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:", "1:2").has_value());
}

TEST(DenyEntryField, RefusesAnEmptyValue) {
  EXPECT_FALSE(DenyEntry::from_field("jti:x", "").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", "").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", ":").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", "1:").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", ":2").has_value());
}

TEST(DenyEntryField, RefusesANonNumericValue) {
  EXPECT_FALSE(DenyEntry::from_field("jti:x", "abc").has_value());
  EXPECT_FALSE(DenyEntry::from_field("jti:x", "12a").has_value());
  EXPECT_FALSE(DenyEntry::from_field("jti:x", "1.5").has_value());
  EXPECT_FALSE(DenyEntry::from_field("jti:x", " 12").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", "a:2").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", "1:2b").has_value());
  EXPECT_FALSE(DenyEntry::from_field("sub:x", "1:2:3").has_value());
}

TEST(DenyEntryField, RefusesASubValueWithoutAColon) {
  EXPECT_FALSE(DenyEntry::from_field("sub:x", "12").has_value());
}

// ---------------------------------------------------------------------------
// parse_revocation: accepted forms (now = 1000, sub_ttl = 86400).

constexpr std::int64_t kNow = 1000;
constexpr std::int64_t kTtl = 86400;

void expect_entry(const ParsedRevocation& r, const DenyEntry& want) {
  EXPECT_EQ(r.error, "");
  ASSERT_TRUE(r.entry.has_value());
  EXPECT_EQ(r.entry->kind, want.kind);
  EXPECT_EQ(r.entry->value, want.value);
  EXPECT_EQ(r.entry->before, want.before);
  EXPECT_EQ(r.entry->until, want.until);
}

TEST(ParseRevocation, JtiWithExp) {
  expect_entry(parse_revocation(R"({"jti": "0f3c", "exp": 1767225600})", kNow, kTtl),
               DenyEntry::jti("0f3c", 1767225600));
}

TEST(ParseRevocation, JtiWithoutExpLastsTheTtlFromNow) {
  expect_entry(parse_revocation(R"({"jti": "0f3c"})", kNow, kTtl), DenyEntry::jti("0f3c", kNow + kTtl));
}

TEST(ParseRevocation, SubWithoutBeforeCutsAtNow) {
  expect_entry(parse_revocation(R"({"sub": "alice"})", kNow, kTtl), DenyEntry::sub("alice", kNow, kNow + kTtl));
}

TEST(ParseRevocation, SubWithAFutureBeforeIsKeptUntilBeforePlusTtl) {
  expect_entry(parse_revocation(R"({"sub": "alice", "before": 5000})", kNow, kTtl),
               DenyEntry::sub("alice", 5000, 5000 + kTtl));
}

// The header says "kept until before + sub_ttl"; the code keeps a past cut-off
// until now + sub_ttl (longer, so never unsafe). Pinned to what the code does.
TEST(ParseRevocation, SubWithAPastBeforeIsKeptAtLeastTheTtlFromNow) {
  const auto r = parse_revocation(R"({"sub": "alice", "before": 400})", kNow, kTtl);
  expect_entry(r, DenyEntry::sub("alice", 400, kNow + kTtl));
  ASSERT_TRUE(r.entry.has_value());
  EXPECT_GE(r.entry->until, r.entry->before + kTtl);  // a token issued before the cut-off cannot outlive it
}

TEST(ParseRevocation, ValueOfExactly1024BytesIsAccepted) {
  const std::string v(1024, 'a');
  expect_entry(parse_revocation(R"({"jti": ")" + v + R"(", "exp": 5})", kNow, kTtl), DenyEntry::jti(v, 5));
}

TEST(ParseRevocation, ZeroExpIsAccepted) {
  expect_entry(parse_revocation(R"({"jti": "j", "exp": 0})", kNow, kTtl), DenyEntry::jti("j", 0));
}

TEST(ParseRevocation, UnicodeValue) {
  expect_entry(parse_revocation(R"({"sub": "zoë\u00e9"})", kNow, kTtl),
               DenyEntry::sub("zoë\xc3\xa9", kNow, kNow + kTtl));
}

// ---------------------------------------------------------------------------
// parse_revocation: one test per rejection.

void expect_error(const ParsedRevocation& r, const std::string& message) {
  EXPECT_FALSE(r.entry.has_value());
  EXPECT_EQ(r.error, message);
}

TEST(ParseRevocationRejects, NotJson) {
  expect_error(parse_revocation("jti=0f3c", kNow, kTtl), "the body must be a JSON object");
  expect_error(parse_revocation("", kNow, kTtl), "the body must be a JSON object");
  expect_error(parse_revocation(R"({"jti": "0f3c")", kNow, kTtl), "the body must be a JSON object");
}

TEST(ParseRevocationRejects, NotAnObject) {
  expect_error(parse_revocation(R"(["jti", "0f3c"])", kNow, kTtl), "the body must be a JSON object");
  expect_error(parse_revocation(R"("0f3c")", kNow, kTtl), "the body must be a JSON object");
  expect_error(parse_revocation("null", kNow, kTtl), "the body must be a JSON object");
}

TEST(ParseRevocationRejects, BothJtiAndSub) {
  expect_error(parse_revocation(R"({"jti": "0f3c", "sub": "alice"})", kNow, kTtl),
               "give exactly one of \"jti\" or \"sub\"");
}

TEST(ParseRevocationRejects, NeitherJtiNorSub) {
  expect_error(parse_revocation("{}", kNow, kTtl), "give exactly one of \"jti\" or \"sub\"");
  expect_error(parse_revocation(R"({"exp": 5})", kNow, kTtl), "give exactly one of \"jti\" or \"sub\"");
}

TEST(ParseRevocationRejects, UnknownKey) {
  expect_error(parse_revocation(R"({"jti": "0f3c", "reason": "leaked"})", kNow, kTtl),
               "unknown key \"reason\" (expected jti with exp, or sub with before)");
}

TEST(ParseRevocationRejects, EmptyJti) {
  expect_error(parse_revocation(R"({"jti": ""})", kNow, kTtl),
               "jti must be a non-empty string of at most 1024 bytes");
}

TEST(ParseRevocationRejects, EmptySub) {
  expect_error(parse_revocation(R"({"sub": ""})", kNow, kTtl),
               "sub must be a non-empty string of at most 1024 bytes");
}

TEST(ParseRevocationRejects, ValueOver1024Bytes) {
  const std::string v(1025, 'a');
  expect_error(parse_revocation(R"({"jti": ")" + v + R"("})", kNow, kTtl),
               "jti must be a non-empty string of at most 1024 bytes");
  expect_error(parse_revocation(R"({"sub": ")" + v + R"("})", kNow, kTtl),
               "sub must be a non-empty string of at most 1024 bytes");
}

TEST(ParseRevocationRejects, NonStringValue) {
  expect_error(parse_revocation(R"({"jti": 42})", kNow, kTtl),
               "jti must be a non-empty string of at most 1024 bytes");
  expect_error(parse_revocation(R"({"sub": null})", kNow, kTtl),
               "sub must be a non-empty string of at most 1024 bytes");
}

TEST(ParseRevocationRejects, NonIntegerExp) {
  const std::string msg = "exp and before are unix times in whole seconds";
  expect_error(parse_revocation(R"({"jti": "j", "exp": 1.5})", kNow, kTtl), msg);
  expect_error(parse_revocation(R"({"jti": "j", "exp": "1767225600"})", kNow, kTtl), msg);
  expect_error(parse_revocation(R"({"jti": "j", "exp": null})", kNow, kTtl), msg);
  expect_error(parse_revocation(R"({"jti": "j", "exp": 18446744073709551615})", kNow, kTtl), msg);
}

TEST(ParseRevocationRejects, NegativeExp) {
  expect_error(parse_revocation(R"({"jti": "j", "exp": -1})", kNow, kTtl),
               "exp and before are unix times in whole seconds");
}

TEST(ParseRevocationRejects, NonIntegerOrNegativeBefore) {
  const std::string msg = "exp and before are unix times in whole seconds";
  expect_error(parse_revocation(R"({"sub": "s", "before": 2.5})", kNow, kTtl), msg);
  expect_error(parse_revocation(R"({"sub": "s", "before": -1})", kNow, kTtl), msg);
}

TEST(ParseRevocationRejects, BeforeWithJti) {
  expect_error(parse_revocation(R"({"jti": "j", "before": 5})", kNow, kTtl),
               "before goes with sub; a jti entry takes exp");
}

TEST(ParseRevocationRejects, ExpWithSub) {
  expect_error(parse_revocation(R"({"sub": "s", "exp": 5})", kNow, kTtl),
               "exp goes with jti; a sub entry takes before");
}

// ---------------------------------------------------------------------------
// The JSON the admin API answers.

TEST(EntryJson, Jti) {
  EXPECT_EQ(entry_json(DenyEntry::jti("0f3c", 1767225600)),
            R"({"kind":"jti","value":"0f3c","until":1767225600})");
}

TEST(EntryJson, Sub) {
  EXPECT_EQ(entry_json(DenyEntry::sub("alice", 1767225600, 1767312000)),
            R"({"kind":"sub","value":"alice","before":1767225600,"until":1767312000})");
}

TEST(EntryJson, EscapesTheValue) {
  EXPECT_EQ(entry_json(DenyEntry::jti("a\"b\\c", 1)), R"({"kind":"jti","value":"a\"b\\c","until":1})");
}

TEST(EntriesJson, Empty) { EXPECT_EQ(entries_json({}), R"({"entries":[]})"); }

TEST(EntriesJson, SeveralInOrder) {
  EXPECT_EQ(entries_json({DenyEntry::jti("j", 5), DenyEntry::sub("s", 1, 2)}),
            R"({"entries":[{"kind":"jti","value":"j","until":5},{"kind":"sub","value":"s","before":1,"until":2}]})");
}

}  // namespace
