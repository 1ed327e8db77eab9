#include "client/cli/command_line.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/cli/int_arguments.h"

namespace tollgate::cli {
namespace {

// The options every command accepts, with their environment variables.
struct GlobalFlag {
  absl::string_view name;
  absl::string_view env;
};
constexpr GlobalFlag kGlobalFlags[] = {
    {"auth", "TOLLGATE_AUTH_ADDR"},
    {"sum", "TOLLGATE_SUM_ADDR"},
    {"token-file", "TOLLGATE_TOKEN_FILE"},
    {"timeout", "TOLLGATE_TIMEOUT"},
    {"tls-ca", "TOLLGATE_TLS_CA"},
    {"tls-cert", "TOLLGATE_TLS_CERT"},
    {"tls-key", "TOLLGATE_TLS_KEY"},
};

const GlobalFlag* FindGlobalFlag(absl::string_view name) {
  for (const GlobalFlag& flag : kGlobalFlags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

std::optional<std::string> NonEmptyEnv(const EnvLookup& env, absl::string_view name) {
  if (!env) return std::nullopt;
  std::optional<std::string> value = env(std::string(name));
  if (value.has_value() && value->empty()) return std::nullopt;
  return value;
}

// The usage error for a problem found before, between or after the words of
// the command name.
absl::Status UsageErrorFor(const CommandSpec* command, const CommandGroup* group,
                           absl::string_view problem) {
  if (command != nullptr) return command->UsageError(problem);
  if (group != nullptr) return group->UsageError(problem);
  return GeneralUsageError(problem);
}

// "list, roles, activate or deactivate"
std::string VerbList(const CommandGroup& group) {
  const std::vector<const CommandSpec*> commands = group.Commands();
  std::string text;
  for (size_t i = 0; i < commands.size(); ++i) {
    if (i > 0) text += i + 1 == commands.size() ? " or " : ", ";
    absl::StrAppend(&text, commands[i]->name.substr(group.name.size() + 1));
  }
  return text;
}

}  // namespace

absl::StatusOr<CommandLine> CommandLine::Parse(const std::vector<std::string>& args,
                                               const EnvLookup& env) {
  CommandLine result;
  std::map<std::string, std::string, std::less<>> global_values;
  bool options_ended = false;
  bool help_word = false;  // `tollgate help [COMMAND]`

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!options_ended && arg == "--") {
      options_ended = true;
      continue;
    }
    if (!options_ended && arg == "-h") {
      result.help_ = true;
      continue;
    }
    if (!options_ended && arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      const size_t equals = arg.find('=');
      const std::string name = arg.substr(2, equals == std::string::npos ? std::string::npos
                                                                         : equals - 2);
      std::optional<std::string> value;
      if (equals != std::string::npos) value = arg.substr(equals + 1);

      if (name == "help") {
        if (value.has_value()) {
          return UsageErrorFor(result.command_, result.group_, "option --help takes no value");
        }
        result.help_ = true;
        continue;
      }
      const GlobalFlag* global = FindGlobalFlag(name);
      const FlagSpec* own = result.command_ != nullptr ? result.command_->FindFlag(name) : nullptr;
      if (global == nullptr && own == nullptr) {
        return UsageErrorFor(result.command_, result.group_,
                             absl::StrCat("unknown option '--", name, "'"));
      }
      if (own != nullptr && own->is_switch()) {
        if (value.has_value()) {
          return UsageErrorFor(result.command_, result.group_,
                               absl::StrCat("option --", name, " takes no value"));
        }
        value = "";
      } else if (!value.has_value()) {
        // The next argument is the value, even if it starts with "--": a
        // password may.
        if (i + 1 >= args.size()) {
          return UsageErrorFor(result.command_, result.group_,
                               absl::StrCat("option --", name, " needs a value"));
        }
        value = args[++i];
      }
      auto& values = global != nullptr ? global_values : result.flags_;
      if (!values.emplace(name, *std::move(value)).second) {
        return UsageErrorFor(result.command_, result.group_,
                             absl::StrCat("option --", name, " given twice"));
      }
      continue;
    }

    // A positional: the command name first (a word, or a group and a
    // verb), then its arguments.
    if (result.command_ == nullptr && result.group_ != nullptr) {
      const CommandSpec* command = FindCommand(absl::StrCat(result.group_->name, " ", arg));
      if (command == nullptr) {
        return result.group_->UsageError(absl::StrCat(
            "unknown verb '", arg, "', expected ", VerbList(*result.group_)));
      }
      result.command_ = command;
      continue;
    }
    if (result.command_ == nullptr) {
      if (arg == "help" && !help_word) {
        help_word = true;
        result.help_ = true;
        continue;
      }
      if (const CommandGroup* group = FindGroup(arg); group != nullptr) {
        result.group_ = group;
        continue;
      }
      const CommandSpec* command = FindCommand(arg);
      // "users roles" as one argument is not the two words.
      if (command == nullptr || !command->group().empty()) {
        return GeneralUsageError(absl::StrCat("unknown command '", arg, "'"));
      }
      result.command_ = command;
      continue;
    }
    result.positionals_.push_back(arg);
  }

  if (result.help_) return result;
  if (result.command_ == nullptr && result.group_ != nullptr) {
    return result.group_->UsageError(
        absl::StrCat("missing verb, expected ", VerbList(*result.group_)));
  }
  if (result.command_ == nullptr) return GeneralUsageError("missing command");
  const CommandSpec& command = *result.command_;

  const size_t given = result.positionals_.size();
  if (given < command.min_positionals) {
    return command.UsageError(absl::StrCat("missing argument ", command.positionals[given]));
  }
  if (!command.variadic && given > command.positionals.size()) {
    return command.UsageError(
        absl::StrCat("unexpected argument '", result.positionals_[command.positionals.size()],
                     "'"));
  }
  for (const FlagSpec& flag : command.flags) {
    if (flag.required && !result.Has(flag.name)) {
      return command.UsageError(absl::StrCat("missing option --", flag.name));
    }
  }

  // Global options: the flag, else the environment, else the default.
  auto resolve = [&](absl::string_view name,
                     std::string* source) -> absl::StatusOr<std::optional<std::string>> {
    const GlobalFlag& flag = *FindGlobalFlag(name);
    if (auto it = global_values.find(name); it != global_values.end()) {
      *source = absl::StrCat("--", name);
      if (it->second.empty()) {
        return command.UsageError(absl::StrCat("option --", name, " needs a value"));
      }
      return std::optional<std::string>(it->second);
    }
    *source = std::string(flag.env);
    return NonEmptyEnv(env, flag.env);
  };
  std::string source;
  absl::StatusOr<std::optional<std::string>> value = resolve("auth", &source);
  if (!value.ok()) return value.status();
  result.options_.auth_address = value->value_or(kDefaultAuthAddress);

  value = resolve("sum", &source);
  if (!value.ok()) return value.status();
  result.options_.sum_address = value->value_or(kDefaultSumAddress);

  value = resolve("token-file", &source);
  if (!value.ok()) return value.status();
  if (value->has_value()) {
    result.options_.token_file = **value;
  } else if (std::optional<std::string> home = NonEmptyEnv(env, "HOME"); home.has_value()) {
    result.options_.token_file = *home + kDefaultTokenFileInHome;
  }

  value = resolve("timeout", &source);
  if (!value.ok()) return value.status();
  if (value->has_value()) {
    absl::StatusOr<int64_t> seconds = ParseInt64(**value);
    if (!seconds.ok() || *seconds < 1 || *seconds > kMaxTimeoutSeconds) {
      return command.UsageError(absl::StrCat(source, ": expected whole seconds from 1 to ",
                                             kMaxTimeoutSeconds, ", got '", **value, "'"));
    }
    result.options_.timeout_seconds = *seconds;
  }

  // Each file is named by where it came from (--tls-ca or TOLLGATE_TLS_CA),
  // an unset one by its option, in the messages about it.
  tls::ClientTlsFiles& tls = result.options_.tls;
  for (auto [name, file] : {std::pair{"tls-ca", &tls.ca}, std::pair{"tls-cert", &tls.certificate},
                            std::pair{"tls-key", &tls.private_key}}) {
    value = resolve(name, &source);
    if (!value.ok()) return value.status();
    *file = value->has_value() ? tls::SettingFile{source, **value}
                               : tls::SettingFile{absl::StrCat("--", name), ""};
  }
  if (absl::Status pairing = tls::CheckClientPairing(tls); !pairing.ok()) {
    return command.UsageError(pairing.message());
  }
  return result;
}

bool CommandLine::Has(absl::string_view flag_name) const {
  return flags_.find(flag_name) != flags_.end();
}

std::optional<std::string> CommandLine::Value(absl::string_view flag_name) const {
  auto it = flags_.find(flag_name);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tollgate::cli
