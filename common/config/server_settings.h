#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/connection_limit_settings.h"
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

// Each parser below reads one or two of the settings and returns
// INVALID_ARGUMENT naming the setting ("AUTH_LISTEN (--listen): ...") for a
// value it does not accept.

// host:port with a port in [0, 65535], or unix:path.
[[nodiscard]] absl::StatusOr<std::string> ParseListenAddress(const RawSettings& raw,
                                                             const ServerSettings& settings);
// 0 or 1.
[[nodiscard]] absl::StatusOr<bool> ParseReusePort(const RawSettings& raw,
                                                  const ServerSettings& settings);
// The three files, each named by its setting, whose pairing
// tls::CheckServerPairing accepts; all unset is plaintext. The files are
// not read here.
[[nodiscard]] absl::StatusOr<tls::ServerTlsFiles> ParseServerTlsFiles(
    const RawSettings& raw, const ServerSettings& settings);
// Whole seconds in [0, 3600].
[[nodiscard]] absl::StatusOr<int64_t> ParseShutdownGraceSeconds(const RawSettings& raw,
                                                                const ServerSettings& settings);
// As ParseListenAddress when set; "" (no HTTP port) when unset.
[[nodiscard]] absl::StatusOr<std::string> ParseHttpListenAddress(const RawSettings& raw,
                                                                 const ServerSettings& settings);
// A whole number in [0, 1000000]; 0: no cap.
[[nodiscard]] absl::StatusOr<int64_t> ParseMaxCallsInFlight(const RawSettings& raw,
                                                            const ServerSettings& settings);

// What a service logs and how (*_LOG_FORMAT, *_LOG_LEVEL).
struct LogChoice {
  logging::Format format = logging::Format::kJson;
  logging::Level level = logging::Level::kInfo;
};
// The format first (ParseLogFormat), then the level (ParseLogLevel).
[[nodiscard]] absl::StatusOr<LogChoice> ParseLogChoice(const RawSettings& raw,
                                                       const ServerSettings& settings);

}  // namespace tollgate::config
