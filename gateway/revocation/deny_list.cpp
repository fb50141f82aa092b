#include "revocation/deny_list.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace authgate::revocation {

namespace {

bool parse_int(std::string_view s, std::int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace

std::string_view kind_name(DenyEntry::Kind k) { return k == DenyEntry::Kind::jti ? "jti" : "sub"; }

std::pair<std::string, std::string> DenyEntry::to_field() const {
  if (kind == Kind::jti) return {"jti:" + value, std::to_string(until)};
  return {"sub:" + value, std::to_string(before) + ":" + std::to_string(until)};
}

std::optional<DenyEntry> DenyEntry::from_field(std::string_view field, std::string_view value) {
  DenyEntry e;
  if (field.starts_with("jti:") && field.size() > 4) {
    e.kind = Kind::jti;
    e.value = std::string(field.substr(4));
    if (!parse_int(value, e.until)) return std::nullopt;
    return e;
  }
  if (field.starts_with("sub:") && field.size() > 4) {
    e.kind = Kind::sub;
    e.value = std::string(field.substr(4));
    const auto colon = value.find(':');
    if (colon == std::string_view::npos || !parse_int(value.substr(0, colon), e.before) ||
        !parse_int(value.substr(colon + 1), e.until))
      return std::nullopt;
    return e;
  }
  return std::nullopt;
}

void DenyList::add(const DenyEntry& e) {
  if (e.kind == DenyEntry::Kind::jti) {
    auto& until = jti_[e.value];
    until = std::max(until, e.until);
  } else {
    auto [it, inserted] = sub_.try_emplace(e.value, e.before, e.until);
    if (!inserted && e.before >= it->second.first) it->second = {e.before, std::max(e.until, it->second.second)};
  }
}

std::optional<DenyEntry::Kind> DenyList::check(std::string_view jti, std::string_view sub,
                                               std::optional<std::int64_t> iat, std::int64_t now,
                                               std::int64_t leeway) const {
  leeway = std::max<std::int64_t>(leeway, 0);  // a negative leeway is none (auth/jwt_verifier.hpp)
  if (!jti.empty() && !jti_.empty()) {
    if (auto it = jti_.find(std::string(jti)); it != jti_.end() && now - leeway <= it->second)
      return DenyEntry::Kind::jti;
  }
  if (!sub.empty() && !sub_.empty()) {
    if (auto it = sub_.find(std::string(sub)); it != sub_.end() && now - leeway <= it->second.second &&
                                               (!iat || *iat <= it->second.first))
      return DenyEntry::Kind::sub;
  }
  return std::nullopt;
}

std::size_t DenyList::prune(std::int64_t now) {
  const std::size_t before = size();
  std::erase_if(jti_, [now](const auto& kv) { return kv.second < now; });
  std::erase_if(sub_, [now](const auto& kv) { return kv.second.second < now; });
  return before - size();
}

std::vector<DenyEntry> DenyList::entries() const {
  std::vector<DenyEntry> out;
  out.reserve(size());
  for (const auto& [v, until] : jti_) out.push_back(DenyEntry::jti(v, until));
  for (const auto& [v, bu] : sub_) out.push_back(DenyEntry::sub(v, bu.first, bu.second));
  return out;
}

}  // namespace authgate::revocation


namespace authgate::revocation {

namespace {

constexpr std::size_t kMaxValue = 1024;

boost::json::object to_object(const DenyEntry& e) {
  boost::json::object o;
  o["kind"] = std::string(kind_name(e.kind));
  o["value"] = e.value;
  if (e.kind == DenyEntry::Kind::sub) o["before"] = e.before;
  o["until"] = e.until;
  return o;
}

// An optional whole-number time; false when present and not one.
bool read_time(const boost::json::object& o, std::string_view key, std::optional<std::int64_t>& out) {
  const auto* v = o.if_contains(key);
  if (!v) return true;
  if (v->is_int64()) out = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) out = static_cast<std::int64_t>(v->get_uint64());
  else return false;
  return *out >= 0;
}

}  // namespace

ParsedRevocation parse_revocation(std::string_view json, std::int64_t now, std::int64_t sub_ttl_seconds) {
  ParsedRevocation r;
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) {
    r.error = "the body must be a JSON object";
    return r;
  }
  const auto& o = v.as_object();
  const auto* jti = o.if_contains("jti");
  const auto* sub = o.if_contains("sub");
  if ((jti != nullptr) == (sub != nullptr)) {
    r.error = "give exactly one of \"jti\" or \"sub\"";
    return r;
  }
  for (const auto& [key, value] : o)
    if (key != "jti" && key != "sub" && key != "exp" && key != "before") {
      r.error = "unknown key \"" + std::string(key) + "\" (expected jti with exp, or sub with before)";
      return r;
    }
  const auto* s = jti ? jti : sub;
  if (!s->is_string() || s->get_string().empty() || s->get_string().size() > kMaxValue) {
    r.error = std::string(jti ? "jti" : "sub") + " must be a non-empty string of at most 1024 bytes";
    return r;
  }
  std::optional<std::int64_t> exp, before;
  if (!read_time(o, "exp", exp) || !read_time(o, "before", before)) {
    r.error = "exp and before are unix times in whole seconds";
    return r;
  }
  if (jti && before) {
    r.error = "before goes with sub; a jti entry takes exp";
    return r;
  }
  if (sub && exp) {
    r.error = "exp goes with jti; a sub entry takes before";
    return r;
  }
  if (jti) {
    r.entry = DenyEntry::jti(std::string(s->get_string()), exp.value_or(now + sub_ttl_seconds));
  } else {
    const std::int64_t b = before.value_or(now);
    r.entry = DenyEntry::sub(std::string(s->get_string()), b, std::max(b, now) + sub_ttl_seconds);
  }
  return r;
}

std::string entry_json(const DenyEntry& e) { return boost::json::serialize(to_object(e)); }

std::string entries_json(const std::vector<DenyEntry>& entries) {
  boost::json::array a;
  for (const auto& e : entries) a.push_back(to_object(e));
  boost::json::object o;
  o["entries"] = std::move(a);
  return boost::json::serialize(o);
}

}  // namespace authgate::revocation
