#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tollgate::cli {

// One option of one command, written `--name VALUE` / `--name=VALUE`, or
// just `--name` when `value_name` is empty (a switch).
struct FlagSpec {
  absl::string_view name;        // without the leading "--"
  absl::string_view value_name;  // "NAME" in the help; empty: a switch
  absl::string_view help;
  bool required = false;

  bool is_switch() const { return value_name.empty(); }
};

// The grammar and help of one command: `tollgate <name> [flags] <positionals>`.
// The table of all commands (AllCommands) is the single source of both the
// parser's rules and the help text, so they cannot disagree.
struct CommandSpec {
  absl::string_view name = {};  // kebab-case, e.g. "set-roles"
  absl::string_view rpc = {};   // the RPC it calls, e.g. "SetUserRoles"
  absl::string_view summary = {};
  // Names of the positional arguments, in order, for help and messages.
  std::vector<absl::string_view> positionals = {};
  // How many positionals must be given; the rest are optional.
  size_t min_positionals = 0;
  // The last positional may repeat (ROLE..., VALUE...).
  bool variadic = false;
  std::vector<FlagSpec> flags = {};
  // Sends the saved access token (and refreshes it when needed).
  bool authenticated = false;
  // The RPC is SumService's (else AuthService's).
  bool sum_service = false;
  // More help after the options, may be empty.
  absl::string_view details = {};

  // nullptr when the command has no such flag.
  const FlagSpec* FindFlag(absl::string_view flag_name) const;
  // "tollgate sum [options] A B"
  std::string UsageLine() const;
  // What `tollgate <name> --help` prints.
  std::string HelpText() const;
  // INVALID_ARGUMENT "<name>: <problem> (see 'tollgate <name> --help')".
  absl::Status UsageError(absl::string_view problem) const;
};

// Every command, in the order of the general help.
const std::vector<CommandSpec>& AllCommands();
// nullptr for an unknown name.
const CommandSpec* FindCommand(absl::string_view name);
// What `tollgate --help` prints.
std::string GeneralHelpText();
// INVALID_ARGUMENT "<problem> (see 'tollgate --help')".
absl::Status GeneralUsageError(absl::string_view problem);

}  // namespace tollgate::cli
