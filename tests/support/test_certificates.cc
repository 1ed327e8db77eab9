#include "tests/support/test_certificates.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace tollgate::testing {
namespace {

constexpr long kValiditySeconds = 24 * 60 * 60;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "test_certificates: %s failed\n", what);
  std::abort();
}

EvpPkeyPtr NewP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EVP_EC_gen");
  return key;
}

std::string PemOf(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string PemOf(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string SerialHex(X509* certificate) {
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
  Check(serial != nullptr, "ASN1_INTEGER_to_BN");
  char* hex = BN_bn2hex(serial.get());
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

void AddExtension(X509* certificate, X509V3_CTX* context, int nid, const std::string& value) {
  OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free> extension(
      X509V3_EXT_nconf_nid(nullptr, context, nid, value.c_str()));
  Check(extension != nullptr, "X509V3_EXT_nconf_nid");
  Check(X509_add_ext(certificate, extension.get(), -1) == 1, "X509_add_ext");
}

// A certificate for `key` named CN=`common_name`, not yet signed.
OpenSslPtr<X509, X509_free> NewCertificate(EVP_PKEY* key, const std::string& common_name,
                                           uint64_t serial) {
  OpenSslPtr<X509, X509_free> certificate(X509_new());
  Check(certificate != nullptr, "X509_new");
  Check(X509_set_version(certificate.get(), X509_VERSION_3) == 1, "X509_set_version");
  Check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate.get()), serial) == 1,
        "ASN1_INTEGER_set_uint64");
  // A minute back, so a clock a little behind still accepts it.
  Check(X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -60) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kValiditySeconds) != nullptr,
        "notAfter");
  Check(X509_set_pubkey(certificate.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(certificate.get());
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
  return certificate;
}

}  // namespace

TestCertificateAuthority::TestCertificateAuthority(const std::string& name)
    : key_(NewP256Key()), certificate_(NewCertificate(key_.get(), name, 1)) {
  X509* ca = certificate_.get();
  Check(X509_set_issuer_name(ca, X509_get_subject_name(ca)) == 1, "X509_set_issuer_name");
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca, ca, nullptr, nullptr, 0);
  AddExtension(ca, &context, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca, &context, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca, &context, NID_subject_key_identifier, "hash");
  Check(X509_sign(ca, key_.get(), EVP_sha256()) > 0, "X509_sign (CA)");
  certificate_pem_ = PemOf(ca);
}

IssuedCertificate TestCertificateAuthority::IssueServer(const std::string& subject_alt_name) {
  return Issue("tollgate test server", "serverAuth", subject_alt_name);
}

IssuedCertificate TestCertificateAuthority::IssueClient(const std::string& name) {
  return Issue(name, "clientAuth", "");
}

IssuedCertificate TestCertificateAuthority::Issue(const std::string& common_name,
                                                  const std::string& extended_key_usage,
                                                  const std::string& subject_alt_name) {
  EvpPkeyPtr key = NewP256Key();
  OpenSslPtr<X509, X509_free> certificate = NewCertificate(key.get(), common_name, next_serial_++);
  X509* leaf = certificate.get();
  Check(X509_set_issuer_name(leaf, X509_get_subject_name(certificate_.get())) == 1,
        "X509_set_issuer_name");
  X509V3_CTX context;
  X509V3_set_ctx(&context, certificate_.get(), leaf, nullptr, nullptr, 0);
  AddExtension(leaf, &context, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(leaf, &context, NID_key_usage, "critical,digitalSignature");
  AddExtension(leaf, &context, NID_ext_key_usage, extended_key_usage);
  AddExtension(leaf, &context, NID_authority_key_identifier, "keyid");
  if (!subject_alt_name.empty()) {
    AddExtension(leaf, &context, NID_subject_alt_name, subject_alt_name);
  }
  Check(X509_sign(leaf, key_.get(), EVP_sha256()) > 0, "X509_sign");
  return IssuedCertificate{PemOf(leaf), PemOf(key.get()), SerialHex(leaf)};
}

std::string SerialOf(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OpenSslPtr<X509, X509_free> certificate(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (certificate == nullptr) return "";
  return SerialHex(certificate.get());
}

void ReplaceFile(const std::string& path, const std::string& contents) {
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << contents;
    Check(static_cast<bool>(out.flush()), "writing the new file");
  }
  Check(std::rename(temporary.c_str(), path.c_str()) == 0, "rename");
}

}  // namespace tollgate::testing
