#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <string>

#include "common/openssl_ptr.h"

namespace tollgate::testing {

// A certificate and its key, in PEM, as a TLS test writes them to files.
struct IssuedCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
  std::string serial_hex;  // upper-case hex, as SerialOf reads it back
};

// A throwaway certificate authority for TLS tests, made in memory with
// OpenSSL's C API: an EC P-256 CA valid for a day, and the certificates it
// signs (each with the next serial number, so a test can tell them apart).
// Aborts the test binary if OpenSSL fails (nothing to test then).
class TestCertificateAuthority final {
 public:
  // A self-signed CA whose subject is CN=`name`.
  explicit TestCertificateAuthority(const std::string& name);

  const std::string& certificate_pem() const { return certificate_pem_; }

  // A server certificate for the names of `subject_alt_name` (by default
  // 127.0.0.1, ::1 and localhost), extendedKeyUsage serverAuth.
  IssuedCertificate IssueServer(
      const std::string& subject_alt_name = "DNS:localhost,IP:127.0.0.1,IP:::1");
  // A client certificate with subject CN=`name`, extendedKeyUsage clientAuth.
  IssuedCertificate IssueClient(const std::string& name);

 private:
  IssuedCertificate Issue(const std::string& common_name, const std::string& extended_key_usage,
                          const std::string& subject_alt_name);

  EvpPkeyPtr key_;
  OpenSslPtr<X509, X509_free> certificate_;
  std::string certificate_pem_;
  uint64_t next_serial_ = 1000;
};

// The serial number of the first certificate in `pem`, upper-case hex;
// empty when `pem` holds none.
std::string SerialOf(const std::string& pem);

// Writes `contents` to `path` the way a certificate should be replaced:
// a new file beside it, renamed over it. Aborts on failure.
void ReplaceFile(const std::string& path, const std::string& contents);

}  // namespace tollgate::testing
