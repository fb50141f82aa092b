#include "http/client_address.hpp"

#include <vector>

#include "common/ascii.hpp"

namespace authgate::http {

namespace asio = boost::asio;

namespace {

asio::ip::address unmapped(asio::ip::address a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<asio::ip::address> parse_forwarded_for_entry(std::string_view entry) {
  entry = trim(entry);
  if (entry.empty()) return std::nullopt;
  std::string_view host = entry;
  if (entry.front() == '[') {  // [v6] or [v6]:port
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = entry.substr(1, close - 1);
  } else if (const auto colon = entry.find(':');
             colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    host = entry.substr(0, colon);  // v4:port (a bare v6 has several colons)
  }
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return unmapped(a);
}

std::string client_address(const asio::ip::address& peer_in, const Fields& request, const IsTrusted& trusted) {
  asio::ip::address hop = unmapped(peer_in);
  if (!trusted(hop)) return hop.to_string();
  std::vector<std::string_view> entries;
  for (auto it = request.find("X-Forwarded-For"); it != request.end() && common::iequals(it->name_string(), "X-Forwarded-For");
       ++it)
    common::for_each_list_item(it->value(), [&](std::string_view item) { entries.push_back(item); });
  for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
    const auto a = parse_forwarded_for_entry(*e);
    if (!a) break;  // not an address: the last trusted hop answers
    hop = *a;
    if (!trusted(hop)) break;
  }
  return hop.to_string();
}

}  // namespace authgate::http
