#include "common/tls/tls_files.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"

namespace tollgate::tls {
namespace {

using X509Ptr = OpenSslPtr<X509, X509_free>;

// Certificate and key files are a few KiB; a CA bundle (the whole system
// set) about 200 KiB. Anything far larger is not a PEM file meant for us.
constexpr size_t kMaxFileBytes = 4 << 20;

absl::Status Invalid(const SettingFile& file, absl::string_view cause) {
  return absl::InvalidArgumentError(absl::StrCat(file.setting, ": ", cause));
}

absl::StatusOr<std::string> ReadWhole(const SettingFile& file) {
  const int fd = open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Invalid(file, absl::StrCat("cannot read ", file.path, ": ", std::strerror(errno)));
  }
  std::string contents;
  char buffer[8192];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return Invalid(file, absl::StrCat("cannot read ", file.path, ": ", std::strerror(error)));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxFileBytes) {
      close(fd);
      return Invalid(file, absl::StrCat(file.path, " is larger than ", kMaxFileBytes >> 20,
                                        " MiB, not a PEM file"));
    }
  }
  close(fd);
  return contents;
}

// Never ask for a passphrase: OpenSSL's default would prompt on the
// terminal of a service that has none, and gRPC cannot use an encrypted key.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The certificates of a PEM file, in order; empty when it holds none.
std::vector<X509Ptr> PemCertificates(const std::string& pem) {
  std::vector<X509Ptr> certificates;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // the end of the file reads as an error
  return certificates;
}

EvpPkeyPtr PemPrivateKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return nullptr;
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  return key;
}

// The first certificate of a certificate or CA file.
absl::StatusOr<X509Ptr> FirstCertificate(const SettingFile& file) {
  absl::StatusOr<std::string> pem = ReadWhole(file);
  if (!pem.ok()) return pem.status();
  std::vector<X509Ptr> certificates = PemCertificates(*pem);
  if (certificates.empty()) return Invalid(file, absl::StrCat(file.path, " holds no PEM certificate"));
  return std::move(certificates.front());
}

// The key file holds a key for the first certificate of `certificate`.
absl::Status VerifyKeyPair(const SettingFile& certificate, const SettingFile& private_key) {
  absl::StatusOr<X509Ptr> leaf = FirstCertificate(certificate);
  if (!leaf.ok()) return leaf.status();
  absl::StatusOr<std::string> pem = ReadWhole(private_key);
  if (!pem.ok()) return pem.status();
  EvpPkeyPtr key = PemPrivateKey(*pem);
  if (key == nullptr) {
    return Invalid(private_key,
                   absl::StrCat(private_key.path, " holds no unencrypted PEM private key"));
  }
  // A mismatched pair would start, then fail every handshake.
  const bool matches = X509_check_private_key(leaf->get(), key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return Invalid(private_key, absl::StrCat(private_key.path, " does not match the certificate in ",
                                             certificate.setting));
  }
  return absl::OkStatus();
}

absl::Status BothOrNeither(const SettingFile& certificate, const SettingFile& private_key) {
  if (certificate.set() == private_key.set()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(certificate.setting, " and ",
                                                 private_key.setting, ": set both or neither"));
}

}  // namespace

absl::Status CheckServerPairing(const ServerTlsFiles& files) {
  if (absl::Status status = BothOrNeither(files.certificate, files.private_key); !status.ok()) {
    return status;
  }
  if (files.client_ca.set() && !files.certificate.set()) {
    return absl::InvalidArgumentError(absl::StrCat(files.client_ca.setting, ": needs ",
                                                   files.certificate.setting, " and ",
                                                   files.private_key.setting));
  }
  return absl::OkStatus();
}

absl::Status CheckClientPairing(const ClientTlsFiles& files) {
  return BothOrNeither(files.certificate, files.private_key);
}

absl::Status VerifyServerFiles(const ServerTlsFiles& files) {
  if (absl::Status status = CheckServerPairing(files); !status.ok()) return status;
  if (!files.enabled()) return absl::OkStatus();
  if (absl::Status status = VerifyKeyPair(files.certificate, files.private_key); !status.ok()) {
    return status;
  }
  if (files.client_ca.set()) return FirstCertificate(files.client_ca).status();
  return absl::OkStatus();
}

absl::Status VerifyClientFiles(const ClientTlsFiles& files) {
  if (absl::Status status = CheckClientPairing(files); !status.ok()) return status;
  if (files.ca.set()) {
    if (absl::Status status = FirstCertificate(files.ca).status(); !status.ok()) return status;
  }
  if (files.certificate.set()) return VerifyKeyPair(files.certificate, files.private_key);
  return absl::OkStatus();
}

}  // namespace tollgate::tls
