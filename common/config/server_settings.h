#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/config/connection_limit_settings.h"
#include "common/connection_limits.h"
#include "common/config/literal.h"
#include "common/config/settings.h"
#include "common/logging/logger.h"
#include "common/tls/tls_files.h"

namespace tollgate::config {

// The settings every tollgate gRPC server has: where it listens, its TLS,
// its connection limits, how long a stop waits, its HTTP side port, its cap
// on calls in flight and its log. Both services have them, each under its
// own prefix (AUTH_LISTEN, SUM_LISTEN, ...), with the same flags, defaults
// and meanings but for the two that WithPrefix takes.
struct ServerSettings {
  Setting listen;               // host:port or unix:path
  Setting reuse_port;           // 0 or 1
  Setting tls_certificate;      // with tls_private_key; neither: plaintext
  Setting tls_private_key;
  Setting tls_client_ca;        // set: clients must present a certificate
  ConnectionLimitSettings connection_limits;
  Setting shutdown_grace;       // seconds [0, 3600]
  Setting http_listen;          // unset: no HTTP port
  Setting max_calls_in_flight;  // [0 = no cap, 1000000]
  Setting log_format;           // json or text
  Setting log_level;            // debug, info, warn or error

  // The settings under a service's prefix: WithPrefix<"AUTH_">(...) reads
  // AUTH_LISTEN, AUTH_REUSEPORT, AUTH_TLS_CERT, ..., and the connection
  // limits of ConnectionLimitSettings::WithPrefix. `listen_default` is the
  // gRPC address used when none is set; `http_listen_meaning` says what
  // the HTTP side port serves.
  template <Literal Prefix>
  static constexpr ServerSettings WithPrefix(absl::string_view listen_default,
                                             absl::string_view http_listen_meaning) {
    return {
        .listen = {"listen", Joined<Prefix, "LISTEN">, listen_default, "",
                   "gRPC listen address (host:port or unix:path)"},
        .reuse_port = {"reuseport", Joined<Prefix, "REUSEPORT">, "0", "",
                       "1: share the listen port with other processes (SO_REUSEPORT); "
                       "0: a port in use fails the start"},
        .tls_certificate = {"tls-cert", Joined<Prefix, "TLS_CERT">, "", "off: plaintext",
                            Joined<"PEM certificate chain of the gRPC port (TLS, with ", Prefix,
                                   "TLS_KEY); re-read every 5 s">},
        .tls_private_key = {"tls-key", Joined<Prefix, "TLS_KEY">, "", "off: plaintext",
                            Joined<"PEM private key of ", Prefix,
                                   "TLS_CERT, unencrypted; re-read every 5 s">},
        .tls_client_ca = {"tls-client-ca", Joined<Prefix, "TLS_CLIENT_CA">, "", "off",
                          "PEM CA bundle: every client must present a certificate it "
                          "signed (mTLS); re-read every 5 s"},
        .connection_limits = ConnectionLimitSettings::WithPrefix<Prefix>(),
        .shutdown_grace = {"shutdown-grace", Joined<Prefix, "SHUTDOWN_GRACE">, "10", "",
                           "on SIGTERM or SIGINT, how long calls in flight may finish "
                           "before they are cancelled, seconds [0, 3600]"},
        .http_listen = {"http-listen", Joined<Prefix, "HTTP_LISTEN">, "", "off",
                        http_listen_meaning},
        .max_calls_in_flight = {"max-calls-in-flight", Joined<Prefix, "MAX_CALLS_IN_FLIGHT">,
                                "4096", "",
                                "calls served at once, past which a new call gets "
                                "RESOURCE_EXHAUSTED at once [0, 1000000]; 0: no cap"},
        .log_format = {"log-format", Joined<Prefix, "LOG_FORMAT">, "json", "",
                       "log lines on stdout: json (one object per line) or text"},
        .log_level = {"log-level", Joined<Prefix, "LOG_LEVEL">, "info", "",
                      "lowest level logged: debug, info, warn or error"},
    };
  }

  // The settings of the gRPC port, in the order --help shows them first:
  // listen, reuse_port, the TLS files, the connection limits, then
  // shutdown_grace. Call it on a constexpr ServerSettings (JoinSettings).
  constexpr std::array<const Setting*, 11> GrpcPortSettings() const {
    return {&listen,
            &reuse_port,
            &tls_certificate,
            &tls_private_key,
            &tls_client_ca,
            &connection_limits.max_idle,
            &connection_limits.max_age,
            &connection_limits.max_age_grace,
            &connection_limits.min_ping_interval,
            &connection_limits.max_concurrent_streams,
            &shutdown_grace};
  }
};

// What a server's ServerSettings say, parsed: the part of AuthConfig and
// SumConfig that every tollgate server has (both derive from it).
struct ServerConfig {
  std::string listen_address;                           // *_LISTEN
  bool reuse_port = false;                              // *_REUSEPORT=1: SO_REUSEPORT
  tls::ServerTlsFiles tls;                              // *_TLS_CERT, _KEY, _CLIENT_CA; unset: plaintext
  ConnectionLimits connection_limits;                   // *_MAX_CONNECTION_*, *_KEEPALIVE_*,
                                                        // *_MAX_CONCURRENT_STREAMS
  int64_t shutdown_grace_seconds = 0;                   // *_SHUTDOWN_GRACE
  std::string http_listen_address;                      // *_HTTP_LISTEN; empty: off
  int64_t max_calls_in_flight = 0;                      // *_MAX_CALLS_IN_FLIGHT; 0: no cap
  logging::Format log_format = logging::Format::kJson;  // *_LOG_FORMAT
  logging::Level log_level = logging::Level::kInfo;     // *_LOG_LEVEL
};

// Reads every setting of `settings` into `config`, or returns
// INVALID_ARGUMENT naming the first one it does not accept ("AUTH_LISTEN
// (--listen): ..."):
// - the listen addresses: host:port with a port in [0, 65535], or
//   unix:path; the HTTP one may be unset (no HTTP port);
// - reuse_port 0 or 1; the three TLS files, each named by its setting,
//   paired as tls::CheckServerPairing accepts (all unset: plaintext; the
//   files are not read here); the connection limits
//   (ParseConnectionLimits);
// - the shutdown grace in whole seconds [0, 3600]; the cap on calls in
//   flight [0, 1000000], 0: no cap;
// - the log format, then the level.
[[nodiscard]] absl::Status ParseServerConfig(const RawSettings& raw,
                                             const ServerSettings& settings,
                                             ServerConfig& config);

}  // namespace tollgate::config
