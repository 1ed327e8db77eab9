#include "common/config/server_settings.h"

#include "absl/status/status.h"

namespace tollgate::config {

absl::StatusOr<std::string> ParseListenAddress(const RawSettings& raw,
                                               const ServerSettings& settings) {
  std::string address = raw.Get(settings.listen);
  if (absl::Status status = CheckListenAddress(settings.listen, address); !status.ok()) {
    return status;
  }
  return address;
}

absl::StatusOr<bool> ParseReusePort(const RawSettings& raw, const ServerSettings& settings) {
  absl::StatusOr<int64_t> reuse_port = ParseInteger(raw, settings.reuse_port, 0, 1, "an integer");
  if (!reuse_port.ok()) return reuse_port.status();
  return *reuse_port == 1;
}

absl::StatusOr<tls::ServerTlsFiles> ParseServerTlsFiles(const RawSettings& raw,
                                                        const ServerSettings& settings) {
  tls::ServerTlsFiles files{
      {Describe(settings.tls_certificate), raw.Get(settings.tls_certificate)},
      {Describe(settings.tls_private_key), raw.Get(settings.tls_private_key)},
      {Describe(settings.tls_client_ca), raw.Get(settings.tls_client_ca)}};
  if (absl::Status status = tls::CheckServerPairing(files); !status.ok()) return status;
  return files;
}

absl::StatusOr<int64_t> ParseShutdownGraceSeconds(const RawSettings& raw,
                                                  const ServerSettings& settings) {
  return ParseSeconds(raw, settings.shutdown_grace, 0, 3600);
}

absl::StatusOr<std::string> ParseHttpListenAddress(const RawSettings& raw,
                                                   const ServerSettings& settings) {
  std::string address = raw.Get(settings.http_listen);
  if (!address.empty()) {
    if (absl::Status status = CheckListenAddress(settings.http_listen, address); !status.ok()) {
      return status;
    }
  }
  return address;
}

absl::StatusOr<int64_t> ParseMaxCallsInFlight(const RawSettings& raw,
                                              const ServerSettings& settings) {
  return ParseInteger(raw, settings.max_calls_in_flight, 0, 1'000'000, "a whole number");
}

absl::StatusOr<LogChoice> ParseLogChoice(const RawSettings& raw, const ServerSettings& settings) {
  absl::StatusOr<logging::Format> format = ParseLogFormat(raw, settings.log_format);
  if (!format.ok()) return format.status();
  absl::StatusOr<logging::Level> level = ParseLogLevel(raw, settings.log_level);
  if (!level.ok()) return level.status();
  return LogChoice{*format, *level};
}

}  // namespace tollgate::config
