#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "common/tls/tls_files.h"

namespace tollgate::tls {

// gRPC credentials made from the configured PEM files.
//
// Contract:
// - Both functions first verify the files (tls_files.h) and return its
//   INVALID_ARGUMENT, naming the setting and the cause, when one is wrong:
//   a service fails its start instead of failing every handshake later.
// - ServerCredentialsFrom: plaintext (InsecureServerCredentials) when no
//   file is set. Otherwise TLS with the certificate chain and key; with a
//   client CA, every client must present a certificate that CA signed
//   (the handshake fails without one).
// - ChannelCredentialsFrom: always TLS. It trusts `ca`, or the system's CAs
//   when `ca` is unset, checks that the server's certificate names the host
//   of the target (DNS name or IP address), and presents the client
//   certificate when one is set.
// - Both use gRPC's FileWatcherCertificateProvider: every file is re-read
//   each kReloadInterval, and a changed file applies to new connections
//   without a restart (open connections keep the certificate they began
//   with). A replaced certificate and key must change together: write the
//   new files beside the old ones and rename them into place. A file that
//   is missing or unreadable at a re-read makes new handshakes fail until
//   it is back; gRPC logs that on stderr.
//
// Certificate renewal (certbot, cert-manager) happens days before expiry,
// so any interval works for it; the interval only bounds how long an
// emergency replacement takes to apply. Re-reading three small files costs
// microseconds, so it is short.
inline constexpr std::chrono::seconds kReloadInterval{5};

[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const ServerTlsFiles& files);

[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFrom(
    const ClientTlsFiles& files);

}  // namespace tollgate::tls
