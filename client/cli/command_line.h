#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/command_spec.h"
#include "client/cli/global_options.h"

namespace tollgate::cli {

// Looks up one environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// One parsed invocation: `tollgate [global options] COMMAND [options] [args]`.
//
// Grammar: options are `--name VALUE`, `--name=VALUE` or a switch `--name`;
// global options (--auth, --sum, --token-file, --timeout, --tls-ca,
// --tls-cert, --tls-key) are accepted before and after the command, the
// command's own options only after it. Anything
// not starting with "--" is a positional, so negative numbers (`sum -5 3`)
// and `-` (stdin) need no quoting; `--` ends the options. `-h`, `--help` and
// `tollgate help [COMMAND]` ask for help. A two-word command is its group
// then its verb (`tollgate users roles U admin`); `tollgate users --help` asks
// for the help of the group.
//
// Parse validates everything that needs no I/O: the command exists (a group
// needs one of its verbs), every
// option is known to it and given at most once, switches have no value,
// required options are present, the number of positionals fits, and the
// global options are well-formed. Values of command options and positionals
// (numbers, booleans) are checked later by RequestBuilder.
class CommandLine final {
 public:
  // `args` is argv[1..]. INVALID_ARGUMENT with the exact one-line usage
  // message (without the "tollgate: " prefix) on any error.
  [[nodiscard]] static absl::StatusOr<CommandLine> Parse(const std::vector<std::string>& args,
                                                         const EnvLookup& env);

  const GlobalOptions& options() const { return options_; }
  // nullptr only when help() is set without a command (general help, or the
  // help of group()).
  const CommandSpec* command() const { return command_; }
  // The group of the command, or the group whose help is asked for; nullptr
  // for one-word commands and the general help.
  const CommandGroup* group() const { return group_; }
  bool help() const { return help_; }

  // Whether the command's option was given (switch or valued).
  bool Has(absl::string_view flag_name) const;
  // The value of a valued option; nullopt when not given.
  std::optional<std::string> Value(absl::string_view flag_name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  CommandLine() = default;

  GlobalOptions options_;
  const CommandSpec* command_ = nullptr;
  const CommandGroup* group_ = nullptr;
  bool help_ = false;
  std::map<std::string, std::string, std::less<>> flags_;
  std::vector<std::string> positionals_;
};

}  // namespace tollgate::cli
