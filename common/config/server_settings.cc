#include "common/config/server_settings.h"

#include "absl/status/status.h"

namespace tollgate::config {
namespace {

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

}  // namespace

absl::Status ParseServerConfig(const RawSettings& raw, const ServerSettings& settings,
                               ServerConfig& config) {
  absl::StatusOr<std::string> listen_address = ParseListenAddress(raw, settings);
  if (!listen_address.ok()) return listen_address.status();
  config.listen_address = *std::move(listen_address);

  absl::StatusOr<bool> reuse_port = ParseReusePort(raw, settings);
  if (!reuse_port.ok()) return reuse_port.status();
  config.reuse_port = *reuse_port;

  absl::StatusOr<tls::ServerTlsFiles> tls_files = ParseServerTlsFiles(raw, settings);
  if (!tls_files.ok()) return tls_files.status();
  config.tls = *std::move(tls_files);

  absl::StatusOr<ConnectionLimits> limits = ParseConnectionLimits(raw, settings.connection_limits);
  if (!limits.ok()) return limits.status();
  config.connection_limits = *limits;

  absl::StatusOr<int64_t> shutdown_grace = ParseSeconds(raw, settings.shutdown_grace, 0, 3600);
  if (!shutdown_grace.ok()) return shutdown_grace.status();
  config.shutdown_grace_seconds = *shutdown_grace;

  absl::StatusOr<std::string> http_listen_address = ParseHttpListenAddress(raw, settings);
  if (!http_listen_address.ok()) return http_listen_address.status();
  config.http_listen_address = *std::move(http_listen_address);

  absl::StatusOr<int64_t> max_calls =
      ParseInteger(raw, settings.max_calls_in_flight, 0, 1'000'000, "a whole number");
  if (!max_calls.ok()) return max_calls.status();
  config.max_calls_in_flight = *max_calls;

  absl::StatusOr<logging::Format> format = ParseLogFormat(raw, settings.log_format);
  if (!format.ok()) return format.status();
  config.log_format = *format;
  absl::StatusOr<logging::Level> level = ParseLogLevel(raw, settings.log_level);
  if (!level.ok()) return level.status();
  config.log_level = *level;
  return absl::OkStatus();
}

}  // namespace tollgate::config
