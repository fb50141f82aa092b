#include "net/tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <openssl/ssl.h>

namespace authgate::net {

namespace ssl = asio::ssl;

namespace {

// ALPN protocol lists (RFC 7301 wire form: length-prefixed names), ours in order of preference.
constexpr unsigned char kAlpnH2[] = "\x02h2\x08http/1.1";
constexpr unsigned char kAlpnHttp1[] = "\x08http/1.1";

template <const unsigned char* List, std::size_t Size>
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, List, Size, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // no protocol in common: carry on without ALPN (HTTP/1.1)
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_context(const config::ListenerTls& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  ctx->use_certificate_chain_file(tls.cert_file);
  ctx->use_private_key_file(tls.key_file, ssl::context::pem);
  if (tls.client_auth != config::ClientAuth::none) {
    ctx->load_verify_file(tls.client_ca_file);
    // The CAs' names go into the CertificateRequest, so a client with several certificates picks one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    ctx->set_verify_mode(tls.client_auth == config::ClientAuth::required
                             ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                             : ssl::verify_peer);
  }
  if (tls.alpn_h2) SSL_CTX_set_alpn_select_cb(ctx->native_handle(), select_alpn<kAlpnH2, sizeof kAlpnH2 - 1>, nullptr);
  else SSL_CTX_set_alpn_select_cb(ctx->native_handle(), select_alpn<kAlpnHttp1, sizeof kAlpnHttp1 - 1>, nullptr);
  return ctx;
}

bool negotiated_h2(Stream::TlsStream& stream) {
  const unsigned char* proto = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(stream.native_handle(), &proto, &len);
  return len == 2 && proto[0] == 'h' && proto[1] == '2';
}

std::shared_ptr<ssl::context> make_client_context(const config::UpstreamTls& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (tls.ca_file.empty()) ctx->set_default_verify_paths();
  else ctx->load_verify_file(tls.ca_file);
  ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

bool configure_client_stream(Stream::TlsStream& stream, const std::string& server_name,
                             bool verify) {
  // RFC 6066 §3: SNI carries host names only, never an IP literal (which is
  // still verified against the certificate's IP subjectAltName below).
  boost::system::error_code ec;
  asio::ip::make_address(server_name, ec);
  const bool ip_literal = !ec;
  if (!ip_literal && !SSL_set_tlsext_host_name(stream.native_handle(), server_name.c_str())) return false;
  if (verify) stream.set_verify_callback(ssl::host_name_verification(server_name));
  return true;
}

}  // namespace authgate::net
