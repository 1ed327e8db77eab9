#include "common/tls/tls_credentials.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

namespace tollgate::tls {
namespace {

using grpc::experimental::FileWatcherCertificateProvider;

const unsigned kReloadSeconds = static_cast<unsigned>(kReloadInterval.count());

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const ServerTlsFiles& files) {
  if (absl::Status status = VerifyServerFiles(files); !status.ok()) return status;
  if (!files.enabled()) return grpc::InsecureServerCredentials();

  auto provider = std::make_shared<FileWatcherCertificateProvider>(
      files.private_key.path, files.certificate.path, files.client_ca.path, kReloadSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (files.client_ca.set()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFrom(
    const ClientTlsFiles& files) {
  if (absl::Status status = VerifyClientFiles(files); !status.ok()) return status;

  grpc::experimental::TlsChannelCredentialsOptions options;
  if (files.ca.set() || files.certificate.set()) {
    options.set_certificate_provider(std::make_shared<FileWatcherCertificateProvider>(
        files.private_key.path, files.certificate.path, files.ca.path, kReloadSeconds));
  }
  // Without watched roots gRPC uses the system's CAs.
  if (files.ca.set()) options.watch_root_certs();
  if (files.certificate.set()) options.watch_identity_key_cert_pairs();
  // Named rather than left to gRPC's default: a verifier that only checks
  // the chain would accept any certificate that CA ever signed.
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace tollgate::tls
