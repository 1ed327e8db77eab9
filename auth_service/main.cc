// auth_service: parse the configuration, start the server, wait for SIGTERM
// or SIGINT, drain in-flight calls, exit 0. Exit 2 for a bad configuration,
// 1 when start-up fails (the reason is one line on stderr).
#include <iostream>

#include "auth_service/auth_config.h"
#include "auth_service/auth_server.h"
#include "common/clock.h"
#include "common/server_listen.h"
#include "common/server_process.h"
#include "common/stop_signal.h"
#include "common/version.h"

int main(int argc, char** argv) {
  tollgate::PrepareServerProcess();
  using tollgate::auth::AuthConfig;
  if (tollgate::WantsVersion(argc, argv)) {
    std::cout << "auth_service " << tollgate::kVersion << "\n";
    return 0;
  }
  if (AuthConfig::WantsHelp(argc, argv)) {
    std::cout << AuthConfig::HelpText();
    return 0;
  }
  absl::StatusOr<AuthConfig> config = AuthConfig::FromFlagsAndEnv(argc, argv);
  if (!config.ok()) {
    std::cerr << "auth_service: invalid configuration: " << config.status().message() << "\n";
    return 2;
  }
  tollgate::StopSignals stop_signals;  // before any thread starts

  tollgate::SystemClock clock;
  auto server = tollgate::auth::AuthServer::Start(
      *config, clock, static_cast<int>(config->database_wait_seconds));
  if (!server.ok()) {
    std::cerr << "auth_service: cannot start: " << server.status().message() << "\n";
    return 1;
  }
  // "port N" for TCP (scripts and tests parse it), the address for unix:.
  std::cout << "auth_service: listening on "
            << tollgate::ListeningOn(config->listen_address, (*server)->port()) << std::endl;

  const int signal_number = stop_signals.Wait();
  std::cerr << "auth_service: signal " << signal_number << ", draining\n";
  (*server)->Shutdown();
  return 0;
}
