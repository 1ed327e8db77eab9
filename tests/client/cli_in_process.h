#pragma once

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "client/cli/cli.h"
#include "common/clock.h"
#include "tests/support/program_run.h"

namespace tollgate::testing {

// Runs the `tollgate` CLI in this process, as its main() would, with
// exactly `env` as its environment, `stdin_text` as its stdin (not a
// terminal) and `clock` as its clock: the exit code and what it printed on
// stdout and stderr apart.
inline ProgramOutcome RunCliInProcess(const std::vector<std::string>& args,
                                      const std::map<std::string, std::string>& env,
                                      const Clock& clock, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  cli::Cli cli(cli::CliEnvironment{
      .env = [&env](const std::string& name) -> std::optional<std::string> {
        const auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      },
      .in = in,
      .out = out,
      .err = err,
      .stdin_is_terminal = false,
      .clock = clock,
  });
  ProgramOutcome outcome;
  outcome.exit_code = cli.Run(args);
  outcome.out = out.str();
  outcome.err = err.str();
  return outcome;
}

}  // namespace tollgate::testing
