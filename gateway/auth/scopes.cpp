#include "auth/scopes.hpp"

#include <boost/json/value.hpp>

namespace authgate::auth {

namespace {

namespace json = boost::json;

void append_scopes(const json::value& v, std::vector<std::string>& out) {
  if (const json::string* s = v.if_string()) {
    std::string_view rest(s->data(), s->size());
    while (!rest.empty()) {
      const std::size_t sp = rest.find(' ');
      const std::string_view token = rest.substr(0, sp);
      if (!token.empty()) out.emplace_back(token);
      if (sp == std::string_view::npos) break;
      rest.remove_prefix(sp + 1);
    }
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) {
      const json::string* es = e.if_string();
      if (es && !es->empty()) out.emplace_back(es->data(), es->size());
    }
  }
}

}  // namespace

std::vector<std::string> extract_scopes(const json::object& claims, std::string_view claim_name) {
  std::vector<std::string> out;
  const json::value* v = claims.if_contains(claim_name);
  if (!v || v->is_null()) v = claims.if_contains("scp");
  if (v) append_scopes(*v, out);
  return out;
}

}  // namespace authgate::auth
