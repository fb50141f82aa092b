// The client address that per-client limits key on (the login rate limit).
//
//   std::string key = client_address(peer, request, [&](const auto& a) { return rt.is_trusted_proxy(a); });
//
// Rules:
// - From a peer outside listen.trusted_proxies: the peer address, whatever
//   X-Forwarded-For says (a client can write anything there).
// - From a trusted proxy: X-Forwarded-For (every field, comma lists, in order)
//   read from the right, skipping addresses that are themselves trusted
//   proxies; the first untrusted one is the client. Entries may carry a port
//   ("192.0.2.1:4711", "[2001:db8::1]:4711"). An entry that is not an address
//   stops the walk: the last trusted hop before it is the answer (never the
//   raw text, which the client may have written). All trusted, or no header:
//   the leftmost trusted hop (the peer when there is no header).
// - IPv4-mapped IPv6 addresses are written as IPv4.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/header_hygiene.hpp"

namespace authgate::http {

using IsTrusted = std::function<bool(const boost::asio::ip::address&)>;

std::string client_address(const boost::asio::ip::address& peer, const Fields& request, const IsTrusted& trusted);

// One X-Forwarded-For entry as an address (port and brackets removed), or nullopt.
std::optional<boost::asio::ip::address> parse_forwarded_for_entry(std::string_view entry);

}  // namespace authgate::http
