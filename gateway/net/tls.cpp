#include "net/tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <openssl/ssl.h>

namespace authgate::net {

namespace ssl = asio::ssl;

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
  return ctx;
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
