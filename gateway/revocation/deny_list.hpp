// The deny-list of revoked tokens (pure: no I/O, no clock). Two kinds of entry:
//   jti J until E        the token whose jti is J is refused until E (its exp)
//                        plus the issuer's leeway
//   sub S before B       every token of subject S issued at or before B
//                        (iat <= B, whole seconds) is refused; the entry is kept
//                        until max(B, now) + revocation.sub_ttl (the longest
//                        lifetime a token of S can have, counted from when the
//                        entry was made), plus the issuer's leeway
// A token of a revoked sub without an iat cannot show it was issued after B,
// so it is refused too.
//
// The rules at their edges:
// - Leeway: a token verifies until exp + the issuer's leeway (clock skew), so
//   its deny-list entry must last as long: check() takes the leeway of the
//   token's issuer and refuses while now <= until + leeway. Entries are
//   dropped (prune) only once past until + the largest leeway of any issuer.
// - Same second: iat has whole seconds, so a token issued in the second of the
//   revocation (iat == B) cannot be told apart from one issued just before it:
//   it is refused. A subject gets a usable token again from second B + 1.
// - Sessions: a browser session of S that logged in at or before B (its
//   created_at <= B) is ended at its next request (session/session_manager.hpp),
//   the same rule with the login time for iat.
//
// Usage:
//   DenyList list;
//   list.add(DenyEntry::jti("0f3c", exp));
//   list.add(DenyEntry::sub("alice", now, now + sub_ttl));
//   if (auto kind = list.check(jti, sub, iat, now, leeway)) deny(*kind == DenyEntry::Kind::jti ? ...);
//
// The Redis form (revocation/revocation_service.cpp) is one hash: field
// "jti:<J>" -> "<E>", field "sub:<S>" -> "<B>:<until>"; to_field / from_field
// convert.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace authgate::revocation {

struct DenyEntry {
  enum class Kind { jti, sub };
  Kind kind = Kind::jti;
  std::string value;         // the jti or the sub
  std::int64_t before = 0;   // sub: tokens issued before this (unix seconds)
  std::int64_t until = 0;    // the entry is dropped after this (unix seconds)

  static DenyEntry jti(std::string v, std::int64_t exp) { return {Kind::jti, std::move(v), 0, exp}; }
  static DenyEntry sub(std::string v, std::int64_t before, std::int64_t until) {
    return {Kind::sub, std::move(v), before, until};
  }

  std::pair<std::string, std::string> to_field() const;
  static std::optional<DenyEntry> from_field(std::string_view field, std::string_view value);
};

std::string_view kind_name(DenyEntry::Kind k);

class DenyList {
 public:
  // A newer sub entry with a later `before` replaces an older one; a jti entry
  // keeps the later `until`.
  void add(const DenyEntry& e);
  // `leeway`: the token's issuer's (seconds); an entry applies while now <= until + leeway.
  std::optional<DenyEntry::Kind> check(std::string_view jti, std::string_view sub, std::optional<std::int64_t> iat,
                                       std::int64_t now, std::int64_t leeway = 0) const;
  std::size_t prune(std::int64_t now);  // drops entries past `until`; returns how many
  std::size_t size() const { return jti_.size() + sub_.size(); }
  std::vector<DenyEntry> entries() const;

 private:
  std::unordered_map<std::string, std::int64_t> jti_;  // jti -> until
  std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> sub_;  // sub -> (before, until)
};

}  // namespace authgate::revocation

namespace authgate::revocation {

// The admin API's JSON (POST /revocations), pure:
//   {"jti": "J", "exp": 1767225600}      exp optional: now + default_ttl
//   {"sub": "S", "before": 1767225600}   before optional: now; kept until max(before, now) + sub_ttl
// Answers the entry, or a message naming what is wrong.
struct ParsedRevocation {
  std::optional<DenyEntry> entry;
  std::string error;
};
ParsedRevocation parse_revocation(std::string_view json, std::int64_t now, std::int64_t sub_ttl_seconds);
std::string entry_json(const DenyEntry& e);                     // one entry as a JSON object
std::string entries_json(const std::vector<DenyEntry>& entries);  // {"entries":[...]}

}  // namespace authgate::revocation
