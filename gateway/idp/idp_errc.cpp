// idp_errc's category, apart from the HTTP client so that the pure parsers
// (discovery.cpp) link without Asio (the standalone fuzz build, tests/fuzz).
#include "idp/http_client.hpp"

#include "common/error_category.hpp"

namespace authgate::idp {

namespace {

const char* idp_message(idp_errc e) {
  switch (e) {
    case idp_errc::resolve_failed: return "host name did not resolve";
    case idp_errc::connect_failed: return "connection failed";
    case idp_errc::tls_failed: return "TLS handshake or certificate verification failed";
    case idp_errc::timeout: return "timed out";
    case idp_errc::io_failed: return "connection broke mid-exchange";
    case idp_errc::too_large: return "response body over the size limit";
    case idp_errc::bad_response: return "malformed HTTP response";
    case idp_errc::http_status: return "non-2xx HTTP status";
    case idp_errc::invalid_document: return "invalid response document";
  }
  return "unknown idp error";
}

}  // namespace

const std::error_category& idp_category() {
  static const common::ErrorCategory<idp_errc> c("authgate.idp", idp_message);
  return c;
}
std::error_code make_error_code(idp_errc e) { return {static_cast<int>(e), idp_category()}; }

std::string_view idp_error_label(std::error_code ec) {
  if (ec.category() != idp_category()) return "io_error";
  switch (static_cast<idp_errc>(ec.value())) {
    case idp_errc::resolve_failed: return "resolve_error";
    case idp_errc::connect_failed: return "connect_error";
    case idp_errc::tls_failed: return "tls_error";
    case idp_errc::timeout: return "timeout";
    case idp_errc::io_failed: return "io_error";
    case idp_errc::too_large: return "too_large";
    case idp_errc::bad_response: return "bad_response";
    case idp_errc::http_status: return "http_error";
    case idp_errc::invalid_document: return "invalid";
  }
  return "io_error";
}

}  // namespace authgate::idp
