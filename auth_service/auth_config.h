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

namespace tollgate::auth {

// The AuthService configuration (README "Configuration"), parsed once at
// start-up and then passed down read-only; nothing else reads the
// environment. Every setting is a flag (`--name=value` or `--name value`)
// with an environment variable of the same meaning; the flag wins, and an
// empty value counts as unset. The settings every server has (AUTH_LISTEN,
// AUTH_TLS_*, AUTH_HTTP_LISTEN, AUTH_LOG_*, ...) are ServerConfig's.
struct AuthConfig : config::ServerConfig {
  // Looks up one environment variable; nullopt when it is not set.
  using EnvLookup = config::EnvLookup;

  int64_t database_wait_seconds = 0;            // AUTH_DATABASE_WAIT
  std::string database_url;                     // AUTH_DATABASE_URL
  std::vector<std::string> signing_key_files;   // AUTH_SIGNING_KEYS; first signs
  std::string jwt_secret_key;                   // JWT_SECRET_KEY; empty: unset. Never log.
  std::string token_issuer;                     // TOKEN_ISSUER
  std::string token_audience;                   // TOKEN_AUDIENCE
  int64_t token_leeway_seconds = 0;             // TOKEN_LEEWAY
  int64_t access_ttl_seconds = 0;               // AUTH_ACCESS_TTL
  int64_t refresh_idle_ttl_seconds = 0;         // AUTH_REFRESH_IDLE_TTL
  int64_t session_ttl_seconds = 0;              // AUTH_SESSION_TTL
  int64_t refresh_grace_seconds = 0;            // AUTH_REFRESH_GRACE
  int64_t session_purge_interval_seconds = 0;   // AUTH_SESSION_PURGE_INTERVAL; 0: never
  std::string bootstrap_admin_email;            // AUTH_BOOTSTRAP_ADMIN_EMAIL; empty: none
  std::string bootstrap_admin_password;         // AUTH_BOOTSTRAP_ADMIN_PASSWORD. Never log.
  int64_t argon2_memory_kib = 0;                // AUTH_ARGON2_MEMORY_KIB
  int64_t argon2_iterations = 0;                // AUTH_ARGON2_ITERATIONS
  int64_t hash_threads = 0;                     // AUTH_HASH_THREADS; 0: one per core
  int64_t hash_queue = 0;                       // AUTH_HASH_QUEUE
  int64_t database_pool_size = 0;               // AUTH_DATABASE_POOL_SIZE
  int64_t reset_ttl_seconds = 0;                // AUTH_RESET_TTL
  int64_t verify_ttl_seconds = 0;               // AUTH_VERIFY_TTL
  std::vector<std::string> grantable_roles;     // AUTH_ROLES; always has user and admin
  std::string trusted_proxies;                  // AUTH_TRUSTED_PROXIES; checked list
  std::string smtp_url;                         // AUTH_SMTP_URL; empty: mail waits. Never log.
  std::string smtp_user;                        // AUTH_SMTP_USER
  std::string smtp_password;                    // AUTH_SMTP_PASSWORD. Never log.
  std::string mail_from;                        // AUTH_MAIL_FROM
  std::string mail_link_base;                   // AUTH_MAIL_LINK_BASE; empty: no link
  int64_t mail_poll_interval_seconds = 0;       // AUTH_MAIL_POLL_INTERVAL
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
  [[nodiscard]] static absl::StatusOr<AuthConfig> FromFlagsAndEnv(int argc, char** argv);
  // The same with an injected environment (for tests).
  [[nodiscard]] static absl::StatusOr<AuthConfig> FromFlagsAndEnv(int argc, char** argv,
                                                                  const EnvLookup& env);
};

}  // namespace tollgate::auth
