#pragma once

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/logging/lifecycle_log.h"
#include "common/server_process.h"
#include "common/stop_signal.h"
#include "common/version.h"

namespace tollgate {

// The life of a service binary, written once for both services' main():
//   1. `--version`: "PROGRAM VERSION" on stdout, exit 0; `--help`:
//      Config::HelpText() on stdout, exit 0.
//   2. Config::FromFlagsAndEnv; when it fails, one line "PROGRAM: invalid
//      configuration: REASON" on stderr and exit 2 (no log line: the
//      settings that choose the log format are what failed).
//   3. The logger for `service` as configured, then "starting".
//   4. SIGTERM and SIGINT blocked before any thread starts (StopSignals).
//   5. `start(config, clock)`, which returns
//      StatusOr<std::unique_ptr<Server>>; on failure "cannot start" and
//      exit 1.
//   6. "listening" for the gRPC port, and for the HTTP port when it has one.
//   7. SIGTERM or SIGINT: "stopping", Server::Shutdown drains the calls in
//      flight for at most config.shutdown_grace_seconds, "stopped", the log
//      flushed, exit 0.
// Config is AuthConfig or SumConfig (the members used here are the ones
// they share); Server has port(), http_port() and Shutdown(grace).
template <typename Config, typename Start>
int RunServerMain(int argc, char** argv, std::string_view program, std::string service,
                  Start start) {
  PrepareServerProcess();
  if (WantsVersion(argc, argv)) {
    std::cout << program << " " << kVersion << "\n";
    return 0;
  }
  if (Config::WantsHelp(argc, argv)) {
    std::cout << Config::HelpText();
    return 0;
  }
  absl::StatusOr<Config> config = Config::FromFlagsAndEnv(argc, argv);
  if (!config.ok()) {
    std::cerr << program << ": invalid configuration: " << config.status().message() << "\n";
    return 2;
  }
  logging::InstallServiceLogger(std::move(service), config->log_format, config->log_level);
  logging::LogStarting(config->logged_settings);
  StopSignals stop_signals;  // before any thread starts

  SystemClock clock;
  auto server = start(*config, clock);
  if (!server.ok()) {
    logging::LogCannotStart(server.status());
    return 1;
  }
  logging::LogListening("grpc", config->listen_address, (*server)->port());
  if ((*server)->http_port() > 0) {
    logging::LogListening("http", config->http_listen_address, (*server)->http_port());
  }

  const int signal_number = stop_signals.Wait();
  logging::LogStopping(signal_number);
  (*server)->Shutdown(std::chrono::seconds(config->shutdown_grace_seconds));
  logging::LogStopped();
  // The last lines reach the log collector before the process ends.
  logging::DefaultLogger().Flush();
  return 0;
}

}  // namespace tollgate
