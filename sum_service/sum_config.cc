#include "sum_service/sum_config.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <span>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tollgate::sum {
namespace {

// ---------------------------------------------------------------------------
// Flag and environment reading. The same helper sits in auth_config.cc; it
// moves to common/ once there is a home for it there. Messages from here
// may echo a value, so they are never built for a secret setting.

// One setting: a flag and the environment variable of the same meaning.
struct Setting {
  absl::string_view flag;           // without the leading "--"
  absl::string_view env;
  absl::string_view default_value;  // used when neither is set; "" = unset
  absl::string_view default_shown;  // --help's default column; "" = default_value
  absl::string_view meaning;
};

std::string Describe(const Setting& setting) {
  return absl::StrCat(setting.env, " (--", setting.flag, ")");
}

// The value of every setting after flags, then environment, then defaults.
class RawSettings {
 public:
  static absl::StatusOr<RawSettings> Read(std::span<const Setting* const> settings, int argc,
                                          char** argv, const SumConfig::EnvLookup& env) {
    RawSettings raw;
    std::map<absl::string_view, const Setting*> by_flag;
    for (const Setting* setting : settings) by_flag[setting->flag] = setting;

    std::map<absl::string_view, std::string> from_flags;
    for (int i = 1; i < argc; ++i) {
      absl::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") continue;
      if (arg.size() < 3 || arg.substr(0, 2) != "--") {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument '", arg, "' (see --help)"));
      }
      arg.remove_prefix(2);
      absl::string_view name = arg.substr(0, arg.find('='));
      auto found = by_flag.find(name);
      if (found == by_flag.end()) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
      }
      if (name.size() < arg.size()) {
        from_flags[found->first] = std::string(arg.substr(name.size() + 1));
      } else if (i + 1 < argc) {
        from_flags[found->first] = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
    }

    for (const Setting* setting : settings) {
      std::string value;
      if (auto flag = from_flags.find(setting->flag); flag != from_flags.end()) {
        value = flag->second;
      } else if (std::optional<std::string> env_value = env(std::string(setting->env))) {
        value = *env_value;
      }
      // An empty value means unset, so `VAR=` in a compose file does not
      // override a default with nothing.
      if (value.empty()) value = std::string(setting->default_value);
      raw.values_[setting->flag] = std::move(value);
    }
    return raw;
  }

  // The value, or "" when unset.
  const std::string& Get(const Setting& setting) const { return values_.at(setting.flag); }

 private:
  std::map<absl::string_view, std::string> values_;  // by flag
};

absl::StatusOr<int64_t> ParseSeconds(const RawSettings& raw, const Setting& setting,
                                     int64_t min_seconds, int64_t max_seconds) {
  const std::string& text = raw.Get(setting);
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(text, &seconds) || seconds < min_seconds || seconds > max_seconds) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(setting),
                                                   ": must be whole seconds in [", min_seconds,
                                                   ", ", max_seconds, "], got '", text, "'"));
  }
  return seconds;
}

// Accepts "host:port" (host may be "[::]") with a port in [0, 65535], or a
// gRPC "unix:" address.
absl::Status CheckListenAddress(const Setting& setting, const std::string& address) {
  if (absl::StartsWith(address, "unix:") && address.size() > 5) return absl::OkStatus();
  size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        Describe(setting), ": must be host:port with a port in [0, 65535], got '", address, "'"));
  }
  return absl::OkStatus();
}

std::string HelpTable(std::span<const Setting* const> settings) {
  size_t flag_width = 4, env_width = 8, default_width = 7;
  for (const Setting* setting : settings) {
    absl::string_view shown =
        setting->default_shown.empty() ? setting->default_value : setting->default_shown;
    flag_width = std::max(flag_width, setting->flag.size() + 2);
    env_width = std::max(env_width, setting->env.size());
    default_width = std::max(default_width, shown.size());
  }
  auto row = [&](absl::string_view flag, absl::string_view env, absl::string_view shown,
                 absl::string_view meaning) {
    return absl::StrCat("  ", flag, std::string(flag_width - flag.size() + 2, ' '), env,
                        std::string(env_width - env.size() + 2, ' '), shown,
                        std::string(default_width - shown.size() + 2, ' '), meaning, "\n");
  };
  std::string table = row("flag", "variable", "default", "meaning");
  for (const Setting* setting : settings) {
    absl::string_view shown =
        setting->default_shown.empty() ? setting->default_value : setting->default_shown;
    table += row(absl::StrCat("--", setting->flag), setting->env, shown, setting->meaning);
  }
  return table;
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// ---------------------------------------------------------------------------
// SumService settings (SPEC section 7).

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash.
constexpr size_t kMinSecretKeyBytes = 32;

constexpr Setting kListen{"listen", "SUM_LISTEN", "0.0.0.0:50052", "",
                          "gRPC listen address (host:port)"};
constexpr Setting kKeysSource{"keys-source", "SUM_KEYS_SOURCE", "",
                              "required unless JWT_SECRET_KEY",
                              "verification keys: grpc://host:port (AuthService GetJwks) or "
                              "file:/path/jwks.json"};
constexpr Setting kJwtSecretKey{"jwt-secret-key", "JWT_SECRET_KEY", "", "unset",
                                "HS256 shared secret, at least 32 bytes (prefer the variable)"};
constexpr Setting kTokenIssuer{"token-issuer", "TOKEN_ISSUER", "tollgate", "",
                               "`iss` required in access tokens"};
constexpr Setting kTokenAudience{"token-audience", "TOKEN_AUDIENCE", "tollgate", "",
                                 "`aud` required in access tokens"};
constexpr Setting kTokenLeeway{"token-leeway", "TOKEN_LEEWAY", "30", "",
                               "clock leeway, seconds [0, 300]"};
constexpr Setting kHttpListen{"http-listen", "SUM_HTTP_LISTEN", "", "off",
                              "HTTP address for metrics"};

constexpr const Setting* kSettings[] = {
    &kListen,        &kKeysSource,  &kJwtSecretKey, &kTokenIssuer,
    &kTokenAudience, &kTokenLeeway, &kHttpListen,
};

constexpr absl::string_view kGrpcScheme = "grpc://";
constexpr absl::string_view kFileScheme = "file:";

}  // namespace

bool SumConfig::WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

std::string SumConfig::HelpText() {
  return absl::StrCat(
      "sum_service: tollgate SumService (a protected example service) over gRPC.\n"
      "\n"
      "Usage: sum_service [--flag=value | --flag value]...\n"
      "\n"
      "Every flag has an environment variable of the same meaning; the flag wins.\n"
      "An empty value counts as unset. Pass secrets by variable: flags show in ps.\n"
      "\n",
      HelpTable(kSettings));
}

absl::StatusOr<SumConfig> SumConfig::FromFlagsAndEnv(int argc, char** argv) {
  return FromFlagsAndEnv(argc, argv, ProcessEnv);
}

absl::StatusOr<SumConfig> SumConfig::FromFlagsAndEnv(int argc, char** argv,
                                                     const EnvLookup& env) {
  absl::StatusOr<RawSettings> raw = RawSettings::Read(kSettings, argc, argv, env);
  if (!raw.ok()) return raw.status();

  SumConfig config;
  config.listen_address = raw->Get(kListen);
  if (absl::Status status = CheckListenAddress(kListen, config.listen_address); !status.ok()) {
    return status;
  }

  const std::string& keys_source = raw->Get(kKeysSource);
  config.jwt_secret_key = raw->Get(kJwtSecretKey);
  // One key source at a time: silently preferring one would leave an
  // operator believing tokens are checked against the other.
  if (!keys_source.empty() && !config.jwt_secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("set either ", Describe(kKeysSource), " or ",
                                                   Describe(kJwtSecretKey), ", not both"));
  }
  if (keys_source.empty() && config.jwt_secret_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(kKeysSource), " or ",
                                                   Describe(kJwtSecretKey), ": one is required"));
  }
  if (!config.jwt_secret_key.empty()) {
    if (config.jwt_secret_key.size() < kMinSecretKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(kJwtSecretKey), ": must be at least ", kMinSecretKeyBytes,
                       " bytes, got ", config.jwt_secret_key.size()));
    }
    config.keys_source = KeysSource::kSharedSecret;
  } else if (absl::StartsWith(keys_source, kGrpcScheme)) {
    config.keys_source = KeysSource::kAuthService;
    config.keys_target = keys_source.substr(kGrpcScheme.size());
    if (absl::Status status = CheckListenAddress(kKeysSource, config.keys_target);
        !status.ok() || absl::StartsWith(config.keys_target, "unix:")) {
      return absl::InvalidArgumentError(absl::StrCat(
          Describe(kKeysSource), ": must be grpc://host:port, got '", keys_source, "'"));
    }
  } else if (absl::StartsWith(keys_source, kFileScheme)) {
    config.keys_source = KeysSource::kJwksFile;
    absl::string_view path = absl::string_view(keys_source).substr(kFileScheme.size());
    // file:///etc/jwks.json (RFC 8089) names the same file as file:/etc/jwks.json.
    if (absl::StartsWith(path, "//")) path.remove_prefix(2);
    if (path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(kKeysSource), ": file: needs a path, got '", keys_source, "'"));
    }
    config.keys_target = std::string(path);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(kKeysSource), ": must start with grpc:// or file:, got '",
                     keys_source, "'"));
  }

  config.token_issuer = raw->Get(kTokenIssuer);
  config.token_audience = raw->Get(kTokenAudience);
  absl::StatusOr<int64_t> leeway = ParseSeconds(*raw, kTokenLeeway, 0, 300);
  if (!leeway.ok()) return leeway.status();
  config.token_leeway_seconds = *leeway;

  config.http_listen_address = raw->Get(kHttpListen);
  if (!config.http_listen_address.empty()) {
    if (absl::Status status = CheckListenAddress(kHttpListen, config.http_listen_address);
        !status.ok()) {
      return status;
    }
  }
  return config;
}

}  // namespace tollgate::sum
