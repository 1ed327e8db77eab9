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
//
// A name is one word ("login", "me") or a group and a verb separated by one
// space ("users roles"), typed as two arguments: `tollgate users roles ...`.
struct CommandSpec {
  // kebab-case words, e.g. "jwks", "password reset-request", "set-roles"
  absl::string_view name = {};
  // The RPC it calls, e.g. "SetUserRoles". Several commands may call the
  // same RPC (an older name, or `users activate` and `users deactivate`).
  absl::string_view rpc = {};
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
  // The gRPC service of `rpc` when it is neither ("grpc.health.v1.Health").
  // An empty `rpc` means the command makes no call at all (`token ...`).
  absl::string_view service = {};
  // More help after the options, may be empty.
  absl::string_view details = {};
  // Non-empty for an older name that is still accepted (documented before
  // the group/verb grammar): what it is now, e.g. "me" for "whoami". Older
  // names are listed apart in the general help, and errors name the word
  // the user typed.
  absl::string_view alias_of = {};

  // The group of a two-word name ("users" for "users roles"); empty for a
  // one-word name.
  absl::string_view group() const;
  // nullptr when the command has no such flag.
  const FlagSpec* FindFlag(absl::string_view flag_name) const;
  // "tollgate sum [options] A B"
  std::string UsageLine() const;
  // What `tollgate <name> --help` prints.
  std::string HelpText() const;
  // INVALID_ARGUMENT "<name>: <problem> (see 'tollgate <name> --help')".
  absl::Status UsageError(absl::string_view problem) const;
};

// The first word of two-word commands, e.g. `tollgate users ...`.
struct CommandGroup {
  absl::string_view name = {};  // "users"
  absl::string_view summary = {};

  // The commands of the group, in the order of the table.
  std::vector<const CommandSpec*> Commands() const;
  // What `tollgate <name> --help` prints: the verbs and their summaries.
  std::string HelpText() const;
  // INVALID_ARGUMENT "<name>: <problem> (see 'tollgate <name> --help')".
  absl::Status UsageError(absl::string_view problem) const;
};

// Every command, in the order of the general help: the current names, then
// the older ones (alias_of set).
const std::vector<CommandSpec>& AllCommands();
// nullptr for an unknown name; `name` of a two-word command is "group verb".
const CommandSpec* FindCommand(absl::string_view name);
// Every group, in the order of the general help.
const std::vector<CommandGroup>& AllGroups();
// nullptr when `name` is not a group.
const CommandGroup* FindGroup(absl::string_view name);
// What `tollgate --help` prints.
std::string GeneralHelpText();
// INVALID_ARGUMENT "<problem> (see 'tollgate --help')".
absl::Status GeneralUsageError(absl::string_view problem);

}  // namespace tollgate::cli
