// The client address of per-client limits (the login rate limit, issue 13).
#include "http/client_address.hpp"

#include <gtest/gtest.h>

namespace authgate::http {
namespace {

namespace asio = boost::asio;

asio::ip::address ip(const char* s) { return asio::ip::make_address(s); }

// 10.0.0.0/8 and ::1 are the trusted proxies.
bool trusted(const asio::ip::address& a) {
  if (a.is_v4()) return (a.to_v4().to_uint() >> 24) == 10;
  return a == ip("::1");
}

Fields xff(std::initializer_list<const char*> values) {
  Fields f;
  for (auto v : values) f.insert("X-Forwarded-For", v);
  return f;
}

TEST(ClientAddress, SpoofedForwardedForFromAnUntrustedPeerIsIgnored) {
  EXPECT_EQ(client_address(ip("198.51.100.7"), xff({"203.0.113.1"}), trusted), "198.51.100.7");
  EXPECT_EQ(client_address(ip("198.51.100.7"), Fields{}, trusted), "198.51.100.7");
}

TEST(ClientAddress, TrustedProxyGivesTheRightmostUntrustedEntry) {
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"203.0.113.1"}), trusted), "203.0.113.1");
  // The client wrote "1.2.3.4" itself; the load balancer appended its peer.
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"1.2.3.4, 203.0.113.1, 10.0.0.9"}), trusted), "203.0.113.1");
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"1.2.3.4", "203.0.113.1"}), trusted), "203.0.113.1");
}

TEST(ClientAddress, ForwardedForWithPortsAndBrackets) {
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"203.0.113.1:4711"}), trusted), "203.0.113.1");
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"[2001:db8::1]:4711"}), trusted), "2001:db8::1");
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"2001:db8::1"}), trusted), "2001:db8::1");
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"::ffff:203.0.113.1"}), trusted), "203.0.113.1");
}

TEST(ClientAddress, GarbageInForwardedForNeverBecomesTheKey) {
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"evil-random-1234"}), trusted), "10.0.0.2");
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"203.0.113.1, junk, 10.0.0.3"}), trusted), "10.0.0.3");
}

TEST(ClientAddress, AllTrustedOrNoHeaderGivesTheLeftmostTrustedHop) {
  EXPECT_EQ(client_address(ip("10.0.0.2"), Fields{}, trusted), "10.0.0.2");
  EXPECT_EQ(client_address(ip("10.0.0.2"), xff({"10.0.0.5, 10.0.0.3"}), trusted), "10.0.0.5");
  EXPECT_EQ(client_address(ip("::ffff:10.0.0.2"), Fields{}, trusted), "10.0.0.2");
}

}  // namespace
}  // namespace authgate::http
