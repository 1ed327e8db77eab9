// tollgate: the command-line client. main only wires the real process
// environment (variables, stdin/stdout/stderr, the clock) into Cli.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "client/cli/cli.h"
#include "common/clock.h"
#include "common/version.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--version") {
    std::cout << "tollgate " << tollgate::kVersion << "\n";
    return 0;
  }
  const tollgate::SystemClock clock;
  tollgate::cli::CliEnvironment environment{
      .env = [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      },
      .in = std::cin,
      .out = std::cout,
      .err = std::cerr,
      .stdin_is_terminal = ::isatty(STDIN_FILENO) == 1,
      .clock = clock,
  };
  return tollgate::cli::Cli(std::move(environment)).Run(args);
}
