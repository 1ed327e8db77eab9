// sum_service: parse the configuration, start the server, wait for SIGTERM
// or SIGINT, drain in-flight calls, exit 0. Exit 2 for a bad configuration,
// 1 when start-up fails (the reason is one line on stderr).
#include <signal.h>

#include <iostream>

#include "common/clock.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"

int main(int argc, char** argv) {
  using tollgate::sum::SumConfig;
  if (SumConfig::WantsHelp(argc, argv)) {
    std::cout << SumConfig::HelpText();
    return 0;
  }
  absl::StatusOr<SumConfig> config = SumConfig::FromFlagsAndEnv(argc, argv);
  if (!config.ok()) {
    std::cerr << "sum_service: invalid configuration: " << config.status().message() << "\n";
    return 2;
  }
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  tollgate::SystemClock clock;
  auto server = tollgate::sum::SumServer::Start(*config, clock);
  if (!server.ok()) {
    std::cerr << "sum_service: cannot start: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "sum_service: listening on port " << (*server)->port() << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cerr << "sum_service: signal " << signal_number << ", draining\n";
  (*server)->Shutdown();
  return 0;
}
