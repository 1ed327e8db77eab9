#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sum_service/sum_config.h"

namespace tollgate::sum {

// A SumServer configuration for a test: SumConfig::FromFlagsAndEnv of
// `sum_service --listen=127.0.0.1:0 --http-listen=127.0.0.1:0 FLAGS...`
// with an environment that holds `env` and nothing else, so that the
// variables of the shell running the test change nothing.
inline absl::StatusOr<SumConfig> LocalSumConfig(std::vector<std::string> flags = {},
                                                const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> args = {"sum_service", "--listen=127.0.0.1:0",
                                   "--http-listen=127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return SumConfig::FromFlagsAndEnv(
      static_cast<int>(argv.size()), argv.data(),
      [&env](const std::string& name) -> std::optional<std::string> {
        auto found = env.find(name);
        if (found == env.end()) return std::nullopt;
        return found->second;
      });
}

}  // namespace tollgate::sum
