// JSON parsing for assertions (Boost.JSON, compiled into the support library).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace support {

std::optional<boost::json::value> parse_json(std::string_view text);
std::optional<boost::json::object> parse_json_object(std::string_view text);

}  // namespace support
