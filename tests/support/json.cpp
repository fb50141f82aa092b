#include "support/json.hpp"

#include <boost/json/parse.hpp>

namespace support {

std::optional<boost::json::value> parse_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  if (ec) return std::nullopt;
  return v;
}

std::optional<boost::json::object> parse_json_object(std::string_view text) {
  auto v = parse_json(text);
  if (!v || !v->is_object()) return std::nullopt;
  return v->as_object();
}

}  // namespace support
