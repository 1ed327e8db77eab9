#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/logging/logger.h"

namespace tollgate::config {

// Reading a service's settings from flags and the environment, shared by
// AuthConfig and SumConfig. Every setting is a flag (`--name=value` or
// `--name value`) with an environment variable of the same meaning; the flag
// wins, and an empty value counts as unset. Error messages may echo a
// value, so callers never build one for a secret setting.

// Looks up one environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

// How the start-up log shows a setting's value (RawSettings::ForLog).
enum class Secrecy {
  kNone,           // as it is
  kSecret,         // "<set>" when set: never the value
  kPasswordInUrl,  // a URL or libpq keywords: the password (user:PASSWORD@, password=) as "***"
};

// One setting: a flag and the environment variable of the same meaning.
struct Setting {
  absl::string_view flag;           // without the leading "--"
  absl::string_view env;
  absl::string_view default_value;  // used when neither is set; "" = unset
  absl::string_view default_shown;  // --help's default column; "" = default_value
  absl::string_view meaning;
  Secrecy secrecy = Secrecy::kNone;
};

// The groups one after the other, as one array: a service lists its
// settings (in --help's order) as the groups it shares with the other
// service and its own, e.g.
//   constexpr auto kSettings = JoinSettings(kServer.GrpcPortSettings(),
//                                           std::to_array<const Setting*>({&kKeysSource}));
template <size_t... Sizes>
constexpr std::array<const Setting*, (Sizes + ...)> JoinSettings(
    const std::array<const Setting*, Sizes>&... groups) {
  std::array<const Setting*, (Sizes + ...)> joined{};
  auto out = joined.begin();
  ((out = std::copy(groups.begin(), groups.end(), out)), ...);
  return joined;
}

// One setting as the start-up log shows it.
struct LoggedSetting {
  std::string variable;    // "AUTH_LISTEN"
  std::string value;       // after Secrecy; "" when unset
  absl::string_view source;  // "flag", "env" or "default"
};

// "VAR (--flag)", the way error messages name a setting.
std::string Describe(const Setting& setting);

// The value of every setting after flags, then environment, then defaults.
class RawSettings {
 public:
  // INVALID_ARGUMENT for an unknown flag, a positional argument or a flag
  // without its value. `--help` and `-h` are skipped (the caller checks
  // for them first).
  static absl::StatusOr<RawSettings> Read(std::span<const Setting* const> settings, int argc,
                                          char** argv, const EnvLookup& env);

  // The value, or "" when unset.
  const std::string& Get(const Setting& setting) const { return values_.at(setting.flag); }

  // Every setting in the order given to Read, its value masked as its
  // Secrecy says, and where the value came from.
  std::vector<LoggedSetting> ForLog() const;

 private:
  std::vector<const Setting*> order_;
  std::map<absl::string_view, std::string> values_;        // by flag
  std::map<absl::string_view, absl::string_view> sources_;  // by flag
};

// `url` with its password replaced by "***": the text after the first ':'
// of a URL's user info (scheme://user:PASSWORD@host), and the value of
// every `password=` (a query parameter or a libpq keyword, quoted or not).
// A URL without a password is returned as it is.
std::string WithPasswordMasked(absl::string_view url);

// A whole number in [min_value, max_value]; `unit` names it in the error
// ("whole seconds", "an integer").
absl::StatusOr<int64_t> ParseInteger(const RawSettings& raw, const Setting& setting,
                                     int64_t min_value, int64_t max_value, absl::string_view unit);
absl::StatusOr<int64_t> ParseSeconds(const RawSettings& raw, const Setting& setting,
                                     int64_t min_seconds, int64_t max_seconds);

// `*_LOG_FORMAT` ("json" or "text") and `*_LOG_LEVEL` ("debug", "info",
// "warn", "error"); INVALID_ARGUMENT naming the setting and the value else.
absl::StatusOr<logging::Format> ParseLogFormat(const RawSettings& raw, const Setting& setting);
absl::StatusOr<logging::Level> ParseLogLevel(const RawSettings& raw, const Setting& setting);

// Accepts "host:port" (host may be "[::]") with a port in [0, 65535], or a
// gRPC "unix:" address.
absl::Status CheckListenAddress(const Setting& setting, const std::string& address);

// --help's table: one row per setting (flag, variable, default, meaning).
std::string HelpTable(std::span<const Setting* const> settings);

// True when argv[1..argc) holds `--help` or `-h`.
bool WantsHelp(int argc, char** argv);

// A service binary's --help: "PROGRAM: ABOUT", its usage, how flags and
// variables relate, then HelpTable(settings).
std::string ServiceHelpText(absl::string_view program, absl::string_view about,
                            std::span<const Setting* const> settings);

// One service's settings under the name the Markdown table gives it.
struct ServiceSettings {
  absl::string_view service;  // "auth", "sum"
  std::span<const Setting* const> settings;
};

// The README's "Configuration" table in Markdown, from the same settings as
// --help: a header row (variable, flag, service, meaning, default), then one
// row per setting, in the order of `services` and of each service's
// settings. A setting that several services have alike (same variable,
// flag, defaults and meaning) is one row, whose service column is "both"
// when every one of two services has it, or else the services' names
// joined by ", ". The default column is the literal default in backticks,
// or `default_shown` as written when there is one ("unset" when both are
// empty). Ends with a newline.
std::string MarkdownTable(std::span<const ServiceSettings> services);

}  // namespace tollgate::config
