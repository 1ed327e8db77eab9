// auth_service: parses the configuration, then (for now) stops, because the
// service itself is a skeleton. Exit codes: 0 after --help, 2 for a bad
// configuration, 1 otherwise.
#include <iostream>

#include "auth_service/auth_config.h"

int main(int argc, char** argv) {
  using tollgate::auth::AuthConfig;
  if (AuthConfig::WantsHelp(argc, argv)) {
    std::cout << AuthConfig::HelpText();
    return 0;
  }
  absl::StatusOr<AuthConfig> config = AuthConfig::FromFlagsAndEnv(argc, argv);
  if (!config.ok()) {
    std::cerr << "auth_service: invalid configuration: " << config.status().message() << "\n";
    return 2;
  }
  std::cerr << "auth_service: configuration is valid, but serving is not implemented yet\n";
  return 1;
}
