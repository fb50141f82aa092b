#include "http/request_head.hpp"

#include <algorithm>
#include <cstdint>

namespace authgate::http {

void limit_request_parser(RequestParser& parser, const config::Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(limits.max_body_bytes);
}

HeadScan scan_request_head(std::string_view buffered, std::uint64_t max_header_bytes, std::size_t& scanned) {
  const auto end = buffered.find("\r\n\r\n", scanned);
  if (end != std::string_view::npos) {
    if (end + 4 > max_header_bytes) return HeadScan::too_large;
    return has_obs_fold(buffered.substr(0, end + 2)) ? HeadScan::obs_fold : HeadScan::complete;
  }
  // Without a blank line in the first max_header_bytes, the head cannot end within them.
  if (buffered.size() >= max_header_bytes) return HeadScan::too_large;
  scanned = buffered.size() >= 3 ? buffered.size() - 3 : 0;
  return HeadScan::incomplete;
}

bool has_obs_fold(std::string_view head) {
  return head.find("\n ") != std::string_view::npos || head.find("\n\t") != std::string_view::npos;
}

}  // namespace authgate::http
