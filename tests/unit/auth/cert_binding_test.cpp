// Certificate-bound access tokens (RFC 8705 §3): the x5t#S256 thumbprint, the certificate a
// TLS-terminating proxy passes as URL-encoded PEM, and the binding check, one test per outcome.
// The certificate and its thumbprint are a fixed vector: the thumbprint was computed with
//   openssl x509 -in cert.pem -outform DER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d =
#include "auth/cert_binding.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <cctype>
#include <string>

#include "auth/auth_errc.hpp"

namespace authgate::auth {
namespace {

constexpr const char* kPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlDCCATugAwIBAgIUEaFbISFO3/Gg5ZttGygltIDvnccwCgYIKoZIzj0EAwIw\n"
    "HzEdMBsGA1UEAwwUYXV0aGdhdGUtdGVzdC1jbGllbnQwIBcNMjYxMjA3MjIyNDA0\n"
    "WhgPMjEyNjExMTMyMjI0MDRaMB8xHTAbBgNVBAMMFGF1dGhnYXRlLXRlc3QtY2xp\n"
    "ZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEozxIguhPnH+Y4Jy4mn7iEwIR\n"
    "5gCTu1wYIDhqPmMhrprv//W7ERF8dGG40zn4UFRzJToL4Krsrg+SdKU1i0yNFqNT\n"
    "MFEwHQYDVR0OBBYEFMESqlYFBdMwxSER41M2mLnF4o06MB8GA1UdIwQYMBaAFMES\n"
    "qlYFBdMwxSER41M2mLnF4o06MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID\n"
    "RwAwRAIgRX4AZQsDKqr2lzT64Y6x2/61cdKk4FPGRdOMepAPLfQCIDSLQWF0TuBi\n"
    "1MtCsEera5mJXwonKlX+qc0+5ueojeTK\n"
    "-----END CERTIFICATE-----\n";
constexpr const char* kThumbprint = "6LLj1sr9Vc4gpL19I09i02mYVv4C_kx6ckXUBqECe8k";

// What nginx's $ssl_client_escaped_cert does: every byte outside unreserved characters as %XX.
std::string escape(const std::string& s, bool keep_plus = false) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_plus && c == '+')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

boost::json::object claims(const char* json) { return boost::json::parse(json).as_object(); }

TEST(CertificateBinding, ThumbprintOfAnEscapedPemIsTheSha256OfItsDer) {
  EXPECT_EQ(thumbprint_of_escaped_pem(escape(kPem)), kThumbprint);
}

TEST(CertificateBinding, APlusInTheEscapedPemIsBase64NotASpace) {
  ASSERT_NE(std::string(kPem).find('+'), std::string::npos) << "the vector must hold a '+'";
  EXPECT_EQ(thumbprint_of_escaped_pem(escape(kPem, true)), kThumbprint);
}

TEST(CertificateBinding, AHeaderThatIsNoCertificateHasNoThumbprint) {
  EXPECT_FALSE(thumbprint_of_escaped_pem(""));
  EXPECT_FALSE(thumbprint_of_escaped_pem("not a certificate"));
  EXPECT_FALSE(thumbprint_of_escaped_pem(escape(std::string(kPem).substr(0, 200)))) << "cut short";
  EXPECT_FALSE(thumbprint_of_escaped_pem("%2")) << "a cut escape";
  EXPECT_FALSE(thumbprint_of_escaped_pem("%zz")) << "not hex";
  EXPECT_FALSE(thumbprint_of_escaped_pem(std::string(64 * 1024, 'A'))) << "over the size bound";
}

TEST(CertificateBinding, ATokenWithoutACertificateBindingPassesWithOrWithoutACertificate) {
  EXPECT_FALSE(check_certificate_binding(claims(R"({"sub":"a"})"), ""));
  EXPECT_FALSE(check_certificate_binding(claims(R"({"sub":"a"})"), kThumbprint));
  EXPECT_FALSE(check_certificate_binding(claims(R"({"cnf":{"jkt":"x"}})"), "")) << "a DPoP binding is not this one";
}

TEST(CertificateBinding, ABoundTokenPassesWithItsCertificate) {
  EXPECT_FALSE(check_certificate_binding(claims(R"({"cnf":{"x5t#S256":"6LLj1sr9Vc4gpL19I09i02mYVv4C_kx6ckXUBqECe8k"}})"),
                                         kThumbprint));
}

TEST(CertificateBinding, ABoundTokenWithoutACertificateIsCertificateMismatch) {
  EXPECT_EQ(check_certificate_binding(claims(R"({"cnf":{"x5t#S256":"6LLj1sr9Vc4gpL19I09i02mYVv4C_kx6ckXUBqECe8k"}})"), ""),
            auth_errc::certificate_mismatch);
}

TEST(CertificateBinding, ABoundTokenWithAnotherCertificateIsCertificateMismatch) {
  // RFC 8705 §3.1's example value: another certificate.
  EXPECT_EQ(check_certificate_binding(claims(R"({"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}})"),
                                      kThumbprint),
            auth_errc::certificate_mismatch);
}

TEST(CertificateBinding, ABindingThatIsNotAStringIsCertificateMismatch) {
  EXPECT_EQ(check_certificate_binding(claims(R"({"cnf":{"x5t#S256":["6LLj1sr9Vc4gpL19I09i02mYVv4C_kx6ckXUBqECe8k"]}})"),
                                      kThumbprint),
            auth_errc::certificate_mismatch);
}

}  // namespace
}  // namespace authgate::auth
