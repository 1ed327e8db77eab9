#pragma once

#include <string>

#include "absl/status/status.h"

namespace tollgate::tls {

// The PEM files of one TLS endpoint, as the configuration named them, and
// the checks made before any of them is handed to gRPC.
//
// Contract:
// - A SettingFile is a path plus the setting that named it; every error
//   names the setting ("AUTH_TLS_KEY (--tls-key): ..."), so an operator
//   knows which line of the configuration to fix. An empty path is unset.
// - CheckServerPairing and CheckClientPairing need no I/O: they say whether
//   the combination of set and unset files makes sense (the config parsers
//   call them, so a half-configured TLS is a configuration error).
// - VerifyServerFiles and VerifyClientFiles read the files that are set:
//   each must be readable; a certificate file must hold at least one PEM
//   certificate, a key file an unencrypted PEM private key that matches the
//   first certificate of its certificate file, a CA file at least one PEM
//   certificate. INVALID_ARGUMENT with one line naming the setting and the
//   cause otherwise. They check what the files hold now; gRPC re-reads them
//   later (see tls_credentials.h).
struct SettingFile {
  std::string setting;  // how errors name it: "AUTH_TLS_CERT (--tls-cert)"
  std::string path;     // empty: unset

  bool set() const { return !path.empty(); }
};

// A gRPC server's TLS. All unset: plaintext.
struct ServerTlsFiles {
  SettingFile certificate;  // PEM chain, the server's own certificate first
  SettingFile private_key;  // PEM, unencrypted
  // PEM CA bundle. Set: every client must present a certificate it signed.
  SettingFile client_ca;

  bool enabled() const { return certificate.set() || private_key.set(); }
};

// A gRPC client's TLS (the client decides elsewhere whether to use TLS).
struct ClientTlsFiles {
  SettingFile ca;           // PEM CA bundle; unset: the system's CAs
  SettingFile certificate;  // with private_key: shown to a server that asks (mTLS)
  SettingFile private_key;

  bool any_set() const { return ca.set() || certificate.set() || private_key.set(); }
};

// Certificate and key both or neither; a client CA only with both.
[[nodiscard]] absl::Status CheckServerPairing(const ServerTlsFiles& files);
// Client certificate and key both or neither.
[[nodiscard]] absl::Status CheckClientPairing(const ClientTlsFiles& files);

// The pairing, then the contents of every file that is set.
[[nodiscard]] absl::Status VerifyServerFiles(const ServerTlsFiles& files);
[[nodiscard]] absl::Status VerifyClientFiles(const ClientTlsFiles& files);

}  // namespace tollgate::tls
