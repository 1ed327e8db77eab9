#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/server_settings.h"
#include "common/config/settings.h"
#include "common/tls/tls_files.h"

namespace tollgate::sum {

// The SumService configuration (README "Configuration"), parsed once at
// start-up and then passed down read-only; nothing else reads the
// environment. Every setting is a flag (`--name=value` or `--name value`)
// with an environment variable of the same meaning; the flag wins, and an
// empty value counts as unset. The settings every server has (SUM_LISTEN,
// SUM_TLS_*, SUM_HTTP_LISTEN, SUM_LOG_*, ...) are ServerConfig's.
struct SumConfig : config::ServerConfig {
  // Looks up one environment variable; nullopt when it is not set.
  using EnvLookup = config::EnvLookup;

  // Where the verification keys come from: exactly one source.
  enum class KeysSource {
    kSharedSecret,  // JWT_SECRET_KEY (HS256)
    kAuthService,   // SUM_KEYS_SOURCE=grpc(s)://host:port, AuthService GetJwks
    kJwksFile,      // SUM_KEYS_SOURCE=file:/path/jwks.json
  };

  KeysSource keys_source = KeysSource::kSharedSecret;
  std::string keys_target;             // host:port for kAuthService, path for kJwksFile
  bool keys_over_tls = false;          // kAuthService by grpcs://
  tls::ClientTlsFiles keys_tls;        // SUM_KEYS_CA, _CLIENT_CERT, _CLIENT_KEY; grpcs:// only
  std::string jwt_secret_key;          // JWT_SECRET_KEY; set iff kSharedSecret. Never log.
  std::string token_issuer;            // TOKEN_ISSUER
  std::string token_audience;          // TOKEN_AUDIENCE
  int64_t token_leeway_seconds = 0;    // TOKEN_LEEWAY
  // Every setting as start-up logs it (secrets masked), in --help's order.
  std::vector<config::LoggedSetting> logged_settings;

  // True when argv contains `--help` or `-h`. The caller then prints
  // HelpText() and exits 0 without parsing anything else.
  static bool WantsHelp(int argc, char** argv);

  // Usage plus one row per setting: flag, variable, default, meaning.
  static std::string HelpText();

  // Every setting, in --help's order; the README's "Configuration" table is
  // generated from these (config::MarkdownTable, scripts/config_table.sh).
  static std::span<const config::Setting* const> Settings();

  // Reads argv[1..argc) and the process environment. INVALID_ARGUMENT with a
  // one-line reason naming the flag and variable for an unknown flag, a
  // value out of range, a missing required setting, or a conflict. The
  // reason never contains the value of a secret.
  [[nodiscard]] static absl::StatusOr<SumConfig> FromFlagsAndEnv(int argc, char** argv);
  // The same with an injected environment (for tests).
  [[nodiscard]] static absl::StatusOr<SumConfig> FromFlagsAndEnv(int argc, char** argv,
                                                                 const EnvLookup& env);
};

}  // namespace tollgate::sum
