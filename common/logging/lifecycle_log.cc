#include "common/logging/lifecycle_log.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "absl/strings/match.h"
#include "common/version.h"

namespace tollgate::logging {
namespace {

// "127.0.0.1:0" bound to port 43211 is "127.0.0.1:43211"; a unix: address
// is itself.
std::string BoundAddress(const std::string& address, int port) {
  if (absl::StartsWith(address, "unix:")) return address;
  const size_t colon = address.rfind(':');
  return address.substr(0, colon == std::string::npos ? address.size() : colon) + ":" +
         std::to_string(port);
}

}  // namespace

void InstallServiceLogger(std::string service, Format format, Level min_level) {
  SetDefaultLogger(std::make_unique<Logger>(std::move(service), format, min_level, &std::cout));
}

void LogStarting(std::span<const config::LoggedSetting> settings) {
  Info("starting", {{"version", kVersion}, {"pid", static_cast<int64_t>(::getpid())}});
  for (const config::LoggedSetting& setting : settings) {
    Info("setting", {{"name", setting.variable},
                     {"value", setting.value},
                     {"source", std::string_view(setting.source.data(), setting.source.size())}});
  }
}

void LogListening(std::string_view protocol, const std::string& address, int port) {
  if (absl::StartsWith(address, "unix:")) {
    Info("listening", {{"protocol", protocol}, {"address", address}});
    return;
  }
  Info("listening",
       {{"protocol", protocol}, {"address", BoundAddress(address, port)}, {"port", port}});
}

void LogCannotStart(const absl::Status& status) {
  Error("cannot start", {{"reason", std::string(status.message())}});
}

void LogStopping(int signal_number) { Info("stopping", {{"signal", signal_number}}); }

void LogStopped() { Info("stopped"); }

}  // namespace tollgate::logging
