#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "client/cli/command_line.h"
#include "common/clock.h"

namespace tollgate::cli {

// Exit statuses of `tollgate`.
inline constexpr int kExitSuccess = 0;
// A call answered an error ("tollgate: <RPC>: <CODE_NAME>: <message>"), or
// the token file cannot be used ("tollgate: <reason>").
inline constexpr int kExitFailure = 1;
// Unknown command or option, missing or malformed argument, no password.
inline constexpr int kExitUsage = 2;

// Everything the CLI touches outside itself, so that tests can drive it in
// process. `stdin_is_terminal`: `in` is the real stdin and a terminal
// (passwords are then prompted for without echo).
struct CliEnvironment {
  EnvLookup env;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool stdin_is_terminal = false;
  const Clock& clock;
};

// The command dispatcher of `tollgate`: parses the command line, builds the
// request, makes the call (with the saved access token where the method
// needs one, through a client::Session on the token file) and prints the
// reply.
//
// Output contract:
// - success: the response as one line of JSON on `out` (proto field names,
//   fields with default values included), exit 0. login, register, refresh
//   and password change first save the pair in the token file and print
//   "<saved to PATH>" in place of access_token and refresh_token unless
//   --show-tokens is given; no other command prints a token. `users list
//   --all` prints one ListUsersResponse with the users of every page and an
//   empty next_page_token.
// - `--help`: the help text (general, of a group, or of a command) on `out`,
//   exit 0.
// - failure: one line "tollgate: ..." on `err` and kExitFailure or
//   kExitUsage; nothing on `out`.
class Cli final {
 public:
  explicit Cli(CliEnvironment environment);

  // `args` is argv[1..]. Returns the exit status.
  int Run(const std::vector<std::string>& args);

 private:
  CliEnvironment environment_;
};

}  // namespace tollgate::cli
