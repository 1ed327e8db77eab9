// sum_service: parses the configuration, then (for now) stops, because the
// service itself is a skeleton. Exit codes: 0 after --help, 2 for a bad
// configuration, 1 otherwise.
#include <iostream>

#include "sum_service/sum_config.h"

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
  std::cerr << "sum_service: configuration is valid, but serving is not implemented yet\n";
  return 1;
}
