// Unit tests for http/header_hygiene: framing checks, hop-by-hop and identity
// header removal, X-Forwarded-* / X-Request-Id, request ids.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/header_hygiene.hpp"

namespace {

namespace bhttp = boost::beast::http;
using authgate::http::ForwardContext;
using authgate::http::framing_error;
using authgate::http::generate_request_id;
using authgate::http::is_well_formed_request_id;
using authgate::http::prepare_client_response;
using authgate::http::prepare_upstream_request;
using authgate::http::remove_hop_by_hop;
using authgate::http::remove_identity_headers;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using Header = std::pair<std::string, std::string>;

authgate::http::Fields make(std::initializer_list<Header> headers) {
  authgate::http::Fields f;
  for (const auto& [name, value] : headers) f.insert(name, value);
  return f;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Every header as (lower-cased name, value); HTTP names are case-insensitive.
std::vector<Header> dump(const authgate::http::Fields& f) {
  std::vector<Header> out;
  for (const auto& field : f)
    out.emplace_back(lower(std::string_view(field.name_string())), std::string(field.value()));
  return out;
}

// Every value of `name`, in order.
std::vector<std::string> values(const authgate::http::Fields& f, std::string_view name) {
  std::vector<std::string> out;
  auto [first, last] = f.equal_range(name);
  for (auto it = first; it != last; ++it) out.emplace_back(it->value());
  return out;
}

// ---------------------------------------------------------------------------
// framing_error

TEST(FramingError, CleanRequestsAreFine) {
  EXPECT_EQ(framing_error(make({})), nullptr);
  EXPECT_EQ(framing_error(make({{"Host", "a"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Host", "a"}, {"Content-Length", "5"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Host", "a"}, {"Transfer-Encoding", "chunked"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Transfer-Encoding", "gzip, chunked"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}})),
            nullptr);
  EXPECT_EQ(framing_error(make({{"Transfer-Encoding", "Chunked"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Transfer-Encoding", " chunked \t"}})), nullptr);
}

TEST(FramingError, ContentLengthAndTransferEncoding) {
  EXPECT_STREQ(framing_error(make({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}})),
               "both Content-Length and Transfer-Encoding");
  EXPECT_STREQ(framing_error(make({{"transfer-encoding", "chunked"}, {"content-length", "0"}})),
               "both Content-Length and Transfer-Encoding");
}

TEST(FramingError, DifferingContentLengths) {
  EXPECT_STREQ(framing_error(make({{"Content-Length", "5, 6"}})), "differing Content-Length values");
  EXPECT_STREQ(framing_error(make({{"Content-Length", "5"}, {"Content-Length", "6"}})),
               "differing Content-Length values");
  EXPECT_STREQ(framing_error(make({{"Content-Length", "5"}, {"Accept", "*/*"}, {"content-length", "6"}})),
               "differing Content-Length values");
  EXPECT_STREQ(framing_error(make({{"Content-Length", "5"}, {"Content-Length", "5,6"}})),
               "differing Content-Length values");
  EXPECT_STREQ(framing_error(make({{"Content-Length", "5"}, {"Content-Length", "05"}})),
               "differing Content-Length values");
}

TEST(FramingError, EqualDuplicateContentLengthsAreAllowed) {
  EXPECT_EQ(framing_error(make({{"Content-Length", "5, 5"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Content-Length", "5"}, {"Content-Length", "5"}})), nullptr);
  EXPECT_EQ(framing_error(make({{"Content-Length", "5"}, {"Content-Length", " 5 ,5"}})), nullptr);
}

TEST(FramingError, TransferEncodingMustEndInChunked) {
  const char* why = "Transfer-Encoding does not end in chunked";
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", "gzip"}})), why);
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", "chunked, gzip"}})), why);
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}})),
               why);
  // The last coding counts even when another header sits between the two.
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", "chunked"},
                                   {"Accept", "*/*"},
                                   {"Transfer-Encoding", "gzip"}})),
               why);
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", ""}})), why);
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", "chunkedx"}})), why);
  EXPECT_STREQ(framing_error(make({{"Transfer-Encoding", "xchunked"}})), why);
}

TEST(FramingError, SeveralHostHeaders) {
  EXPECT_STREQ(framing_error(make({{"Host", "a"}, {"Host", "b"}})), "several Host headers");
  EXPECT_STREQ(framing_error(make({{"Host", "a"}, {"host", "a"}})), "several Host headers");
}

// ---------------------------------------------------------------------------
// remove_hop_by_hop

TEST(RemoveHopByHop, RemovesFixedAndConnectionListedHeaders) {
  auto f = make({{"Host", "api.example.com"},
                 {"Connection", "keep-alive, X-Custom, x_other"},
                 {"Keep-Alive", "timeout=5"},
                 {"X-Custom", "1"},
                 {"X-Other", "2"},
                 {"TE", "trailers"},
                 {"Trailer", "X-Checksum"},
                 {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                 {"Proxy-Connection", "keep-alive"},
                 {"Proxy-Foo", "y"},
                 {"Upgrade", "websocket"},
                 {"Accept", "*/*"},
                 {"X-Kept", "3"}});
  remove_hop_by_hop(f, false);
  EXPECT_THAT(dump(f), ElementsAre(Pair("host", "api.example.com"), Pair("accept", "*/*"),
                                   Pair("x-kept", "3")));
}

// "Proxy-*" is the whole family, including the names Beast knows as fields
// (Proxy-Authentication-Info, Proxy-Features, Proxy-Instruction).
TEST(RemoveHopByHop, EveryProxyHeaderIsRemoved) {
  auto f = make({{"Proxy-Authenticate", "Basic"},
                 {"Proxy-Authentication-Info", "nextnonce=x"},
                 {"Proxy-Authorization", "Basic x"},
                 {"Proxy-Connection", "keep-alive"},
                 {"Proxy-Features", "x"},
                 {"Proxy-Instruction", "x"},
                 {"Proxy-Foo", "x"},
                 {"PROXY_BAR", "x"},
                 {"Accept", "*/*"}});
  remove_hop_by_hop(f, false);
  EXPECT_THAT(dump(f), ElementsAre(Pair("accept", "*/*")));
}

TEST(RemoveHopByHop, UnderscoreSpellingsAreRemovedToo) {
  auto f = make({{"Keep_Alive", "1"}, {"Proxy_Authorization", "x"}, {"Accept", "*/*"}});
  remove_hop_by_hop(f, false);
  EXPECT_THAT(dump(f), ElementsAre(Pair("accept", "*/*")));
}

TEST(RemoveHopByHop, EveryConnectionHeaderIsHonoured) {
  // Two Connection headers, with another header in between.
  auto f = make({{"Connection", "X-A"}, {"Accept", "*/*"}, {"connection", " x-b ,,"},
                 {"X-A", "1"}, {"X-B", "2"}, {"X-C", "3"}});
  remove_hop_by_hop(f, false);
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("accept", "*/*"), Pair("x-c", "3")));
}

TEST(RemoveHopByHop, UpgradeIsRemovedUnlessKept) {
  auto dropped = make({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Host", "h"}});
  remove_hop_by_hop(dropped, false);
  EXPECT_THAT(dump(dropped), ElementsAre(Pair("host", "h")));

  auto kept = make({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Host", "h"}});
  remove_hop_by_hop(kept, true);
  EXPECT_THAT(dump(kept), ElementsAre(Pair("upgrade", "websocket"), Pair("host", "h")));

  // Without any Connection header, a lone Upgrade (h2c smuggling) still goes.
  auto lone = make({{"Upgrade", "h2c"}, {"Host", "h"}});
  remove_hop_by_hop(lone, false);
  EXPECT_THAT(dump(lone), ElementsAre(Pair("host", "h")));
}

TEST(RemoveHopByHop, FramingAndHostAreNeverRemovedByConnection) {
  auto f = make({{"Connection", "Content-Length, Transfer-Encoding, Host, close"},
                 {"Host", "h"},
                 {"Content-Length", "5"},
                 {"Transfer-Encoding", "chunked"}});
  remove_hop_by_hop(f, false);
  EXPECT_THAT(dump(f), ElementsAre(Pair("host", "h"), Pair("content-length", "5"),
                                   Pair("transfer-encoding", "chunked")));
}

TEST(RemoveHopByHop, EndToEndHeadersStay) {
  auto f = make({{"Authorization", "Bearer x"}, {"Cookie", "a=b"}, {"Content-Type", "text/plain"},
                 {"X-Proxy", "not a Proxy-* header"}, {"Tea", "1"}, {"Trailers", "1"}});
  const auto before = dump(f);
  remove_hop_by_hop(f, false);
  EXPECT_EQ(dump(f), before);
}

// ---------------------------------------------------------------------------
// remove_identity_headers

TEST(RemoveIdentityHeaders, RemovesSpoofableIdentity) {
  auto f = make({{"X-Auth-User", "admin"},
                 {"x-auth-anything", "1"},
                 {"X_Auth_User", "admin"},
                 {"X-AUTH-ROLES", "root"},
                 {"x-auth_email", "a@b"},
                 {"X-Remote-User", "admin"},
                 {"X_Remote_User", "admin"},
                 {"x_forwarded_user", "admin"},
                 {"X-Forwarded-User", "admin"},
                 {"Host", "h"}});
  remove_identity_headers(f);
  EXPECT_THAT(dump(f), ElementsAre(Pair("host", "h")));
}

TEST(RemoveIdentityHeaders, KeepsUnrelatedHeaders) {
  // The rule is the prefix "x-auth-" after folding "_" to "-", plus the two
  // exact names; lookalikes without that prefix stay.
  auto f = make({{"X-Authz", "1"},
                 {"X-Authorization", "2"},
                 {"X-Auth", "3"},
                 {"XAuth-User", "4"},
                 {"Authorization", "Bearer t"},
                 {"X-Remote-Addr", "1.2.3.4"},
                 {"X-Remote-User-Agent", "5"},
                 {"X-Forwarded-Users", "6"},
                 {"X-Forwarded-For", "1.2.3.4"}});
  const auto before = dump(f);
  remove_identity_headers(f);
  EXPECT_EQ(dump(f), before);
}

TEST(RemoveIdentityHeaders, ConfiguredPrefixesAndNames) {
  authgate::config::IdentityConfig identity;
  identity.strip_prefixes = {"X-Corp-"};
  identity.strip_headers = {"X-Tenant"};
  auto f = make({{"X-Corp-User", "admin"},
                 {"x_corp_roles", "root"},
                 {"X_TENANT", "acme"},
                 {"X-Auth-User", "kept: not configured here"},
                 {"X-Tenant-Id", "kept: not an exact name"}});
  remove_identity_headers(f, identity);
  EXPECT_THAT(dump(f), ElementsAre(Pair("x-auth-user", "kept: not configured here"),
                                   Pair("x-tenant-id", "kept: not an exact name")));
}

// ---------------------------------------------------------------------------
// prepare_upstream_request

ForwardContext ctx(std::string_view client_ip, bool trusted, std::string_view scheme = "http",
                   std::string_view request_id = "rid-1", bool upgrade = false) {
  ForwardContext c;
  c.client_ip = client_ip;
  c.peer_trusted = trusted;
  c.scheme = scheme;
  c.request_id = request_id;
  c.upgrade = upgrade;
  return c;
}

TEST(PrepareUpstreamRequest, UntrustedPeerGetsFreshForwardingHeaders) {
  auto f = make({{"Host", "api.example.com"},
                 {"X-Forwarded-For", "6.6.6.6"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Forwarded-Host", "evil.example"},
                 {"X-Request-Id", "client-chosen"},
                 {"X-Auth-User", "admin"},
                 {"X_Forwarded_For", "7.7.7.7"},
                 {"Connection", "close"},
                 {"Accept", "*/*"}});
  prepare_upstream_request(f, ctx("203.0.113.7", false, "http", "rid-1"));
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("host", "api.example.com"), Pair("accept", "*/*"),
                                            Pair("x-forwarded-for", "203.0.113.7"),
                                            Pair("x-real-ip", "203.0.113.7"),
                                            Pair("x-forwarded-proto", "http"),
                                            Pair("x-forwarded-host", "api.example.com"),
                                            Pair("x-request-id", "rid-1")));
}

TEST(PrepareUpstreamRequest, UntrustedPeerWithoutHostGetsNoForwardedHost) {
  auto f = make({{"X-Forwarded-Host", "evil.example"}, {"X-Forwarded-For", "a, b"}});
  prepare_upstream_request(f, ctx("203.0.113.7", false, "https"));
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("x-forwarded-for", "203.0.113.7"),
                                            Pair("x-real-ip", "203.0.113.7"),
                                            Pair("x-forwarded-proto", "https"),
                                            Pair("x-request-id", "rid-1")));
}

TEST(PrepareUpstreamRequest, TrustedPeerChainIsAppendedAndProtoHostKept) {
  auto f = make({{"Host", "internal.example"},
                 {"X-Forwarded-For", "1.1.1.1"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Forwarded-Host", "public.example.com"}});
  prepare_upstream_request(f, ctx("10.0.0.2", true, "http"));
  EXPECT_THAT(values(f, "X-Forwarded-For"), ElementsAre("1.1.1.1, 10.0.0.2"));
  EXPECT_THAT(values(f, "X-Forwarded-Proto"), ElementsAre("https"));
  EXPECT_THAT(values(f, "X-Forwarded-Host"), ElementsAre("public.example.com"));
  EXPECT_THAT(values(f, "Host"), ElementsAre("internal.example"));
}

TEST(PrepareUpstreamRequest, TrustedPeerWithSeveralForwardedForHeaders) {
  auto f = make({{"X-Forwarded-For", "1.1.1.1"},
                 {"Accept", "*/*"},
                 {"x-forwarded-for", "2.2.2.2, 3.3.3.3"}});
  prepare_upstream_request(f, ctx("10.0.0.2", true));
  EXPECT_THAT(values(f, "X-Forwarded-For"), ElementsAre("1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.2"));
}

TEST(PrepareUpstreamRequest, TrustedPeerWithoutForwardingHeadersStartsTheChain) {
  auto f = make({{"Host", "api.example.com"}});
  prepare_upstream_request(f, ctx("10.0.0.2", true, "https"));
  EXPECT_THAT(values(f, "X-Forwarded-For"), ElementsAre("10.0.0.2"));
  EXPECT_THAT(values(f, "X-Forwarded-Proto"), ElementsAre("https"));
  EXPECT_THAT(values(f, "X-Forwarded-Host"), ElementsAre("api.example.com"));
}

TEST(PrepareUpstreamRequest, UnderscoreForwardedHeadersAreDroppedWhateverTheTrust) {
  for (bool trusted : {false, true}) {
    SCOPED_TRACE(trusted ? "trusted" : "untrusted");
    auto f = make({{"Host", "h"},
                   {"X-Forwarded-For", "1.1.1.1"},
                   {"X_Forwarded_For", "9.9.9.9"},
                   {"x-forwarded_proto", "gopher"},
                   {"X_FORWARDED_HOST", "evil.example"},
                   {"X_Forwarded_Anything", "x"}});
    prepare_upstream_request(f, ctx("10.0.0.2", trusted, "http"));
    EXPECT_THAT(dump(f), UnorderedElementsAre(
                             Pair("host", "h"),
                             Pair("x-forwarded-for", trusted ? "1.1.1.1, 10.0.0.2" : "10.0.0.2"),
                             Pair("x-real-ip", "10.0.0.2"),
                             Pair("x-forwarded-proto", "http"), Pair("x-forwarded-host", "h"),
                             Pair("x-request-id", "rid-1")));
  }
}

// config.hpp says of listen.trusted_proxies "Empty: every client-supplied
// X-Forwarded-* header is replaced": that includes -Port, -Prefix, -Ssl, ...
// (an earlier version replaced only -For, -Proto and -Host).
TEST(PrepareUpstreamRequest, UntrustedPeerCannotSupplyOtherForwardedHeaders) {
  auto f = make({{"Host", "h"},
                 {"X-Forwarded-Port", "443"},
                 {"X-Forwarded-Prefix", "/admin"},
                 {"X-Forwarded-Ssl", "on"},
                 {"x-forwarded-server", "internal"}});
  prepare_upstream_request(f, ctx("203.0.113.7", false));
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("host", "h"), Pair("x-forwarded-for", "203.0.113.7"),
                                            Pair("x-real-ip", "203.0.113.7"),
                                            Pair("x-forwarded-proto", "http"),
                                            Pair("x-forwarded-host", "h"),
                                            Pair("x-request-id", "rid-1")));
}

// A load balancer relays the client's own X-Forwarded-Email (or -User, -Groups,
// -Prefix...) untouched: from a trusted proxy only the chain it appends to and
// the names the operator says it sets may pass.
TEST(PrepareUpstreamRequest, TrustedProxyRelayingAClientsXForwardedEmailDoesNotReachTheApp) {
  auto f = make({{"Host", "h"},
                 {"X-Forwarded-For", "198.51.100.7"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Forwarded-Host", "public.example"},
                 {"X-Forwarded-Email", "admin@example.com"},
                 {"X-Forwarded-Groups", "admins"},
                 {"X-Forwarded-Port", "443"},
                 {"X-Forwarded-Prefix", "/app"},
                 {"Forwarded", "for=192.0.2.60;proto=https"}});
  prepare_upstream_request(f, ctx("10.0.0.2", true));
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("host", "h"),
                                            Pair("x-forwarded-proto", "https"),
                                            Pair("x-forwarded-host", "public.example"),
                                            Pair("x-forwarded-for", "198.51.100.7, 10.0.0.2"),
                                            Pair("x-real-ip", "10.0.0.2"),
                                            Pair("x-request-id", "rid-1")));
}

TEST(PrepareUpstreamRequest, TrustedProxyKeepsTheAllowListedForwardedHeaders) {
  authgate::config::HeadersConfig headers;
  headers.trusted_forwarded_headers = {"X-Forwarded-Port", "x-forwarded-prefix", "Forwarded"};
  for (bool trusted : {true, false}) {
    SCOPED_TRACE(trusted ? "trusted" : "untrusted");
    auto f = make({{"Host", "h"},
                   {"X-Forwarded-Port", "443"},
                   {"X-Forwarded-Prefix", "/app"},
                   {"X_Forwarded_Prefix", "/admin"},
                   {"X-Forwarded-Email", "admin@example.com"},
                   {"Forwarded", "for=192.0.2.60;proto=https"}});
    auto c = ctx("10.0.0.2", trusted);
    c.headers = &headers;
    prepare_upstream_request(f, c);
    // The allow-list widens what a trusted proxy may pass, never what a client may.
    using V = std::vector<std::string>;
    EXPECT_EQ(values(f, "X-Forwarded-Port"), trusted ? V{"443"} : V{});
    EXPECT_EQ(values(f, "X-Forwarded-Prefix"), trusted ? V{"/app"} : V{});
    EXPECT_EQ(values(f, "Forwarded"), trusted ? V{"for=192.0.2.60;proto=https"} : V{});
    EXPECT_THAT(values(f, "X-Forwarded-Email"), IsEmpty());
  }
}

// The identity list wins over the allow-list: X-Forwarded-User is an identity header.
TEST(PrepareUpstreamRequest, AllowListedForwardedHeaderThatIsAnIdentityHeaderIsStillRemoved) {
  authgate::config::HeadersConfig headers;
  headers.trusted_forwarded_headers = {"X-Forwarded-User"};
  auto f = make({{"Host", "h"}, {"X-Forwarded-User", "admin"}});
  auto c = ctx("10.0.0.2", true);
  c.headers = &headers;
  prepare_upstream_request(f, c);
  EXPECT_THAT(values(f, "X-Forwarded-User"), IsEmpty());
}

// Rewrite and method-override headers make IIS/Symfony/Laminas serve
// X-Original-URL instead of the routed path, and Express/Spring/Rails run
// X-HTTP-Method-Override instead of the authorised method.
TEST(PrepareUpstreamRequest, RewriteAndMethodOverrideHeadersAreRemovedWhateverTheTrust) {
  for (bool trusted : {false, true}) {
    SCOPED_TRACE(trusted ? "trusted" : "untrusted");
    auto f = make({{"Host", "h"},
                   {"X-Original-URL", "/admin"},
                   {"x-rewrite-url", "/admin"},
                   {"X-HTTP-Method-Override", "DELETE"},
                   {"X-HTTP-Method", "DELETE"},
                   {"X-Method-Override", "PUT"},
                   {"X_Original_URL", "/admin"},
                   {"x_http_method_override", "DELETE"},
                   {"X-ORIGINAL-URL", "/admin"},
                   {"X-Original-URL-Hint", "kept: another name"}});
    prepare_upstream_request(f, ctx("10.0.0.2", trusted));
    EXPECT_FALSE(std::any_of(f.begin(), f.end(), [](const auto& field) {
      const std::string n = lower(std::string_view(field.name_string()));
      return n == "x-original-url" || n == "x_original_url" || n == "x-rewrite-url" ||
             n == "x-http-method-override" || n == "x_http_method_override" || n == "x-http-method" ||
             n == "x-method-override";
    })) << ::testing::PrintToString(dump(f));
    EXPECT_THAT(values(f, "X-Original-URL-Hint"), ElementsAre("kept: another name"));
  }
}

TEST(PrepareUpstreamRequest, RewriteHeaderListIsConfigurable) {
  authgate::config::HeadersConfig headers;
  headers.strip_rewrite_headers = {"X-Forwarded-Path-Override"};
  auto f = make({{"Host", "h"}, {"X-Original-URL", "/admin"}, {"X_Forwarded_Path_Override", "/x"},
                 {"x-forwarded-path-override", "/y"}});
  auto c = ctx("10.0.0.2", false);
  c.headers = &headers;
  prepare_upstream_request(f, c);
  EXPECT_THAT(values(f, "X-Original-URL"), ElementsAre("/admin"));  // no longer listed: kept
  EXPECT_THAT(values(f, "X-Forwarded-Path-Override"), IsEmpty());
  EXPECT_TRUE(authgate::http::is_rewrite_header("X_HTTP_METHOD_OVERRIDE", authgate::config::HeadersConfig{}));
  EXPECT_FALSE(authgate::http::is_rewrite_header("X-HTTP-Methods", authgate::config::HeadersConfig{}));
}

TEST(PrepareUpstreamRequest, ClientSuppliedXRealIpNeverPasses) {
  for (bool trusted : {false, true}) {
    SCOPED_TRACE(trusted ? "trusted" : "untrusted");
    auto f = make({{"Host", "h"}, {"X-Real-IP", "127.0.0.1"}, {"x_real_ip", "127.0.0.1"},
                   {"X-REAL-IP", "10.1.1.1"}});
    prepare_upstream_request(f, ctx("203.0.113.7", trusted));
    EXPECT_FALSE(std::any_of(f.begin(), f.end(), [](const auto& field) {
      return lower(std::string_view(field.name_string())) == "x_real_ip";
    }));
    EXPECT_THAT(values(f, "X-Real-IP"), ElementsAre("203.0.113.7"));
  }
}

// CVE-2022-31813 class: a client names, in Connection, the headers a trusted
// proxy added (or the Authorization a route forwards), hoping the hop-by-hop
// removal drops them and the upstream sees authgate's view of a request that
// came from the proxy itself.
TEST(PrepareUpstreamRequest, ConnectionNamingTheForwardedChainDoesNotDropIt) {
  auto f = make({{"Host", "internal"},
                 {"Connection", "keep-alive, X-Forwarded-For, x-forwarded-proto, X-Forwarded-Host, X-Real-IP"},
                 {"Connection", "X-Request-Id, Authorization, Cookie, Forwarded, X-Forwarded-Port, X-Drop"},
                 {"X-Forwarded-For", "198.51.100.7"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Forwarded-Host", "public.example"},
                 {"X-Forwarded-Port", "443"},
                 {"Authorization", "Bearer t"},
                 {"Cookie", "a=b"},
                 {"X-Drop", "1"}});
  authgate::config::HeadersConfig headers;
  headers.trusted_forwarded_headers = {"X-Forwarded-Port"};
  auto c = ctx("10.0.0.2", true, "http", "rid-9");
  c.headers = &headers;
  prepare_upstream_request(f, c);
  EXPECT_THAT(values(f, "X-Forwarded-For"), ElementsAre("198.51.100.7, 10.0.0.2"));
  EXPECT_THAT(values(f, "X-Forwarded-Proto"), ElementsAre("https"));
  EXPECT_THAT(values(f, "X-Forwarded-Host"), ElementsAre("public.example"));
  EXPECT_THAT(values(f, "X-Forwarded-Port"), ElementsAre("443"));
  EXPECT_THAT(values(f, "X-Real-IP"), ElementsAre("10.0.0.2"));
  EXPECT_THAT(values(f, "X-Request-Id"), ElementsAre("rid-9"));
  EXPECT_THAT(values(f, "Authorization"), ElementsAre("Bearer t"));
  EXPECT_THAT(values(f, "Cookie"), ElementsAre("a=b"));
  EXPECT_THAT(values(f, "X-Drop"), IsEmpty());  // other names still go
  EXPECT_THAT(values(f, "Connection"), IsEmpty());
}

TEST(RemoveHopByHop, ConnectionCannotRemoveTheHeadersAuthgateVouchesFor) {
  auto f = make({{"Connection", "Authorization, Cookie, X-Forwarded-For, X_Forwarded_Proto, X-Real-IP, "
                                "X-Request-Id, Forwarded, X-Other"},
                 {"Authorization", "Bearer x"},
                 {"Cookie", "a=b"},
                 {"X-Forwarded-For", "1.1.1.1"},
                 {"X-Forwarded-Proto", "https"},
                 {"X-Real-IP", "1.1.1.1"},
                 {"X-Request-Id", "r"},
                 {"Forwarded", "for=1.1.1.1"},
                 {"X-Other", "1"}});
  remove_hop_by_hop(f, false);
  EXPECT_THAT(dump(f), ElementsAre(Pair("authorization", "Bearer x"), Pair("cookie", "a=b"),
                                   Pair("x-forwarded-for", "1.1.1.1"), Pair("x-forwarded-proto", "https"),
                                   Pair("x-real-ip", "1.1.1.1"), Pair("x-request-id", "r"),
                                   Pair("forwarded", "for=1.1.1.1")));
}

// The RFC 7239 header carries the same facts as X-Forwarded-*: only a trusted
// proxy may supply it.
TEST(PrepareUpstreamRequest, UntrustedPeerCannotSupplyForwarded) {
  auto f = make({{"Host", "h"}, {"Forwarded", "for=127.0.0.1;proto=https;host=admin.internal"}});
  prepare_upstream_request(f, ctx("203.0.113.7", false));
  EXPECT_THAT(values(f, "Forwarded"), IsEmpty());
  EXPECT_THAT(values(f, "X-Forwarded-For"), ElementsAre("203.0.113.7"));
}

TEST(PrepareUpstreamRequest, RequestIdReplacesTheClientsOwn) {
  auto f = make({{"X-Request-Id", "a"}, {"x-request-id", "b"}});
  prepare_upstream_request(f, ctx("192.0.2.1", false, "http", "0123456789abcdef0123456789abcdef"));
  EXPECT_THAT(values(f, "X-Request-Id"), ElementsAre("0123456789abcdef0123456789abcdef"));
}

TEST(PrepareUpstreamRequest, IdentityAndHopByHopHeadersAreRemoved) {
  auto f = make({{"Host", "h"}, {"X-Auth-User", "admin"}, {"X-Remote-User", "root"},
                 {"Keep-Alive", "timeout=1"}, {"Connection", "X-Secret"}, {"X-Secret", "s"},
                 {"Proxy-Authorization", "Basic x"}});
  prepare_upstream_request(f, ctx("192.0.2.1", true));
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("host", "h"), Pair("x-forwarded-for", "192.0.2.1"),
                                            Pair("x-real-ip", "192.0.2.1"),
                                            Pair("x-forwarded-proto", "http"),
                                            Pair("x-forwarded-host", "h"),
                                            Pair("x-request-id", "rid-1")));
}

TEST(PrepareUpstreamRequest, UpgradeKeepsConnectionUpgradeAndUpgrade) {
  auto f = make({{"Host", "h"},
                 {"Connection", "keep-alive, Upgrade"},
                 {"Upgrade", "websocket"},
                 {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                 {"Sec-WebSocket-Version", "13"}});
  prepare_upstream_request(f, ctx("192.0.2.1", false, "http", "rid-1", /*upgrade=*/true));
  EXPECT_THAT(values(f, "Connection"), ElementsAre("upgrade"));
  EXPECT_THAT(values(f, "Upgrade"), ElementsAre("websocket"));
  EXPECT_THAT(values(f, "Sec-WebSocket-Key"), ElementsAre("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_THAT(values(f, "Sec-WebSocket-Version"), ElementsAre("13"));
}

TEST(PrepareUpstreamRequest, NoUpgradeMeansNoUpgradeHeaders) {
  auto f = make({{"Host", "h"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  prepare_upstream_request(f, ctx("192.0.2.1", false));
  EXPECT_THAT(values(f, "Connection"), IsEmpty());
  EXPECT_THAT(values(f, "Upgrade"), IsEmpty());
}

// ---------------------------------------------------------------------------
// prepare_client_response

TEST(PrepareClientResponse, SetsRequestIdAndStripsHopByHop) {
  auto f = make({{"Connection", "keep-alive, X-Internal"},
                 {"Keep-Alive", "timeout=5"},
                 {"X-Internal", "debug"},
                 {"Proxy-Authenticate", "Basic"},
                 {"Upgrade", "h2c"},
                 {"Content-Type", "text/plain"},
                 {"Content-Length", "5"},
                 {"X-Request-Id", "upstream-made-this-up"}});
  prepare_client_response(f, "rid-1", false);
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("content-type", "text/plain"),
                                            Pair("content-length", "5"),
                                            Pair("x-request-id", "rid-1")));
}

TEST(PrepareClientResponse, SwitchingProtocolsKeepsTheUpgrade) {
  auto f = make({{"Connection", "Upgrade"},
                 {"Upgrade", "websocket"},
                 {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}});
  prepare_client_response(f, "rid-2", true);
  EXPECT_THAT(dump(f), UnorderedElementsAre(Pair("connection", "upgrade"),
                                            Pair("upgrade", "websocket"),
                                            Pair("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                                            Pair("x-request-id", "rid-2")));
}

// ---------------------------------------------------------------------------
// Request ids

struct IdCase {
  std::string id;
  bool well_formed;
};

TEST(IsWellFormedRequestId, Table) {
  const IdCase cases[] = {
      {"a", true},
      {"0123456789abcdef0123456789abcdef", true},
      {"Req-1_2.3:4", true},
      {"ABCxyz", true},
      {std::string(128, 'a'), true},
      {std::string(129, 'a'), false},
      {"", false},
      {"a b", false},
      {"a/b", false},
      {"a,b", false},
      {"a;b", false},
      {"a\"b", false},
      {"a\r\nX-Evil: 1", false},
      {"a\tb", false},
      {std::string("a\0b", 3), false},
      {"caf\xc3\xa9", false},
      {"{uuid}", false},
      {"a+b", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.id + "\" (" + std::to_string(c.id.size()) + " chars)");
    EXPECT_EQ(is_well_formed_request_id(c.id), c.well_formed);
  }
}

TEST(GenerateRequestId, Is32LowercaseHex) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = generate_request_id();
    ASSERT_EQ(id.size(), 32u) << id;
    EXPECT_TRUE(std::all_of(id.begin(), id.end(),
                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
        << id;
    EXPECT_TRUE(is_well_formed_request_id(id)) << id;
  }
}

TEST(GenerateRequestId, ThousandCallsGiveThousandDistinctIds) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(generate_request_id());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(GenerateRequestId, ThreadsDoNotRepeatEachOther) {
  // Each thread seeds its own generator; two threads must not produce the same stream.
  std::vector<std::string> a;
  std::vector<std::string> b;
  std::thread ta([&] { for (int i = 0; i < 200; ++i) a.push_back(generate_request_id()); });
  std::thread tb([&] { for (int i = 0; i < 200; ++i) b.push_back(generate_request_id()); });
  ta.join();
  tb.join();
  std::set<std::string> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  for (int i = 0; i < 200; ++i) all.insert(generate_request_id());
  EXPECT_EQ(all.size(), 600u);
}

}  // namespace
