#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/config/settings.h"
#include "common/logging/logger.h"

namespace tollgate::logging {

// The lines a service process logs about its own life, through
// DefaultLogger(), so that auth_service and sum_service read alike to
// whatever parses them (README "Logs"). Every message is a fixed text and
// the values are fields.
//
// - InstallServiceLogger makes DefaultLogger() a Logger for `service`
//   ("auth", "sum") on stdout. main() calls it once, right after the
//   configuration parsed and before any thread starts.
// - LogStarting: info "starting" with `version` and `pid`, then info
//   "setting" for each setting, with `name` (the variable), `value` (as
//   RawSettings::ForLog masks it) and `source` ("flag", "env", "default").
// - LogListening: info "listening" with `protocol` ("grpc", "http"),
//   `address` (the configured address with the port actually bound, or the
//   unix: address) and, for TCP, `port`.
// - LogCannotStart: error "cannot start" with `reason`, the status message.
//   It is the last line of a start-up that fails (exit 1); at level error,
//   no *_LOG_LEVEL hides it.
// - LogStopping: info "stopping" with `signal`; LogStopped: info "stopped".
void InstallServiceLogger(std::string service, Format format, Level min_level);
void LogStarting(std::span<const config::LoggedSetting> settings);
void LogListening(std::string_view protocol, const std::string& address, int port);
void LogCannotStart(const absl::Status& status);
void LogStopping(int signal_number);
void LogStopped();

}  // namespace tollgate::logging
