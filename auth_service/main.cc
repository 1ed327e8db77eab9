// auth_service: parse the configuration, install the logger, start the
// server, wait for SIGTERM or SIGINT, drain in-flight calls, exit 0.
// Exit 2 for a bad configuration (one plain line on stderr: the settings
// that choose the log format are what failed), 1 when start-up fails (the
// last log line, "cannot start", names the cause). See RunServerMain.
#include "auth_service/auth_config.h"
#include "auth_service/auth_server.h"
#include "common/server_main.h"

int main(int argc, char** argv) {
  using tollgate::auth::AuthConfig;
  using tollgate::auth::AuthServer;
  return tollgate::RunServerMain<AuthConfig>(
      argc, argv, "auth_service", "auth",
      [](const AuthConfig& config, const tollgate::Clock& clock) {
        return AuthServer::Start(config, clock, static_cast<int>(config.database_wait_seconds));
      });
}
