// sum_service: parse the configuration, install the logger, start the
// server, wait for SIGTERM or SIGINT, drain in-flight calls, exit 0.
// Exit 2 for a bad configuration (one plain line on stderr: the settings
// that choose the log format are what failed), 1 when start-up fails (the
// last log line, "cannot start", names the cause). See RunServerMain.
#include "common/server_main.h"
#include "sum_service/sum_config.h"
#include "sum_service/sum_server.h"

int main(int argc, char** argv) {
  using tollgate::sum::SumConfig;
  using tollgate::sum::SumServer;
  return tollgate::RunServerMain<SumConfig>(
      argc, argv, "sum_service", "sum",
      [](const SumConfig& config, const tollgate::Clock& clock) {
        return SumServer::Start(config, clock);
      });
}
